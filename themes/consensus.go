package themes

import (
	"context"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
)

// Consensus (evidence accumulation: Fred and Jain 2005; Lancichinetti and
// Fortunato 2012 for communities): the groups are clustered
// [consensusFolds]·[consensusRounds] times, each run leaving one fold of
// them out, and the themes are the groups that the runs put together in
// at least [consensusCut] of the runs that hold both. A theme that holds
// only on one draw of the corpus (a chance merge of two lines of work
// that happen to share words) does not survive, which makes the themes
// robust to a changed corpus (docs/themes.md: ARI of 90% subsamples).
const (
	consensusFolds  = 10
	consensusRounds = 3
	consensusCut    = 0.5
)

// coAssociation returns the m×m matrix of the share of runs that put two
// groups in one community, of the runs that hold both. Each round splits
// the groups into folds by a fixed permutation (no seed: the themes do not
// depend on Config.Seed), and each run of the round leaves one fold out.
// nb holds each group's most similar others, most similar first, enough
// of them that graphNeighbours remain when a fold is left out.
func coAssociation(ctx context.Context, g groups, sim []float32, nb [][]int) ([]float32, error) {
	m := len(g.size)
	folds, rounds := consensusFolds, consensusRounds
	if m < 2*folds {
		folds, rounds = 1, 1 // too few groups to leave any out
	}
	// A micro-cluster stands for many papers: its neighbours are fewer
	// groups than a paper's are papers.
	k := graphNeighbours
	if papers := len(g.of); papers > m {
		k = max(10, min(k, int(math.Round(float64(k*m)/float64(papers)))))
	}
	rng := rand.New(rand.NewPCG(0x636f6e73, 0x656e7375)) // "consensus"
	// The folds of each round, drawn in order before any run.
	fold := make([][]int, rounds)
	// Runs that hold both of two groups: all runs but those that leave out
	// either, that is folds·rounds − 2·rounds plus the rounds in which the
	// two share a fold (both left out at once).
	sameFold := make([]uint16, m*m)
	for r := range fold {
		fold[r] = make([]int, m)
		byFold := make([][]int, folds)
		for i, p := range rng.Perm(m) {
			fold[r][p] = i % folds
			byFold[i%folds] = append(byFold[i%folds], p)
		}
		if folds > 1 {
			for _, f := range byFold {
				for _, a := range f {
					for _, b := range f {
						sameFold[a*m+b]++
					}
				}
			}
		}
	}
	// The runs are independent: each worker takes every workers-th run and
	// counts into its own matrix; the counts are summed, so the result does
	// not depend on the split.
	runs := folds * rounds
	workers := max(1, min(runtime.GOMAXPROCS(0), runs))
	counts := make([][]uint16, workers)
	var wg sync.WaitGroup
	for w := range workers {
		counts[w] = make([]uint16, m*m)
		wg.Go(func() {
			together := counts[w]
			var scratch knnScratch
			at := make([]int, m)
			keep := make([]int, 0, m)
			var members [][]int
			for r := w; r < runs; r += workers {
				if ctx.Err() != nil {
					return
				}
				f := fold[r/folds]
				keep = keep[:0]
				for a := range m {
					at[a] = -1
					if folds == 1 || f[a] != r%folds {
						at[a] = len(keep)
						keep = append(keep, a)
					}
				}
				comm := louvain(scratch.graph(sim, g.size, nb, keep, at, k), resolution)
				for c := range members {
					members[c] = members[c][:0]
				}
				for x, a := range keep {
					for comm[x] >= len(members) {
						members = append(members, nil)
					}
					members[comm[x]] = append(members[comm[x]], a)
				}
				for _, list := range members {
					for _, a := range list {
						row := together[a*m : (a+1)*m]
						for _, b := range list {
							row[b]++
						}
					}
				}
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	together := counts[0]
	for _, c := range counts[1:] {
		for i, v := range c {
			together[i] += v
		}
	}
	out := make([]float32, m*m)
	for a := range m {
		for b := a + 1; b < m; b++ {
			both := runs
			if folds > 1 {
				both += int(sameFold[a*m+b]) - 2*rounds
			}
			if both > 0 {
				v := float32(together[a*m+b]) / float32(both)
				out[a*m+b], out[b*m+a] = v, v
			}
		}
	}
	return out, nil
}

// consensusThemes returns the themes of the consensus: the clusters of the
// average-linkage tree of the co-association cut at [consensusCut]. A
// cluster of minSize papers or more is a theme; a smaller one of at least
// [smallTheme] papers is a theme when its papers are at least as close to
// each other (mean cosine) as those of the median theme: a small line of
// work that the outlier group would otherwise hide (three papers on Big
// Bang nucleosynthesis). The papers of other clusters are noise.
func consensusThemes(ctx context.Context, g groups, sim []float32, nb [][]int, minSize int) (partition, error) {
	co, err := coAssociation(ctx, g, sim, nb)
	if err != nil {
		return partition{}, err
	}
	cg := g
	cg.self = make([]float64, len(g.size))
	for i := range cg.self {
		cg.self[i] = 1 // a group is always with itself
	}
	p := cutAtHeight(averageLinkage(cg, co), g, consensusCut, min(smallTheme, minSize))
	// Size and cohesion of each cluster, from its groups' sums.
	dim := len(g.sum[0])
	sums := make([][]float64, p.k)
	sizes := make([]int, p.k)
	for t := range sums {
		sums[t] = make([]float64, dim)
	}
	groupTheme := make([]int, len(g.size))
	for i, t := range p.of {
		groupTheme[g.of[i]] = t
	}
	for a, t := range groupTheme {
		if t >= 0 {
			sizes[t] += g.size[a]
			for d, x := range g.sum[a] {
				sums[t][d] += x
			}
		}
	}
	cohesion := make([]float64, p.k)
	var big []float64
	for t := range sums {
		n := float64(sizes[t])
		if n > 1 {
			cohesion[t] = (dot64(sums[t], sums[t]) - n) / (n * (n - 1)) // unit vectors: Σ|x|² = n
		}
		if sizes[t] >= minSize {
			big = append(big, cohesion[t])
		}
	}
	bar := math.Inf(1)
	if len(big) > 0 {
		slices.Sort(big)
		bar = big[len(big)/2]
	}
	rename := make([]int, p.k)
	k := 0
	for t := range rename {
		rename[t] = noise
		if sizes[t] >= minSize || cohesion[t] >= bar {
			rename[t] = k
			k++
		}
	}
	for i, t := range p.of {
		if t >= 0 {
			p.of[i] = rename[t]
		}
	}
	p.k, p.selected = k, k
	p.prefer = preferred(co, g, p)
	return p, nil
}

// preferred returns, for each paper of no theme, the theme whose groups the
// runs put its group with most often (mean co-association, by papers), or
// -1 when the runs never did.
func preferred(co []float32, g groups, p partition) []int {
	m := len(g.size)
	groupTheme := make([]int, m)
	for i, t := range p.of {
		groupTheme[g.of[i]] = t
	}
	size := make([]float64, p.k)
	for a, t := range groupTheme {
		if t >= 0 {
			size[t] += float64(g.size[a])
		}
	}
	best := make([]int, m)
	sum := make([]float64, p.k)
	for a, t := range groupTheme {
		best[a] = -1
		if t != noise {
			continue
		}
		clear(sum)
		for b, u := range groupTheme {
			if u >= 0 {
				sum[u] += float64(co[a*m+b]) * float64(g.size[b])
			}
		}
		top := 0.0
		for u, s := range sum {
			if v := s / size[u]; v > top {
				best[a], top = u, v
			}
		}
	}
	out := make([]int, len(g.of))
	for i, grp := range g.of {
		out[i] = best[grp]
	}
	return out
}

// smallTheme is the fewest papers of a theme below the minimum size.
const smallTheme = 3

// cutAtHeight returns the clusters of the dendrogram that formed at or above
// the given similarity and hold at least minSize papers; the papers of
// smaller ones are noise.
func cutAtHeight(d dendrogram, g groups, level float64, minSize int) partition {
	p := partition{minSize: minSize}
	groupTheme := make([]int, len(g.size))
	for i := range groupTheme {
		groupTheme[i] = noise
	}
	var buf []int
	stack := []int{d.root()}
	for len(stack) > 0 {
		nd := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if d.left[nd] >= 0 && d.height[nd] < level {
			stack = append(stack, d.right[nd], d.left[nd])
			continue
		}
		if d.size[nd] < minSize {
			continue
		}
		buf = d.leaves(nd, buf[:0])
		for _, leaf := range buf {
			groupTheme[leaf] = p.k
		}
		p.k++
	}
	p.selected = p.k
	p.of = make([]int, len(g.of))
	for i, grp := range g.of {
		p.of[i] = groupTheme[grp]
	}
	return p
}
