package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/google/renameio/v2"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/paperrec/paperrec/api"
	"github.com/paperrec/paperrec/mathml"
	"github.com/paperrec/paperrec/recommend"
	"github.com/paperrec/paperrec/web"
)

// exportLine is one paper of the widget feed.
type exportLine struct {
	ID      string          `json:"id"`
	Title   string          `json:"title"`
	Related []exportRelated `json:"related"`
}

type exportRelated struct {
	ID    string  `json:"id"`
	Title string  `json:"title"`
	Score float64 `json:"score"`
}

// relatedAll computes every paper's related list on a bounded pool of
// goroutines and returns them in corpus order.
func relatedAll(ctx context.Context, svc *recommend.Service, k int) ([][]recommend.Item, error) {
	papers := svc.AllPapers()
	out := make([][]recommend.Item, len(papers))
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, p := range papers {
		g.Go(func() error {
			items, err := svc.Related(ctx, p.ID, recommend.Options{K: k})
			out[i] = items
			return err
		})
	}
	return out, g.Wait()
}

func writeExportJSONL(w io.Writer, svc *recommend.Service, all [][]recommend.Item) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	for i, p := range svc.AllPapers() {
		line := exportLine{ID: p.ID, Title: p.Title, Related: make([]exportRelated, len(all[i]))}
		for j, it := range all[i] {
			line.Related[j] = exportRelated{ID: it.Paper.ID, Title: it.Paper.Title, Score: it.Score}
		}
		if err := enc.Encode(line); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// Formats of paperrec export.
const (
	formatJSONL  = "jsonl"
	formatStatic = "static"
)

func (e *env) exportCmd() *cobra.Command {
	var (
		cf          corpusFlags
		k           int
		format, out string
	)
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write every paper's related papers: JSON Lines (the widget feed) or a static site of JSON files",
		Long: "export computes every paper's related papers once.\n\n" +
			"--format jsonl (the default) writes one line per paper, {\"id\",\"title\",\"related\":[{\"id\",\"title\",\"score\"}]},\n" +
			"to standard output or, atomically, to the file --out.\n\n" +
			"--format static --out DIR writes DIR/index.json and one file per paper, DIR/papers/<id>.json, holding\n" +
			"what GET /v1/papers/{id}/related?k=K answers, for static hosting; IDs are escaped into file names\n" +
			"(see docs/web.md). Each file is replaced atomically; files of papers no longer in the corpus stay.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if k < 1 || k > recommend.DefaultMaxK {
				return usageError{fmt.Errorf("--k %d: must be between 1 and %d", k, recommend.DefaultMaxK)}
			}
			switch format {
			case formatJSONL:
			case formatStatic:
				if out == "" {
					return usageError{errors.New("--format static needs --out DIR")}
				}
			default:
				return usageError{fmt.Errorf("--format %q: want jsonl or static", format)}
			}
			svc, err := e.buildService(cmd.Context(), cf)
			if err != nil {
				return err
			}
			all, err := relatedAll(cmd.Context(), svc, k)
			if err != nil {
				return err
			}
			if format == formatStatic {
				n, err := writeExportStatic(out, svc, all, k)
				if err != nil {
					return err
				}
				e.log.Info("exported", "papers", n, "dir", out)
				return nil
			}
			if out == "" {
				return writeExportJSONL(e.stdout, svc, all)
			}
			var buf bytes.Buffer
			if err := writeExportJSONL(&buf, svc, all); err != nil {
				return err
			}
			return renameio.WriteFile(out, buf.Bytes(), 0o644)
		},
	}
	cmd.Flags().IntVarP(&k, "k", "k", recommend.DefaultK, "related papers per paper")
	cmd.Flags().StringVar(&format, "format", formatJSONL, "jsonl (one line per paper) or static (one JSON file per paper under --out)")
	cmd.Flags().StringVar(&out, "out", "", "static: the directory to write; jsonl: a file to write instead of standard output")
	e.addCorpusFlags(cmd, &cf)
	return cmd
}

// staticIndex is DIR/index.json of a static export.
type staticIndex struct {
	K      int           `json:"k"`
	Count  int           `json:"count"`
	Papers []staticEntry `json:"papers"`
}

type staticEntry struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	// File is the paper's file, relative to the index: papers/<name>.json.
	File string `json:"file"`
	// TitleHTML is Title rendered, as the API renders it (package mathml).
	TitleHTML string `json:"title_html"`
}

// staticPaper is DIR/papers/<name>.json: the answer of GET
// /v1/papers/{id}/related?k=K, so a client reads either the same way.
type staticPaper struct {
	Paper   staticRef  `json:"paper"`
	Related []api.Item `json:"related"`
}

type staticRef struct {
	ID        string `json:"id"`
	Title     string `json:"title"`
	TitleHTML string `json:"title_html"`
}

// writeExportStatic writes a static export under dir and returns how many
// papers it holds. Every file is replaced atomically (temporary file, fsync,
// rename), the papers first and index.json last, so a reader never sees a
// half-written file, nor an index naming a file not yet written.
func writeExportStatic(dir string, svc *recommend.Service, all [][]recommend.Item, k int) (int, error) {
	papersDir := filepath.Join(dir, "papers")
	if err := os.MkdirAll(papersDir, 0o755); err != nil {
		return 0, err
	}
	papers := svc.AllPapers()
	idx := staticIndex{K: k, Count: len(papers), Papers: make([]staticEntry, len(papers))}
	seen := make(map[string]string, len(papers))
	for i, p := range papers {
		name := web.FileName(p.ID)
		// FileName is injective, but a case-insensitive file system folds
		// names that differ only in case onto one file.
		if other, ok := seen[strings.ToLower(name)]; ok {
			return 0, fmt.Errorf("papers %q and %q would share the file %s on a case-insensitive file system", other, p.ID, name)
		}
		seen[strings.ToLower(name)] = p.ID
		titleHTML := mathml.HTML(p.Title)
		idx.Papers[i] = staticEntry{ID: p.ID, Title: p.Title, File: "papers/" + name, TitleHTML: titleHTML}
		doc := staticPaper{Paper: staticRef{ID: p.ID, Title: p.Title, TitleHTML: titleHTML}, Related: api.Items(all[i])}
		if err := writeJSONFile(filepath.Join(papersDir, name), doc); err != nil {
			return 0, err
		}
	}
	return len(papers), writeJSONFile(filepath.Join(dir, "index.json"), idx)
}

func writeJSONFile(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if err := renameio.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
