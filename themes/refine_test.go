package themes

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/paperrec/paperrec/models"
)

// hiddenCorpus returns three themes of ten papers around their centres,
// twenty stray papers in the outlier group, and three papers of a fourth
// line of work (the last three) placed as where says: "theme" puts the
// first in theme 0 and the others in the outlier group, "outliers" all in
// the outlier group, "inside" all in theme 0. spread is the noise of the
// fourth line, noise that of the themes; named gives the line's papers a
// keyphrase of their own.
func hiddenCorpus(where string, spread, noise float64, named bool) (partition, [][]float32, []models.Paper) {
	const dim = 64
	rng := rand.New(rand.NewPCG(7, 8))
	unit := func(v []float64) []float32 {
		n := 0.0
		for _, x := range v {
			n += x * x
		}
		out := make([]float32, len(v))
		for i, x := range v {
			out[i] = float32(x / math.Sqrt(n))
		}
		return out
	}
	centre := func() []float64 {
		v := make([]float64, dim)
		for d := range v {
			v[d] = rng.NormFloat64()
		}
		return v
	}
	near := func(c []float64, noise float64) []float32 {
		v := make([]float64, dim)
		for d := range v {
			v[d] = c[d] + noise*rng.NormFloat64()
		}
		return unit(v)
	}
	var p partition
	var vecs [][]float32
	var papers []models.Paper
	add := func(theme int, v []float32, kw ...string) {
		p.of = append(p.of, theme)
		vecs = append(vecs, v)
		papers = append(papers, models.Paper{ID: fmt.Sprint(len(papers)), Title: "A study", Abstract: "We study it.", Keywords: kw})
	}
	for t, kw := range []string{"alpha waves", "beta decay", "gamma rays"} {
		c := centre()
		for range 10 {
			add(t, near(c, noise), kw)
		}
	}
	for j := range 20 {
		add(OutlierID, unit(centre()), fmt.Sprintf("stray topic %c", 'a'+j))
	}
	p.k, p.outliers = 3, 20
	c := centre()
	for j := range 3 {
		theme := OutlierID
		if where == "inside" || (where == "theme" && j == 0) {
			theme = 0
		}
		kw := "hidden line"
		if !named {
			kw = fmt.Sprintf("own topic %c", 'a'+j)
		}
		add(theme, near(c, spread), kw)
		if theme == OutlierID {
			p.outliers++
		}
	}
	return p, vecs, papers
}

func TestHiddenThemes(t *testing.T) {
	tests := []struct {
		name   string
		where  string
		spread float64
		noise  float64 // of the themes; 0 means 0.6
		named  bool
		maxK   int
		want   int // themes added
		reason string
	}{
		{name: "scattered line becomes a theme", where: "theme", spread: 0.1, named: true, maxK: 10, want: 1,
			reason: "one paper loose in a theme and two in the outlier group: the consensus scattered them"},
		{name: "hidden group in the outlier group", where: "outliers", spread: 0.1, named: true, maxK: 10, want: 1},
		{name: "part of one theme stays", where: "inside", spread: 0.1, named: true, maxK: 10,
			reason: "a loose part of one theme is that theme's business, not a hidden theme"},
		{name: "a group without a name stays", where: "theme", spread: 0.1, maxK: 10,
			reason: "no phrase in two of its papers: a curator could not name it"},
		{name: "a loose group stays", where: "theme", spread: 0.3, noise: 0.1, named: true, maxK: 10,
			reason: "a group, but looser than the median theme"},
		{name: "no room under MaxK", where: "theme", spread: 0.1, named: true, maxK: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			noise := tt.noise
			if noise == 0 {
				noise = 0.6
			}
			p, vecs, papers := hiddenCorpus(tt.where, tt.spread, noise, tt.named)
			outliers := p.outliers
			got := hiddenThemes(&p, vecs, newTermModel(papers, nil), 5, tt.maxK)
			if got != tt.want {
				t.Fatalf("added %d themes, want %d", got, tt.want)
			}
			if p.k != 3+tt.want {
				t.Errorf("k = %d, want %d", p.k, 3+tt.want)
			}
			last := p.of[len(p.of)-3:]
			if tt.want == 1 {
				if !slices.Equal(last, []int{3, 3, 3}) {
					t.Errorf("the line's papers are in %v, want all in the new theme 3", last)
				}
				moved := 0
				if tt.where == "theme" {
					moved = 2
				} else if tt.where == "outliers" {
					moved = 3
				}
				if p.outliers != outliers-moved {
					t.Errorf("%d outliers, want %d", p.outliers, outliers-moved)
				}
			} else if p.outliers != outliers {
				t.Errorf("%d outliers, want %d unchanged", p.outliers, outliers)
			}
			count := 0
			for _, th := range p.of {
				if th == OutlierID {
					count++
				}
			}
			if count != p.outliers {
				t.Errorf("p.outliers = %d, but %d papers are outliers", p.outliers, count)
			}
		})
	}
}
