// Package live serves a corpus that changes while it is served. An
// [Engine] holds the current version of the recommendation engine
// (package recommend), takes writes through a [Store] (the system of
// record: in memory, an embedded database, or PostgreSQL), folds each
// committed change into a new version and swaps it in atomically, and
// refits the models in the background when enough has changed. A request
// takes one version at its start and answers wholly from it, so none fails
// or mixes versions during a swap.
package live

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paperrec/paperrec/models"
	"github.com/paperrec/paperrec/recommend"
)

// Config tunes an Engine. The zero value is the default.
type Config struct {
	// Build configures every engine built from the store's papers.
	Build recommend.Config
	// RefitAfter is how many changes since the last fit start a background
	// refit (default: a tenth of the papers of the last fit, at least
	// 100); negative: only on request.
	RefitAfter int
	// Poll is how often the engine looks for changes that other processes
	// committed, besides the store's notifications (default 10 s). A store
	// only this process writes is not polled.
	Poll time.Duration
	// Logger logs swaps, refits and failures (default slog.Default()).
	Logger *slog.Logger
}

// Defaults for Config.
const (
	DefaultMinRefitAfter = 100
	DefaultPoll          = 10 * time.Second
	// catchUpBatch is how many changes one catch-up step applies.
	catchUpBatch = 1000
	// catchUpTimeout bounds a catch-up under the engine's lock, which
	// writes and probes wait for: a store that stops answering mid-read
	// must not hold them.
	catchUpTimeout = 30 * time.Second
)

// Status is what an engine serves, for probes, logs and metrics.
//
// A plain value.
type Status struct {
	// Seq is the last change applied.
	Seq uint64 `json:"seq"`
	// Snapshot is the SHA-256 (hex) of the snapshot of the current fit, as
	// the store keeps it; empty before one is saved.
	Snapshot string `json:"snapshot"`
	// FitSeq is the change the current fit was made as of; Seq − FitSeq
	// changes were folded in since.
	FitSeq uint64 `json:"fit_seq"`
	Papers int    `json:"papers"`
	// Refitting is set while a refit runs.
	Refitting bool `json:"refitting"`
	// LastRefit is when the current fit was made or loaded.
	LastRefit time.Time `json:"last_refit"`
}

// Engine is a live recommendation engine over a Store. Open it, read the
// current version with Service, write with Write, and let Run follow the
// store and refit in the background. Safe for concurrent use.
type Engine struct {
	store Store
	cfg   Config
	log   *slog.Logger

	cur atomic.Pointer[recommend.Service]
	// mu serialises catch-up and swaps, which may wait on the store.
	mu sync.Mutex
	// statusMu guards status and fitPapers, which change under mu too but
	// are read without it: a probe must not wait on the store.
	statusMu sync.Mutex
	status   Status
	// refitMu allows one refit or snapshot load at a time; refits asks
	// Run for a refit (forced: whatever the policy says), adopts for a
	// look at the store's newest snapshot.
	refitMu   sync.Mutex
	refitting atomic.Bool
	// rejected names (hex SHA-256) a snapshot adopt found unusable.
	rejected atomic.Value
	refits   chan struct{}
	forced   atomic.Bool
	adopts   chan struct{}
	// fitPapers is how many papers the current fit was made of.
	fitPapers int
	// pruned is set while the store no longer has the changes after the
	// current version (see ErrPruned): the newest snapshot, or a refit,
	// moves it on.
	pruned atomic.Bool
	// adoptMisses counts the loads in a row that left a pruned engine
	// behind (refitLoop's own).
	adoptMisses int
}

