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
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/paperrec/paperrec/api"
	"github.com/paperrec/paperrec/live"
	"github.com/paperrec/paperrec/models"
	"github.com/paperrec/paperrec/pgstore"
	"github.com/paperrec/paperrec/recommend"
)

// Main is the running server: the HTTP API, its listener and the engine
// it answers with. It listens first and answers 503 (and /readyz 503) until
// an engine is published, so that probes see it start. Tests boot the real
// thing with Addr "127.0.0.1:0". Open, Publish or PublishEngine, then
// Close; the Publish methods are safe for concurrent use with requests, the
// rest is not.
type Main struct {
	Addr   string
	Logger *slog.Logger
	// API configures the HTTP API. Its Logger defaults to Logger, its
	// Status and Writer to this Main's (a Writer only with a Token).
	API api.Config

	// A live engine, once published, answers; before that, or for a
	// snapshot served as it is, svc does.
	eng      atomic.Pointer[live.Engine]
	svc      atomic.Pointer[recommend.Service]
	snapshot atomic.Pointer[string]
	ln       net.Listener
	server   *http.Server
	done     chan struct{} // closed when the server stops serving
	serveErr error         // why it stopped, set before done is closed
}

// service is the API's Source: the live engine's current version, or the
// published service.
func (m *Main) service() *recommend.Service {
	if e := m.eng.Load(); e != nil {
		return e.Service()
	}
	return m.svc.Load()
}

// status is what /healthz and /metrics report of the engine.
func (m *Main) status() live.Status {
	if e := m.eng.Load(); e != nil {
		return e.Status()
	}
	svc := m.svc.Load()
	if svc == nil {
		return live.Status{}
	}
	st := live.Status{Seq: svc.Seq(), FitSeq: svc.Seq(), Papers: svc.Len()}
	if p := m.snapshot.Load(); p != nil {
		st.Snapshot = *p
	}
	return st
}

// Write sends the API's writes to the live engine (api.Writer).
func (m *Main) Write(ctx context.Context, changes []models.Change) ([]models.Change, error) {
	e := m.eng.Load()
	if e == nil {
		return nil, fmt.Errorf("%w: the engine is loading", live.ErrUnavailable)
	}
	return e.Write(ctx, changes)
}

