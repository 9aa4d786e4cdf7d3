package themes

import (
	"cmp"
	"context"
	"math"
	"runtime"
	"slices"
	"sync"
)

// groups are the units the linkage clusters: each paper alone up to
// [ExactLimit] papers, k-means micro-clusters above (see makeGroups).
type groups struct {
	sum  [][]float64 // sum of the members' vectors
	size []int       // members
	of   []int       // group of each paper
	// self is the mean cosine of a group's members to each other (1 for a
	// single paper): the height at which the group would have formed.
	self []float64
}

// dendrogram is an average-linkage tree over groups. Nodes 0..m-1 are the
// groups; node m+t is the t-th merge, merges in decreasing similarity.
type dendrogram struct {
	left, right []int     // children of merge nodes, -1 for leaves
	size        []int     // papers under each node
	height      []float64 // similarity at which a merge node formed; self for leaves
}

func (d *dendrogram) root() int { return len(d.size) - 1 }

// similarityMatrix returns the m×m matrix of mean cosine between the members
// of two groups, dot(sumA, sumB)/(|A|·|B|): exactly the average linkage of
// the papers under cosine, since the vectors are unit. The rows are split
// over the available cores; each entry is computed alone, so the result does
// not depend on the split.
func similarityMatrix(g groups) []float32 {
	m := len(g.size)
	s := make([]float32, m*m)
	parallel(m, func(a int) {
		for b := a + 1; b < m; b++ {
			v := float32(dot64(g.sum[a], g.sum[b]) / float64(g.size[a]*g.size[b]))
			s[a*m+b] = v
			s[b*m+a] = v
		}
	})
	return s
}

// averageLinkage builds the average-linkage (UPGMA) dendrogram of the groups
// with the nearest-neighbour chain algorithm: O(m²) time on the m×m
// similarity matrix s, which it overwrites. Ties go to the chain's previous
// element, then to the lower index, so the tree is deterministic.
func averageLinkage(g groups, s []float32) dendrogram {
	m := len(g.size)
	size := make([]float64, m)
	for i, n := range g.size {
		size[i] = float64(n)
	}
	active := make([]bool, m)
	for i := range active {
		active[i] = true
	}
	type merge struct {
		a, b int // slots; the merged cluster keeps slot a
		h    float64
	}
	merges := make([]merge, 0, max(0, m-1))
	chain := make([]int, 0, m)
	next := 0 // lowest slot that may still be active
	for len(merges) < m-1 {
		if len(chain) == 0 {
			for !active[next] {
				next++
			}
			chain = append(chain, next)
		}
		a := chain[len(chain)-1]
		best, bs := -1, math.Inf(-1)
		if len(chain) > 1 {
			best = chain[len(chain)-2]
			bs = float64(s[a*m+best])
		}
		row := s[a*m : (a+1)*m]
		for b, v := range row {
			if b != a && active[b] && float64(v) > bs {
				best, bs = b, float64(v)
			}
		}
		if len(chain) < 2 || best != chain[len(chain)-2] {
			chain = append(chain, best)
			continue
		}
		chain = chain[:len(chain)-2]
		lo, hi := min(a, best), max(a, best)
		merges = append(merges, merge{lo, hi, bs})
		// Lance–Williams update for average linkage.
		na, nb := size[lo], size[hi]
		for c := range m {
			if !active[c] || c == lo || c == hi {
				continue
			}
			v := float32((na*float64(s[lo*m+c]) + nb*float64(s[hi*m+c])) / (na + nb))
			s[lo*m+c] = v
			s[c*m+lo] = v
		}
		size[lo] += nb
		active[hi] = false
	}
	// The chain finds merges out of height order: sort them (stably, so a
	// child merge stays before its parent on ties) and name the nodes.
	slices.SortStableFunc(merges, func(x, y merge) int { return cmp.Compare(y.h, x.h) })
	d := dendrogram{
		left:   make([]int, m, 2*m-1),
		right:  make([]int, m, 2*m-1),
		size:   slices.Clone(g.size),
		height: slices.Clone(g.self),
	}
	for i := range m {
		d.left[i], d.right[i] = -1, -1
	}
	parent := make([]int, m) // union-find over slots
	node := make([]int, m)   // dendrogram node of each slot's cluster
	for i := range parent {
		parent[i], node[i] = i, i
	}
	find := func(x int) int {
		for parent[x] != x {
			parent[x] = parent[parent[x]]
			x = parent[x]
		}
		return x
	}
	for _, mg := range merges {
		ra, rb := find(mg.a), find(mg.b)
		na, nb := node[ra], node[rb]
		d.left = append(d.left, na)
		d.right = append(d.right, nb)
		d.size = append(d.size, d.size[na]+d.size[nb])
		d.height = append(d.height, mg.h)
		parent[rb] = ra
		node[ra] = len(d.size) - 1
	}
	return d
}

// leaves appends the groups under node nd.
func (d *dendrogram) leaves(nd int, out []int) []int {
	stack := []int{nd}
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if d.left[x] < 0 {
			out = append(out, x)
			continue
		}
		stack = append(stack, d.right[x], d.left[x])
	}
	return out
}

// dot64 is unrolled by four: the similarity matrix spends its time here.
func dot64(a, b []float64) float64 {
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

func dot32to64(a []float32, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += float64(a[i]) * b[i]
	}
	return s
}

func dot32(a, b []float32) float64 {
	s := 0.0
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

// parallel calls f(i) for i in [0, n) on up to GOMAXPROCS goroutines, in
// interleaved rows so that triangular work is balanced, and returns when
// all are done. f must only write what belongs to i.
func parallel(n int, f func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 || n < 64 {
		for i := range n {
			f(i)
		}
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				f(i)
			}
		})
	}
	wg.Wait()
}

// makeGroups returns the units to cluster: each paper alone up to
// ExactLimit papers, else seeded spherical k-means micro-clusters.
func makeGroups(ctx context.Context, vecs [][]float32, seed uint64) (groups, error) {
	n := len(vecs)
	if n > exactLimit {
		return microClusters(ctx, vecs, microCount, seed)
	}
	g := groups{sum: make([][]float64, n), size: make([]int, n), of: make([]int, n), self: make([]float64, n)}
	for i, v := range vecs {
		g.sum[i] = make([]float64, len(v))
		for d, x := range v {
			g.sum[i][d] = float64(x)
		}
		g.size[i], g.of[i], g.self[i] = 1, i, 1
	}
	return g, ctx.Err()
}
