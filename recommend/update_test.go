package recommend

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/paperrec/paperrec/data"
	"github.com/paperrec/paperrec/eval"
	"github.com/paperrec/paperrec/models"
)

// fresh builds a service of its own over the bundled corpus, for tests
// that change it.
func fresh(t *testing.T, cfg Config) *Service {
	t.Helper()
	s, err := New(context.Background(), bundled(t).Corpus(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func themeMembers(t *testing.T, s *Service, id int) []string {
	t.Helper()
	th, err := s.Theme(id)
	if err != nil {
		t.Fatal(err)
	}
	return th.Members
}

func TestApplyPutFoldsInLikeABuild(t *testing.T) {
	ctx := context.Background()
	s := fresh(t, Config{})
	orig, _ := s.Paper(fisherID)
	cp := orig
	cp.ID, cp.Keywords = "fisher-copy", nil
	n, err := s.Apply(ctx, []models.Change{{Seq: 7, Op: models.OpPut, ID: cp.ID, Paper: cp}})
	if err != nil {
		t.Fatal(err)
	}
	if n.Len() != s.Len()+1 || n.Seq() != 7 || s.Seq() != 0 {
		t.Fatalf("len %d seq %d (old len %d seq %d)", n.Len(), n.Seq(), s.Len(), s.Seq())
	}
	// A paper folded in with the fitted models gets the vectors the build
	// gave its twin, so each is the other's nearest paper.
	got, err := n.Related(ctx, fisherID, Options{K: 3})
	if err != nil {
		t.Fatal(err)
	}
	// (The fused score of the twins is 1; the score shown is the second
	// stage's, which weighs in how the copy agrees with the original's
	// neighbourhood.)
	a, _ := n.lookup(fisherID)
	b, _ := n.lookup(cp.ID)
	if got[0].Paper.ID != cp.ID || n.Similarity(a, b) < 0.99 {
		t.Errorf("related to the original: %v (fused score %.3f), want the copy first", ids(got), n.Similarity(a, b))
	}
	back, _ := n.Related(ctx, cp.ID, Options{K: 3})
	if back[0].Paper.ID != fisherID {
		t.Errorf("related to the copy: %v, want the original first", ids(back))
	}
	// Keyphrases are segmented as the build segments them.
	p, _ := n.Paper(cp.ID)
	if !slices.Equal(p.Keywords, orig.Keywords) {
		t.Errorf("keywords %q, want %q", p.Keywords, orig.Keywords)
	}
	// It joins its twin's theme, next to it on the map.
	theme, _ := n.ThemeOf(cp.ID)
	twin, _ := n.ThemeOf(fisherID)
	if theme != twin || !slices.Contains(themeMembers(t, n, theme), cp.ID) {
		t.Errorf("copy in theme %d, original in %d", theme, twin)
	}
	// The old version is untouched.
	if _, err := s.Paper(cp.ID); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("old version sees the new paper: %v", err)
	}
	old, _ := s.Related(ctx, fisherID, Options{K: 3})
	if slices.Contains(ids(old), cp.ID) || slices.Contains(themeMembers(t, s, theme), cp.ID) {
		t.Error("old version answers with the new paper")
	}
}

func TestApplyRemove(t *testing.T) {
	ctx := context.Background()
	// The first stage alone: removing a paper leaves the others' order, but
	// it moves the neighbourhood the second stage re-orders by.
	s := fresh(t, Config{Weights: Weights{Neighbourhood: -1}})
	before, _ := s.Related(ctx, fisherID, Options{K: 5})
	gone := before[0].Paper.ID
	theme, _ := s.ThemeOf(gone)
	n, err := s.Apply(ctx, []models.Change{{Op: models.OpRemove, ID: gone}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Paper(gone); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("Paper(%s) after removal: %v", gone, err)
	}
	if _, err := n.Related(ctx, gone, Options{}); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("Related(%s) after removal: %v", gone, err)
	}
	after, _ := n.Related(ctx, fisherID, Options{K: 5})
	if slices.Contains(ids(after), gone) {
		t.Errorf("removed paper still related: %v", ids(after))
	}
	if !slices.Equal(ids(after)[:4], ids(before)[1:]) {
		t.Errorf("related after removal %v, want %v then one more", ids(after), ids(before)[1:])
	}
	found, _ := n.Search(ctx, before[0].Paper.Title, Options{K: 20})
	if slices.Contains(ids(found), gone) {
		t.Error("removed paper found by search")
	}
	_, total, _ := n.Papers(Filter{}, 0, 10)
	if total != s.Len()-1 || n.Len() != s.Len()-1 || len(n.AllPapers()) != n.Len() || len(n.Map()) != n.Len() {
		t.Errorf("total %d, len %d, all %d, map %d; want %d", total, n.Len(), len(n.AllPapers()), len(n.Map()), s.Len()-1)
	}
	if slices.Contains(themeMembers(t, n, theme), gone) {
		t.Error("removed paper still a theme member")
	}
	for _, th := range n.Themes().Themes() {
		for _, r := range th.Representative {
			if r.ID == gone {
				t.Errorf("removed paper still represents theme %d", th.ID)
			}
		}
	}
	// The old version answers as before, but for the index, which both
	// share: it no longer offers the removed paper.
	if _, err := s.Paper(gone); err != nil {
		t.Errorf("old version lost the paper: %v", err)
	}
}

func TestApplyReplace(t *testing.T) {
	ctx := context.Background()
	s := fresh(t, Config{})
	p, _ := s.Paper(fisherID)
	p.Title = "Gravitational lensing of quasars by galaxy clusters"
	p.Abstract = "We measure strong gravitational lensing of quasars behind galaxy clusters with weak lensing shear maps and dark matter halo models."
	p.KeywordLine, p.Keywords = "", []string{"gravitational lensing", "galaxy clusters"}
	n, err := s.Apply(ctx, []models.Change{{Op: models.OpPut, ID: p.ID, Paper: p}})
	if err != nil {
		t.Fatal(err)
	}
	if n.Len() != s.Len() {
		t.Errorf("len %d after a replace, want %d", n.Len(), s.Len())
	}
	got, _ := n.Paper(fisherID)
	if got.Title != p.Title {
		t.Errorf("title %q", got.Title)
	}
	rel, _ := n.Related(ctx, fisherID, Options{K: 5})
	for _, it := range rel {
		if it.Paper.Category != models.Astrophysics {
			t.Errorf("a lensing paper's related list holds %q (%s)", it.Paper.Title, it.Paper.Category)
		}
	}
	count := 0
	for _, q := range n.AllPapers() {
		if q.ID == fisherID {
			count++
		}
	}
	if count != 1 {
		t.Errorf("%d papers with the id after a replace", count)
	}
}

func TestApplyErrorsChangeNothing(t *testing.T) {
	ctx := context.Background()
	s := fresh(t, Config{SkipThemes: true})
	p, _ := s.Paper(fisherID)
	p.ID = "a-new-paper"
	tests := []struct {
		name    string
		changes []models.Change
		want    error
	}{
		{"remove unknown", []models.Change{{Op: models.OpRemove, ID: "nope"}}, models.ErrNotFound},
		{"put then remove unknown", []models.Change{{Op: models.OpPut, ID: p.ID, Paper: p}, {Op: models.OpRemove, ID: "nope"}}, models.ErrNotFound},
		{"remove twice", []models.Change{{Op: models.OpRemove, ID: fisherID}, {Op: models.OpRemove, ID: fisherID}}, models.ErrNotFound},
		{"id mismatch", []models.Change{{Op: models.OpPut, ID: "other", Paper: p}}, nil},
		{"bad id", []models.Change{{Op: models.OpPut, ID: "a b", Paper: models.Paper{ID: "a b", Title: "x"}}}, nil},
		{"no op", []models.Change{{ID: fisherID}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Apply(ctx, tt.changes)
			var invalid *InvalidArgumentError
			switch {
			case err == nil:
				t.Fatal("no error")
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Fatalf("err = %v, want %v", err, tt.want)
			case tt.want == nil && !errors.As(err, &invalid):
				t.Fatalf("err = %v, want an InvalidArgumentError", err)
			}
			if _, err := s.Paper(p.ID); err == nil {
				t.Error("a failed change published a paper")
			}
			if s.line.index.Len() != s.Len() {
				t.Errorf("index holds %d, service %d", s.line.index.Len(), s.Len())
			}
		})
	}
	// s is still the newest version: it can be changed.
	if _, err := s.Apply(ctx, []models.Change{{Op: models.OpPut, ID: p.ID, Paper: p}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Apply(ctx, []models.Change{{Op: models.OpRemove, ID: p.ID}}); !errors.Is(err, ErrStale) {
		t.Errorf("apply on a replaced version: %v, want ErrStale", err)
	}
}

func TestApplyBatchAndSnapshot(t *testing.T) {
	ctx := context.Background()
	for _, idx := range []IndexKind{IndexExact, IndexHNSW} {
		t.Run(string(idx), func(t *testing.T) {
			s := fresh(t, Config{Index: idx})
			all := s.AllPapers()
			a, b := all[10], all[20]
			a.ID, b.ID = "added-a", "added-b"
			n, err := s.Apply(ctx, []models.Change{
				{Seq: 1, Op: models.OpPut, ID: a.ID, Paper: a},
				{Seq: 2, Op: models.OpPut, ID: b.ID, Paper: b},
				{Seq: 3, Op: models.OpRemove, ID: b.ID}, // put and removed in one batch
				{Seq: 4, Op: models.OpRemove, ID: all[30].ID},
				{Seq: 5, Op: models.OpPut, ID: all[40].ID, Paper: all[40]}, // replaced by itself
			})
			if err != nil {
				t.Fatal(err)
			}
			if n.Len() != s.Len() || n.Seq() != 5 {
				t.Fatalf("len %d seq %d, want %d and 5", n.Len(), n.Seq(), s.Len())
			}
			if _, err := n.Paper(b.ID); err == nil {
				t.Error("a paper put and removed in one batch is there")
			}
			if n.line.index.Len() != n.Len() {
				t.Errorf("index holds %d papers, the service %d", n.line.index.Len(), n.Len())
			}
			raw, sum := snapshotBytes(t, n)
			loaded, got, err := ReadSnapshot(ctx, bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			if got != sum || loaded.Seq() != 5 {
				t.Errorf("sum %x/%x, seq %d", got, sum, loaded.Seq())
			}
			sameAnswers(t, n, loaded)
			if again, _ := snapshotBytes(t, loaded); !bytes.Equal(again, raw) {
				t.Error("a loaded changed engine writes other bytes")
			}
			// And it can be changed further.
			if _, err := loaded.Apply(ctx, []models.Change{{Op: models.OpRemove, ID: a.ID}}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestThemesChangeCounts(t *testing.T) {
	ctx := context.Background()
	s := fresh(t, Config{})
	p := s.AllPapers()[0]
	p.ID = "counted"
	n, err := s.Apply(ctx, []models.Change{{Op: models.OpPut, ID: p.ID, Paper: p}})
	if err != nil {
		t.Fatal(err)
	}
	id, _ := n.ThemeOf(p.ID)
	before, _ := s.Theme(id)
	after, _ := n.Theme(id)
	want := before
	want.Size++
	want.Members = append(slices.Clone(before.Members), p.ID)
	want.Categories = mapsWith(before.Categories, string(p.Category))
	want.Years = mapsWith(before.Years, "2026")
	if diff := cmp.Diff(want, after); diff != "" {
		t.Errorf("theme after adding a paper (-want +got):\n%s", diff)
	}
	if n.Themes().Stats().Papers != s.Themes().Stats().Papers+1 {
		t.Error("theme stats do not count the new paper")
	}
}

func mapsWith(m map[string]int, key string) map[string]int {
	out := map[string]int{}
	for k, v := range m {
		out[k] = v
	}
	out[key]++
	return out
}

func TestCategories(t *testing.T) {
	ctx := context.Background()
	s := fresh(t, Config{SkipThemes: true})
	if got := s.Categories(); len(got) != 4 || got[0] != models.Astrophysics {
		t.Errorf("categories %q", got)
	}
	if c, ok := s.Category(" foundational ai "); !ok || c != models.FoundationalAI {
		t.Errorf("Category(foundational ai) = %q, %v", c, ok)
	}
	var invalid *InvalidArgumentError
	_, err := s.Related(ctx, fisherID, Options{Filter: Filter{Categories: []models.Category{"Quantum Biology"}}})
	if !errors.As(err, &invalid) || invalid.Param != "category" {
		t.Errorf("unknown category: %v", err)
	}
	p, _ := s.Paper(fisherID)
	p.ID, p.Category = "bio", "Quantum Biology"
	n, err := s.Apply(ctx, []models.Change{{Op: models.OpPut, ID: p.ID, Paper: p}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := n.Search(ctx, p.Title, Options{Filter: Filter{Categories: []models.Category{"Quantum Biology"}}})
	if err != nil || len(got) != 1 || got[0].Paper.ID != "bio" {
		t.Errorf("search in the new area: %v, %v", got, err)
	}
	if _, ok := s.Category("quantum biology"); ok {
		t.Error("the old version knows the new area")
	}
}

// TestCancelledQueriesStop checks that a query whose client left stops
// instead of computing its answer.
func TestCancelledQueriesStop(t *testing.T) {
	s := bundled(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	all := s.AllPapers()
	cands := make([]string, 0, 300)
	for _, p := range all[:300] {
		cands = append(cands, p.ID)
	}
	tests := []struct {
		name string
		run  func() error
	}{
		{"related", func() error { _, err := s.Related(ctx, fisherID, Options{K: 50, Diversity: 0.5}); return err }},
		{"search", func() error { _, err := s.Search(ctx, "normalizing flows", Options{K: 20, Diversity: 1}); return err }},
		{"recommend", func() error {
			_, err := s.Recommend(ctx, []string{all[1].ID, all[2].ID}, []string{all[3].ID}, Options{K: 20})
			return err
		}},
		{"rank", func() error { _, err := s.Rank(ctx, fisherID, cands); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.run(); !errors.Is(err, context.Canceled) {
				t.Errorf("err = %v, want context.Canceled", err)
			}
		})
	}
}

// TestFoldInRelevance measures what fold-in costs: an engine fitted on 90%
// of the corpus with the other 10% folded in (Apply), against a full fit,
// on both judged sets (docs/live.md: 0.007 on each). Fold-in keeps the
// fitted vocabulary and latent model, so it may lose a little; not 0.02.
func TestFoldInRelevance(t *testing.T) {
	ctx := context.Background()
	all := bundled(t).AllPapers()
	rng := rand.New(rand.NewPCG(10, 10))
	late := map[int]bool{}
	for len(late) < len(all)/10 {
		late[rng.IntN(len(all))] = true
	}
	var early []models.Paper
	var changes []models.Change
	for i, p := range all {
		if late[i] {
			p.Keywords = nil
			changes = append(changes, models.Change{Op: models.OpAdd, ID: p.ID, Paper: p})
		} else {
			p.Keywords = nil
			early = append(early, p)
		}
	}
	c, err := models.NewCorpus(early)
	if err != nil {
		t.Fatal(err)
	}
	part, err := New(ctx, c, Config{SkipThemes: true})
	if err != nil {
		t.Fatal(err)
	}
	folded, err := part.Apply(ctx, changes)
	if err != nil {
		t.Fatal(err)
	}
	for _, set := range []struct {
		name string
		js   []byte
		file string
	}{{"dev", data.DevJudgments, data.DevJudgmentsName}, {"dev2", data.Dev2Judgments, data.Dev2JudgmentsName}} {
		js, err := eval.ParseJudgments(bytes.NewReader(set.js), set.file)
		if err != nil {
			t.Fatal(err)
		}
		score := func(s *Service) eval.Report {
			q, err := eval.Resolve(js, s.Corpus())
			if err != nil {
				t.Fatal(err)
			}
			rep, err := eval.Score(ctx, q, s.RelatedIDs, 10)
			if err != nil {
				t.Fatal(err)
			}
			return rep
		}
		full, fold := score(bundled(t)), score(folded)
		t.Logf("%s: full fit nDCG@10 %.4f P@10 %.4f; 10%% folded in %.4f / %.4f", set.name, full.NDCG, full.P, fold.NDCG, fold.P)
		if fold.NDCG < full.NDCG-0.02 {
			t.Errorf("%s: folding in 10%% costs %.4f nDCG@10", set.name, full.NDCG-fold.NDCG)
		}
	}
}
