package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/paperrec/paperrec/recommend"
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

func (e *env) exportCmd() *cobra.Command {
	var (
		cf corpusFlags
		k  int
	)
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write every paper's related papers as JSON Lines, the feed a static site's widget uses",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if k < 1 || k > recommend.DefaultMaxK {
				return usageError{fmt.Errorf("--k %d: must be between 1 and %d", k, recommend.DefaultMaxK)}
			}
			svc, err := e.buildService(cmd.Context(), cf)
			if err != nil {
				return err
			}
			all, err := relatedAll(cmd.Context(), svc, k)
			if err != nil {
				return err
			}
			return writeExportJSONL(e.stdout, svc, all)
		},
	}
	cmd.Flags().IntVarP(&k, "k", "k", recommend.DefaultK, "related papers per paper")
	e.addCorpusFlags(cmd, &cf)
	return cmd
}
