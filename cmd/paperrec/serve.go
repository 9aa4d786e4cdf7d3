package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/paperrec/paperrec/api"
	"github.com/paperrec/paperrec/recommend"
)

// Main is the running server: built engine, HTTP API, listener. Tests boot
// the real thing with Addr "127.0.0.1:0". Open, then Close; not safe for
// concurrent use.
type Main struct {
	Addr   string
	Logger *slog.Logger

	svc    *recommend.Service
	ln     net.Listener
	server *http.Server
	done   chan error
}

// Open starts serving svc on m.Addr.
func (m *Main) Open(svc *recommend.Service) error {
	if m.Logger == nil {
		m.Logger = slog.Default()
	}
	ln, err := net.Listen("tcp", m.Addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", m.Addr, err)
	}
	m.svc, m.ln = svc, ln
	m.server = &http.Server{
		Handler:           api.New(svc, api.Config{Logger: m.Logger}).Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(m.Logger.Handler(), slog.LevelWarn),
	}
	m.done = make(chan error, 1)
	srv := m.server
	go func() { m.done <- srv.Serve(ln) }()
	return nil
}

// URL returns the server's base URL.
func (m *Main) URL() string { return "http://" + m.ln.Addr().String() }

// Close stops accepting requests and waits up to 10 s for those in flight.
// Closing a closed Main does nothing.
func (m *Main) Close() error {
	if m.server == nil {
		return nil
	}
	srv := m.server
	m.server = nil
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := srv.Shutdown(ctx)
	if serr := <-m.done; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}

func (e *env) serveCmd() *cobra.Command {
	var (
		cf       corpusFlags
		addr     string
		snapshot string
		wantSum  string
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the API on the corpus (the bundled listing by default)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			var (
				svc *recommend.Service
				err error
			)
			if snapshot != "" {
				if cmd.Flags().Changed("corpus") {
					return usageError{fmt.Errorf("--snapshot and --corpus: give one (a snapshot holds its corpus)")}
				}
				svc, err = e.readSnapshot(ctx, snapshot, wantSum)
			} else {
				svc, err = e.buildService(ctx, cf)
			}
			if err != nil {
				return err
			}
			m := &Main{Addr: addr, Logger: e.log}
			if err := m.Open(svc); err != nil {
				return err
			}
			e.log.Info("serving", "url", m.URL())
			select {
			case <-ctx.Done():
			case err := <-m.done:
				return err
			}
			e.log.Info("shutting down")
			return m.Close()
		},
	}
	def := e.getenv("PAPERREC_ADDR")
	if def == "" {
		def = "127.0.0.1:8080"
	}
	cmd.Flags().StringVar(&addr, "addr", def, "listen address (env PAPERREC_ADDR)")
	cmd.Flags().StringVar(&snapshot, "snapshot", e.getenv("PAPERREC_SNAPSHOT"), "serve a snapshot written by paperrec build instead of building (env PAPERREC_SNAPSHOT)")
	cmd.Flags().StringVar(&wantSum, "snapshot-sha256", e.getenv("PAPERREC_SNAPSHOT_SHA256"), "refuse a snapshot whose SHA-256 differs (env PAPERREC_SNAPSHOT_SHA256)")
	e.addCorpusFlags(cmd, &cf)
	return cmd
}
