package main

import (
	"errors"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"
)

// usageError marks errors in how paperrec was called (exit status 2).
type usageError struct{ error }

func isUsage(err error) bool {
	var u usageError
	return errors.As(err, &u) || strings.HasPrefix(err.Error(), "unknown command") ||
		strings.HasPrefix(err.Error(), "unknown flag") || strings.HasPrefix(err.Error(), "unknown shorthand flag") ||
		strings.HasPrefix(err.Error(), "invalid argument")
}

// env holds the process's streams and environment for the commands.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	log            *slog.Logger
	// flagErrs holds malformed flag defaults read from the environment,
	// reported as usage errors when a command that reads them runs without
	// the flag.
	flagErrs []flagError
	// quiet turns progress bars off (--quiet).
	quiet bool
}

func newRootCmd(stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) *cobra.Command {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv,
		log: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))}
	root := &cobra.Command{
		Use:           "paperrec",
		Short:         "Related research papers: an API, a widget feed and research themes",
		Long:          "paperrec finds the papers most like a paper, says why, and serves that to a website.\nWith no --corpus it uses the bundled listing of 574 papers.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.PersistentFlags().BoolVarP(&e.quiet, "quiet", "q", false, "no progress bars (they show only on a terminal; log lines remain)")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(e.serveCmd(), e.relatedCmd(), e.searchCmd(), e.exportCmd(), e.evalCmd(), e.rankCmd(), e.clustersCmd(), e.buildCmd(),
		e.addCmd(), e.rmCmd(), e.benchCmd())
	for _, c := range root.Commands() {
		if check := c.Args; check != nil {
			// Wrong arguments are usage errors (exit status 2), found
			// before any work starts.
			c.Args = func(c *cobra.Command, args []string) error {
				if err := check(c, args); err != nil {
					return usageError{err}
				}
				return nil
			}
		}
	}
	return root
}
