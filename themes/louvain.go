package themes

import (
	"cmp"
	"slices"
)

// Communities of the nearest-neighbour graph (Blondel et al. 2008,
// "Louvain"), the grouping under each run of the consensus: each group is
// joined to its [graphNeighbours] most similar groups, an edge weighing
// their cosine, and the partition of highest modularity at resolution
// [resolution] is found by local moves and aggregation. Nodes are visited in
// index order, so the result is deterministic.
const (
	graphNeighbours = 25
	// resolution scales the modularity's null model: above 1 it prefers
	// more, smaller communities. 6 gives some 40 themes at 574 papers
	// (docs/themes.md, where 1 to 6 are compared).
	resolution = 6.0
)

// graph is a weighted undirected graph in adjacency lists; a self-loop
// (after aggregation) counts once in adj and twice in deg, as in the
// modularity's definition.
type graph struct {
	adj [][]int
	w   [][]float64
	deg []float64
	tot float64 // Σ deg: twice the total weight
}

// knnGraph returns the graph of nodes joined to their k most similar others
// by the positive cosine, from the candidate lists nb (most similar first)
// of the nodes that are kept (keep[i] is the original index of node i, and
// at is its position, -1 for a node left out). An edge between groups
// weighs their cosine times both sizes: the edges their papers would have.
func knnGraph(sim []float32, size []int, nb [][]int, keep, at []int, k int) graph {
	m := len(size)
	n := len(keep)
	type edge struct {
		b int
		w float64
	}
	lists := make([][]edge, n)
	for i, a := range keep {
		taken := 0
		for _, o := range nb[a] {
			if taken == k {
				break
			}
			j := at[o]
			if j < 0 {
				continue
			}
			taken++
			if w := float64(sim[a*m+o]) * float64(size[a]*size[o]); w > 0 {
				lists[i] = append(lists[i], edge{j, w})
				lists[j] = append(lists[j], edge{i, w})
			}
		}
	}
	g := graph{adj: make([][]int, n), w: make([][]float64, n), deg: make([]float64, n)}
	for i, l := range lists {
		slices.SortFunc(l, func(x, y edge) int { return cmp.Compare(x.b, y.b) })
		for e, x := range l {
			if e > 0 && l[e-1].b == x.b {
				continue // an edge both ends chose
			}
			g.adj[i] = append(g.adj[i], x.b)
			g.w[i] = append(g.w[i], x.w)
			g.deg[i] += x.w
		}
		g.tot += g.deg[i]
	}
	return g
}

// louvain returns a community for each node, numbered from 0 in order of
// their first node.
func louvain(g graph, gamma float64) []int {
	member := make([]int, len(g.adj)) // community of each original node
	for i := range member {
		member[i] = i
	}
	if g.tot == 0 {
		return member
	}
	cur := g
	for level := 0; level < 32; level++ {
		m := len(cur.adj)
		c := make([]int, m)
		tot := slices.Clone(cur.deg)
		for i := range c {
			c[i] = i
		}
		links := make([]float64, m)
		var touched []int
		moved := false
		for pass := 0; pass < 64; pass++ {
			changed := false
			for i := range m {
				ki := cur.deg[i]
				touched = touched[:0]
				for e, nb := range cur.adj[i] {
					if nb == i {
						continue
					}
					if links[c[nb]] == 0 {
						touched = append(touched, c[nb])
					}
					links[c[nb]] += cur.w[i][e]
				}
				old := c[i]
				tot[old] -= ki
				best, bestGain := old, links[old]-gamma*tot[old]*ki/cur.tot
				for _, cc := range touched {
					if gain := links[cc] - gamma*tot[cc]*ki/cur.tot; gain > bestGain+1e-12 {
						best, bestGain = cc, gain
					}
				}
				for _, cc := range touched {
					links[cc] = 0
				}
				links[old] = 0
				c[i] = best
				tot[best] += ki
				if best != old {
					changed, moved = true, true
				}
			}
			if !changed {
				break
			}
		}
		id := make([]int, m)
		for i := range id {
			id[i] = -1
		}
		k := 0
		for i := range m {
			if id[c[i]] < 0 {
				id[c[i]] = k
				k++
			}
		}
		for i := range c {
			c[i] = id[c[i]]
		}
		for o := range member {
			member[o] = c[member[o]]
		}
		if !moved || k == m {
			break
		}
		cur = aggregate(cur, c, k)
	}
	return member
}

// aggregate returns the graph of the communities c (k of them): one node
// each, edges summed, the inner weight as a self-loop.
func aggregate(g graph, c []int, k int) graph {
	sums := make([]map[int]float64, k)
	for i := range sums {
		sums[i] = map[int]float64{}
	}
	for i, list := range g.adj {
		for e, nb := range list {
			sums[c[i]][c[nb]] += g.w[i][e]
		}
	}
	out := graph{adj: make([][]int, k), w: make([][]float64, k), deg: make([]float64, k), tot: g.tot}
	for a, s := range sums {
		keys := make([]int, 0, len(s))
		for b := range s {
			keys = append(keys, b)
		}
		slices.Sort(keys)
		for _, b := range keys {
			out.adj[a] = append(out.adj[a], b)
			out.w[a] = append(out.w[a], s[b])
			out.deg[a] += s[b]
		}
	}
	return out
}
