package main

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/paperrec/paperrec/recommend"
	"github.com/paperrec/paperrec/themes"
)

func (e *env) clustersCmd() *cobra.Command {
	var (
		cf       corpusFlags
		k        string
		seed     uint64
		format   string
		reps     int
		outliers float64
	)
	cmd := &cobra.Command{
		Use:   "clusters",
		Short: "Research themes: every paper in one theme, each with a label, key terms, central papers, areas, years and a summary",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			tc := themes.Config{Seed: seed, Representatives: reps, OutlierBudget: outliers}
			if k != "auto" {
				n, err := strconv.Atoi(k)
				if err != nil || n < 1 {
					return usageError{fmt.Errorf("--k %q: want auto or a positive number of themes", k)}
				}
				tc.K = n
			}
			if format != "json" && format != "md" {
				return usageError{fmt.Errorf("--format %q: want json or md", format)}
			}
			if reps < 0 {
				return usageError{fmt.Errorf("--representatives %d: must be >= 0", reps)}
			}
			svc, err := e.buildServiceWith(cmd.Context(), cf, func(c *recommend.Config) { c.Themes = tc })
			if err != nil {
				return err
			}
			if format == "md" {
				return svc.Themes().Markdown(e.stdout)
			}
			enc := json.NewEncoder(e.stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(svc.Themes())
		},
	}
	cmd.Flags().StringVarP(&k, "k", "k", "auto", "number of themes, or auto")
	cmd.Flags().Uint64Var(&seed, "seed", themes.DefaultSeed, "random seed (the same input and seed give the same output)")
	cmd.Flags().StringVar(&format, "format", "json", "json or md (a report)")
	cmd.Flags().IntVar(&reps, "representatives", themes.DefaultRepresentatives, "central papers listed per theme")
	cmd.Flags().Float64Var(&outliers, "outliers", themes.DefaultOutlierBudget, "largest share of papers left in the outlier group (negative: none)")
	e.addCorpusFlags(cmd, &cf)
	return cmd
}
