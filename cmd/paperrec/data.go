package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/paperrec/paperrec/boltstore"
	"github.com/paperrec/paperrec/models"
)

// openData opens the data directory dir, seeding a new one with the corpus
// the flags name (the bundled listing by default).
func (e *env) openData(dir string, cf corpusFlags) (*boltstore.Store, error) {
	st, err := boltstore.Open(dir)
	if err != nil {
		return nil, err
	}
	fresh, err := st.New()
	if err != nil {
		st.Close()
		return nil, err
	}
	if !fresh {
		// A directory whose papers were all removed stays empty.
		if cf.path != "" {
			e.log.Info("the data directory was seeded already; --corpus seeds only a new one", "dir", dir)
		}
		return st, nil
	}
	corpus, err := e.loadCorpus(cf)
	if err != nil {
		st.Close()
		return nil, err
	}
	if err := st.Seed(corpus.Papers()); err != nil {
		st.Close()
		return nil, err
	}
	e.log.Info("data directory seeded", "dir", dir, "papers", corpus.Len())
	return st, nil
}

// dataFlag reads --data, or PAPERREC_DATA.
func (e *env) dataFlag(cmd *cobra.Command, dir *string) {
	cmd.Flags().StringVar(dir, "data", e.getenv("PAPERREC_DATA"), "data directory: the live corpus and its change log (env PAPERREC_DATA)")
}

// commit writes changes to a data directory and reports them. A server
// serving the directory picks them up within a second.
func (e *env) commit(ctx context.Context, dir string, cf corpusFlags, changes []models.Change) error {
	if dir == "" {
		return usageError{errors.New("--data: required (the data directory to change)")}
	}
	st, err := e.openData(dir, cf)
	if err != nil {
		return err
	}
	defer st.Close()
	done, err := st.Commit(ctx, changes)
	if err != nil {
		return err
	}
	if len(done) > 0 {
		fmt.Fprintf(e.stdout, "committed %d %s to %s (changes %d to %d)\n", len(done), plural(len(done), "change", "changes"),
			dir, done[0].Seq, done[len(done)-1].Seq)
	}
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func (e *env) addCmd() *cobra.Command {
	var (
		cf      corpusFlags
		dir     string
		replace bool
	)
	cmd := &cobra.Command{
		Use:   "add --data DIR FILE.jsonl",
		Short: "Add the papers of a JSON Lines file to a data directory (- reads standard input)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if dir == "" {
				return usageError{errors.New("--data: required (the data directory to change)")}
			}
			var (
				r    io.Reader = e.stdin
				name           = "stdin"
			)
			if args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return err
				}
				defer f.Close()
				r, name = f, filepath.Base(args[0])
			}
			res, err := models.ParseJSONL(r, name, models.ParseOptions{})
			if err != nil {
				return err
			}
			op := models.OpAdd
			if replace {
				op = models.OpPut
			}
			changes := make([]models.Change, len(res.Papers))
			for i, p := range res.Papers {
				changes[i] = models.Change{Op: op, ID: p.ID, Paper: p}
			}
			err = e.commit(cmd.Context(), dir, cf, changes)
			var ce *models.ChangeError
			if errors.As(err, &ce) && ce.Index < len(res.Papers) {
				return fmt.Errorf("%s:%d: %s: %w; nothing was added", name, res.Papers[ce.Index].Line, ce.ID, ce.Err)
			}
			return err
		},
	}
	e.dataFlag(cmd, &dir)
	cmd.Flags().BoolVar(&replace, "replace", false, "replace papers whose ID is there already (else that is an error and nothing is added)")
	cmd.Flags().StringVar(&cf.path, "corpus", e.getenv("PAPERREC_CORPUS"), "corpus that seeds a new data directory (default: the bundled listing)")
	return cmd
}

func (e *env) rmCmd() *cobra.Command {
	var (
		cf  corpusFlags
		dir string
	)
	cmd := &cobra.Command{
		Use:   "rm --data DIR ID...",
		Short: "Remove papers from a data directory",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			changes := make([]models.Change, len(args))
			for i, id := range args {
				changes[i] = models.Change{Op: models.OpRemove, ID: id}
			}
			return e.commit(cmd.Context(), dir, cf, changes)
		},
	}
	e.dataFlag(cmd, &dir)
	cmd.Flags().StringVar(&cf.path, "corpus", e.getenv("PAPERREC_CORPUS"), "corpus that seeds a new data directory (default: the bundled listing)")
	return cmd
}
