package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/paperrec/paperrec/api"
	"github.com/paperrec/paperrec/recommend"
)

// printItems writes a readable list: rank, score, title, area and year, ID,
// and a line of why.
func printItems(w io.Writer, items []recommend.Item) {
	for n, it := range items {
		p := it.Paper
		fmt.Fprintf(w, "%2d. %.3f  %s\n", n+1, it.Score, p.Title)
		meta := []string{}
		if p.Category != "" {
			meta = append(meta, string(p.Category))
		}
		if p.Year() != 0 {
			meta = append(meta, fmt.Sprint(p.Year()))
		}
		meta = append(meta, p.ID)
		fmt.Fprintf(w, "           %s\n", strings.Join(meta, " · "))
		if why := whyLine(it.Why); why != "" {
			fmt.Fprintf(w, "           why: %s\n", why)
		}
	}
}

// whyLine summarises an explanation in one line.
func whyLine(w recommend.Why) string {
	var parts []string
	if len(w.Keyphrases) > 0 {
		parts = append(parts, "keyphrases "+strings.Join(w.Keyphrases[:min(4, len(w.Keyphrases))], ", "))
	}
	var terms []string
	for _, t := range w.Terms {
		if t.Kind != "keyphrase" && len(terms) < 5 {
			terms = append(terms, t.Term)
		}
	}
	if len(terms) > 0 {
		parts = append(parts, "terms "+strings.Join(terms, ", "))
	}
	if len(w.Authors) > 0 {
		parts = append(parts, "authors "+strings.Join(w.Authors, ", "))
	}
	if w.SameCategory {
		parts = append(parts, "same area")
	}
	return strings.Join(parts, "; ")
}

// queryFlags are the options of related and search.
type queryFlags struct {
	k         int
	diversity float64
	category  []string
	from, to  string
	asJSON    bool
}

func addQueryFlags(cmd *cobra.Command, f *queryFlags) {
	cmd.Flags().IntVarP(&f.k, "k", "k", recommend.DefaultK, fmt.Sprintf("how many papers (1 to %d)", recommend.DefaultMaxK))
	cmd.Flags().Float64Var(&f.diversity, "diversity", 0, "0 pure relevance to 1 mostly novelty (maximal marginal relevance)")
	cmd.Flags().StringSliceVar(&f.category, "category", nil, "only these areas (repeat or separate with commas)")
	cmd.Flags().StringVar(&f.from, "from", "", "published on or after (YYYY, YYYY-MM or YYYY-MM-DD)")
	cmd.Flags().StringVar(&f.to, "to", "", "published on or before")
	cmd.Flags().BoolVar(&f.asJSON, "json", false, "print JSON")
}

func (f queryFlags) options() (recommend.Options, error) {
	if f.k < 1 || f.k > recommend.DefaultMaxK {
		return recommend.Options{}, usageError{fmt.Errorf("--k %d: must be between 1 and %d", f.k, recommend.DefaultMaxK)}
	}
	o := recommend.Options{K: f.k, Diversity: f.diversity}
	for _, c := range f.category {
		o.Filter.Categories = append(o.Filter.Categories, categoryOf(c))
	}
	var err error
	if o.Filter.From, err = parseDateFlag("from", f.from); err != nil {
		return o, err
	}
	o.Filter.To, err = parseDateFlag("to", f.to)
	return o, err
}

// prepare reads the query flags and builds the engine: the first steps of
// related and search.
func (e *env) prepare(cmd *cobra.Command, cf corpusFlags, qf queryFlags) (*recommend.Service, recommend.Options, error) {
	o, err := qf.options()
	if err != nil {
		return nil, o, err
	}
	svc, err := e.buildService(cmd.Context(), cf)
	return svc, o, err
}

func (e *env) relatedCmd() *cobra.Command {
	var (
		cf corpusFlags
		qf queryFlags
	)
	cmd := &cobra.Command{
		Use:   "related ID",
		Short: "The papers most like a paper, and why",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, o, err := e.prepare(cmd, cf, qf)
			if err != nil {
				return err
			}
			p, err := svc.Paper(args[0])
			if err != nil {
				return err
			}
			items, err := svc.Related(cmd.Context(), args[0], o)
			if err != nil {
				return err
			}
			if qf.asJSON {
				return writeJSON(e.stdout, map[string]any{"paper": map[string]string{"id": p.ID, "title": p.Title}, "related": api.Items(items)})
			}
			fmt.Fprintf(e.stdout, "Related to: %s\n\n", p.Title)
			printItems(e.stdout, items)
			return nil
		},
	}
	addQueryFlags(cmd, &qf)
	e.addCorpusFlags(cmd, &cf)
	return cmd
}

func (e *env) searchCmd() *cobra.Command {
	var (
		cf corpusFlags
		qf queryFlags
	)
	cmd := &cobra.Command{
		Use:   "search TEXT...",
		Short: "Papers matching free text",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, o, err := e.prepare(cmd, cf, qf)
			if err != nil {
				return err
			}
			items, err := svc.Search(cmd.Context(), strings.Join(args, " "), o)
			if err != nil {
				return err
			}
			if qf.asJSON {
				return writeJSON(e.stdout, map[string]any{"results": api.Items(items)})
			}
			if len(items) == 0 {
				fmt.Fprintln(e.stdout, "No paper matches.")
			}
			printItems(e.stdout, items)
			return nil
		},
	}
	addQueryFlags(cmd, &qf)
	e.addCorpusFlags(cmd, &cf)
	return cmd
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
