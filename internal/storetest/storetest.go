// Package storetest holds checks of the [live.Store] contract that each
// store (boltstore, pgstore) runs against itself, so that both are held to
// the same behaviour: today, seeding, committing and reopening
// ([CommitAndReopen]). For tests only.
package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/paperrec/paperrec/live"
	"github.com/paperrec/paperrec/models"
)

// Subject is a store under test. A plain value.
type Subject struct {
	// Open opens the store: the same store every time, so that a store
	// opened after another was closed finds what that one committed. The
	// store is closed by the check.
	Open func(t *testing.T) live.Store
	// New reports whether the store was never seeded.
	New func(s live.Store) (bool, error)
	// Seed seeds a new store.
	Seed func(s live.Store, papers []models.Paper) error
	// Close closes the store.
	Close func(s live.Store) error
}

// Paper is a valid paper with this ID.
func Paper(id string) models.Paper {
	return models.Paper{ID: id, Title: "Title of " + id, Abstract: "Abstract of " + id + " about lattice gauge theory and flows.",
		Authors: []string{"A. Author"}, Category: models.FoundationalAI, Date: models.Date{Year: 2025, Month: 6}}
}

// IDs returns the papers' IDs in order.
func IDs(papers []models.Paper) []string {
	var out []string
	for _, p := range papers {
		out = append(out, p.ID)
	}
	return out
}

// CommitAndReopen checks seeding, a batch of changes numbered in order,
// refused batches that write nothing and leave no gap in the numbers, and
// what a store opened again finds: the papers in their order, the change
// log with its times.
func CommitAndReopen(t *testing.T, sub Subject) {
	ctx := context.Background()
	s := sub.Open(t)
	if fresh, err := sub.New(s); !fresh || err != nil {
		t.Fatalf("a new store: New() = %v, %v", fresh, err)
	}
	if err := sub.Seed(s, []models.Paper{Paper("c"), Paper("a"), Paper("b")}); err != nil {
		t.Fatal(err)
	}
	if err := sub.Seed(s, []models.Paper{Paper("d")}); err == nil {
		t.Error("seeding a seeded store worked")
	}
	changed := Paper("a")
	changed.Title = "A new title with \u0000 in it, which jsonb would refuse"
	done, err := s.Commit(ctx, []models.Change{
		{Op: models.OpAdd, ID: "d", Paper: Paper("d")},
		{Op: models.OpPut, ID: "a", Paper: changed}, // replaced in its place
		{Op: models.OpRemove, ID: "b"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != 3 || done[0].Seq != 1 || done[2].Seq != 3 || done[0].Time.IsZero() {
		t.Fatalf("committed %+v", done)
	}
	tests := []struct {
		name   string
		change models.Change
		want   error
		reason string
	}{
		{"add existing", models.Change{Op: models.OpAdd, ID: "c", Paper: Paper("c")}, models.ErrExists, ""},
		{"remove missing", models.Change{Op: models.OpRemove, ID: "b"}, models.ErrNotFound, ""},
		{"add added in the batch", models.Change{Op: models.OpAdd, ID: "e", Paper: Paper("e")}, models.ErrExists,
			"the batch is checked against the papers as its earlier changes leave them"},
		{"malformed", models.Change{Op: models.OpPut, ID: "f", Paper: Paper("g")}, &models.ParseError{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Commit(ctx, []models.Change{{Op: models.OpAdd, ID: "e", Paper: Paper("e")}, tt.change})
			var pe *models.ParseError
			if errors.As(tt.want, &pe) {
				if !errors.As(err, &pe) {
					t.Fatalf("err = %v, want a ParseError", err)
				}
			} else if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v (%s)", err, tt.want, tt.reason)
			}
			got, seq, _ := s.Papers(ctx)
			if seq != 3 || slices.Contains(IDs(got), "e") {
				t.Errorf("a refused batch wrote: seq %d, papers %v", seq, IDs(got))
			}
		})
	}
	if _, err := s.Commit(ctx, []models.Change{{Op: models.OpAdd, ID: "e", Paper: Paper("e")}}); err != nil {
		t.Fatal(err)
	}
	if log, _ := s.Changes(ctx, 3, 10); len(log) != 1 || log[0].Seq != 4 {
		t.Errorf("a refused batch left a gap in the numbers: %+v", log)
	}
	if err := sub.Close(s); err != nil {
		t.Fatal(err)
	}

	s = sub.Open(t)
	defer sub.Close(s)
	got, seq, err := s.Papers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []models.Paper{Paper("c"), changed, Paper("d"), Paper("e")}
	if seq != 4 {
		t.Errorf("seq %d after reopening, want 4", seq)
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(models.Paper{}, "Line")); diff != "" {
		t.Errorf("papers after reopening (-want +got):\n%s", diff)
	}
	log, err := s.Changes(ctx, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 2 || log[0].Seq != 2 || log[0].Op != models.OpPut || log[0].Paper.Title != changed.Title || log[1].Op != models.OpRemove {
		t.Fatalf("changes after 1: %+v", log)
	}
	if !log[0].Time.Equal(done[1].Time) {
		t.Errorf("logged time %v, committed %v", log[0].Time, done[1].Time)
	}
	if first, _ := s.Changes(ctx, 0, 1); len(first) != 1 || first[0].ID != "d" || first[0].Paper.Title != Paper("d").Title {
		t.Errorf("first change: %+v", first)
	}
	if fresh, err := sub.New(s); fresh || err != nil {
		t.Errorf("a seeded store: New() = %v, %v", fresh, err)
	}
}
