// Package themes finds the research themes of a corpus offline: it groups
// papers that belong together, names each group with one or two whole
// keyphrases that its papers have and few others do, lists its distinctive
// terms (class-based TF-IDF, as BERTopic does), picks its most central
// papers, summarises it with an extractive paragraph, counts its areas and
// years, and lays all papers out on a 2-D map where each theme is a region.
//
// The grouping is a consensus of communities: the nearest-neighbour graph
// of the papers' dense unit vectors (cosine similarity) is split by Louvain
// modularity in thirty runs, each leaving a tenth of the papers out, and
// the themes are the papers that most runs put together (the co-association
// cut at one half). Small tight groups are themes too; the papers that fit
// no theme form an explicit outlier group within a budget, and tight,
// nameable groups among them and the loosest members of themes become
// themes of their own. A set number of themes falls back on average-linkage
// clustering cut HDBSCAN-style. Up to [ExactLimit] papers the clustering
// has no randomness at all (the folds come from a fixed permutation), so
// every seed gives the same themes; the seed drives the map layout, and the
// k-means pre-clustering of larger corpora. See docs/themes.md for the
// method and its measured quality.
//
// A [Model] is immutable once built and safe for concurrent use.
package themes

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/paperrec/paperrec/models"
)

// Input is what themes are built from. Build only reads it and keeps none
// of it, so the caller may share it.
//
// Build only reads it.
type Input struct {
	// Papers in corpus order, keyphrases recovered (see package embed).
	Papers []models.Paper
	// Vectors holds one unit vector per paper, all of one dimension; the
	// themes are clusters of these under cosine similarity.
	Vectors [][]float32
	// Similarity is an optional score in [0, 1] of paper j as related to
	// paper i, such as recommend's fused score. When set it ranks a theme's
	// members by centrality (which papers represent the theme); nil means the
	// cosine of Vectors. The clustering itself always uses the cosine, which
	// measured better (docs/themes.md). Build calls it from one goroutine.
	Similarity func(i, j int) float64
}

// Config tunes Build, a plain value. The zero value is the tuned default.
type Config struct {
	// K fixes the number of themes: the average-linkage tree is cut into K
	// (see docs/themes.md). 0 lets the consensus choose, within [MinK, MaxK].
	K int
	// MinK and MaxK bound the automatic choice: a consensus outside them
	// gives way to the average-linkage cut at the nearest bound. The
	// defaults grow with the square root of the corpus size n: round(√n/3)
	// and round(2.5·√n), that is 8 and 60 at 574 papers.
	MinK, MaxK int
	// MinSize is the smallest theme in papers when K is automatic (default
	// round(√n/5), at least 5: 5 at 574 papers, 20 at 10,000). A smaller
	// group of three or more is a theme only when it is at least as tight
	// as the median theme; other papers of smaller groups fall out of every
	// theme. The average-linkage cut (K set) uses ⌈n/MaxK⌉ unless MinSize is
	// set, BERTopic's min_topic_size.
	MinSize int
	// Seed seeds the map layout and, above [ExactLimit] papers, the
	// pre-clustering (default 1). The same input and seed give the same model.
	Seed uint64
	// Representatives is how many central papers each theme lists (default 5).
	Representatives int
	// OutlierBudget is the largest share of papers left in the outlier group
	// (default 0.05); the papers that fit no theme beyond the budget join the
	// theme they fit best. 0 means the default; negative means no outlier
	// group at all.
	OutlierBudget float64
}

// Defaults for Config.
const (
	DefaultSeed            = 1
	DefaultRepresentatives = 5
	DefaultOutlierBudget   = 0.05
)

// OutlierID is the theme id of the outlier group, as in BERTopic.
const OutlierID = -1

// OutlierLabel is the outlier group's label.
const OutlierLabel = "Other papers"

// Errors that callers may branch on.
var (
	// ErrNoPapers is returned for an empty input.
	ErrNoPapers = errors.New("no papers")
	// ErrInvalidInput wraps a malformed Input or Config.
	ErrInvalidInput = errors.New("invalid input")
)

// Term is one distinctive term of a theme with its class-based TF-IDF
// weight, a plain value.
type Term struct {
	Term   string  `json:"term"`
	Weight float64 `json:"weight"`
}

