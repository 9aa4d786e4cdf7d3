package pgstore

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/jackc/pgx/v5"

	"github.com/paperrec/paperrec/internal/pgtest"
	"github.com/paperrec/paperrec/internal/storetest"
	"github.com/paperrec/paperrec/live"
	"github.com/paperrec/paperrec/models"
	"github.com/paperrec/paperrec/recommend"
)

// newSchema returns the test database and a schema name of the test's
// own, which is dropped when the test ends (after the stores it opens are
// closed: cleanups run last first).
func newSchema(t testing.TB) (dsn, schema string) {
	t.Helper()
	dsn = pgtest.DSN(t)
	return dsn, pgtest.Schema(t, dsn, "pgstore_test_")
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func openStore(t testing.TB, dsn, schema string) *Store {
	t.Helper()
	s, err := Open(context.Background(), dsn, Options{Schema: schema, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var paper, ids = storetest.Paper, storetest.IDs

func TestMigrationsAreNumbered(t *testing.T) {
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 || ms[0].version != 1 {
		t.Fatalf("migrations %+v", ms)
	}
}

func TestPlainName(t *testing.T) {
	tests := []struct {
		name, schema string
		ok           bool
	}{
		{"default", DefaultSchema, true},
		{"digits and underscore", "paperrec_2", true},
		{"empty", "", false},
		{"leading digit", "2paperrec", false},
		{"upper case", "Paperrec", false},
		{"quote", `a"; DROP SCHEMA public; --`, false},
		{"too long", strings.Repeat("a", 49), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := plainName(tt.schema); got != tt.ok {
				t.Errorf("plainName(%q) = %v, want %v", tt.schema, got, tt.ok)
			}
		})
	}
}

func TestCommitAndReopen(t *testing.T) {
	ctx := context.Background()
	dsn, schema := newSchema(t)
	storetest.CommitAndReopen(t, storetest.Subject{
		Open:  func(t *testing.T) live.Store { return openStore(t, dsn, schema) },
		New:   func(s live.Store) (bool, error) { return s.(*Store).New(ctx) },
		Seed:  func(s live.Store, papers []models.Paper) error { return s.(*Store).Seed(ctx, papers) },
		Close: func(s live.Store) error { return s.(*Store).Close() },
	})
}

func TestSnapshots(t *testing.T) {
	ctx := context.Background()
	dsn, schema := newSchema(t)
	s := openStore(t, dsn, schema)
	if _, _, err := s.OpenSnapshot(ctx); !errors.Is(err, live.ErrNoSnapshot) {
		t.Fatalf("new store: %v", err)
	}
	save := func(seq uint64, body []byte) live.SnapshotInfo {
		info, err := s.SaveSnapshot(ctx, seq, func(w io.Writer) ([32]byte, error) {
			// In small writes, as a snapshot writer does.
			for b := body; len(b) > 0; {
				k := min(len(b), 1000+mrand.N(70000))
				if _, err := w.Write(b[:k]); err != nil {
					return [32]byte{}, err
				}
				b = b[k:]
			}
			return sha256.Sum256(body), nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return info
	}
	read := func() ([]byte, live.SnapshotInfo) {
		r, info, err := s.OpenSnapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		body, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		return body, info
	}
	rng := mrand.New(mrand.NewPCG(1, 2))
	big := make([]byte, 3*chunkSize+12345)
	for i := range big {
		big[i] = byte(rng.Uint32())
	}
	save(4, []byte("four"))
	info := save(9, big)
	save(7, []byte("seven, saved late by a slower replica"))
	body, got := read()
	if !slices.Equal(body, big) || got != info || got.Seq != 9 || got.SHA256 != sha256.Sum256(big) {
		t.Errorf("opened %d bytes %+v, want %d bytes %+v", len(body), got, len(big), info)
	}
	var seqs []int64
	rows, _ := s.pool.Query(ctx, `SELECT seq FROM snapshots ORDER BY seq`)
	seqs, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil || !slices.Equal(seqs, []int64{7, 9}) {
		t.Errorf("kept snapshots %v, %v; want the newest two, 7 and 9", seqs, err)
	}

	tests := []struct {
		name  string
		write func(w io.Writer) ([32]byte, error)
	}{
		{"writer fails", func(w io.Writer) ([32]byte, error) {
			w.Write(big[:chunkSize+1])
			return [32]byte{}, errors.New("disk full")
		}},
		{"wrong checksum", func(w io.Writer) ([32]byte, error) {
			_, err := w.Write([]byte("twelve"))
			return sha256.Sum256([]byte("eleven")), err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.SaveSnapshot(ctx, 12, tt.write); err == nil {
				t.Fatal("no error")
			}
			if _, got := read(); got != info {
				t.Errorf("after a failed save the newest is %+v", got)
			}
		})
	}

	// A reader outlived by two newer saves fails rather than read a mix.
	r, _, err := s.OpenSnapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 10)
	if _, err := io.ReadFull(r, buf); err != nil {
		t.Fatal(err)
	}
	save(20, []byte("twenty"))
	save(21, []byte("twenty-one"))
	if _, err := io.ReadAll(r); !errors.Is(err, ErrSnapshotChanged) {
		t.Errorf("read of a deleted snapshot: %v, want ErrSnapshotChanged", err)
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	dsn, schema := newSchema(t)
	s := openStore(t, dsn, schema)
	if _, err := s.pool.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES (999, '999_future.sql')`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err := Open(ctx, dsn, Options{Schema: schema, Logger: quiet()})
	if err == nil {
		s.Close()
	}
	if !errors.Is(err, ErrNewer) {
		t.Errorf("err = %v, want ErrNewer", err)
	}
	if _, err := Open(ctx, dsn, Options{Schema: "Bad-Name"}); !errors.Is(err, ErrSchemaName) {
		t.Errorf("bad schema name: %v, want ErrSchemaName", err)
	}
}

// TestOpenRacesMigrateOnce starts replicas together on a new schema: all
// open, and each migration is applied once.
func TestOpenRacesMigrateOnce(t *testing.T) {
	ctx := context.Background()
	dsn, schema := newSchema(t)
	const replicas = 6
	var wg sync.WaitGroup
	errs := make([]error, replicas)
	for i := range replicas {
		wg.Go(func() {
			s, err := Open(ctx, dsn, Options{Schema: schema, Logger: quiet()})
			if err == nil {
				s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	s := openStore(t, dsn, schema)
	var applied, versions int
	if err := s.pool.QueryRow(ctx, `SELECT count(*), count(DISTINCT version) FROM schema_migrations`).Scan(&applied, &versions); err != nil {
		t.Fatal(err)
	}
	ms, _ := migrations()
	if applied != len(ms) || versions != len(ms) {
		t.Errorf("%d migrations recorded (%d versions), want %d", applied, versions, len(ms))
	}
}

// TestConcurrentCommitsNumberInCommitOrder commits from many goroutines
// through two Stores (two replicas) while a follower reads the log as an
// engine does: it must never see a number skipped, and replaying the log
// in number order must give the papers the table holds, in their order.
func TestConcurrentCommitsNumberInCommitOrder(t *testing.T) {
	ctx := context.Background()
	dsn, schema := newSchema(t)
	stores := []*Store{openStore(t, dsn, schema), openStore(t, dsn, schema)}
	const (
		writers = 8
		commits = 30
		idSpace = 12
	)
	done := make(chan struct{})
	followed := make(chan error, 1)
	go func() {
		var last uint64
		for {
			select {
			case <-done:
				followed <- nil
				return
			default:
			}
			changes, err := stores[1].Changes(ctx, last, 7)
			if err != nil {
				followed <- err
				return
			}
			for _, c := range changes {
				if c.Seq != last+1 {
					followed <- fmt.Errorf("after change %d the follower read %d", last, c.Seq)
					return
				}
				last = c.Seq
			}
		}
	}()
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for w := range writers {
		wg.Go(func() {
			rng := mrand.New(mrand.NewPCG(uint64(w), 7))
			for range commits {
				var batch []models.Change
				for range 1 + rng.IntN(3) {
					id := fmt.Sprintf("p%d", rng.IntN(idSpace))
					p := paper(id)
					p.Title = fmt.Sprintf("%s by writer %d", id, w)
					if rng.IntN(3) == 0 {
						batch = append(batch, models.Change{Op: models.OpRemove, ID: id})
					} else {
						batch = append(batch, models.Change{Op: models.OpPut, ID: id, Paper: p})
					}
				}
				_, err := stores[w%2].Commit(ctx, batch)
				if err != nil && !errors.Is(err, models.ErrNotFound) {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	close(done)
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if err := <-followed; err != nil {
		t.Fatal(err)
	}
	log, err := stores[0].Changes(ctx, 0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	replay, _ := live.NewMemory(nil)
	for k, c := range log {
		if c.Seq != uint64(k)+1 {
			t.Fatalf("change %d is numbered %d", k+1, c.Seq)
		}
		if k > 0 && c.Time.Before(log[k-1].Time) {
			t.Errorf("change %d at %v, before change %d at %v", c.Seq, c.Time, c.Seq-1, log[k-1].Time)
		}
		if _, err := replay.Commit(ctx, []models.Change{c}); err != nil {
			t.Fatalf("replaying change %d: %v", c.Seq, err)
		}
	}
	want, _, _ := replay.Papers(ctx)
	got, seq, err := stores[1].Papers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if seq != uint64(len(log)) {
		t.Errorf("papers as of %d, the log has %d changes", seq, len(log))
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(models.Paper{}, "Line"), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("the log replayed vs the table (-want +got):\n%s", diff)
	}
	t.Logf("%d changes", len(log))
}

// waitWake waits for a notification, up to d.
func waitWake(t *testing.T, ch <-chan struct{}, d time.Duration, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(d):
		t.Fatalf("no notification within %s: %s", d, what)
	}
}

// drain empties a notification channel, once its listener has connected.
func drain(t *testing.T, ch <-chan struct{}) {
	t.Helper()
	waitWake(t, ch, 10*time.Second, "the listener's first connection")
	select {
	case <-ch:
	default:
	}
}

func TestNotifyWakesAnotherStore(t *testing.T) {
	ctx := context.Background()
	dsn, schema := newSchema(t)
	a, b := openStore(t, dsn, schema), openStore(t, dsn, schema)
	notify := a.Notify()
	if a.Notify() != notify {
		t.Fatal("Notify returned another channel")
	}
	drain(t, notify)
	if _, err := b.Commit(ctx, []models.Change{{Op: models.OpAdd, ID: "p", Paper: paper("p")}}); err != nil {
		t.Fatal(err)
	}
	waitWake(t, notify, time.Second, "a commit by another store")
	if _, err := b.SaveSnapshot(ctx, 1, func(w io.Writer) ([32]byte, error) {
		_, err := w.Write([]byte("one"))
		return sha256.Sum256([]byte("one")), err
	}); err != nil {
		t.Fatal(err)
	}
	waitWake(t, notify, time.Second, "a snapshot saved by another store")

	// Another schema's commits are not this one's.
	other := openStore(t, dsn, schema+"_other")
	t.Cleanup(func() { other.pool.Exec(context.Background(), `DROP SCHEMA `+other.schema+` CASCADE`) })
	if _, err := other.Commit(ctx, []models.Change{{Op: models.OpAdd, ID: "p", Paper: paper("p")}}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-notify:
		t.Error("woken by a commit to another schema")
	case <-time.After(200 * time.Millisecond):
	}
}

func TestTryLead(t *testing.T) {
	ctx := context.Background()
	dsn, schema := newSchema(t)
	a, b := openStore(t, dsn, schema), openStore(t, dsn, schema)
	var _ live.Leader = a
	release, ok, err := a.TryLead(ctx)
	if err != nil || !ok {
		t.Fatalf("the first replica does not lead: %v, %v", ok, err)
	}
	if _, ok, err := b.TryLead(ctx); ok || err != nil {
		t.Fatalf("a second replica leads too: %v, %v", ok, err)
	}
	release()
	release() // twice is harmless
	rb, ok, err := b.TryLead(ctx)
	if err != nil || !ok {
		t.Fatalf("after the release, the second replica does not lead: %v, %v", ok, err)
	}
	defer rb()
	if _, ok, _ := a.TryLead(ctx); ok {
		t.Error("both lead")
	}
}

// engineConfig builds small engines without themes, refitting only on
// request.
func engineConfig() live.Config {
	return live.Config{Build: recommend.Config{SkipThemes: true}, RefitAfter: -1, Logger: quiet()}
}

func seedPapers() []models.Paper {
	var seed []models.Paper
	for _, id := range []string{"flows", "lattice", "gauge", "qcd", "jets", "dust", "lensing", "galaxies"} {
		seed = append(seed, paper(id))
	}
	return seed
}

// TestEngineOverStore runs two replicas on one schema: a write through one
// is served by it at once and by the other within a second, which
// Notify wakes; a restart resumes from the snapshot and the changes after
// it.
func TestEngineOverStore(t *testing.T) {
	ctx := context.Background()
	dsn, schema := newSchema(t)
	s1, s2 := openStore(t, dsn, schema), openStore(t, dsn, schema)
	if err := s1.Seed(ctx, seedPapers()); err != nil {
		t.Fatal(err)
	}
	cfg := engineConfig()
	e1, err := live.Open(ctx, s1, cfg)
	if err != nil {
		t.Fatal(err)
	}
	e2, err := live.Open(ctx, s2, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if e1.Status().Snapshot != e2.Status().Snapshot {
		t.Errorf("the second replica did not load the first's snapshot: %+v vs %+v", e1.Status(), e2.Status())
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	drain(t, s2.Notify()) // the listener is connected, before Run takes the wakes
	go e2.Run(runCtx)

	if _, err := e1.Write(ctx, []models.Change{{Op: models.OpAdd, ID: "new", Paper: paper("new")}, {Op: models.OpRemove, ID: "dust"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e1.Service().Paper("new"); err != nil {
		t.Errorf("the writer does not serve its write: %v", err)
	}
	deadline := time.Now().Add(time.Second)
	for e2.Status().Seq != 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if st := e2.Status(); st.Seq != 2 || st.Papers != 8 {
		t.Fatalf("the other replica serves %+v a second later, want change 2 and 8 papers", st)
	}
	if _, err := e2.Service().Paper("dust"); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("the other replica still serves the removed paper: %v", err)
	}
	_, err = e2.Write(ctx, []models.Change{{Op: models.OpAdd, ID: "new", Paper: paper("new")}})
	if !errors.Is(err, models.ErrExists) {
		t.Errorf("an add of a paper added through the other replica: %v, want ErrExists", err)
	}
	stop()
	want := e1.Status()
	s1.Close()

	s3 := openStore(t, dsn, schema)
	again, err := live.Open(ctx, s3, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := again.Status(); got.Seq != 2 || got.Snapshot != want.Snapshot || got.FitSeq != 0 || got.Papers != 8 {
		t.Errorf("restarted %+v, want seq 2 on the snapshot %s of change 0, 8 papers", got, want.Snapshot)
	}
}

// TestReplicasAdoptTheLeadersSnapshot checks the refit election: one
// replica refits, the other loads its snapshot instead of fitting, and a
// replica that cannot lead does not fit either.
func TestReplicasAdoptTheLeadersSnapshot(t *testing.T) {
	ctx := context.Background()
	dsn, schema := newSchema(t)
	s1, s2 := openStore(t, dsn, schema), openStore(t, dsn, schema)
	if err := s1.Seed(ctx, seedPapers()); err != nil {
		t.Fatal(err)
	}
	cfg := engineConfig()
	e1, err := live.Open(ctx, s1, cfg)
	if err != nil {
		t.Fatal(err)
	}
	e2, err := live.Open(ctx, s2, cfg)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	drain(t, s2.Notify())
	go e2.Run(runCtx)
	if _, err := e1.Write(ctx, []models.Change{{Op: models.OpAdd, ID: "new", Paper: paper("new")}}); err != nil {
		t.Fatal(err)
	}
	// While e1 leads, e2 cannot refit.
	release, ok, err := s1.TryLead(ctx)
	if err != nil || !ok {
		t.Fatalf("TryLead: %v, %v", ok, err)
	}
	before := e2.Status()
	if err := e2.Refit(ctx); err != nil {
		t.Fatal(err)
	}
	if e2.Status().FitSeq != before.FitSeq {
		t.Error("a replica refitted while another led")
	}
	release()
	if err := e1.Refit(ctx); err != nil {
		t.Fatal(err)
	}
	st1 := e1.Status()
	if st1.FitSeq != 1 {
		t.Fatalf("leader after refit: %+v", st1)
	}
	deadline := time.Now().Add(5 * time.Second)
	for e2.Status().Snapshot != st1.Snapshot && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if st2 := e2.Status(); st2.Snapshot != st1.Snapshot || st2.FitSeq != 1 || st2.Seq != 1 {
		t.Fatalf("the other replica serves %+v, want the leader's snapshot %s of change 1", st2, st1.Snapshot)
	}
	// Builds are deterministic: the replica's own refit of the same papers
	// saves the very same snapshot.
	if err := e2.Refit(ctx); err != nil {
		t.Fatal(err)
	}
	if st2 := e2.Status(); st2.Snapshot != st1.Snapshot {
		t.Errorf("the replica's refit of the same papers gives another snapshot: %+v", st2)
	}
}
