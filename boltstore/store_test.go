package boltstore

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/paperrec/paperrec/internal/storetest"
	"github.com/paperrec/paperrec/live"
	"github.com/paperrec/paperrec/models"
	"github.com/paperrec/paperrec/recommend"
)

func openStore(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var paper, ids = storetest.Paper, storetest.IDs

func TestCommitAndReopen(t *testing.T) {
	dir := t.TempDir()
	storetest.CommitAndReopen(t, storetest.Subject{
		Open:  func(t *testing.T) live.Store { return openStore(t, dir) },
		New:   func(s live.Store) (bool, error) { return s.(*Store).New() },
		Seed:  func(s live.Store, papers []models.Paper) error { return s.(*Store).Seed(papers) },
		Close: func(s live.Store) error { return s.(*Store).Close() },
	})
}

func TestSnapshots(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openStore(t, dir)
	if _, _, err := s.OpenSnapshot(ctx); !errors.Is(err, live.ErrNoSnapshot) {
		t.Fatalf("new store: %v", err)
	}
	save := func(seq uint64, body string) live.SnapshotInfo {
		info, err := s.SaveSnapshot(ctx, seq, func(w io.Writer) ([32]byte, error) {
			_, err := io.WriteString(w, body)
			return sha256.Sum256([]byte(body)), err
		})
		if err != nil {
			t.Fatal(err)
		}
		return info
	}
	save(4, "four")
	info := save(9, "nine")
	r, got, err := s.OpenSnapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(r)
	r.Close()
	if string(body) != "nine" || got != info || got.Seq != 9 {
		t.Errorf("opened %q %+v", body, got)
	}
	if _, err := os.Stat(filepath.Join(dir, snapshotName(4))); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the older snapshot is still there: %v", err)
	}
	// A failed write keeps the newest as it was.
	if _, err := s.SaveSnapshot(ctx, 12, func(w io.Writer) ([32]byte, error) { return [32]byte{}, errors.New("disk full") }); err == nil {
		t.Fatal("no error")
	}
	if _, got, _ := s.OpenSnapshot(ctx); got.Seq != 9 {
		t.Errorf("after a failed save the newest is %d", got.Seq)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*snapshot-12*")); len(m) > 0 {
		t.Errorf("a failed save left %v", m)
	}
	// A second save at the same change gets a file of its own (the first
	// stays whole until the record moves), and the save sweeps the files
	// of earlier saves and of saves that crashed before their record, but
	// not a newer one: another process's save on its way to its record.
	os.WriteFile(filepath.Join(dir, "snapshot-8-1.bin"), []byte("orphan"), 0o640)
	pending := filepath.Join(dir, "snapshot-11-1.bin")
	os.WriteFile(pending, []byte("pending"), 0o640)
	save(9, "nine again")
	if _, err := os.Stat(pending); err != nil {
		t.Errorf("a newer pending save was swept: %v", err)
	}
	os.Remove(pending)
	r, _, err = s.OpenSnapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(r)
	r.Close()
	if string(body) != "nine again" {
		t.Errorf("opened %q", body)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "snapshot-*.bin")); len(m) != 1 {
		t.Errorf("snapshot files after the sweep: %v", m)
	}
	// A save older than the recorded one is refused and leaves no file.
	if _, err := s.SaveSnapshot(ctx, 7, func(w io.Writer) ([32]byte, error) { return [32]byte{7}, nil }); err == nil {
		t.Error("an older snapshot was recorded over a newer one")
	}
	if _, got, _ := s.OpenSnapshot(ctx); got.Seq != 9 {
		t.Errorf("after an older save the newest is %d", got.Seq)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "snapshot-*.bin")); len(m) != 1 {
		t.Errorf("snapshot files after a refused save: %v", m)
	}
}

// TestConcurrentSavesKeepTheRecordedFile saves from two handles at once,
// as two processes on one directory would: whatever the order, the
// recorded snapshot's file is there.
func TestConcurrentSavesKeepTheRecordedFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a, b := openStore(t, dir), openStore(t, dir)
	for round := range 20 {
		var wg sync.WaitGroup
		for i, s := range []*Store{a, b} {
			wg.Go(func() {
				body := fmt.Sprintf("round %d by %d", round, i)
				s.SaveSnapshot(ctx, uint64(round), func(w io.Writer) ([32]byte, error) {
					_, err := io.WriteString(w, body)
					return sha256.Sum256([]byte(body)), err
				})
			})
		}
		wg.Wait()
		r, info, err := a.OpenSnapshot(ctx)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		body, _ := io.ReadAll(r)
		r.Close()
		if sha256.Sum256(body) != info.SHA256 {
			t.Fatalf("round %d: the recorded file holds %q", round, body)
		}
	}
}