// PaperRef names a paper; a plain value.
type PaperRef struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// Theme is one group of papers with what describes it. Copies share the
// slices and maps, which nothing modifies: safe for concurrent reads.
type Theme struct {
	// ID is the theme's number: 0 for the largest theme, then by size;
	// [OutlierID] for the outlier group.
	ID int `json:"id"`
	// Label is a short human-readable name from the distinctive keyphrases.
	Label string `json:"label"`
	// Terms are the most distinctive terms, best first.
	Terms []Term `json:"terms"`
	Size  int    `json:"size"`
	// Members are the IDs of every paper in the theme, in corpus order.
	Members []string `json:"members"`
	// Representative are the most central members, most central first.
	Representative []PaperRef `json:"representative"`
	// Categories counts members by area ("Uncategorized" when unknown).
	Categories map[string]int `json:"categories"`
	// Years counts members by publication year ("unknown" when unknown).
	Years map[string]int `json:"years"`
	// Summary is a short paragraph of the members' most central sentences.
	Summary string `json:"summary"`
	// Outlier marks the group of papers that fit no theme.
	Outlier bool `json:"outlier,omitempty"`
}

// Point is a position on the landscape map, in [0, 1]²; a plain value.
type Point struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
}

// Stats says how a model was built; a plain value.
type Stats struct {
	Papers int `json:"papers"`
	// Themes excludes the outlier group.
	Themes   int `json:"themes"`
	Outliers int `json:"outliers"`
	// MinSize is the minimum theme size used by the cut.
	MinSize int `json:"min_size"`
	// Auto says whether the number of themes was chosen automatically, and
	// Selected how many themes the consensus proposed before the bounds
	// applied.
	Auto     bool `json:"auto"`
	Selected int  `json:"selected"`
	// Groups is the number of groups clustered: the papers themselves up to
	// [ExactLimit] papers, k-means micro-clusters above.
	Groups   int           `json:"groups"`
	Duration time.Duration `json:"duration_ns"`
}

// Model holds a corpus's themes, each paper's theme and the map layout. It
// is immutable and safe for concurrent use.
type Model struct {
	themes []Theme // themes by id, outlier group last
	of     []int   // theme id by paper
	layout []Point
	stats  Stats
	titles map[string]string // of the outlier group's papers, for the report
}

