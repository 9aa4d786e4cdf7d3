package themes

import (
	"context"
	"math"
	"math/rand/v2"

	"github.com/viterin/vek/vek32"
)

// ExactLimit is the largest corpus whose papers are clustered one by one:
// the linkage keeps an m×m matrix (36 MB at 3,000). Larger corpora are
// first reduced to [MicroClusters] spherical k-means micro-clusters, which
// the average linkage then merges exactly as it would merge their papers.
const ExactLimit = 3000

// MicroClusters is how many micro-clusters a corpus above [ExactLimit] is
// reduced to.
const MicroClusters = 1500

// exactLimit and microCount are [ExactLimit] and [MicroClusters], variables
// so that tests can take the micro-cluster path on a small corpus.
var exactLimit, microCount = ExactLimit, MicroClusters

// microIters bounds the Lloyd iterations of the micro-clustering.
const microIters = 8

// microClusters partitions unit vectors into k groups with spherical
// k-means: centres drawn from the papers by a seeded generator (k-means++ is
// O(n·k·d) and buys little when k is large and the groups are only a first
// cut), then a few Lloyd iterations assigning each paper to the centre of
// highest cosine. Empty groups are dropped. The assignment step runs on all
// cores; each paper's choice is its own, so the result depends on the seed
// alone.
func microClusters(ctx context.Context, vecs [][]float32, k int, seed uint64) (groups, error) {
	n, dim := len(vecs), len(vecs[0])
	k = min(k, n)
	rng := rand.New(rand.NewPCG(seed, 0x7468656d6573)) // "themes"
	perm := rng.Perm(n)
	cent := make([][]float32, k)
	for c := range cent {
		cent[c] = vecs[perm[c]]
	}
	// The assignment is n·k dot products an iteration, 98% of a 20,000-paper
	// build when scalar: vek's AVX2 kernel (a pure-Go fallback elsewhere)
	// takes it to a few percent.
	of := make([]int, n)
	var sums [][]float64
	var sizes []int
	for it := 0; it < microIters; it++ {
		if err := ctx.Err(); err != nil {
			return groups{}, err
		}
		changed := 0
		parallel(n, func(i int) {
			best, bs := 0, math.Inf(-1)
			for c, v := range cent {
				if s := float64(vek32.Dot(vecs[i], v)); s > bs {
					best, bs = c, s
				}
			}
			of[i] = best
		})
		sums = make([][]float64, k)
		sizes = make([]int, k)
		for c := range sums {
			sums[c] = make([]float64, dim)
		}
		for i, c := range of {
			sizes[c]++
			for d, x := range vecs[i] {
				sums[c][d] += float64(x)
			}
		}
		next := make([][]float32, k)
		for c := range next {
			next[c] = make([]float32, dim)
			norm := math.Sqrt(dot64(sums[c], sums[c]))
			if norm == 0 {
				next[c] = cent[c] // empty: keep the centre, it stays empty
				continue
			}
			for d := range next[c] {
				next[c][d] = float32(sums[c][d] / norm)
				if next[c][d] != cent[c][d] {
					changed++
				}
			}
		}
		cent = next
		if changed == 0 {
			break
		}
	}
	// Keep the non-empty groups, renumbered in order.
	id := make([]int, k)
	g := groups{of: make([]int, n)}
	for c := range k {
		id[c] = -1
		if sizes[c] == 0 {
			continue
		}
		id[c] = len(g.size)
		g.sum = append(g.sum, sums[c])
		g.size = append(g.size, sizes[c])
		self := 1.0
		if sizes[c] > 1 {
			// Σ_{i≠j} x_i·x_j = |Σx|² − Σ|x|², and the vectors are unit.
			self = (dot64(sums[c], sums[c]) - float64(sizes[c])) / float64(sizes[c]*(sizes[c]-1))
		}
		g.self = append(g.self, self)
	}
	for i, c := range of {
		g.of[i] = id[c]
	}
	return g, nil
}
