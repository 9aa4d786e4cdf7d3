// Command paperrec serves and queries related research papers: a Gin API
// for a website's related-work widget, and CLI commands for lookups,
// exports, evaluation and themes. It is the only package that reads flags,
// environment and files, and wires the others together.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// run executes one command line and returns the exit status: 0 success, 1
// failure, 2 bad usage.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	root := newRootCmd(stdin, stdout, stderr, getenv)
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(stderr, "paperrec:", err)
		if isUsage(err) {
			return 2
		}
		return 1
	}
	return 0
}