// Build clusters the papers into themes and describes each. It returns an
// error wrapping [ErrNoPapers] for an empty input and [ErrInvalidInput] for
// mismatched vectors or an impossible configuration.
func Build(ctx context.Context, in Input, cfg Config) (*Model, error) {
	start := time.Now()
	n := len(in.Papers)
	if n == 0 {
		return nil, fmt.Errorf("build themes: %w", ErrNoPapers)
	}
	if err := in.check(); err != nil {
		return nil, fmt.Errorf("build themes: %w", err)
	}
	set := cfg
	cfg, err := cfg.withDefaults(n)
	if err != nil {
		return nil, fmt.Errorf("build themes: %w", err)
	}

	g, err := makeGroups(ctx, in.Vectors, cfg.Seed)
	if err != nil {
		return nil, err
	}
	sim := similarityMatrix(g)
	nb := neighbours(sim, len(g.size), max(layoutNeighbours, graphNeighbours+graphNeighbours/2))
	var part partition
	if cfg.K == 0 {
		part, err = consensusThemes(ctx, g, sim, nb, cfg.MinSize)
		if err != nil {
			return nil, err
		}
	}
	if cfg.K > 0 || part.k < cfg.MinK || part.k > cfg.MaxK {
		// A set number of themes, or a consensus out of bounds: the
		// average-linkage tree cut HDBSCAN-style (see cutTree).
		auto := part.k
		tc := cfg
		if set.MinSize == 0 {
			tc.MinSize = max(2, (n+cfg.MaxK-1)/cfg.MaxK) // BERTopic's min_topic_size
		}
		part = cutTree(averageLinkage(g, sim), g, tc)
		if cfg.K == 0 {
			part.selected = auto
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	assignNoise(&part, in.Vectors, cfg.OutlierBudget, n)
	terms := newTermModel(in.Papers, termSample(part, n, cfg.Seed))
	if cfg.K == 0 {
		hiddenThemes(&part, in.Vectors, terms, cfg.MinSize, cfg.MaxK)
	}
	numberBySize(&part, n)
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	// The description (terms, labels, summaries, central papers) and the
	// map need only the partition: they run side by side, each on its own
	// data, so the result does not depend on their timing.
	m := &Model{of: part.of}
	for i := range nb {
		nb[i] = nb[i][:min(len(nb[i]), layoutNeighbours)]
	}
	eg, ectx := errgroup.WithContext(ctx)
	eg.Go(func() error {
		var err error
		m.layout, err = layout(ectx, in.Vectors, g, nb, m.of, cfg.Seed)
		return err
	})
	m.describe(in, part, cfg, terms)
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.stats = Stats{Papers: n, Themes: part.k, Outliers: part.outliers, MinSize: part.minSize,
		Auto: cfg.K == 0, Selected: part.selected, Groups: len(g.size), Duration: time.Since(start)}
	return m, nil
}

func (in Input) check() error {
	if len(in.Vectors) != len(in.Papers) {
		return fmt.Errorf("%w: %d vectors for %d papers", ErrInvalidInput, len(in.Vectors), len(in.Papers))
	}
	dim := len(in.Vectors[0])
	if dim == 0 {
		return fmt.Errorf("%w: empty vectors", ErrInvalidInput)
	}
	for i, v := range in.Vectors {
		if len(v) != dim {
			return fmt.Errorf("%w: vector %d has dimension %d, want %d", ErrInvalidInput, i, len(v), dim)
		}
		for _, x := range v {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return fmt.Errorf("%w: vector %d is not finite", ErrInvalidInput, i)
			}
		}
	}
	return nil
}

// withDefaults fills in the defaults for a corpus of n papers and checks
// the result.
func (c Config) withDefaults(n int) (Config, error) {
	switch {
	case c.K < 0 || c.MinK < 0 || c.MaxK < 0 || c.MinSize < 0 || c.Representatives < 0:
		return c, fmt.Errorf("%w: negative k, bound, size or count", ErrInvalidInput)
	case c.K > n:
		return c, fmt.Errorf("%w: k=%d themes for %d papers", ErrInvalidInput, c.K, n)
	case math.IsNaN(c.OutlierBudget) || c.OutlierBudget >= 1:
		return c, fmt.Errorf("%w: outlier budget %v is not below 1", ErrInvalidInput, c.OutlierBudget)
	}
	if c.MinK > 0 && c.MaxK > 0 && c.MinK > c.MaxK {
		return c, fmt.Errorf("%w: min k %d above max k %d", ErrInvalidInput, c.MinK, c.MaxK)
	}
	// A default bound gives way to a bound that is set.
	root := math.Sqrt(float64(n))
	if c.MaxK == 0 {
		c.MaxK = max(c.MinK, int(math.Round(2.5*root)))
	}
	if c.MinK == 0 {
		c.MinK = min(max(1, int(math.Round(root/3))), c.MaxK)
	}
	c.MaxK = max(1, min(c.MaxK, n))
	c.MinK = max(1, min(c.MinK, c.MaxK))
	if c.MinSize == 0 {
		c.MinSize = min(n, max(smallTheme+2, int(math.Round(root/5))))
	}
	if c.Seed == 0 {
		c.Seed = DefaultSeed
	}
	if c.Representatives == 0 {
		c.Representatives = DefaultRepresentatives
	}
	switch {
	case c.OutlierBudget == 0:
		c.OutlierBudget = DefaultOutlierBudget
	case c.OutlierBudget < 0:
		c.OutlierBudget = 0
	}
	return c, nil
}

// Themes returns the themes by id, the outlier group (if any) last. The
// slices inside are shared: read only.
func (m *Model) Themes() []Theme { return m.themes }

// Theme returns the theme with this id ([OutlierID] for the outlier group).
func (m *Model) Theme(id int) (Theme, bool) {
	switch {
	case id >= 0 && id < m.stats.Themes:
		return m.themes[id], true
	case id == OutlierID && m.stats.Outliers > 0:
		return m.themes[len(m.themes)-1], true
	}
	return Theme{}, false
}

// Of returns the theme id of the paper at index i in corpus order:
// [OutlierID] for a paper in the outlier group.
func (m *Model) Of(i int) int { return m.of[i] }

// Layout returns each paper's position on the landscape map, in corpus
// order, in [0, 1]² with the aspect ratio kept (the shorter side is
// centred). The slice is shared: read only.
func (m *Model) Layout() []Point { return m.layout }

// Stats returns how the model was built.
func (m *Model) Stats() Stats { return m.stats }

// MarshalJSON renders the model as {"clusters": [...]}, the themes in
// [Model.Themes] order.
func (m *Model) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Clusters []Theme `json:"clusters"`
	}{m.themes})
}

// TermLimit is the most papers whose text the themes' term model (terms,
// labels) analyses: a larger corpus is described from a seeded sample,
// every theme's share of it in proportion to its size and at least
// [minSampled] of its papers, so that the model's memory stops growing
// with the corpus.
const TermLimit = 100_000

