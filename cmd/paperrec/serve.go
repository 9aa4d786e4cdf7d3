package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/paperrec/paperrec/api"
	"github.com/paperrec/paperrec/recommend"
)

// Main is the running server: the HTTP API, its listener and the engine
// it publishes. It listens first and answers 503 (and /readyz 503) until
// an engine is published, so that probes see it start. Tests boot the real
// thing with Addr "127.0.0.1:0". Open, Publish, then Close; Publish is safe
// for concurrent use with requests, the rest is not.
type Main struct {
	Addr   string
	Logger *slog.Logger
	// API configures the HTTP API. Its Logger defaults to Logger, and its
	// Metrics to a registry that also holds paperrec_engine_info.
	API api.Config

	svc      atomic.Pointer[recommend.Service]
	info     *prometheus.GaugeVec
	ln       net.Listener
	server   *http.Server
	done     chan struct{} // closed when the server stops serving
	serveErr error         // why it stopped, set before done is closed
}

// Open listens on m.Addr and starts serving, with no engine yet.
func (m *Main) Open() error {
	if m.Logger == nil {
		m.Logger = slog.Default()
	}
	cfg := m.API
	if cfg.Logger == nil {
		cfg.Logger = m.Logger
	}
	if cfg.Metrics == nil {
		cfg.Metrics = prometheus.NewRegistry()
	}
	m.info = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "paperrec_engine_info",
		Help: "The engine that answers requests: 1, with how it was made (build or snapshot) and the snapshot's SHA-256."},
		[]string{"source", "snapshot_sha256"})
	if err := cfg.Metrics.Register(m.info); err != nil {
		return fmt.Errorf("register metrics: %w", err)
	}
	ln, err := net.Listen("tcp", m.Addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", m.Addr, err)
	}
	m.ln = ln
	m.server = &http.Server{
		Handler:           api.New(m.svc.Load, cfg).Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(m.Logger.Handler(), slog.LevelWarn),
	}
	m.done = make(chan struct{})
	srv := m.server
	go func() {
		m.serveErr = srv.Serve(ln)
		close(m.done)
	}()
	return nil
}

// Publish makes svc the engine that answers requests from now on; requests
// already at work finish on the engine they started with. snapshot is the
// hex SHA-256 of the snapshot svc was loaded from, "" when it was built.
func (m *Main) Publish(svc *recommend.Service, snapshot string) {
	m.svc.Store(svc)
	source := "build"
	if snapshot != "" {
		source = "snapshot"
	}
	m.info.Reset()
	m.info.WithLabelValues(source, snapshot).Set(1)
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
	<-m.done
	if m.serveErr != nil && !errors.Is(m.serveErr, http.ErrServerClosed) {
		err = errors.Join(err, m.serveErr)
	}
	return err
}

// serveFlags are the flags of paperrec serve beyond the corpus.
type serveFlags struct {
	addr, snapshot, wantSum string
	timeout                 time.Duration
	maxInFlight             int
	expensiveWorkers        int
	publicURL               string
	accessLog               string
	accessLogSample         int
	logFormat               string
}

// check validates the flags before anything is loaded and returns the
// API configuration they give.
func (f serveFlags) check() (api.Config, error) {
	cfg := api.Config{Timeout: f.timeout, MaxInFlight: f.maxInFlight, ExpensiveWorkers: f.expensiveWorkers, AccessLog: api.AccessLogMode(f.accessLog),
		AccessLogSample: f.accessLogSample}
	if f.wantSum != "" {
		if b, err := hex.DecodeString(f.wantSum); err != nil || len(b) != 32 {
			return cfg, usageError{fmt.Errorf("--snapshot-sha256 %q: want 64 hex digits (a SHA-256)", f.wantSum)}
		}
	}
	if f.timeout <= 0 {
		return cfg, usageError{fmt.Errorf("--timeout %s: must be above 0", f.timeout)}
	}
	if f.maxInFlight < 0 {
		return cfg, usageError{fmt.Errorf("--max-in-flight %d: must be 0 (4 × cores) or more", f.maxInFlight)}
	}
	switch cfg.AccessLog {
	case api.AccessLogAll, api.AccessLogSampled, api.AccessLogOff:
	default:
		return cfg, usageError{fmt.Errorf("--access-log %q: want all, sampled or off", f.accessLog)}
	}
	if f.expensiveWorkers < 0 {
		return cfg, usageError{fmt.Errorf("--expensive-workers %d: must be 0 (half the cores) or more", f.expensiveWorkers)}
	}
	if f.accessLogSample < 1 {
		return cfg, usageError{fmt.Errorf("--access-log-sample %d: must be 1 or more", f.accessLogSample)}
	}
	switch f.logFormat {
	case "text", "json":
	default:
		return cfg, usageError{fmt.Errorf("--log-format %q: want text or json", f.logFormat)}
	}
	if f.publicURL != "" {
		u, err := url.Parse(f.publicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return cfg, usageError{fmt.Errorf("--public-url %q: want an http(s) URL such as https://papers.example.org", f.publicURL)}
		}
		cfg.PublicURL = f.publicURL
	}
	return cfg, nil
}

