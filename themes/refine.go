package themes

import (
	"cmp"
	"math"
	"slices"
)

// Hidden themes (issue 8, part 3, second pass). The consensus leaves some
// lines of work scattered: two papers on machine learning for number
// theory in the outlier group and a third loose in a symbolic-regression
// theme, three photonics papers spread over two themes and the outlier
// group. After the outlier group is chosen, the papers that fit no theme
// closely (the outlier group and the members below [hiddenLoose] of their
// theme's median fit) are clustered again on their own: communities of
// their nearest-neighbour graph become themes when they are tight, have a
// name and are not all from one theme (docs/themes.md, "Second pass", for
// the variants measured).
const (
	// hiddenLoose is the relative fit (mean cosine to the theme's other
	// members over that of its median member) below which a member is a
	// candidate for a hidden theme. 0.8 drew groups out of coherent themes
	// and made subsamples disagree (ARI down to 0.78); 0.6 found one group.
	hiddenLoose = 0.7
	// hiddenNeighbours is the k of the candidates' nearest-neighbour graph.
	hiddenNeighbours = 5
	// hiddenSpan sets the Louvain resolution on that graph to n/hiddenSpan
	// for n candidates (at least 1). A community of s papers, each joined to
	// k others, holds at resolution γ only while s < n/γ, so the groups stay
	// below about hiddenSpan papers whatever the number of candidates. 12.5
	// is resolution 8 at the bundled corpus's 100 candidates; resolution 1
	// gave communities of 9 to 19 papers of mean cosine 0.08 to 0.11, far
	// below any theme, and 4 to 10 groups of three to five.
	hiddenSpan = 12.5
	// hiddenMax bounds the candidates (the loosest first), so that the
	// candidates' similarity matrix stays small above [ExactLimit] papers.
	hiddenMax = 2000
)

// hiddenThemes finds themes among the papers that fit none: communities of
// at least [smallTheme] papers of the candidates' own nearest-neighbour
// graph (see the constants above) become themes when their mean cosine is
// at least the median theme's (themes of minSize papers or more), a phrase
// names them (see termModel.nameable), and they are not all from one theme
// (a part of one theme is that theme's business). The outlier group shrinks by the papers that join a hidden
// theme and is not chosen again, which keeps the themes of a changed corpus
// close to the full corpus's (ARI of 90% subsamples). At most maxK themes
// in all. It returns how many themes it added.
func hiddenThemes(p *partition, vecs [][]float32, terms *termModel, minSize, maxK int) int {
	rel := relativeFits(p, vecs)
	var list []int
	for i, t := range p.of {
		if t == OutlierID || (t >= 0 && rel[i] < hiddenLoose) {
			list = append(list, i)
		}
	}
	if len(list) < smallTheme || p.k >= maxK {
		return 0
	}
	if len(list) > hiddenMax {
		// The outlier group first (rel 0), then the loosest members.
		slices.SortStableFunc(list, func(a, b int) int { return cmp.Compare(rel[a], rel[b]) })
		list = list[:hiddenMax]
		slices.Sort(list)
	}
	bar := medianCohesion(p, vecs, minSize)
	n := len(list)
	k := min(hiddenNeighbours, n-1)
	sim := make([]float32, n*n)
	parallel(n, func(a int) {
		for b := a + 1; b < n; b++ {
			v := float32(dot32(vecs[list[a]], vecs[list[b]]))
			sim[a*n+b], sim[b*n+a] = v, v
		}
	})
	nb := neighbours(sim, n, k)
	keep := make([]int, n)
	size := make([]int, n)
	for i := range keep {
		keep[i], size[i] = i, 1
	}
	comm := louvain(knnGraph(sim, size, nb, keep, keep, k), max(1, float64(n)/hiddenSpan))
	parts := [][]int{}
	for x, c := range comm {
		for c >= len(parts) {
			parts = append(parts, nil)
		}
		parts[c] = append(parts[c], list[x])
	}
	added := 0
	for _, mem := range parts {
		if p.k >= maxK {
			break
		}
		if len(mem) < smallTheme || cohesion(vecs, mem) < bar || !terms.nameable(mem) {
			continue
		}
		if from := p.of[mem[0]]; from >= 0 && !slices.ContainsFunc(mem, func(i int) bool { return p.of[i] != from }) {
			continue // a part of one theme
		}
		for _, i := range mem {
			if p.of[i] == OutlierID {
				p.outliers--
			}
			p.of[i] = p.k
		}
		p.k++
		added++
	}
	return added
}

// relativeFits returns each theme member's fit to its theme (mean cosine
// to its other members) over the fit of the theme's median member; 0 for
// the papers of no theme.
func relativeFits(p *partition, vecs [][]float32) []float64 {
	sums, sizes := themeSums(p, vecs)
	fit := make([]float64, len(p.of))
	fits := make([][]float64, p.k)
	for i, t := range p.of {
		if t >= 0 && sizes[t] > 1 {
			fit[i] = (dot32to64(vecs[i], sums[t]) - dot32(vecs[i], vecs[i])) / float64(sizes[t]-1)
			fits[t] = append(fits[t], fit[i])
		}
	}
	median := make([]float64, p.k)
	for t, f := range fits {
		if len(f) > 0 {
			slices.Sort(f)
			median[t] = f[len(f)/2]
		}
	}
	rel := make([]float64, len(p.of))
	for i, t := range p.of {
		if t >= 0 && median[t] > 0 {
			rel[i] = fit[i] / median[t]
		}
	}
	return rel
}

// cohesion returns the mean cosine between the papers of a list (1 for
// fewer than two).
func cohesion(vecs [][]float32, list []int) float64 {
	if len(list) < 2 {
		return 1
	}
	sum := make([]float64, len(vecs[0]))
	self := 0.0
	for _, i := range list {
		for d, x := range vecs[i] {
			sum[d] += float64(x)
		}
		self += dot32(vecs[i], vecs[i])
	}
	n := float64(len(list))
	return (dot64(sum, sum) - self) / (n * (n - 1))
}

// medianCohesion returns the median cohesion of the themes of at least
// minSize papers (+Inf without one).
func medianCohesion(p *partition, vecs [][]float32, minSize int) float64 {
	members := make([][]int, p.k)
	for i, t := range p.of {
		if t >= 0 {
			members[t] = append(members[t], i)
		}
	}
	var cs []float64
	for _, mem := range members {
		if len(mem) >= minSize {
			cs = append(cs, cohesion(vecs, mem))
		}
	}
	if len(cs) == 0 {
		return math.Inf(1)
	}
	slices.Sort(cs)
	return cs[len(cs)/2]
}
