package themes

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/paperrec/paperrec/models"
)

// labels returns each paper's theme id.
func labels(m *Model) []int {
	out := make([]int, len(m.of))
	for i := range out {
		out[i] = m.Of(i)
	}
	return out
}

// checkPartition checks that every paper is in exactly one theme or in the
// outlier group, that the themes agree with Of, and that the outlier group
// keeps to its budget.
func checkPartition(t *testing.T, in Input, m *Model, budget float64) {
	t.Helper()
	seen := map[string]int{}
	for _, th := range m.Themes() {
		if th.Size != len(th.Members) || th.Size == 0 {
			t.Errorf("theme %d: size %d with %d members", th.ID, th.Size, len(th.Members))
		}
		for _, id := range th.Members {
			if prev, dup := seen[id]; dup {
				t.Errorf("paper %s in themes %d and %d", id, prev, th.ID)
			}
			seen[id] = th.ID
		}
		sum := 0
		for _, n := range th.Categories {
			sum += n
		}
		if sum != th.Size {
			t.Errorf("theme %d: categories count %d of %d papers", th.ID, sum, th.Size)
		}
	}
	for i, p := range in.Papers {
		id, ok := seen[p.ID]
		if !ok {
			t.Errorf("paper %s in no theme", p.ID)
		}
		if id != m.Of(i) {
			t.Errorf("paper %s: Of says %d, themes say %d", p.ID, m.Of(i), id)
		}
	}
	st := m.Stats()
	if max := int(math.Floor(budget * float64(len(in.Papers)))); st.Outliers > max {
		t.Errorf("%d outliers, budget %d", st.Outliers, max)
	}
	ths := m.Themes()
	if st.Outliers > 0 {
		last := ths[len(ths)-1]
		if !last.Outlier || last.ID != OutlierID || last.Label != OutlierLabel || last.Size != st.Outliers {
			t.Errorf("outlier group not last or mislabelled: %+v", last)
		}
	}
	for i, th := range ths[:st.Themes] {
		if th.ID != i || th.Outlier {
			t.Errorf("theme at %d has id %d, outlier %v", i, th.ID, th.Outlier)
		}
		if i > 0 && th.Size > ths[i-1].Size {
			t.Errorf("theme %d (%d papers) after a smaller one (%d)", i, th.Size, ths[i-1].Size)
		}
	}
}

func TestBuildSynthetic(t *testing.T) {
	tests := []struct {
		name   string
		spec   corpusSpec
		cfg    Config
		themes int     // 0: the number of topics
		ari    float64 // least agreement with the topics, on papers in a theme
		reason string
	}{
		{name: "auto k finds the topics", spec: corpusSpec{topics: 8, perTopic: 40, dim: 32, noise: 0.6, seed: 1}, ari: 0.98},
		{name: "stray papers are outliers", spec: corpusSpec{topics: 8, perTopic: 40, stray: 10, dim: 64, noise: 0.6, seed: 2}, ari: 0.98,
			reason: "random vectors fit no topic and stay within the 5% budget"},
		{name: "no outlier group", spec: corpusSpec{topics: 8, perTopic: 40, stray: 10, dim: 32, noise: 0.6, seed: 3},
			cfg: Config{OutlierBudget: -1}, ari: 0.9},
		{name: "fixed k below the topics merges", spec: corpusSpec{topics: 8, perTopic: 40, dim: 32, noise: 0.6, seed: 4},
			cfg: Config{K: 4}, themes: 4},
		{name: "fixed k above the topics splits", spec: corpusSpec{topics: 6, perTopic: 50, dim: 32, noise: 0.6, seed: 5},
			cfg: Config{K: 12}, themes: 12, reason: "the minimum size is lowered until the tree has 12 clusters"},
		{name: "bounds move auto k", spec: corpusSpec{topics: 3, perTopic: 60, dim: 32, noise: 0.6, seed: 6},
			cfg: Config{MinK: 5, MaxK: 9}, themes: 5},
		{name: "noisy topics", spec: corpusSpec{topics: 10, perTopic: 30, dim: 64, noise: 1.2, seed: 7}, ari: 0.9},
		{name: "one paper", spec: corpusSpec{topics: 1, perTopic: 1, dim: 8, seed: 8}, themes: 1},
		{name: "two papers", spec: corpusSpec{topics: 1, perTopic: 2, dim: 8, seed: 9}, themes: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, truth := synthetic(tt.spec)
			m, err := Build(context.Background(), in, tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			budget := tt.cfg.OutlierBudget
			if budget == 0 {
				budget = DefaultOutlierBudget
			}
			checkPartition(t, in, m, max(0, budget))
			want := tt.themes
			if want == 0 {
				want = tt.spec.topics
			}
			if got := m.Stats().Themes; got != want {
				t.Errorf("%d themes, want %d (stats %+v)", got, want, m.Stats())
			}
			if tt.ari > 0 {
				var a, b []int
				for i, l := range labels(m) {
					if l != OutlierID && truth[i] >= 0 {
						a, b = append(a, l), append(b, truth[i])
					}
				}
				if got := ARI(a, b); got < tt.ari {
					t.Errorf("ARI with the topics %.3f, want >= %.2f", got, tt.ari)
				}
			}
			if tt.spec.stray > 0 && budget > 0 {
				for i, topic := range truth {
					if topic < 0 && m.Of(i) != OutlierID {
						t.Errorf("stray paper %d in theme %d", i, m.Of(i))
					}
				}
			}
			if budget < 0 && m.Stats().Outliers != 0 {
				t.Errorf("%d outliers with no budget", m.Stats().Outliers)
			}
		})
	}
}