// Open loads the engine a store holds: its newest snapshot when one was
// built with cfg.Build, else a fit of its papers (then saved as a
// snapshot), and then the changes committed after it.
func Open(ctx context.Context, store Store, cfg Config) (*Engine, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Poll <= 0 {
		cfg.Poll = DefaultPoll
	}
	e := &Engine{store: store, cfg: cfg, log: cfg.Logger, refits: make(chan struct{}, 1), adopts: make(chan struct{}, 1)}
	svc, info := e.loadSnapshot(ctx)
	loaded := svc != nil
	if !loaded {
		var err error
		if svc, info, err = e.fitAndSave(ctx); err != nil {
			return nil, err
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.install(svc, info)
	if err := e.catchUp(ctx); err != nil {
		if !loaded || !(errors.Is(err, errNotFolded) || errors.Is(err, ErrPruned)) {
			return nil, err
		}
		// The changes after the saved engine do not fold into it: a fit
		// of the store's papers holds them all.
		e.log.Warn("the changes after the saved engine cannot be applied to it; fitting anew", "err", err)
		if svc, info, err = e.fitAndSave(ctx); err != nil {
			return nil, err
		}
		e.install(svc, info)
		if err := e.catchUp(ctx); err != nil {
			return nil, err
		}
		// That fit is the refit the failed fold-in asked for.
		e.forced.Store(false)
		select {
		case <-e.refits:
		default:
		}
	}
	return e, nil
}

// fitAndSave fits the store's papers and saves a snapshot of the fit. A
// snapshot that cannot be saved is logged, not fatal: the fit serves all
// the same, and the next refit saves one.
func (e *Engine) fitAndSave(ctx context.Context) (*recommend.Service, SnapshotInfo, error) {
	svc, err := e.fit(ctx)
	if err != nil {
		return nil, SnapshotInfo{}, err
	}
	info, err := e.save(ctx, svc)
	if err != nil {
		if ctx.Err() != nil {
			return nil, SnapshotInfo{}, err
		}
		e.log.Warn("serving the fit without a saved snapshot", "err", err)
		info = SnapshotInfo{}
	}
	return svc, info, nil
}

// loadSnapshot reads the store's newest snapshot. It returns nil when
// there is none, when it was built another way, or when it cannot be read:
// the store's papers are the record, and a fit of them replaces a
// snapshot that is missing or damaged.
func (e *Engine) loadSnapshot(ctx context.Context) (*recommend.Service, SnapshotInfo) {
	r, info, err := e.store.OpenSnapshot(ctx)
	if errors.Is(err, ErrNoSnapshot) {
		return nil, info
	}
	if err != nil {
		e.log.Warn("cannot open the saved engine; fitting anew", "err", err)
		return nil, info
	}
	defer r.Close()
	svc, sum, err := recommend.ReadSnapshot(ctx, r)
	if err == nil && (sum != info.SHA256 || svc.Seq() != info.Seq) {
		err = fmt.Errorf("the store names %x at change %d, the file is %x at change %d", info.SHA256, info.Seq, sum, svc.Seq())
	}
	if err != nil {
		e.log.Warn("the saved engine is damaged; fitting anew", "err", err)
		return nil, info
	}
	if !svc.BuiltWith(e.cfg.Build) {
		e.log.Info("the saved engine was built with other settings; fitting anew")
		return nil, info
	}
	e.log.Info("snapshot loaded", "sha256", fmt.Sprintf("%x", sum), "seq", info.Seq, "papers", svc.Len())
	return svc, info
}

// fit builds an engine from the store's papers.
func (e *Engine) fit(ctx context.Context) (*recommend.Service, error) {
	papers, seq, err := e.store.Papers(ctx)
	if err != nil {
		return nil, fmt.Errorf("read papers: %w", err)
	}
	corpus, err := models.NewCorpus(papers)
	if err != nil {
		return nil, fmt.Errorf("read papers: %w", err)
	}
	svc, err := recommend.New(ctx, corpus, e.cfg.Build)
	if err != nil {
		return nil, err
	}
	st := svc.Stats()
	e.log.Info("engine fitted", "papers", st.Papers, "seq", seq, "features", st.Features, "themes", st.Themes,
		"took", st.Duration.Round(time.Millisecond))
	return svc.At(seq), nil
}

// save stores a snapshot of a fit.
func (e *Engine) save(ctx context.Context, svc *recommend.Service) (SnapshotInfo, error) {
	start := time.Now()
	info, err := e.store.SaveSnapshot(ctx, svc.Seq(), func(w io.Writer) ([32]byte, error) { return svc.WriteSnapshot(w) })
	if errors.Is(err, ErrNoSnapshot) {
		return SnapshotInfo{}, nil // a store that keeps none
	}
	if err != nil {
		return info, fmt.Errorf("save snapshot: %w", err)
	}
	e.log.Info("snapshot saved", "sha256", fmt.Sprintf("%x", info.SHA256), "seq", info.Seq, "took", time.Since(start).Round(time.Millisecond))
	return info, nil
}

// install makes svc, a fit described by info, the current version. e.mu is held.
func (e *Engine) install(svc *recommend.Service, info SnapshotInfo) {
	e.installCaught(svc, info, svc)
}

// installCaught makes cur, which descends from the fit svc described by
// info, the current version, and records both in the status at once.
// e.mu is held.
func (e *Engine) installCaught(svc *recommend.Service, info SnapshotInfo, cur *recommend.Service) {
	e.statusMu.Lock()
	defer e.statusMu.Unlock()
	e.cur.Store(cur)
	e.fitPapers = svc.Len()
	e.status = Status{Seq: cur.Seq(), FitSeq: svc.Seq(), Papers: cur.Len(), LastRefit: time.Now().UTC()}
	if info.SHA256 != ([32]byte{}) {
		e.status.Snapshot = fmt.Sprintf("%x", info.SHA256)
	}
}

// Service returns the current version. It is never nil once Open returned.
func (e *Engine) Service() *recommend.Service { return e.cur.Load() }

// Status returns what the engine serves.
func (e *Engine) Status() Status {
	e.statusMu.Lock()
	defer e.statusMu.Unlock()
	st := e.status
	st.Refitting = e.refitting.Load()
	return st
}

// Write commits changes to the store and returns them numbered once they
// are durable and the current version shows them. A malformed change is a
// *models.ParseError, an add of an existing paper wraps models.ErrExists, a
// remove of a missing one models.ErrNotFound; a store that cannot take
// writes wraps [ErrUnavailable]. Nothing is written on error.
func (e *Engine) Write(ctx context.Context, changes []models.Change) ([]models.Change, error) {
	for k, c := range changes {
		if err := c.Check(); err != nil {
			return nil, &models.ChangeError{Index: k, ID: c.ID, Err: err}
		}
	}
	done, err := e.store.Commit(ctx, changes)
	if err != nil {
		var pe *models.ParseError
		switch {
		case errors.Is(err, models.ErrExists) || errors.Is(err, models.ErrNotFound) || errors.As(err, &pe):
			return nil, err
		case ctx.Err() != nil && !errors.Is(err, ctx.Err()):
			// The request's deadline or its client ended the wait: say so
			// (503 or 499), whatever the store made of it.
			return nil, fmt.Errorf("%w: %w", ctx.Err(), err)
		case ctx.Err() != nil:
			return nil, err
		}
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	// The changes are durable: make them visible even if the client leaves,
	// but do not wait on a store that stopped answering.
	e.mu.Lock()
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), catchUpTimeout)
	err = e.catchUp(cctx)
	cancel()
	e.mu.Unlock()
	if errors.Is(err, ErrPruned) {
		wake(e.adopts) // this engine is behind the log: load the newest snapshot
	}
	if err != nil {
		// Committed, so the write stands; the next catch-up or refit shows it.
		e.log.Error("committed changes are not served yet", "err", err)
	}
	e.maybeRefit()
	return done, nil
}

// catchUp applies the changes committed after the current version's and
// swaps in the result. e.mu is held.
func (e *Engine) catchUp(ctx context.Context) error {
	next, err := e.advance(ctx, e.cur.Load())
	e.publish(next)
	e.pruned.Store(errors.Is(err, ErrPruned))
	return err
}

// errNotFolded wraps the changes that the current version could not take
// in (a fit of the store's papers holds them).
var errNotFolded = errors.New("cannot fold in")

// advance applies the changes committed after svc's, in order, and returns
// the newest version it reached.
func (e *Engine) advance(ctx context.Context, svc *recommend.Service) (*recommend.Service, error) {
	for {
		changes, err := e.store.Changes(ctx, svc.Seq(), catchUpBatch)
		if err != nil {
			return svc, fmt.Errorf("read changes after %d: %w", svc.Seq(), err)
		}
		if len(changes) == 0 {
			return svc, nil
		}
		next, err := svc.Apply(ctx, changes)
		if err != nil {
			if !e.refitting.Load() {
				e.RequestRefit() // a fit of the store's papers heals what a fold-in could not do
			}
			return svc, fmt.Errorf("%w: changes %d..%d: %w", errNotFolded, changes[0].Seq, changes[len(changes)-1].Seq, err)
		}
		svc = next
	}
}

// publish makes svc the current version. e.mu is held.
func (e *Engine) publish(svc *recommend.Service) {
	e.cur.Store(svc)
	e.statusMu.Lock()
	e.status.Seq, e.status.Papers = svc.Seq(), svc.Len()
	e.statusMu.Unlock()
}

// maybeRefit asks for a refit when enough changed since the last fit.
// Run checks again when it gets to the request: a refit that was running
// meanwhile may have made it moot.
func (e *Engine) maybeRefit() {
	if e.refitDue() {
		wake(e.refits)
	}
}

// refitDue reports whether the policy (Config.RefitAfter) wants a refit.
func (e *Engine) refitDue() bool {
	limit := e.cfg.RefitAfter
	if limit < 0 {
		return false
	}
	e.statusMu.Lock()
	defer e.statusMu.Unlock()
	if limit == 0 {
		limit = max(DefaultMinRefitAfter, e.fitPapers/10)
	}
	return e.status.Seq-e.status.FitSeq >= uint64(limit)
}

// RequestRefit asks Run to refit in the background, whatever the policy
// says; it returns at once.
func (e *Engine) RequestRefit() {
	e.forced.Store(true)
	wake(e.refits)
}

// wake sends on ch unless a send is pending already.
func wake(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// Refit fits the models anew on the store's papers, saves a snapshot,
// applies the changes committed meanwhile and swaps the new engine in.
// Reads and writes go on during the fit; they wait only for the swap. One
// refit runs at a time: a second call waits for the first.
func (e *Engine) Refit(ctx context.Context) error {
	e.refitMu.Lock()
	defer e.refitMu.Unlock()
	e.refitting.Store(true)
	defer e.refitting.Store(false)
	if leader, ok := e.store.(Leader); ok {
		release, lead, err := leader.TryLead(ctx)
		if err != nil {
			return fmt.Errorf("refit: %w", err)
		}
		if !lead {
			e.log.Debug("another replica refits; its snapshot will be loaded when it is saved")
			return nil
		}
		defer release()
		// A replica that refitted just before us has saved what we would.
		if adopted, err := e.adopt(ctx); adopted || err != nil {
			return err
		}
	}
	start := time.Now()
	svc, info, err := e.fitAndSave(ctx)
	if err != nil {
		return fmt.Errorf("refit: %w", err)
	}
	pause, err := e.swapIn(ctx, svc, info)
	if err != nil {
		return fmt.Errorf("refit: %w", err)
	}
	cur := e.Service()
	e.log.Info("refit swapped in", "papers", cur.Len(), "fit_seq", svc.Seq(), "seq", cur.Seq(), "took", time.Since(start).Round(time.Millisecond),
		"swap_pause", pause.Round(time.Microsecond))
	return nil
}

// swapIn makes a new fit, described by info, current once it has caught
// up: most changes committed meanwhile are applied before the swap, the
// last few under the lock, so that no version goes back. It returns how
// long the lock was held.
func (e *Engine) swapIn(ctx context.Context, svc *recommend.Service, info SnapshotInfo) (time.Duration, error) {
	caught, err := e.advance(ctx, svc)
	if err != nil {
		return 0, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	cctx, cancel := context.WithTimeout(ctx, catchUpTimeout) // under the lock: bounded
	defer cancel()
	swap := time.Now()
	if caught, err = e.advance(cctx, caught); err != nil {
		return 0, err
	}
	// Only the caught-up version is published: a reader must never see the
	// fit's own, older version.
	e.installCaught(svc, info, caught)
	e.pruned.Store(false)
	return time.Since(swap), nil
}

// adopt loads the store's newest snapshot when another replica saved one
// newer than the current fit, and swaps it in; it reports whether it did.
// A snapshot this engine cannot use (damaged, or built with other
// settings) is remembered and not tried again.
func (e *Engine) adopt(ctx context.Context) (bool, error) {
	r, info, err := e.store.OpenSnapshot(ctx)
	if errors.Is(err, ErrNoSnapshot) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("look for a newer snapshot: %w", err)
	}
	defer r.Close()
	name := fmt.Sprintf("%x", info.SHA256)
	st := e.Status()
	if name == st.Snapshot || name == e.rejected.Load() || info.Seq < st.FitSeq {
		return false, nil
	}
	start := time.Now()
	rr := &readErr{r: r}
	svc, sum, err := recommend.ReadSnapshot(ctx, rr)
	switch {
	case err != nil && (rr.err != nil || ctx.Err() != nil):
		// The store or the context failed, not the snapshot: try again later.
		return false, fmt.Errorf("read snapshot %s: %w", name, err)
	case err != nil:
	case sum != info.SHA256 || svc.Seq() != info.Seq:
		err = fmt.Errorf("the store names %s at change %d, the file is %x at change %d", name, info.Seq, sum, svc.Seq())
	case !svc.BuiltWith(e.cfg.Build):
		err = errors.New("built with other settings than this server's")
	}
	if err != nil {
		e.rejected.Store(name)
		e.log.Warn("not loading the snapshot another replica saved", "sha256", name, "err", err)
		return false, nil
	}
	pause, err := e.swapIn(ctx, svc, info)
	if err != nil {
		return false, fmt.Errorf("load snapshot %s: %w", name, err)
	}
	e.log.Info("snapshot of another replica loaded", "sha256", name, "fit_seq", info.Seq, "seq", e.Service().Seq(),
		"took", time.Since(start).Round(time.Millisecond), "swap_pause", pause.Round(time.Microsecond))
	return true, nil
}

// Run follows the store (its notifications, and a poll) and, in a
// goroutine of its own, runs the refits that writes, RequestRefit or a
// signal asked for and loads the snapshots other replicas saved, until ctx
// ends; it returns when both have stopped. A refit or a load, minutes long
// on a large corpus, does not stop the changes that other processes commit
// from being folded in meanwhile.
func (e *Engine) Run(ctx context.Context) error {
	var refits sync.WaitGroup
	defer refits.Wait()
	refits.Go(func() { e.refitLoop(ctx) })
	notify := e.store.Notify()
	var tick <-chan time.Time
	if notify != nil {
		t := time.NewTicker(e.cfg.Poll)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-notify:
			e.follow(ctx)
		case <-tick:
			e.follow(ctx)
		}
	}
}

// refitLoop runs Run's refits and snapshot loads, one at a time, until ctx
// ends. A refit the policy asked for runs only if it is still due: writes
// during a refit ask for another, which the refit may have made moot.
func (e *Engine) refitLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-e.adopts:
			e.refitMu.Lock()
			adopted, err := e.adopt(ctx)
			e.refitMu.Unlock()
			if err != nil && ctx.Err() == nil {
				e.log.Warn("following the store", "err", err)
			}
			if !adopted && e.pruned.Load() {
				e.adoptMisses++
			} else {
				e.adoptMisses = 0
			}
			// A transient failure to load is tried again at the next poll,
			// but one that lasts (the file gone) or no snapshot to load
			// leaves a refit as the way forward.
			if e.pruned.Load() && !adopted && ctx.Err() == nil && (err == nil || errors.Is(err, fs.ErrNotExist) || e.adoptMisses >= 3) {
				e.adoptMisses = 0
				// Behind the pruned log with no snapshot to load: a fit of
				// the store's papers is the way forward.
				e.log.Warn("the store pruned the changes this engine needs and has no snapshot it can load; refitting")
				e.RequestRefit()
			}
		case <-e.refits:
			if !e.forced.Swap(false) && !e.refitDue() {
				st := e.Status()
				e.log.Debug("refit no longer due", "seq", st.Seq, "fit_seq", st.FitSeq)
				continue
			}
			if err := e.Refit(ctx); err != nil && ctx.Err() == nil {
				e.log.Error("refit failed; serving the engine as it was", "err", err)
			}
		}
	}
}

// follow applies what other processes committed, and asks refitLoop to
// look for a snapshot another replica saved.
func (e *Engine) follow(ctx context.Context) {
	e.mu.Lock()
	cctx, cancel := context.WithTimeout(ctx, catchUpTimeout)
	err := e.catchUp(cctx)
	cancel()
	e.mu.Unlock()
	if err != nil && ctx.Err() == nil && !errors.Is(err, ErrPruned) {
		e.log.Warn("following the store", "err", err)
		return
	}
	if errors.Is(err, ErrPruned) {
		e.log.Info("the store pruned the changes this engine needs; loading its newest snapshot", "seq", e.Service().Seq())
	}
	wake(e.adopts)
	e.maybeRefit()
}

// readErr is a reader that keeps the first error of its source other than
// io.EOF: a snapshot whose read failed there is not a bad snapshot.
type readErr struct {
	r   io.Reader
	err error
}

func (x *readErr) Read(p []byte) (int, error) {
	n, err := x.r.Read(p)
	if err != nil && err != io.EOF && x.err == nil {
		x.err = err
	}
	return n, err
}
