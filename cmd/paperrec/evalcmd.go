package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/paperrec/paperrec/data"
	"github.com/paperrec/paperrec/eval"
	"github.com/paperrec/paperrec/recommend"
)

// readJudgments reads the judgments file, or the bundled dev judgments.
func readJudgments(path string) ([]eval.Judgment, error) {
	if path == "" {
		return eval.ParseJudgments(bytes.NewReader(data.DevJudgments), data.DevJudgmentsName)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return eval.ParseJudgments(f, filepath.Base(path))
}

func (e *env) evalCmd() *cobra.Command {
	var (
		cf      corpusFlags
		qrels   string
		k       int
		asJSON  bool
		verbose bool
	)
	cmd := &cobra.Command{
		Use:   "eval",
		Short: "Score related papers against graded judgments (nDCG@k, P@k, P@5 of highly related, judged share)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if k < 1 || k > recommend.DefaultMaxK {
				return usageError{fmt.Errorf("--k %d: must be between 1 and %d", k, recommend.DefaultMaxK)}
			}
			js, err := readJudgments(qrels)
			if err != nil {
				return err
			}
			svc, err := e.buildServiceWith(cmd.Context(), cf, skipThemes)
			if err != nil {
				return err
			}
			rep, err := evaluate(cmd, svc, js, k)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(e.stdout, rep)
			}
			printReport(e.stdout, svc, rep, verbose)
			return nil
		},
	}
	cmd.Flags().StringVar(&qrels, "qrels", "", "judgments file: a JSON list of {query, candidate, grade} by title (default: the bundled dev judgments)")
	cmd.Flags().IntVarP(&k, "k", "k", 10, "rank cut-off")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON, with per-query figures")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "print per-query figures")
	e.addCorpusFlags(cmd, &cf)
	return cmd
}

func evaluate(cmd *cobra.Command, svc *recommend.Service, js []eval.Judgment, k int) (eval.Report, error) {
	q, err := eval.Resolve(js, svc.Corpus())
	if err != nil {
		return eval.Report{}, err
	}
	return eval.Score(cmd.Context(), q, svc.RelatedIDs, k)
}

func printReport(w io.Writer, svc *recommend.Service, rep eval.Report, verbose bool) {
	fmt.Fprintf(w, "queries     %d\n", rep.Queries)
	fmt.Fprintf(w, "nDCG@%-6d %.4f\n", rep.K, rep.NDCG)
	fmt.Fprintf(w, "P@%-9d %.4f\n", rep.K, rep.P)
	fmt.Fprintf(w, "P@5 (high)  %.4f\n", rep.PHigh5)
	fmt.Fprintf(w, "judged@%-4d %.4f\n", rep.K, rep.Judged)
	if !verbose {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nnDCG\tP\tP5high\tjudged\tquery")
	for _, q := range rep.PerQ {
		title := q.ID
		if p, err := svc.Paper(q.ID); err == nil {
			title = p.Title
		}
		fmt.Fprintf(tw, "%.3f\t%.2f\t%.2f\t%.2f\t%s\n", q.NDCG, q.P, q.PHigh5, q.Judged, title)
	}
	tw.Flush()
}
