package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/paperrec/paperrec/api"
	"github.com/paperrec/paperrec/models"
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
	cmd.Flags().StringArrayVar(&f.category, "category", nil, "only these areas (repeat or separate with commas)")
	cmd.Flags().StringVar(&f.from, "from", "", "published on or after (YYYY, YYYY-MM or YYYY-MM-DD)")
	cmd.Flags().StringVar(&f.to, "to", "", "published on or before")
	cmd.Flags().BoolVar(&f.asJSON, "json", false, "print JSON")
}

// options reads the query flags, checked as the engine checks them: a
// usage error before anything is loaded.
func (f queryFlags) options() (recommend.Options, error) {
	o := recommend.Options{K: f.k, Diversity: f.diversity}
	if err := o.Check(recommend.DefaultMaxK); err != nil {
		var invalid *recommend.InvalidArgumentError
		if errors.As(err, &invalid) {
			return o, usageError{fmt.Errorf("--%s: %s", invalid.Param, invalid.Msg)}
		}
		return o, err
	}
	var err error
	if o.Filter.From, err = parseDateFlag("from", f.from); err != nil {
		return o, err
	}
	if o.Filter.To, err = parseDateFlag("to", f.to); err != nil {
		return o, err
	}
	return o, nil
}

// prepare reads the query flags, loads the corpus, checks the areas named
// against it, and builds the engine: the first steps of related and
// search. Every usage error comes before the build.
func (e *env) prepare(cmd *cobra.Command, cf corpusFlags, qf queryFlags) (*recommend.Service, recommend.Options, error) {
	o, err := qf.options()
	if err != nil {
		return nil, o, err
	}
	corpus, err := e.loadCorpus(cf)
	if err != nil {
		return nil, o, err
	}
	known := map[string]models.Category{}
	var names []string
	for _, p := range corpus.Papers() {
		if _, ok := known[strings.ToLower(string(p.Category))]; !ok && p.Category != "" {
			known[strings.ToLower(string(p.Category))] = p.Category
			names = append(names, strconv.Quote(string(p.Category)))
		}
	}
	slices.Sort(names)
	for _, list := range qf.category {
		for name := range strings.SplitSeq(list, ",") {
			if name = strings.TrimSpace(name); name == "" {
				continue
			}
			c, ok := known[strings.ToLower(name)]
			if !ok {
				return nil, o, usageError{fmt.Errorf("--category %q: unknown area; want one of %s", name, strings.Join(names, ", "))}
			}
			o.Filter.Categories = append(o.Filter.Categories, c)
		}
	}
	svc, err := e.buildFrom(cmd.Context(), corpus, cf, nil)
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
			text := strings.Join(args, " ")
			if strings.TrimSpace(text) == "" {
				return usageError{errors.New("search: the text is blank")} // as the API's q
			}
			svc, o, err := e.prepare(cmd, cf, qf)
			if err != nil {
				return err
			}
			items, err := svc.Search(cmd.Context(), text, o)
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
