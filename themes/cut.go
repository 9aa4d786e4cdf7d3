package themes

import (
	"cmp"
	"math"
	"slices"
)

// cluster is a node of the condensed tree: a group of at least minSize
// papers from its birth, where its parent split into two such groups, until
// it splits in turn or has shed all its papers in smaller fragments.
type cluster struct {
	node   int     // dendrogram node at birth
	birth  float64 // similarity at birth (λ)
	split  float64 // similarity at which it splits, if it has kids
	kids   []int
	stable float64 // HDBSCAN stability: Σ over papers of (λ leaving − λ birth)
}

// condense builds the condensed tree of a dendrogram for a minimum cluster
// size (Campello, Moulavi and Sander 2013, as in HDBSCAN), with similarity
// as λ. Cluster 0 is the root.
func condense(d *dendrogram, minSize int) []cluster {
	root := d.root()
	cls := []cluster{{node: root, birth: d.height[root]}}
	var walk func(nd, c int)
	walk = func(nd, c int) {
		birth := cls[c].birth
		if d.left[nd] < 0 {
			// A group of at least minSize that cannot split: its papers
			// leave when it would have formed.
			cls[c].stable += float64(d.size[nd]) * max(0, d.height[nd]-birth)
			return
		}
		l, r, h := d.left[nd], d.right[nd], d.height[nd]
		if d.size[l] >= minSize && d.size[r] >= minSize {
			cls[c].stable += float64(d.size[nd]) * (h - birth)
			cls[c].split = h
			for _, kid := range []int{l, r} {
				cls = append(cls, cluster{node: kid, birth: h})
				id := len(cls) - 1
				cls[c].kids = append(cls[c].kids, id)
				walk(kid, id)
			}
			return
		}
		for _, kid := range []int{l, r} {
			if d.size[kid] < minSize {
				cls[c].stable += float64(d.size[kid]) * (h - birth) // falls out
			} else {
				walk(kid, c)
			}
		}
	}
	walk(root, 0)
	return cls
}

// excessOfMass selects the clusters of largest total stability with no
// selected cluster inside another, the root excluded (HDBSCAN's "eom").
// Ties go to the parent, the coarser theme.
func excessOfMass(cls []cluster) []int {
	var sel func(c int) ([]int, float64)
	sel = func(c int) ([]int, float64) {
		if len(cls[c].kids) == 0 {
			return []int{c}, cls[c].stable
		}
		var out []int
		sum := 0.0
		for _, k := range cls[c].kids {
			o, s := sel(k)
			out = append(out, o...)
			sum += s
		}
		if c != 0 && cls[c].stable >= sum {
			return []int{c}, cls[c].stable
		}
		return out, sum
	}
	out, _ := sel(0)
	return out
}

