//go:build themes_experiments

package themes_test

// The experiments behind docs/themes.md ("Issue 8, part 3"). Built only
// with the themes_experiments tag, so none of it is part of the tests:
//
//	PAPERREC_EXPERIMENTS=1 go test -tags themes_experiments ./themes -run TestThemesExperiments -v
//
// Each variant prints the automated yardsticks and writes, under
// $PAPERREC_JUDGE_DIR (default /tmp/judge), a listing of its themes with
// their members' titles, the themes in a seeded shuffled order and the
// variant's name left out, for judging by hand (the rubric in
// docs/themes.md).

import (
	"context"
	"fmt"
	"github.com/paperrec/paperrec/models"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/paperrec/paperrec/themes"
)

func TestThemesExperiments(t *testing.T) {
	if os.Getenv("PAPERREC_EXPERIMENTS") == "" {
		t.Skip("set PAPERREC_EXPERIMENTS=1")
	}
	dir := judgeDir()
	b := load(t)
	testConfig.K = envInt("PAPERREC_K")
	testConfig.MinSize = envInt("PAPERREC_MINSIZE")
	testConfig.OutlierBudget, _ = strconv.ParseFloat(os.Getenv("PAPERREC_BUDGET"), 64)
	name := os.Getenv("PAPERREC_VARIANT")
	if name == "" {
		name = "current"
	}
	m := model(t, 1)
	n := len(b.in.Papers)
	full := labelsOf(m, n)
	st := m.Stats()
	row := fmt.Sprintf("| %s | %d | %d |", name, st.Themes, st.Outliers)
	for _, pairs := range b.pairs {
		high, zero := shares(pairs, m.Of)
		row += fmt.Sprintf(" %.3f | %.3f |", high, zero)
	}
	minSeed := 1.0
	for seed := uint64(2); seed <= 3; seed++ {
		minSeed = min(minSeed, themes.ARI(full, labelsOf(model(t, seed), n)))
	}
	lo, hi, sum := 1.0, -1.0, 0.0
	for seed := uint64(1); seed <= subsampleRuns; seed++ {
		a := subsampleARI(t, b.in, full, seed)
		lo, hi, sum = min(lo, a), max(hi, a), sum+a
	}
	row += fmt.Sprintf(" %.3f | %.3f–%.3f (mean %.3f) |", minSeed, lo, hi, sum/subsampleRuns)
	if os.Getenv("PAPERREC_PAIRS") != "" {
		for si, pairs := range b.pairs {
			for _, p := range pairs {
				if p.grade == 2 && (m.Of(p.a) != m.Of(p.b) || m.Of(p.a) < 0) {
					t.Logf("%s g2 apart: %d (%d) %.50s | %d (%d) %.50s", setNames[si], p.a, m.Of(p.a), b.in.Papers[p.a].Title, p.b, m.Of(p.b), b.in.Papers[p.b].Title)
				}
			}
		}
	}
	t.Log("| variant | themes | outliers | dev g2 | dev g0 | dev2 g2 | dev2 g0 | seeds ARI | subsample ARI |")
	t.Log(row)

	// The listing for judging.
	ths := m.Themes()
	order := rand.New(rand.NewPCG(uint64(len(name))*7919+uint64(name[0]), 3)).Perm(len(ths))
	var w strings.Builder
	byID := map[string]int{}
	for i, p := range b.in.Papers {
		byID[p.ID] = i
	}
	for k, o := range order {
		th := ths[o]
		tag := fmt.Sprintf("T%02d", k)
		if th.Outlier {
			tag = "OUTLIERS"
		}
		terms := make([]string, 0, len(th.Terms))
		for _, x := range th.Terms {
			terms = append(terms, x.Term)
		}
		fmt.Fprintf(&w, "\n## %s  (%d papers)  label: %s\n   terms: %s\n", tag, th.Size, th.Label, strings.Join(terms, "; "))
		for _, id := range th.Members {
			p := b.in.Papers[byID[id]]
			title := strings.Join(strings.Fields(p.Title), " ")
			if len(title) > 110 {
				title = title[:110] + "…"
			}
			kw := p.Keywords[:min(3, len(p.Keywords))]
			fmt.Fprintf(&w, "   %3d %-4.4s %s  [%s]\n", byID[id], p.Category, title, strings.Join(kw, "; "))
		}
	}
	path := filepath.Join(dir, name+".txt")
	if err := os.WriteFile(path, []byte(w.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s", path)
}

func envInt(key string) int {
	n, _ := strconv.Atoi(os.Getenv(key))
	return n
}

// TestThemesSubsampleDiag shows where each full theme's papers go in a
// subsample's themes.
func TestThemesSubsampleDiag(t *testing.T) {
	if os.Getenv("PAPERREC_EXPERIMENTS") == "" {
		t.Skip("set PAPERREC_EXPERIMENTS=1")
	}
	b := load(t)
	testConfig.K = envInt("PAPERREC_K")
	testConfig.MinSize = envInt("PAPERREC_MINSIZE")
	m := model(t, 1)
	n := len(b.in.Papers)
	full := labelsOf(m, n)
	for seed := uint64(1); seed <= 2; seed++ {
		rng := rand.New(rand.NewPCG(seed, 90))
		keep := rng.Perm(n)[:n*9/10]
		slices.Sort(keep)
		sub := themes.Input{Papers: make([]models.Paper, len(keep)), Vectors: make([][]float32, len(keep))}
		for j, i := range keep {
			sub.Papers[j], sub.Vectors[j] = b.in.Papers[i], b.in.Vectors[i]
		}
		cfg := testConfig
		cfg.Seed = seed
		sm, err := themes.Build(context.Background(), sub, cfg)
		if err != nil {
			t.Fatal(err)
		}
		cont := map[[2]int]int{}
		rows := map[int]int{}
		for j, i := range keep {
			cont[[2]int{full[i], sm.Of(j)}]++
			rows[full[i]]++
		}
		var a, c []int
		for j, i := range keep {
			if full[i] >= 0 && sm.Of(j) >= 0 {
				a, c = append(a, full[i]), append(c, sm.Of(j))
			}
		}
		t.Logf("seed %d: %d themes; ARI %.3f, without outliers %.3f", seed, sm.Stats().Themes, themes.ARI(full2(full, keep), labelsOf(sm, len(keep))), themes.ARI(a, c))
		for _, th := range m.Themes() {
			var parts []string
			for _, st := range sm.Themes() {
				if k := cont[[2]int{th.ID, st.ID}]; k > 0 {
					parts = append(parts, fmt.Sprintf("%d→%d", k, st.ID))
				}
			}
			t.Logf("  %3d (%2d) %-50.50s %s", th.ID, rows[th.ID], th.Label, strings.Join(parts, " "))
		}
	}
}

func full2(full, keep []int) []int {
	out := make([]int, len(keep))
	for j, i := range keep {
		out[j] = full[i]
	}
	return out
}

// TestThemesCohesion prints each theme's cohesion (mean cosine between its
// members), loosest first.
func TestThemesCohesion(t *testing.T) {
	if os.Getenv("PAPERREC_EXPERIMENTS") == "" {
		t.Skip("set PAPERREC_EXPERIMENTS=1")
	}
	b := load(t)
	m := model(t, 1)
	byID := map[string]int{}
	for i, p := range b.in.Papers {
		byID[p.ID] = i
	}
	type row struct {
		label string
		size  int
		coh   float64
	}
	var rows []row
	for _, th := range m.Themes() {
		s, n := 0.0, 0
		for x, a := range th.Members {
			for _, c := range th.Members[x+1:] {
				va, vc := b.in.Vectors[byID[a]], b.in.Vectors[byID[c]]
				d := 0.0
				for k := range va {
					d += float64(va[k]) * float64(vc[k])
				}
				s += d
				n++
			}
		}
		rows = append(rows, row{th.Label, th.Size, s / float64(max(1, n))})
	}
	slices.SortFunc(rows, func(a, b row) int {
		if a.coh < b.coh {
			return -1
		}
		return 1
	})
	for _, r := range rows {
		t.Logf("%.3f %3d %s", r.coh, r.size, r.label)
	}
}

// judgeDir is where the experiments write their listings:
// $PAPERREC_JUDGE_DIR, or /tmp/judge.
func judgeDir() string {
	if dir := os.Getenv("PAPERREC_JUDGE_DIR"); dir != "" {
		return dir
	}
	return "/tmp/judge"
}

// writeJudge writes text to the file name under judgeDir.
func writeJudge(t *testing.T, name, text string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(judgeDir(), name), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestThemesLabelCandidates writes each theme's best label candidates to
// $PAPERREC_JUDGE_DIR/candidates.txt.
func TestThemesLabelCandidates(t *testing.T) {
	if os.Getenv("PAPERREC_EXPERIMENTS") == "" {
		t.Skip("set PAPERREC_EXPERIMENTS=1")
	}
	b := load(t)
	m := model(t, 1)
	writeJudge(t, "candidates.txt", themes.LabelCandidates(b.in.Papers, m))
}

// TestThemesVocabulary writes every recovered keyphrase with the number of
// papers listing it to $PAPERREC_JUDGE_DIR/vocabulary.txt.
func TestThemesVocabulary(t *testing.T) {
	if os.Getenv("PAPERREC_EXPERIMENTS") == "" {
		t.Skip("set PAPERREC_EXPERIMENTS=1")
	}
	count := map[string]int{}
	for _, p := range load(t).in.Papers {
		for _, k := range p.Keywords {
			count[strings.ToLower(k)]++
		}
	}
	var w strings.Builder
	for k, n := range count {
		fmt.Fprintf(&w, "%d\t%s\n", n, k)
	}
	writeJudge(t, "vocabulary.txt", w.String())
}

// TestThemesMemberFits writes each member's fit to its theme and to its
// best other theme to $PAPERREC_JUDGE_DIR/fits.txt.
func TestThemesMemberFits(t *testing.T) {
	if os.Getenv("PAPERREC_EXPERIMENTS") == "" {
		t.Skip("set PAPERREC_EXPERIMENTS=1")
	}
	b := load(t)
	m := model(t, 1)
	writeJudge(t, "fits.txt", themes.MemberFits(b.in.Papers, b.in.Vectors, m))
}

// TestThemesSplits prints each theme's communities.
func TestThemesSplits(t *testing.T) {
	if os.Getenv("PAPERREC_EXPERIMENTS") == "" {
		t.Skip("set PAPERREC_EXPERIMENTS=1")
	}
	b := load(t)
	m := model(t, 1)
	fmt.Print(themes.ThemeSplits(b.in.Papers, b.in.Vectors, m, envInt("PAPERREC_SPLITK")))
}
