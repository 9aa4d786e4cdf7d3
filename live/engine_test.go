package live

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/paperrec/paperrec/data"
	"github.com/paperrec/paperrec/models"
	"github.com/paperrec/paperrec/recommend"
)

func listing(t testing.TB) []models.Paper {
	t.Helper()
	res, err := models.ParseListing(bytes.NewReader(data.Listing), data.ListingName, models.ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return res.Papers
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func open(t testing.TB, store Store, cfg Config) *Engine {
	t.Helper()
	cfg.Logger = quiet()
	e, err := Open(context.Background(), store, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func memory(t testing.TB, papers []models.Paper) *Memory {
	t.Helper()
	m, err := NewMemory(papers)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// newPaper is a paper the listing does not have.
func newPaper(id string) models.Paper {
	return models.Paper{ID: id, Title: "Normalizing flows for lattice gauge theory at finite density " + id,
		Abstract: "We train normalizing flows to sample lattice gauge field configurations at finite density and compare with HMC.",
		Authors:  []string{"Phiala E. Shanahan"}, Category: models.TheoreticalPhysics, Date: models.Date{Year: 2026, Month: 3, Day: 1}}
}

func TestWriteIsVisibleAtOnce(t *testing.T) {
	ctx := context.Background()
	e := open(t, memory(t, listing(t)), Config{RefitAfter: -1})
	before := e.Service()
	if before.Len() != 574 || e.Status().Snapshot != "" {
		t.Fatalf("opened with %d papers, snapshot %q (a Memory keeps none)", before.Len(), e.Status().Snapshot)
	}
	p := newPaper("flows-at-finite-density")
	done, err := e.Write(ctx, []models.Change{{Op: models.OpAdd, ID: p.ID, Paper: p}})
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != 1 || done[0].Seq != 1 || done[0].Time.IsZero() {
		t.Fatalf("committed %+v", done)
	}
	now := e.Service()
	if _, err := now.Paper(p.ID); err != nil {
		t.Fatalf("new paper not served: %v", err)
	}
	if _, err := before.Paper(p.ID); err == nil {
		t.Error("the version taken before the write shows it")
	}
	found, _ := now.Search(ctx, "normalizing flows lattice gauge finite density", recommend.Options{K: 5})
	if !slices.ContainsFunc(found, func(it recommend.Item) bool { return it.Paper.ID == p.ID }) {
		t.Error("search does not find the new paper")
	}
	if st := e.Status(); st.Seq != 1 || st.FitSeq != 0 || st.Papers != 575 {
		t.Errorf("status %+v", st)
	}

	tests := []struct {
		name   string
		change models.Change
		want   error
	}{
		{"add twice", models.Change{Op: models.OpAdd, ID: p.ID, Paper: p}, models.ErrExists},
		{"remove a missing paper", models.Change{Op: models.OpRemove, ID: "nope"}, models.ErrNotFound},
		{"no title", models.Change{Op: models.OpPut, ID: "x", Paper: models.Paper{ID: "x"}}, nil},
		{"bad id", models.Change{Op: models.OpRemove, ID: "a b"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.Write(ctx, []models.Change{tt.change})
			var pe *models.ParseError
			switch {
			case err == nil:
				t.Fatal("no error")
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Fatalf("err = %v, want %v", err, tt.want)
			case tt.want == nil && !errors.As(err, &pe):
				t.Fatalf("err = %v, want a ParseError", err)
			}
			if e.Status().Seq != 1 {
				t.Error("a refused write was logged")
			}
		})
	}

	if _, err := e.Write(ctx, []models.Change{{Op: models.OpRemove, ID: p.ID}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Service().Paper(p.ID); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("removed paper: %v", err)
	}
}

// TestRefitMatchesABuild checks that after a refit the engine answers as a
// build of the same papers does, and that a reopened store resumes from its
// snapshot and the changes after it.
func TestRefitMatchesABuild(t *testing.T) {
	ctx := context.Background()
	papers := listing(t)
	store := memory(t, papers)
	e := open(t, store, Config{RefitAfter: -1})
	var changes []models.Change
	for i := range 5 {
		p := newPaper(fmt.Sprintf("added-%d", i))
		changes = append(changes, models.Change{Op: models.OpAdd, ID: p.ID, Paper: p})
	}
	changes = append(changes, models.Change{Op: models.OpRemove, ID: papers[3].ID})
	if _, err := e.Write(ctx, changes); err != nil {
		t.Fatal(err)
	}
	if err := e.Refit(ctx); err != nil {
		t.Fatal(err)
	}
	st := e.Status()
	if st.FitSeq != 6 || st.Seq != 6 || st.Papers != 578 {
		t.Errorf("status after refit %+v", st)
	}
	now, _, _ := store.Papers(ctx)
	c, _ := models.NewCorpus(now)
	built, err := recommend.New(ctx, c, recommend.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"added-0", papers[0].ID, papers[100].ID} {
		want, _ := built.Related(ctx, id, recommend.Options{K: 10})
		got, err := e.Service().Related(ctx, id, recommend.Options{K: 10})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("related %s after refit differs from a build (-build +refit):\n%s", id, diff)
		}
	}

	// A change after the refit, then a restart, which fits the store's
	// papers (a Memory keeps no snapshot).
	p := newPaper("after-refit")
	if _, err := e.Write(ctx, []models.Change{{Op: models.OpPut, ID: p.ID, Paper: p}}); err != nil {
		t.Fatal(err)
	}
	again := open(t, store, Config{RefitAfter: -1})
	if st := again.Status(); st.Seq != 7 || st.FitSeq != 7 {
		t.Errorf("reopened: %+v, want a fit of change 7", st)
	}
	for _, id := range []string{"after-refit", "added-1"} {
		want, _ := e.Service().Related(ctx, id, recommend.Options{K: 10})
		got, err := again.Service().Related(ctx, id, recommend.Options{K: 10})
		if err != nil || len(got) != len(want) {
			t.Errorf("reopened engine answers %s: %d items, %v", id, len(got), err)
		}
	}
}

// TestAutomaticRefit checks that enough writes start a refit in Run.
func TestAutomaticRefit(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e := open(t, memory(t, listing(t)[:120]), Config{RefitAfter: 3})
	go e.Run(ctx)
	for i := range 3 {
		p := newPaper(fmt.Sprintf("auto-%d", i))
		if _, err := e.Write(ctx, []models.Change{{Op: models.OpAdd, ID: p.ID, Paper: p}}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(time.Minute)
	for e.Status().FitSeq != 3 {
		if time.Now().After(deadline) {
			t.Fatalf("no refit after 3 changes: %+v", e.Status())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestMixedSoak reads without pause while writes and refits run; under
// -race it checks the sharing of versions.
func TestMixedSoak(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	papers := listing(t)[:150]
	e := open(t, memory(t, papers), Config{RefitAfter: 8})
	go e.Run(ctx)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var reads, readErrs int64
	var mu sync.Mutex
	for r := range 3 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(r), 1))
			for {
				select {
				case <-stop:
					return
				default:
				}
				svc := e.Service()
				all := svc.AllPapers()
				p := all[rng.IntN(len(all))]
				_, err := svc.Related(ctx, p.ID, recommend.Options{K: 5, Diversity: 0.3})
				_, err2 := svc.Search(ctx, p.Title, recommend.Options{K: 5})
				_ = svc.Map()
				mu.Lock()
				reads++
				if err != nil || err2 != nil {
					readErrs++
				}
				mu.Unlock()
			}
		})
	}
	rng := rand.New(rand.NewPCG(9, 9))
	live := slices.Clone(papers)
	for i := range 40 {
		var c models.Change
		if i%3 == 2 {
			k := rng.IntN(len(live))
			c = models.Change{Op: models.OpRemove, ID: live[k].ID}
			live = slices.Delete(live, k, k+1)
		} else {
			p := newPaper(fmt.Sprintf("soak-%d", i))
			c = models.Change{Op: models.OpAdd, ID: p.ID, Paper: p}
			live = append(live, p)
		}
		if _, err := e.Write(ctx, []models.Change{c}); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Refit(ctx); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	if readErrs > 0 {
		t.Errorf("%d of %d reads failed during writes and refits", readErrs, reads)
	}
	svc := e.Service()
	if svc.Len() != len(live) {
		t.Errorf("%d papers served, %d written", svc.Len(), len(live))
	}
	for _, p := range live {
		if _, err := svc.Paper(p.ID); err != nil {
			t.Errorf("written paper %s: %v", p.ID, err)
		}
	}
	t.Logf("%d reads during 40 writes and refits", reads)
}

// TestSync reloads a regenerated listing: new and changed papers are put,
// missing ones removed, and a refit follows.
func TestSync(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	papers := listing(t)[:100]
	store := memory(t, papers)
	e := open(t, store, Config{RefitAfter: -1})
	go e.Run(ctx)
	next := slices.Clone(papers[10:])
	next[0].Title = "A changed title"
	next[5].Line += 7 // moved in the file: not a change
	next = append(next, newPaper("from-the-new-listing"))
	n, err := e.Sync(ctx, next)
	if err != nil {
		t.Fatal(err)
	}
	if n != 12 { // 10 removed, 1 changed, 1 added
		t.Errorf("%d changes, want 12", n)
	}
	svc := e.Service()
	if svc.Len() != 91 {
		t.Errorf("%d papers after sync, want 91", svc.Len())
	}
	if p, _ := svc.Paper(papers[10].ID); p.Title != "A changed title" {
		t.Errorf("changed paper: %q", p.Title)
	}
	if _, err := svc.Paper(papers[0].ID); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("a paper gone from the listing: %v", err)
	}
	deadline := time.Now().Add(time.Minute)
	for e.Status().FitSeq != 12 {
		if time.Now().After(deadline) {
			t.Fatalf("no refit after a sync: %+v", e.Status())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n, err := e.Sync(ctx, next); err != nil || n != 0 {
		t.Errorf("a second sync of the same listing: %d changes, %v", n, err)
	}
}

// failingSave is a store whose snapshots cannot be saved (a full disk).
type failingSave struct{ *Memory }

func (failingSave) SaveSnapshot(context.Context, uint64, func(io.Writer) ([32]byte, error)) (SnapshotInfo, error) {
	return SnapshotInfo{}, errors.New("no space left on device")
}

// TestServesWithoutASavedSnapshot checks that a fit whose snapshot cannot
// be saved serves all the same, at start and after a refit.
func TestServesWithoutASavedSnapshot(t *testing.T) {
	papers := listing(t)[:60]
	e := open(t, failingSave{memory(t, papers)}, Config{Build: recommend.Config{SkipThemes: true}, RefitAfter: -1, Logger: quiet()})
	if _, err := e.Write(context.Background(), []models.Change{{Op: models.OpAdd, ID: "new-paper", Paper: newPaper("new-paper")}}); err != nil {
		t.Fatal(err)
	}
	if err := e.Refit(context.Background()); err != nil {
		t.Fatalf("refit: %v", err)
	}
	if got := e.Service().Len(); got != 61 {
		t.Errorf("serving %d papers, want 61", got)
	}
}