func TestBuildDescribesThemes(t *testing.T) {
	in, truth := synthetic(corpusSpec{topics: 4, perTopic: 30, dim: 16, noise: 0.5, seed: 3})
	m, err := Build(context.Background(), in, Config{Representatives: 3})
	if err != nil {
		t.Fatal(err)
	}
	for _, th := range m.Themes() {
		if len(th.Representative) != 3 {
			t.Errorf("theme %d: %d representatives, want 3", th.ID, len(th.Representative))
		}
		// The label and terms come from the topic's own words.
		topic := truth[slices.IndexFunc(in.Papers, func(p models.Paper) bool { return p.ID == th.Members[0] })]
		own := topicWord(topic, 0)[:6]
		if !strings.Contains(strings.ToLower(th.Label), own) {
			t.Errorf("theme %d label %q lacks its topic's phrase (%s…)", th.ID, th.Label, own)
		}
		if len(th.Terms) == 0 || len(th.Terms) > maxTerms {
			t.Errorf("theme %d: %d terms", th.ID, len(th.Terms))
		}
		for i := 1; i < len(th.Terms); i++ {
			if th.Terms[i].Weight > th.Terms[i-1].Weight {
				t.Errorf("theme %d: terms out of order: %v", th.ID, th.Terms)
			}
		}
		if th.Summary == "" || strings.Contains(th.Summary, "This is the third") {
			t.Errorf("theme %d summary %q: empty or has a sentence that cannot stand alone", th.ID, th.Summary)
		}
		years := 0
		for _, n := range th.Years {
			years += n
		}
		if years != th.Size {
			t.Errorf("theme %d: years count %d of %d", th.ID, years, th.Size)
		}
	}
	if got, ok := m.Theme(0); !ok || got.ID != 0 {
		t.Errorf("Theme(0) = %v, %v", got.ID, ok)
	}
	if _, ok := m.Theme(len(m.Themes()) + 1); ok {
		t.Error("Theme of an unknown id found")
	}
	if _, ok := m.Theme(OutlierID); ok != (m.Stats().Outliers > 0) {
		t.Errorf("Theme(OutlierID) found %v with %d outliers", ok, m.Stats().Outliers)
	}
}

