package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/paperrec/paperrec/recommend"
)

// rankRequest is one line of paperrec rank's input.
type rankRequest struct {
	Query      string   `json:"query"`
	Candidates []string `json:"candidates"`
}

// rankAnswer is one line of its output.
type rankAnswer struct {
	Query  string             `json:"query"`
	Ranked []recommend.Ranked `json:"ranked"`
}

// maxRankLine bounds one request line (IDs of thousands of candidates).
const maxRankLine = 16 << 20

func (e *env) rankCmd() *cobra.Command {
	var cf corpusFlags
	cmd := &cobra.Command{
		Use:   "rank",
		Short: "Rank given candidates against a paper: JSON lines {query, candidates} in, {query, ranked} out",
		Long: `rank reads JSON lines {"query": ID, "candidates": [IDs]} on standard input and writes,
per request and in order, one JSON line {"query": ID, "ranked": [{"id": ID, "score": S}]}
ranking every candidate, best first. This sorts a reading list, and is how paperrec is
compared on outside benchmarks.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			svc, err := e.buildServiceWith(cmd.Context(), cf, skipThemes)
			if err != nil {
				return err
			}
			sc := bufio.NewScanner(e.stdin)
			sc.Buffer(make([]byte, 0, 64<<10), maxRankLine)
			out := bufio.NewWriter(e.stdout)
			defer out.Flush()
			enc := json.NewEncoder(out)
			for n := 1; sc.Scan(); n++ {
				if len(sc.Bytes()) == 0 {
					continue
				}
				var req rankRequest
				dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
				dec.DisallowUnknownFields()
				if err := dec.Decode(&req); err != nil {
					return fmt.Errorf("stdin:%d: %w", n, err)
				}
				if req.Query == "" {
					return fmt.Errorf("stdin:%d: query: missing", n)
				}
				ranked, err := svc.Rank(cmd.Context(), req.Query, req.Candidates)
				if err != nil {
					return fmt.Errorf("stdin:%d: %w", n, err)
				}
				if err := enc.Encode(rankAnswer{Query: req.Query, Ranked: ranked}); err != nil {
					return err
				}
			}
			if err := sc.Err(); err != nil {
				return fmt.Errorf("stdin: %w", err)
			}
			return nil
		},
	}
	e.addCorpusFlags(cmd, &cf)
	return cmd
}