// TestOperationsEndWithTheirContext holds the directory from another
// handle, as another process would: an operation gives up when its
// context ends, with the context's error, not after LockTimeout.
func TestOperationsEndWithTheirContext(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	other, err := bolt.Open(filepath.Join(dir, dbName), 0o640, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = s.Commit(ctx, []models.Change{{Op: models.OpAdd, ID: "p", Paper: paper("p")}})
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrLocked) {
		t.Errorf("commit on a held directory: %v", err)
	}
	if took := time.Since(start); took > LockTimeout/2 {
		t.Errorf("the commit waited %v, past its context", took)
	}
}

// TestEmptiedStoreIsNotNew removes every paper: the directory is not new,
// and seeding it again is refused, so the removals stand.
func TestEmptiedStoreIsNotNew(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, t.TempDir())
	if fresh, err := s.New(); err != nil || !fresh {
		t.Fatalf("a new directory: New() = %v, %v", fresh, err)
	}
	if err := s.Seed([]models.Paper{paper("a"), paper("b")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Commit(ctx, []models.Change{{Op: models.OpRemove, ID: "a"}, {Op: models.OpRemove, ID: "b"}}); err != nil {
		t.Fatal(err)
	}
	if fresh, err := s.New(); err != nil || fresh {
		t.Errorf("emptied by removals: New() = %v, %v", fresh, err)
	}
	if err := s.Seed([]models.Paper{paper("a")}); err == nil {
		t.Error("an emptied directory was seeded again")
	}
}

func TestRefusesBadDirectories(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, dir string)
		want    error
	}{
		{"newer format", func(t *testing.T, dir string) {
			s := openStore(t, dir)
			s.do(context.Background(), true, func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keyFormat, []byte("2")) })
			s.Close()
		}, ErrNewer},
		{"not a database", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, dbName), []byte("574 papers, and nothing else of a database"), 0o640)
		}, ErrDamaged},
		{"zeroed pages", func(t *testing.T, dir string) {
			s := openStore(t, dir)
			s.Seed([]models.Paper{paper("a")})
			s.Close()
			b, _ := os.ReadFile(filepath.Join(dir, dbName))
			clear(b[:8192]) // both meta pages
			os.WriteFile(filepath.Join(dir, dbName), b, 0o640)
		}, ErrDamaged},
		{"format missing", func(t *testing.T, dir string) {
			s := openStore(t, dir)
			s.do(context.Background(), true, func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Delete(keyFormat) })
			s.Close()
		}, ErrDamaged},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			tt.prepare(t, dir)
			s, err := Open(dir)
			if err == nil {
				s.Close()
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
	t.Run("in use", func(t *testing.T) {
		dir := t.TempDir()
		s := openStore(t, dir)
		s.timeout = 100 * time.Millisecond
		db, err := bolt.Open(filepath.Join(dir, dbName), 0o640, nil) // another process's long operation
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, _, err := s.Papers(context.Background()); !errors.Is(err, ErrLocked) {
			t.Errorf("read while held: %v, want ErrLocked", err)
		}
	})
}

// TestTwoProcessesShareADirectory stands for a server and a cron job: a
// commit made through one Store is seen by the other, which Notify tells.
func TestTwoProcessesShareADirectory(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	server, cron := openStore(t, dir), openStore(t, dir)
	notify := server.Notify()
	time.Sleep(2 * watchEvery) // the watch has seen the file once
	if _, err := cron.Commit(ctx, []models.Change{{Op: models.OpAdd, ID: "p", Paper: paper("p")}}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-notify:
	case <-time.After(10 * watchEvery):
		t.Fatal("no notification of the other commit")
	}
	got, err := server.Changes(ctx, 0, 10)
	if err != nil || len(got) != 1 || got[0].ID != "p" {
		t.Errorf("changes seen: %+v, %v", got, err)
	}
}

// seededStore opens a data directory in dir seeded with eight papers.
func seededStore(t *testing.T, dir string) *Store {
	t.Helper()
	s := openStore(t, dir)
	var seed []models.Paper
	for _, id := range []string{"flows", "lattice", "gauge", "qcd", "jets", "dust", "lensing", "galaxies"} {
		seed = append(seed, paper(id))
	}
	if err := s.Seed(seed); err != nil {
		t.Fatal(err)
	}
	return s
}