func TestBuildDeterministic(t *testing.T) {
	in, _ := synthetic(corpusSpec{topics: 6, perTopic: 30, stray: 6, dim: 24, noise: 0.9, seed: 4})
	render := func(seed uint64) ([]byte, []byte, []Point) {
		m, err := Build(context.Background(), in, Config{Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		js, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		var md bytes.Buffer
		if err := m.Markdown(&md); err != nil {
			t.Fatal(err)
		}
		return js, md.Bytes(), m.Layout()
	}
	js1, md1, l1 := render(7)
	js2, md2, l2 := render(7)
	if !bytes.Equal(js1, js2) || !bytes.Equal(md1, md2) {
		t.Error("same seed, different themes")
	}
	if diff := cmp.Diff(l1, l2); diff != "" {
		t.Errorf("same seed, different layout (-first +second):\n%s", diff)
	}
	js3, md3, l3 := render(8)
	if !bytes.Equal(js1, js3) || !bytes.Equal(md1, md3) {
		t.Error("another seed changed the themes, though no randomness clusters below ExactLimit")
	}
	if cmp.Equal(l1, l3) {
		t.Error("another seed gave the same layout: the seed is not used")
	}
}

func TestBuildMicroClusters(t *testing.T) {
	defer func(e, m int) { exactLimit, microCount = e, m }(exactLimit, microCount)
	exactLimit, microCount = 200, 120
	in, truth := synthetic(corpusSpec{topics: 8, perTopic: 60, stray: 5, dim: 16, noise: 0.5, seed: 5})
	var runs [][]int
	for seed := uint64(1); seed <= 2; seed++ {
		m, err := Build(context.Background(), in, Config{Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		checkPartition(t, in, m, DefaultOutlierBudget)
		if g := m.Stats().Groups; g > 120 || g < 60 {
			t.Errorf("%d groups, want up to 120 micro-clusters", g)
		}
		if got := m.Stats().Themes; got != 8 {
			t.Errorf("%d themes, want 8", got)
		}
		var a, b []int
		for i, l := range labels(m) {
			if l != OutlierID && truth[i] >= 0 {
				a, b = append(a, l), append(b, truth[i])
			}
		}
		if got := ARI(a, b); got < 0.95 {
			t.Errorf("seed %d: ARI with the topics %.3f", seed, got)
		}
		for _, p := range m.Layout() {
			if p.X < 0 || p.X > 1 || p.Y < 0 || p.Y > 1 {
				t.Fatalf("point %v outside [0,1]²", p)
			}
		}
		runs = append(runs, labels(m))
	}
	if got := ARI(runs[0], runs[1]); got < 0.9 {
		t.Errorf("ARI between seeds %.3f on the micro-cluster path", got)
	}
}

func TestBuildErrors(t *testing.T) {
	in, _ := synthetic(corpusSpec{topics: 2, perTopic: 5, dim: 4, seed: 1})
	short := in
	short.Vectors = in.Vectors[:3]
	ragged := Input{Papers: in.Papers, Vectors: slices.Clone(in.Vectors)}
	ragged.Vectors[2] = ragged.Vectors[2][:2]
	nan := Input{Papers: in.Papers, Vectors: slices.Clone(in.Vectors)}
	nan.Vectors[1] = []float32{float32(math.NaN()), 0, 0, 0}
	tests := []struct {
		name string
		in   Input
		cfg  Config
		want error
	}{
		{name: "no papers", in: Input{}, want: ErrNoPapers},
		{name: "fewer vectors", in: short, want: ErrInvalidInput},
		{name: "ragged vectors", in: ragged, want: ErrInvalidInput},
		{name: "NaN", in: nan, want: ErrInvalidInput},
		{name: "k above papers", in: in, cfg: Config{K: 11}, want: ErrInvalidInput},
		{name: "negative k", in: in, cfg: Config{K: -1}, want: ErrInvalidInput},
		{name: "bounds crossed", in: in, cfg: Config{MinK: 5, MaxK: 3}, want: ErrInvalidInput},
		{name: "budget of everything", in: in, cfg: Config{OutlierBudget: 1}, want: ErrInvalidInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Build(context.Background(), tt.in, tt.cfg)
			if !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Build(ctx, in, Config{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v", err)
	}
}

func TestConfigDefaults(t *testing.T) {
	tests := []struct {
		name                string
		n                   int
		cfg                 Config
		minK, maxK, minSize int
		reason              string
	}{
		{name: "bundled corpus", n: 574, minK: 8, maxK: 60, minSize: 5},
		{name: "ten thousand", n: 10000, minK: 33, maxK: 250, minSize: 20},
		{name: "hundred", n: 100, minK: 3, maxK: 25, minSize: 5},
		{name: "one", n: 1, minK: 1, maxK: 1, minSize: 1},
		{name: "bounds set", n: 574, cfg: Config{MinK: 10, MaxK: 20}, minK: 10, maxK: 20, minSize: 5,
			reason: "the minimum size follows the corpus, not the bounds"},
		{name: "max below default min", n: 574, cfg: Config{MaxK: 5}, minK: 5, maxK: 5, minSize: 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.cfg.withDefaults(tt.n)
			if err != nil {
				t.Fatal(err)
			}
			if got.MinK != tt.minK || got.MaxK != tt.maxK || got.MinSize != tt.minSize {
				t.Errorf("MinK, MaxK, MinSize = %d, %d, %d; want %d, %d, %d", got.MinK, got.MaxK, got.MinSize, tt.minK, tt.maxK, tt.minSize)
			}
			if got.Seed != DefaultSeed || got.Representatives != DefaultRepresentatives || got.OutlierBudget != DefaultOutlierBudget {
				t.Errorf("defaults not filled: %+v", got)
			}
		})
	}
}

// TestAverageLinkage compares the nearest-neighbour chain with the textbook
// O(n³) algorithm: the same merge heights and the same partition at every k.
func TestAverageLinkage(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		in, _ := synthetic(corpusSpec{topics: 5, perTopic: 12, dim: 6, noise: 1.5, seed: seed})
		g, err := makeGroups(context.Background(), in.Vectors, 1)
		if err != nil {
			t.Fatal(err)
		}
		d := averageLinkage(g, similarityMatrix(g))
		n := len(in.Vectors)
		wantH, wantCuts := naiveAverageLinkage(in.Vectors)
		for i, h := range d.height[n:] {
			if math.Abs(h-wantH[i]) > 1e-5 {
				t.Fatalf("seed %d: merge %d at %.6f, want %.6f", seed, i, h, wantH[i])
			}
		}
		for k := 1; k <= n; k++ {
			if got := cutAt(&d, n, k); ARI(got, wantCuts[k]) != 1 {
				t.Fatalf("seed %d: cut at %d clusters differs", seed, k)
			}
		}
	}
}

// naiveAverageLinkage merges the most similar pair of clusters by mean
// pairwise cosine until one is left, and returns the heights and the
// labels at every number of clusters.
func naiveAverageLinkage(vecs [][]float32) ([]float64, map[int][]int) {
	n := len(vecs)
	clusters := make([][]int, n)
	for i := range clusters {
		clusters[i] = []int{i}
	}
	snapshot := func() []int {
		lab := make([]int, n)
		for c, mem := range clusters {
			for _, i := range mem {
				lab[i] = c
			}
		}
		return lab
	}
	cuts := map[int][]int{n: snapshot()}
	var heights []float64
	for len(clusters) > 1 {
		ba, bb, bs := 0, 1, math.Inf(-1)
		for a := range clusters {
			for b := a + 1; b < len(clusters); b++ {
				s := 0.0
				for _, i := range clusters[a] {
					for _, j := range clusters[b] {
						s += dot32(vecs[i], vecs[j])
					}
				}
				s /= float64(len(clusters[a]) * len(clusters[b]))
				if s > bs {
					ba, bb, bs = a, b, s
				}
			}
		}
		clusters[ba] = append(clusters[ba], clusters[bb]...)
		clusters = slices.Delete(clusters, bb, bb+1)
		heights = append(heights, bs)
		cuts[len(clusters)] = snapshot()
	}
	return heights, cuts
}

// cutAt labels the leaves of a dendrogram cut into k clusters.
func cutAt(d *dendrogram, n, k int) []int {
	lab := make([]int, n)
	roots := []int{d.root()}
	for len(roots) < k {
		// Undo the last merge: the root with the lowest height.
		best := 0
		for i, r := range roots {
			if d.left[r] >= 0 && (d.left[roots[best]] < 0 || d.height[r] < d.height[roots[best]]) {
				best = i
			}
		}
		r := roots[best]
		roots = append(slices.Delete(roots, best, best+1), d.left[r], d.right[r])
	}
	for c, r := range roots {
		for _, leaf := range d.leaves(r, nil) {
			lab[leaf] = c
		}
	}
	return lab
}

func TestLayout(t *testing.T) {
	in, truth := synthetic(corpusSpec{topics: 6, perTopic: 40, dim: 32, noise: 0.8, seed: 6})
	m, err := Build(context.Background(), in, Config{})
	if err != nil {
		t.Fatal(err)
	}
	pts := m.Layout()
	if len(pts) != len(in.Papers) {
		t.Fatalf("%d points for %d papers", len(pts), len(in.Papers))
	}
	var minX, maxX, minY, maxY = 1.0, 0.0, 1.0, 0.0
	for _, p := range pts {
		if p.X < 0 || p.X > 1 || p.Y < 0 || p.Y > 1 {
			t.Fatalf("point %v outside [0,1]²", p)
		}
		minX, maxX, minY, maxY = min(minX, p.X), max(maxX, p.X), min(minY, p.Y), max(maxY, p.Y)
	}
	if max(maxX-minX, maxY-minY) != 1 {
		t.Errorf("longer side spans %v, want 1", max(maxX-minX, maxY-minY))
	}
	// Themes are regions: a paper is nearer its own theme's centre than any
	// other theme's.
	cx, cy, cn := map[int]float64{}, map[int]float64{}, map[int]float64{}
	for i, p := range pts {
		cx[truth[i]] += p.X
		cy[truth[i]] += p.Y
		cn[truth[i]]++
	}
	wrong := 0
	for i, p := range pts {
		own := math.Hypot(p.X-cx[truth[i]]/cn[truth[i]], p.Y-cy[truth[i]]/cn[truth[i]])
		for c := range cn {
			if c != truth[i] && math.Hypot(p.X-cx[c]/cn[c], p.Y-cy[c]/cn[c]) < own {
				wrong++
				break
			}
		}
	}
	if wrong > len(pts)/50 {
		t.Errorf("%d of %d papers lie nearer another theme's centre", wrong, len(pts))
	}
}

func TestARI(t *testing.T) {
	tests := []struct {
		name string
		a, b []int
		want float64
	}{
		{name: "identical", a: []int{0, 0, 1, 1, 2}, b: []int{0, 0, 1, 1, 2}, want: 1},
		{name: "renamed", a: []int{0, 0, 1, 1}, b: []int{1, 1, 0, 0}, want: 1},
		{name: "one split", a: []int{0, 0, 1, 2}, b: []int{0, 0, 1, 1}, want: 4.0 / 7},
		{name: "symmetric", a: []int{0, 0, 1, 1}, b: []int{0, 0, 1, 2}, want: 4.0 / 7},
		{name: "one group against singletons", a: []int{0, 0, 0, 0}, b: []int{0, 1, 2, 3}, want: 0},
		{name: "worse than chance", a: []int{0, 0, 1, 1}, b: []int{0, 1, 0, 1}, want: -0.5},
		{name: "both one group", a: []int{3, 3, 3}, b: []int{1, 1, 1}, want: 1},
		{name: "both singletons", a: []int{0, 1, 2}, b: []int{5, 6, 7}, want: 1},
		{name: "outlier label is a group", a: []int{-1, -1, 0, 0, 1, 1}, b: []int{7, 7, 8, 8, 9, 9}, want: 1},
		{name: "empty", a: nil, b: nil, want: 1},
		{name: "one item", a: []int{4}, b: []int{2}, want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ARI(tt.a, tt.b); math.Abs(got-tt.want) > 1e-12 {
				t.Errorf("ARI = %v, want %v", got, tt.want)
			}
		})
	}
	// Random labelings agree about as well as chance.
	rng := rand.New(rand.NewPCG(1, 1))
	a, b := make([]int, 5000), make([]int, 5000)
	for i := range a {
		a[i], b[i] = rng.IntN(10), rng.IntN(10)
	}
	if got := ARI(a, b); math.Abs(got) > 0.01 {
		t.Errorf("ARI of random labelings %v, want about 0", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("no panic for labelings of different lengths")
		}
	}()
	ARI([]int{1}, []int{1, 2})
}
