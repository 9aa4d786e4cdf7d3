package recommend

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/paperrec/paperrec/models"
)

// TestSecondStage pins what Related's second stage may and may not do: it
// re-orders the first stage's best max(20, k) and never returns a paper
// from below them; the score it shows is the one Rank gives the same pair;
// and the neighbourhood it adds is in [0, 1].
func TestSecondStage(t *testing.T) {
	ctx := context.Background()
	s := bundled(t)
	first := fresh(t, Config{SkipThemes: true, Weights: Weights{Neighbourhood: -1}})
	papers := s.AllPapers()
	tests := []struct {
		name   string
		id     string
		k      int
		reason string
	}{
		{name: "k below the depth", id: fisherID, k: 10, reason: "the 10 answers come from the first stage's top 20"},
		{name: "k at the depth", id: papers[100].ID, k: 20, reason: "the same 20 papers, re-ordered"},
		{name: "k above the depth", id: papers[300].ID, k: 30, reason: "the depth is k: the same 30 papers"},
		{name: "another paper", id: papers[500].ID, k: 5, reason: "the 5 answers come from the first stage's top 20"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Related(ctx, tt.id, Options{K: tt.k})
			if err != nil {
				t.Fatal(err)
			}
			depth := max(secondStageDepth, tt.k)
			base, err := first.Related(ctx, tt.id, Options{K: depth})
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range got {
				if !slices.Contains(ids(base), it.Paper.ID) {
					t.Errorf("%s is not in the first stage's top %d (%s)", it.Paper.ID, depth, tt.reason)
				}
			}
			if tt.k >= secondStageDepth {
				a, b := slices.Sorted(slices.Values(ids(got))), slices.Sorted(slices.Values(ids(base)))
				if !slices.Equal(a, b) {
					t.Errorf("k %d: not the first stage's papers re-ordered (%s)", tt.k, tt.reason)
				}
			}
			ranked, err := s.Rank(ctx, tt.id, ids(got))
			if err != nil {
				t.Fatal(err)
			}
			for n, r := range ranked {
				if r.ID != got[n].Paper.ID || math.Abs(r.Score-got[n].Score) > 1e-4 {
					t.Errorf("rank %d: %s %.4f, related shows %s %.4f", n, r.ID, r.Score, got[n].Paper.ID, got[n].Score)
				}
			}
			for _, it := range got {
				nb := it.Why.Signals.Neighbourhood
				if !(nb > 0 && nb <= 0.1/1.25+1e-4) {
					t.Errorf("%s: neighbourhood contribution %.4f, want in (0, %.4f]", it.Paper.ID, nb, 0.1/1.25)
				}
			}
		})
	}
}

// TestSecondStageIgnoresFilter checks that a paper's score does not depend
// on the filter of the list it is shown in: the neighbourhood is the
// query's own.
func TestSecondStageIgnoresFilter(t *testing.T) {
	ctx := context.Background()
	s := bundled(t)
	all, err := s.Related(ctx, fisherID, Options{K: 10})
	if err != nil {
		t.Fatal(err)
	}
	shown := map[string]float64{}
	for _, it := range all {
		shown[it.Paper.ID] = it.Score
	}
	for _, f := range []Filter{
		{Exclude: []string{all[0].Paper.ID}},
		{Categories: []models.Category{all[3].Paper.Category}},
	} {
		filtered, err := s.Related(ctx, fisherID, Options{K: 10, Filter: f})
		if err != nil {
			t.Fatal(err)
		}
		same := 0
		for _, it := range filtered {
			if v, ok := shown[it.Paper.ID]; ok {
				same++
				if math.Abs(v-it.Score) > 1e-9 {
					t.Errorf("%+v: %s scores %.4f, %.4f unfiltered", f, it.Paper.ID, it.Score, v)
				}
			}
		}
		if same == 0 {
			t.Errorf("%+v: no paper in both lists", f)
		}
	}
}