// minSampled is how many papers of a theme the sample keeps at the least.
const minSampled = 50

// termSample marks the papers the term model analyses: nil (all) up to
// TermLimit papers.
func termSample(part partition, n int, seed uint64) []bool {
	if n <= TermLimit {
		return nil
	}
	byTheme := map[int][]int{}
	for i, t := range part.of {
		byTheme[t] = append(byTheme[t], i)
	}
	ids := make([]int, 0, len(byTheme))
	for t := range byTheme {
		ids = append(ids, t)
	}
	slices.Sort(ids)
	rng := rand.New(rand.NewPCG(seed, 0x7465726d73)) // "terms"
	sample := make([]bool, n)
	for _, t := range ids {
		mem := byTheme[t]
		quota := max(minSampled, len(mem)*TermLimit/n)
		for _, k := range rng.Perm(len(mem))[:min(quota, len(mem))] {
			sample[mem[k]] = true
		}
	}
	return sample
}

// describe fills in the themes from a partition: members, counts, central
// papers, terms, labels and summaries.
func (m *Model) describe(in Input, part partition, cfg Config, terms *termModel) {
	k := part.k
	classes := k
	if part.outliers > 0 {
		classes++
	}
	members := make([][]int, classes)
	for i, t := range part.of {
		c := t
		if t == OutlierID {
			c = k
		}
		members[c] = append(members[c], i)
	}
	// Terms and labels from the papers the term model analysed (all of
	// them but in a very large corpus).
	analysed := make([][]int, len(members))
	for c, mem := range members {
		analysed[c] = terms.sampled(mem)
	}
	weights := terms.classWeights(analysed)
	labels := terms.labels(analysed, weights, part.outliers > 0)
	m.themes = make([]Theme, classes)
	m.titles = map[string]string{}
	for c, mem := range members {
		t := Theme{ID: c, Size: len(mem), Categories: map[string]int{}, Years: map[string]int{}}
		if c == k {
			t.ID, t.Outlier, t.Label = OutlierID, true, OutlierLabel
		}
		for _, i := range mem {
			p := in.Papers[i]
			t.Members = append(t.Members, p.ID)
			if t.Outlier {
				m.titles[p.ID] = p.Title
			}
			t.Categories[area(p)]++
			t.Years[year(p)]++
		}
		central := centralMembers(in, mem, cfg.Representatives)
		for _, i := range central[:min(cfg.Representatives, len(central))] {
			t.Representative = append(t.Representative, PaperRef{ID: in.Papers[i].ID, Title: in.Papers[i].Title})
		}
		t.Terms = terms.top(weights[c], maxTerms)
		if !t.Outlier {
			t.Label = labels[c]
			t.Summary = summarize(in.Papers, central, terms, weights[c])
		} else {
			t.Summary = outlierSummary(t)
		}
		m.themes[c] = t
	}
}

// maxTerms is how many terms a theme lists.
const maxTerms = 10

// centralMembers returns a theme's members, most central first: by mean
// cosine to the other members, then, when Input.Similarity is set, the
// leading candidates re-ranked by mean similarity (both directions) to the
// other members. Ties go to the earlier paper.
func centralMembers(in Input, mem []int, reps int) []int {
	dim := len(in.Vectors[0])
	sum := make([]float64, dim)
	for _, i := range mem {
		for d, x := range in.Vectors[i] {
			sum[d] += float64(x)
		}
	}
	score := make(map[int]float64, len(mem))
	for _, i := range mem {
		s := 0.0
		for d, x := range in.Vectors[i] {
			s += float64(x) * (sum[d] - float64(x))
		}
		score[i] = s / float64(max(1, len(mem)-1))
	}
	order := slices.Clone(mem)
	byScore := func(a, b int) int {
		if score[a] != score[b] {
			if score[a] > score[b] {
				return -1
			}
			return 1
		}
		return a - b
	}
	slices.SortFunc(order, byScore)
	if in.Similarity == nil || len(mem) < 3 {
		return order
	}
	lead := order[:min(len(order), 2*reps+2)]
	for _, i := range lead {
		s := 0.0
		for _, j := range mem {
			if j != i {
				s += in.Similarity(i, j) + in.Similarity(j, i)
			}
		}
		score[i] = 2 + s/float64(2*(len(mem)-1)) // above any cosine score
	}
	slices.SortFunc(order, byScore)
	return order
}