// RequestRefit asks the live engine for a refit (api.Writer).
func (m *Main) RequestRefit() {
	if e := m.eng.Load(); e != nil {
		e.RequestRefit()
	}
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
	if cfg.Status == nil {
		cfg.Status = m.status
	}
	if cfg.Writer == nil && cfg.Token != "" {
		cfg.Writer = m
	}
	ln, err := net.Listen("tcp", m.Addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", m.Addr, err)
	}
	m.ln = ln
	m.server = &http.Server{
		Handler:           api.New(m.service, cfg).Handler(),
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
	m.snapshot.Store(&snapshot)
	m.svc.Store(svc)
}

// PublishEngine makes a live engine answer from now on, with the versions
// it swaps in.
func (m *Main) PublishEngine(e *live.Engine) { m.eng.Store(e) }

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
	data, store, schema     string
	tokenFile               string
	watch                   bool
	refitAfter              int
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
			if err := e.flagError(cmd); err != nil {
				return err
			}
			ctx := cmd.Context()
			if sf.snapshot != "" && cmd.Flags().Changed("corpus") {
				return usageError{fmt.Errorf("--snapshot and --corpus: give one (a snapshot holds its corpus)")}
			}
			if sf.snapshot != "" && e.getenv("PAPERREC_CORPUS") != "" {
				e.log.Warn("PAPERREC_CORPUS is not read: the snapshot holds its corpus", "snapshot", sf.snapshot)
			}
			cfg, err := sf.check()
			if err != nil {
				return err
			}
			if _, err := cf.config(); err != nil {
				return err
			}
			ecfg, err := cf.config()
			if err != nil {
				return err
			}
			token, err := e.token(sf)
			if err != nil {
				return err
			}
			switch {
			case sf.snapshot != "" && (sf.data != "" || sf.store != ""):
				return usageError{errors.New("--snapshot and --data or --store: give one (a snapshot is served as it is; a data directory or a store keeps a live corpus)")}
			case sf.data != "" && sf.store != "":
				return usageError{errors.New("--data and --store: give one (one machine, or replicas that share PostgreSQL)")}
			case token != "" && sf.data == "" && sf.store == "":
				return usageError{errors.New("an API token enables writes, which need --data DIR or --store postgres://…: somewhere to keep them")}
			case sf.watch && cf.path == "":
				return usageError{errors.New("--watch needs --corpus FILE: the file to reload when it changes")}
			}
			cfg.Token = token
			lw := newLogWriter(e.stderr, logFlushEvery)
			defer lw.Close()
			e.log = newLogger(lw, sf.logFormat)
			m := &Main{Addr: sf.addr, Logger: e.log, API: cfg}
			if err := m.Open(); err != nil {
				return err
			}
			e.log.Info("serving", "url", m.URL(), "writes", token != "")

			hup, stopHUP := notifyHUP()
			defer stopHUP()
			// Load or build the engine while serving: /readyz answers 503
			// until it is published.
			var loadErr error
			loaded := make(chan struct{})
			runCtx, stopRun := context.WithCancel(ctx)
			defer stopRun()
			var background sync.WaitGroup
			go func() {
				defer close(loaded)
				if sf.snapshot != "" {
					var (
						svc *recommend.Service
						sum string
					)
					if svc, sum, loadErr = e.readSnapshot(ctx, sf.snapshot, sf.wantSum); loadErr == nil {
						m.Publish(svc, sum)
						e.log.Info("ready")
					}
					return
				}
				var eng *live.Engine
				if eng, loadErr = e.openEngine(runCtx, cf, sf, ecfg); loadErr != nil {
					return
				}
				m.PublishEngine(eng)
				e.log.Info("ready", "seq", eng.Status().Seq, "snapshot", eng.Status().Snapshot)
				background.Go(func() { eng.Run(runCtx) })
				background.Go(func() { e.reloads(runCtx, eng, hup, cf, sf) })
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
			stopRun()
			background.Wait()
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
	fl.DurationVar(&sf.timeout, "timeout", e.envDuration("timeout", "PAPERREC_TIMEOUT", api.DefaultTimeout), "deadline of every request; past it a request answers 503 (env PAPERREC_TIMEOUT)")
	fl.IntVar(&sf.maxInFlight, "max-in-flight", e.envInt("max-in-flight", "PAPERREC_MAX_IN_FLIGHT", 0), "requests of /v1 at work at once, the rest answered 503 at once; 0: 4 × cores (env PAPERREC_MAX_IN_FLIGHT)")
	fl.IntVar(&sf.expensiveWorkers, "expensive-workers", e.envInt("expensive-workers", "PAPERREC_EXPENSIVE_WORKERS", 0), "expensive requests (recommend, k > 10, diversity > 0) computing at once, the other admitted ones waiting their turn; 0: half the cores, at least 1 (env PAPERREC_EXPENSIVE_WORKERS)")
	fl.StringVar(&sf.publicURL, "public-url", e.getenv("PAPERREC_PUBLIC_URL"), "base URL readers reach this server at, for the links of the HTML fragment; empty: relative links (env PAPERREC_PUBLIC_URL)")
	fl.StringVar(&sf.accessLog, "access-log", envOr(e.getenv("PAPERREC_ACCESS_LOG"), string(api.AccessLogSampled)), "which requests to log: all, sampled (one in --access-log-sample) or off; 500s are always logged (env PAPERREC_ACCESS_LOG)")
	fl.IntVar(&sf.accessLogSample, "access-log-sample", e.envInt("access-log-sample", "PAPERREC_ACCESS_LOG_SAMPLE", api.DefaultAccessLogSample), "with --access-log sampled, log one request in N (env PAPERREC_ACCESS_LOG_SAMPLE)")
	fl.StringVar(&sf.logFormat, "log-format", envOr(e.getenv("PAPERREC_LOG_FORMAT"), "text"), "log lines as text (logfmt) or json (env PAPERREC_LOG_FORMAT)")
	fl.StringVar(&sf.data, "data", e.getenv("PAPERREC_DATA"), "data directory that keeps the live corpus and every change (bbolt); seeded from --corpus (or the bundled listing) when new (env PAPERREC_DATA)")
	fl.StringVar(&sf.store, "store", e.getenv("PAPERREC_STORE"), "PostgreSQL DSN (postgres://…) that replicas share as the system of record; seeded like --data (env PAPERREC_STORE)")
	fl.StringVar(&sf.schema, "store-schema", envOr(e.getenv("PAPERREC_STORE_SCHEMA"), pgstore.DefaultSchema), "schema of --store's tables (env PAPERREC_STORE_SCHEMA)")
	fl.StringVar(&sf.tokenFile, "token-file", "", "file holding the bearer token of the write routes (or env PAPERREC_API_TOKEN); without a token there are no write routes")
	fl.BoolVar(&sf.watch, "watch", false, "reload --corpus FILE when it changes: new and changed papers are put, missing ones removed, then a refit")
	fl.IntVar(&sf.refitAfter, "refit-after", e.envInt("refit-after", "PAPERREC_REFIT_AFTER", 0), "changes folded in before a background refit; 0: a tenth of the corpus, at least 100; -1: only on request (env PAPERREC_REFIT_AFTER)")
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

// envInt reads the default of flag from the environment variable name; a
// malformed value is a usage error when the command runs, unless the flag
// is given (see env.flagError).
func (e *env) envInt(flag, name string, def int) int {
	v := e.getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		e.flagErrs = append(e.flagErrs, flagError{flag, usageError{fmt.Errorf("%s=%q: want an integer", name, v)}})
		return def
	}
	return n
}

// envDuration reads a duration flag default from the environment, as
// envInt does.
func (e *env) envDuration(flag, name string, def time.Duration) time.Duration {
	v := e.getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		e.flagErrs = append(e.flagErrs, flagError{flag, usageError{fmt.Errorf("%s=%q: want a duration such as 3s", name, v)}})
		return def
	}
	return d
}

// flagError is a malformed default that the environment gave a flag.
type flagError struct {
	flag string
	err  error
}

// flagError returns the malformed environment defaults of the flags of cmd
// that the command line did not set: a flag given overrides its variable.
func (e *env) flagError(cmd *cobra.Command) error {
	var errs []error
	for _, fe := range e.flagErrs {
		if f := cmd.Flags().Lookup(fe.flag); f != nil && !f.Changed {
			errs = append(errs, fe.err)
		}
	}
	return errors.Join(errs...)
}