func (e *env) serveCmd() *cobra.Command {
	var (
		cf corpusFlags
		sf serveFlags
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the API on the corpus (the bundled listing by default)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := e.flagErr; err != nil {
				return err
			}
			ctx := cmd.Context()
			if sf.snapshot != "" && cmd.Flags().Changed("corpus") {
				return usageError{fmt.Errorf("--snapshot and --corpus: give one (a snapshot holds its corpus)")}
			}
			cfg, err := sf.check()
			if err != nil {
				return err
			}
			if _, err := cf.config(); err != nil {
				return err
			}
			lw := newLogWriter(e.stderr, logFlushEvery)
			defer lw.Close()
			e.log = newLogger(lw, sf.logFormat)
			m := &Main{Addr: sf.addr, Logger: e.log, API: cfg}
			if err := m.Open(); err != nil {
				return err
			}
			e.log.Info("serving", "url", m.URL())

			// Load or build the engine while serving: /readyz answers 503
			// until it is published.
			var loadErr error
			loaded := make(chan struct{})
			go func() {
				defer close(loaded)
				var (
					svc *recommend.Service
					sum string
				)
				if sf.snapshot != "" {
					svc, sum, loadErr = e.readSnapshot(ctx, sf.snapshot, sf.wantSum)
				} else {
					svc, loadErr = e.buildService(ctx, cf)
				}
				if loadErr == nil {
					m.Publish(svc, sum)
					e.log.Info("ready")
				}
			}()
			select {
			case <-ctx.Done():
			case <-m.done:
			case <-loaded:
				if loadErr == nil {
					select {
					case <-ctx.Done():
					case <-m.done:
					}
				}
			}
			stopping := ctx.Err() != nil
			if stopping {
				e.log.Info("shutting down")
			}
			err = m.Close()
			<-loaded // the loader has finished, or stopped as ctx asked
			if loadErr != nil && !stopping {
				err = errors.Join(loadErr, err) // a build cut short by a stop is no failure
			}
			return err
		},
	}
	def := e.getenv("PAPERREC_ADDR")
	if def == "" {
		def = "127.0.0.1:8080"
	}
	fl := cmd.Flags()
	fl.StringVar(&sf.addr, "addr", def, "listen address (env PAPERREC_ADDR)")
	fl.StringVar(&sf.snapshot, "snapshot", e.getenv("PAPERREC_SNAPSHOT"), "serve a snapshot written by paperrec build instead of building (env PAPERREC_SNAPSHOT)")
	fl.StringVar(&sf.wantSum, "snapshot-sha256", e.getenv("PAPERREC_SNAPSHOT_SHA256"), "refuse a snapshot whose SHA-256 differs (env PAPERREC_SNAPSHOT_SHA256)")
	fl.DurationVar(&sf.timeout, "timeout", e.envDuration("PAPERREC_TIMEOUT", api.DefaultTimeout), "deadline of every request; past it a request answers 503 (env PAPERREC_TIMEOUT)")
	fl.IntVar(&sf.maxInFlight, "max-in-flight", e.envInt("PAPERREC_MAX_IN_FLIGHT", 0), "requests of /v1 at work at once, the rest answered 503 at once; 0: 4 × cores (env PAPERREC_MAX_IN_FLIGHT)")
	fl.IntVar(&sf.expensiveWorkers, "expensive-workers", e.envInt("PAPERREC_EXPENSIVE_WORKERS", 0), "expensive requests (recommend, k > 10, diversity > 0) computing at once, the other admitted ones waiting their turn; 0: half the cores, at least 1 (env PAPERREC_EXPENSIVE_WORKERS)")
	fl.StringVar(&sf.publicURL, "public-url", e.getenv("PAPERREC_PUBLIC_URL"), "base URL readers reach this server at, for the links of the HTML fragment; empty: relative links (env PAPERREC_PUBLIC_URL)")
	fl.StringVar(&sf.accessLog, "access-log", envOr(e.getenv("PAPERREC_ACCESS_LOG"), string(api.AccessLogSampled)), "which requests to log: all, sampled (one in --access-log-sample) or off; 500s are always logged (env PAPERREC_ACCESS_LOG)")
	fl.IntVar(&sf.accessLogSample, "access-log-sample", e.envInt("PAPERREC_ACCESS_LOG_SAMPLE", api.DefaultAccessLogSample), "with --access-log sampled, log one request in N (env PAPERREC_ACCESS_LOG_SAMPLE)")
	fl.StringVar(&sf.logFormat, "log-format", envOr(e.getenv("PAPERREC_LOG_FORMAT"), "text"), "log lines as text (logfmt) or json (env PAPERREC_LOG_FORMAT)")
	e.addCorpusFlags(cmd, &cf)
	return cmd
}

// envOr returns v, or def when v is empty.
func envOr(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// envInt reads an integer flag default from the environment; a malformed
// value is a usage error when the command runs.
func (e *env) envInt(name string, def int) int {
	v := e.getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		e.flagErr = errors.Join(e.flagErr, usageError{fmt.Errorf("%s=%q: want an integer", name, v)})
		return def
	}
	return n
}

// envDuration reads a duration flag default from the environment, as
// envInt does.
func (e *env) envDuration(name string, def time.Duration) time.Duration {
	v := e.getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		e.flagErr = errors.Join(e.flagErr, usageError{fmt.Errorf("%s=%q: want a duration such as 3s", name, v)})
		return def
	}
	return d
}