// engineConfig is a quiet engine without themes that refits only on request.
func engineConfig() live.Config {
	return live.Config{Build: recommend.Config{SkipThemes: true}, RefitAfter: -1, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

// TestEngineOverStore runs a live engine on a directory: writes survive a
// restart, which resumes from the snapshot and the changes after it.
func TestEngineOverStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := seededStore(t, dir)
	cfg := engineConfig()
	e, err := live.Open(ctx, s, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Write(ctx, []models.Change{{Op: models.OpAdd, ID: "new", Paper: paper("new")}, {Op: models.OpRemove, ID: "dust"}}); err != nil {
		t.Fatal(err)
	}
	want := e.Status()
	s.Close()

	s = openStore(t, dir)
	again, err := live.Open(ctx, s, cfg)
	if err != nil {
		t.Fatal(err)
	}
	got := again.Status()
	if got.Seq != 2 || got.Snapshot != want.Snapshot || got.Papers != 8 {
		t.Errorf("reopened %+v, want seq 2, snapshot %s, 8 papers", got, want.Snapshot)
	}
	if _, err := again.Service().Paper("new"); err != nil {
		t.Error(err)
	}
	if _, err := again.Service().Paper("dust"); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("removed paper after restart: %v", err)
	}
}

// TestPruning checks that a snapshot save prunes the log up to the
// snapshot before it, and that asking for pruned changes says so.
func TestPruning(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, t.TempDir())
	commit := func(id string) {
		if _, err := s.Commit(ctx, []models.Change{{Op: models.OpAdd, ID: id, Paper: paper(id)}}); err != nil {
			t.Fatal(err)
		}
	}
	save := func(seq uint64) {
		if _, err := s.SaveSnapshot(ctx, seq, func(w io.Writer) ([32]byte, error) { return [32]byte{byte(seq)}, nil }); err != nil {
			t.Fatal(err)
		}
	}
	seqs := func(after uint64) ([]uint64, error) {
		got, err := s.Changes(ctx, after, 100)
		var out []uint64
		for _, c := range got {
			out = append(out, c.Seq)
		}
		return out, err
	}
	commit("a")
	commit("b")
	commit("c")
	save(3) // the first snapshot: nothing before it to prune
	if got, err := seqs(0); err != nil || len(got) != 3 {
		t.Fatalf("after the first save: %v, %v", got, err)
	}
	commit("d")
	commit("e")
	save(5) // prunes up to 3, the snapshot before
	if _, err := seqs(0); !errors.Is(err, live.ErrPruned) {
		t.Errorf("changes after 0 once 1..3 are pruned: %v", err)
	}
	if got, err := seqs(3); err != nil || !slices.Equal(got, []uint64{4, 5}) {
		t.Errorf("changes after 3: %v, %v", got, err)
	}
	if papers, seq, err := s.Papers(ctx); err != nil || len(papers) != 5 || seq != 5 {
		t.Errorf("papers after pruning: %d at %d, %v", len(papers), seq, err)
	}
}

// TestEngineBehindPrunedLog leaves one engine idle while another writes
// and refits twice on the same directory: the idle one, once it follows
// the store, finds its changes pruned and loads the newest snapshot.
func TestEngineBehindPrunedLog(t *testing.T) {
	t.Run("loads the newest snapshot", func(t *testing.T) { behindPrunedLog(t, false, false) })
	// An engine built with other settings cannot load the writer's
	// snapshot: it fits the store's papers instead.
	t.Run("refits when it cannot load it", func(t *testing.T) { behindPrunedLog(t, true, false) })
	// The snapshot's file removed by hand: loading fails for good.
	t.Run("refits when the snapshot file is gone", func(t *testing.T) { behindPrunedLog(t, false, true) })
}

func behindPrunedLog(t *testing.T, otherSettings, fileGone bool) {
	ctx := context.Background()
	dir := t.TempDir()
	s := seededStore(t, dir)
	cfg := engineConfig()
	a, err := live.Open(ctx, s, cfg)
	if err != nil {
		t.Fatal(err)
	}
	bcfg := cfg
	bcfg.Poll = 50 * time.Millisecond
	if otherSettings {
		bcfg.Build.MaxK = 50
	}
	b, err := live.Open(ctx, openStore(t, dir), bcfg)
	if err != nil {
		t.Fatal(err)
	}
	for round, id := range []string{"new-1", "new-2"} {
		if _, err := a.Write(ctx, []models.Change{{Op: models.OpAdd, ID: id, Paper: paper(id)}}); err != nil {
			t.Fatal(err)
		}
		if err := a.Refit(ctx); err != nil {
			t.Fatalf("refit %d: %v", round, err)
		}
	}
	if _, err := s.Changes(ctx, b.Status().Seq, 10); !errors.Is(err, live.ErrPruned) {
		t.Fatalf("the idle engine's changes were not pruned: %v", err)
	}
	if fileGone {
		files, _ := filepath.Glob(filepath.Join(dir, "snapshot-*.bin"))
		for _, f := range files {
			os.Remove(f)
		}
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- b.Run(runCtx) }()
	deadline := time.Now().Add(30 * time.Second)
	for b.Status().Seq != a.Status().Seq && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	<-done
	if got, want := b.Status(), a.Status(); got.Seq != want.Seq || (!otherSettings && !fileGone && got.Snapshot != want.Snapshot) {
		t.Errorf("the idle engine is at %+v, the writer at %+v", got, want)
	}
	if _, err := b.Service().Paper("new-2"); err != nil {
		t.Error(err)
	}
}