// splitTo returns k clusters of the condensed tree, or as many as it has
// leaves: starting from the root, it splits the cluster that splits at the
// lowest similarity until there are k, as cutting a dendrogram at k does.
func splitTo(cls []cluster, k int) []int {
	front := []int{0}
	for len(front) < k {
		best := -1
		for i, c := range front {
			if len(cls[c].kids) == 0 {
				continue
			}
			if best < 0 || cls[c].split < cls[front[best]].split ||
				(cls[c].split == cls[front[best]].split && c < front[best]) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		c := front[best]
		front = slices.Delete(front, best, best+1)
		front = append(front, cls[c].kids...)
	}
	return front
}

// partition is each paper's theme.
type partition struct {
	of       []int // theme by paper; noise while cutting, then OutlierID
	k        int   // themes, outlier group excluded
	outliers int
	minSize  int
	selected int // themes proposed by excess of mass (auto k only)
	// prefer is, for a paper that fell out of every theme, the theme the
	// consensus runs put it with most often (-1: none); nil when unknown.
	prefer []int
}

// noise marks a paper that fell out of every theme, before assignNoise.
const noise = -2

// looseFit is the relative fit below which a member of a theme may go to
// the outlier group: half the median member's.
const looseFit = 0.5

// cutTree chooses the themes: with cfg.K set, the k-cut of the condensed
// tree; else the excess-of-mass selection, moved to the nearest bound by a
// k-cut when it proposes fewer than MinK or more than MaxK themes. When the
// tree at the minimum size has too few clusters for the target, the
// minimum size is lowered until it has.
func cutTree(d dendrogram, g groups, cfg Config) partition {
	p := partition{minSize: cfg.MinSize}
	var front []int
	var cls []cluster
	for {
		cls = condense(&d, p.minSize)
		target := cfg.K
		if cfg.K == 0 {
			front = excessOfMass(cls)
			p.selected = len(front)
			target = min(max(len(front), cfg.MinK), cfg.MaxK)
		}
		if len(front) != target {
			front = splitTo(cls, target)
		}
		if len(front) >= target || p.minSize == 1 {
			break
		}
		p.minSize--
	}
	groupTheme := make([]int, len(g.size))
	for i := range groupTheme {
		groupTheme[i] = noise
	}
	var buf []int
	for t, c := range front {
		buf = d.leaves(cls[c].node, buf[:0])
		for _, leaf := range buf {
			groupTheme[leaf] = t
		}
	}
	p.k = len(front)
	p.of = make([]int, len(g.of))
	for i, grp := range g.of {
		p.of[i] = groupTheme[grp]
	}
	return p
}

// assignNoise settles the papers that fit their theme loosely. A paper's fit
// to a theme is its mean cosine to the theme's (other) members, and its
// relative fit that over the median fit of the theme's members. Eligible
// for the outlier group are the papers that fell out of every theme (noise,
// measured against the theme they fit best) and the members whose relative
// fit is below [looseFit], as a random paper that the linkage chained into
// a theme has. The least fitting eligible papers, up to budget·n, form the
// outlier group; the remaining noise joins the theme the consensus runs put
// it with most often (p.prefer) or, without one, the theme it fits best.
func assignNoise(p *partition, vecs [][]float32, budget float64, n int) {
	sums, sizes := themeSums(p, vecs)
	fitTo := func(i, t int) float64 {
		s := dot32to64(vecs[i], sums[t])
		if p.of[i] == t {
			if sizes[t] == 1 {
				return 1
			}
			return (s - dot32(vecs[i], vecs[i])) / float64(sizes[t]-1)
		}
		return s / float64(sizes[t])
	}
	fits := make([][]float64, p.k)
	for i, t := range p.of {
		if t >= 0 {
			fits[t] = append(fits[t], fitTo(i, t))
		}
	}
	median := make([]float64, p.k)
	for t, f := range fits {
		slices.Sort(f)
		median[t] = f[len(f)/2]
	}
	type fit struct {
		paper, theme int
		rel          float64
	}
	var loose []fit
	for i, t := range p.of {
		f := fit{paper: i, theme: t}
		if t == noise {
			best := math.Inf(-1)
			for c := range sums {
				if s := fitTo(i, c); s > best {
					f.theme, best = c, s
				}
			}
			if p.prefer != nil && p.prefer[i] >= 0 {
				f.theme, best = p.prefer[i], fitTo(i, p.prefer[i])
			}
			f.rel = best / median[f.theme]
		} else {
			f.rel = fitTo(i, t) / median[t]
			if !(f.rel < looseFit) {
				continue
			}
		}
		if median[f.theme] <= 0 {
			f.rel = math.Inf(-1) // a theme of no cohesion: all its loose papers are equally loose
		}
		loose = append(loose, f)
	}
	slices.SortStableFunc(loose, func(a, b fit) int { return cmp.Compare(a.rel, b.rel) })
	allowed := int(math.Floor(budget * float64(n)))
	for i, f := range loose {
		if i < allowed {
			p.of[f.paper] = OutlierID
			p.outliers++
		} else {
			p.of[f.paper] = f.theme
		}
	}
}

// numberBySize numbers the themes by size, largest first (ties: the theme
// whose first paper comes first).
func numberBySize(p *partition, n int) {
	count := make([]int, p.k)
	first := make([]int, p.k)
	for t := range first {
		first[t] = n
	}
	for i, t := range p.of {
		if t >= 0 {
			count[t]++
			first[t] = min(first[t], i)
		}
	}
	order := make([]int, p.k)
	for t := range order {
		order[t] = t
	}
	slices.SortFunc(order, func(a, b int) int {
		if count[a] != count[b] {
			return count[b] - count[a]
		}
		return first[a] - first[b]
	})
	rename := make([]int, p.k)
	for newID, old := range order {
		rename[old] = newID
	}
	for i, t := range p.of {
		if t >= 0 {
			p.of[i] = rename[t]
		}
	}
}

// themeSums returns each theme's sum of member vectors and its size.
func themeSums(p *partition, vecs [][]float32) ([][]float64, []int) {
	dim := len(vecs[0])
	sums := make([][]float64, p.k)
	sizes := make([]int, p.k)
	for t := range sums {
		sums[t] = make([]float64, dim)
	}
	for i, t := range p.of {
		if t >= 0 {
			sizes[t]++
			for d, x := range vecs[i] {
				sums[t][d] += float64(x)
			}
		}
	}
	return sums, sizes
}
