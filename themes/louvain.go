package themes

import (
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
// A node's edges are listed in a fixed order: its own choices, most
// similar first, then the nodes that chose it, in node order.
func knnGraph(sim []float32, size []int, nb [][]int, keep, at []int, k int) graph {
	var s knnScratch
	return s.graph(sim, size, nb, keep, at, k)
}

// knnScratch holds the buffers of knnGraph, reused from one graph to the
// next: a graph built from a scratch is valid until the scratch builds the
// next one. Not safe for concurrent use.
type knnScratch struct {
	outB, inB, adj []int
	outW, inW, w   []float64
	outN, inN, at  []int
	seen           []int
	g              graph
}

func (s *knnScratch) graph(sim []float32, size []int, nb [][]int, keep, at []int, k int) graph {
	m := len(size)
	n := len(keep)
	grow := func(b []int, l int) []int {
		if cap(b) < l {
			return make([]int, l)
		}
		return b[:l]
	}
	growF := func(b []float64, l int) []float64 {
		if cap(b) < l {
			return make([]float64, l)
		}
		return b[:l]
	}
	s.outB, s.outW = grow(s.outB, n*k), growF(s.outW, n*k)
	s.outN, s.inN, s.at = grow(s.outN, n), grow(s.inN, n+1), grow(s.at, n+1)
	clear(s.inN)
	// Each node's own choices, and how many choose each node.
	edges := 0
	for i, a := range keep {
		taken, c := 0, 0
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
				s.outB[i*k+c], s.outW[i*k+c] = j, w
				c++
				s.inN[j]++
			}
		}
		s.outN[i] = c
		edges += c
	}
	// The choices that name each node, in node order (s.at: start of each
	// node's list, then its fill position).
	s.inB, s.inW = grow(s.inB, edges), growF(s.inW, edges)
	pos := 0
	for j := range n {
		s.at[j] = pos
		pos += s.inN[j]
	}
	for i := range n {
		for c := range s.outN[i] {
			j := s.outB[i*k+c]
			s.inB[s.at[j]], s.inW[s.at[j]] = i, s.outW[i*k+c]
			s.at[j]++
		}
	}
	// Adjacency: own choices, then the others', an edge both ends chose
	// counting once.
	s.adj, s.w = grow(s.adj, 2*edges), growF(s.w, 2*edges)
	s.seen = grow(s.seen, n)
	clear(s.seen)
	if cap(s.g.adj) < n {
		s.g.adj, s.g.w, s.g.deg = make([][]int, n), make([][]float64, n), make([]float64, n)
	}
	g := graph{adj: s.g.adj[:n], w: s.g.w[:n], deg: s.g.deg[:n]}
	pos = 0
	inPos := 0
	for i := range n {
		start := pos
		deg := 0.0
		add := func(b int, w float64) {
			if s.seen[b] == i+1 {
				return
			}
			s.seen[b] = i + 1
			s.adj[pos], s.w[pos] = b, w
			pos++
			deg += w
		}
		for c := range s.outN[i] {
			add(s.outB[i*k+c], s.outW[i*k+c])
		}
		for ; inPos < s.at[i]; inPos++ {
			add(s.inB[inPos], s.inW[inPos])
		}
		g.adj[i] = s.adj[start:pos:pos]
		g.w[i] = s.w[start:pos:pos]
		g.deg[i] = deg
		g.tot += deg
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
// each, edges summed, the inner weight as a self-loop. Edges are listed in
// the order they are first met, which is deterministic.
func aggregate(g graph, c []int, k int) graph {
	// Nodes by community, in node order (counting sort).
	start := make([]int, k+1)
	for _, x := range c {
		start[x+1]++
	}
	for x := range k {
		start[x+1] += start[x]
	}
	order := make([]int, len(c))
	fill := slices.Clone(start[:k])
	edges := 0
	for i, x := range c {
		order[fill[x]] = i
		fill[x]++
		edges += len(g.adj[i])
	}
	out := graph{adj: make([][]int, k), w: make([][]float64, k), deg: make([]float64, k), tot: g.tot}
	adj := make([]int, 0, edges) // at most one edge per edge of g
	w := make([]float64, 0, edges)
	acc := make([]float64, k)
	at := make([]int, k) // position in the community's list plus one, while it is summed
	for a := range k {
		first := len(adj)
		for _, i := range order[start[a]:start[a+1]] {
			for e, nb := range g.adj[i] {
				b := c[nb]
				if at[b] == 0 {
					adj = append(adj, b)
					at[b] = len(adj) - first
				}
				acc[b] += g.w[i][e]
			}
		}
		for _, b := range adj[first:] {
			w = append(w, acc[b])
			out.deg[a] += acc[b]
			acc[b], at[b] = 0, 0
		}
		out.adj[a] = adj[first:len(adj):len(adj)]
		out.w[a] = w[first:len(w):len(w)]
	}
	return out
}
