package vectorindex

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
)

// A filtered walk costs about what an unfiltered walk with ef/selectivity
// costs, and one unit of ef costs about as much as scanning scanFactor
// vectors: at 10k vectors (64 dimensions) an unfiltered search took 46 µs at
// ef 64 and 167 µs at ef 256, a scan 231 µs. So a filtered search scans
// when fewer than scanFactor*ef live vectors are expected to pass the
// filter, estimated from a sample of filterSample nodes.
const (
	scanFactor   = 32
	filterSample = 256
)

// Search returns up to k live vectors nearest to query among the keys accept
// reports true for (all keys if accept is nil), sorted by distance and then
// by key. It returns an empty slice if k <= 0 or the index is empty, and an
// error wrapping [ErrDimension] or [ErrInvalidVector] if query is unusable.
// accept is called with the index's read lock held and must not call the
// index.
//
// The graph search walks through deleted and rejected nodes but collects only
// accepted live ones, with a candidate list of ef = max(EfSearch, k) (at
// most the node count). A search scans all live vectors exactly instead when
//   - the query is the zero vector (every vector is at distance 1, so the
//     answer is the k smallest accepted keys);
//   - accept is not nil and, judged by calling it on 256 nodes drawn at
//     random (with a fixed seed), fewer than 32*ef live vectors pass it (a walk would then have
//     to visit more of the graph than a scan reads);
//   - the walk ends with fewer than k results and fewer than the live count
//     (a filter matching fewer than k keys, or an unreachable region).
//
// So a filtered search returns min(k, accepted live vectors) results, and
// fewer than k only when fewer than k vectors are accepted.
func (h *HNSW) Search(query []float32, k int, accept func(key uint32) bool) ([]Result, error) {
	q, zero, err := normalised(query, h.dim)
	if err != nil {
		return nil, err
	}
	if k <= 0 {
		return []Result{}, nil
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	live := len(h.ids)
	if live == 0 {
		return []Result{}, nil
	}
	k = min(k, live)
	if zero {
		return h.bruteForce(q, k, accept), nil
	}
	ef := min(max(int(min(h.efSearch.Load(), math.MaxInt32)), k), len(h.keys))
	if accept != nil && h.fewAccepted(accept, ef) {
		h.scans.Add(1)
		return h.bruteForce(q, k, accept), nil
	}
	sc, _ := h.pool.Get().(*scratch)
	if sc == nil {
		sc = new(scratch)
	}
	defer h.pool.Put(sc)

	ep := item{distance(q, h.vec(h.entry)), h.entry}
	for l := h.maxLevel; l > 0; l-- {
		ep = h.greedy(q, ep, l)
	}
	h.searchLayer(sc, q, ep, ef, 0, accept)
	if len(sc.res) < k && len(sc.res) < live {
		h.scans.Add(1)
		return h.bruteForce(q, k, accept), nil
	}
	out := make([]Result, len(sc.res))
	for i, it := range sc.res {
		out[i] = Result{h.keys[it.id], it.dist}
	}
	slices.SortFunc(out, compareResults)
	return out[:min(k, len(out))], nil
}

// fewAccepted estimates whether fewer than scanFactor*ef live vectors pass
// accept, from filterSample nodes drawn by a fixed-seed generator: the same
// nodes for every search of a graph, and no stride for a filter such as
// key%100 == 0 to alias with.
func (h *HNSW) fewAccepted(accept func(uint32) bool, ef int) bool {
	var sampled, passed int
	p := rand.NewPCG(1, 2)
	for range filterSample {
		id := uint32(p.Uint64() % uint64(len(h.keys)))
		if h.isDeleted(id) {
			continue
		}
		sampled++
		if accept(h.keys[id]) {
			passed++
		}
	}
	return sampled == 0 || len(h.ids)*passed < scanFactor*ef*sampled
}

// bruteForce scans every live node.
func (h *HNSW) bruteForce(q []float32, k int, accept func(uint32) bool) []Result {
	t := newTopK(k, len(h.ids))
	for id, key := range h.keys {
		if h.isDeleted(uint32(id)) {
			continue
		}
		d := distance(q, h.vec(uint32(id)))
		if !t.wants(key, d) || (accept != nil && !accept(key)) {
			continue
		}
		t.push(Result{key, d})
	}
	return t.sorted()
}

// greedy walks level from ep to a local minimum of the distance to q
// (Algorithm 2 with ef = 1). Tombstones are walked through like live nodes.
func (h *HNSW) greedy(q []float32, ep item, level int) item {
	for changed := true; changed; {
		changed = false
		for _, nb := range h.neighbours(ep.id, level) {
			if d := distance(q, h.vec(nb)); d < ep.dist {
				ep, changed = item{d, nb}, true
			}
		}
	}
	return ep
}

// searchLayer is Algorithm 2 of Malkov & Yashunin on one level, starting at
// ep, with a candidate list of ef. Every node is walked through; only
// eligible ones (live and accepted) enter the results, left in sc.res. It
// returns the nearest node met, eligible or not.
func (h *HNSW) searchLayer(sc *scratch, q []float32, ep item, ef, level int, accept func(uint32) bool) (nearest item) {
	sc.seen.reset(len(h.keys))
	sc.cand = sc.cand[:0]
	sc.res = sc.res[:0]
	sc.seen.mark(ep.id)
	sc.cand.push(ep)
	if h.eligible(ep.id, accept) {
		sc.res.push(ep)
	}
	nearest = ep
	for len(sc.cand) > 0 {
		c := sc.cand.pop()
		if len(sc.res) >= ef && c.dist > sc.res[0].dist {
			break
		}
		for _, nb := range h.neighbours(c.id, level) {
			if sc.seen.mark(nb) {
				continue
			}
			d := distance(q, h.vec(nb))
			if d < nearest.dist {
				nearest = item{d, nb}
			}
			if len(sc.res) < ef || d < sc.res[0].dist {
				sc.cand.push(item{d, nb})
				if h.eligible(nb, accept) {
					sc.res.push(item{d, nb})
					if len(sc.res) > ef {
						sc.res.pop()
					}
				}
			}
		}
	}
	return nearest
}

// insert links node id, whose vector and level are set, into the graph
// (Algorithm 1). The caller holds the write lock.
func (h *HNSW) insert(id uint32) {
	level := int(h.levels[id])
	if h.maxLevel < 0 {
		h.entry, h.maxLevel = id, level
		return
	}
	q := h.vec(id)
	sc := &h.build
	ep := item{distance(q, h.vec(h.entry)), h.entry}
	for l := h.maxLevel; l > level; l-- {
		ep = h.greedy(q, ep, l)
	}
	for l := min(level, h.maxLevel); l >= 0; l-- {
		nearest := h.searchLayer(sc, q, ep, h.efConstruction, l, nil)
		cands := sc.sorted[:0]
		for len(sc.res) > 0 {
			cands = append(cands, sc.res.pop())
		}
		slices.Reverse(cands)
		if len(cands) == 0 {
			// Every node met was a tombstone: link to the nearest anyway so
			// the new node stays reachable.
			cands = append(cands, nearest)
		}
		sc.sorted = cands
		sel := h.selectNeighbours(cands, h.m, sc.sel[:0], &sc.pruned, true)
		sc.sel = sel
		b := h.block(id, l)
		b[0] = uint32(len(sel))
		for i, s := range sel {
			b[1+i] = s.id
		}
		for _, s := range sel {
			h.link(s.id, id, s.dist, l)
		}
		ep = nearest
	}
	if level > h.maxLevel {
		h.entry, h.maxLevel = id, level
	}
}

// selectNeighbours is the heuristic of Algorithm 4 without
// extendCandidates: from cands, sorted by distance to the base node, it keeps
// a candidate only if it is nearer the base than every candidate already
// kept; with keepPruned (keepPrunedConnections) it then tops up with the
// nearest discarded ones until m are kept. It appends to out.
//
// A new node's links are chosen with keepPruned; an overfull list is shrunk
// without it, as hnswlib does. Keeping pruned links on shrink too made the
// 10k build 30% slower for at most 0.5 points of recall@10 at ef >= 32.
func (h *HNSW) selectNeighbours(cands []item, m int, out []item, pruned *[]item, keepPruned bool) []item {
	p := (*pruned)[:0]
	for _, c := range cands {
		if len(out) >= m {
			break
		}
		cv := h.vec(c.id)
		keep := true
		for _, s := range out {
			if distance(cv, h.vec(s.id)) < c.dist {
				keep = false
				break
			}
		}
		if keep {
			out = append(out, c)
		} else {
			p = append(p, c)
		}
	}
	for _, c := range p {
		if !keepPruned || len(out) >= m {
			break
		}
		out = append(out, c)
	}
	*pruned = p
	return out
}

// link adds a link from node to newID (at distance d) on level, re-selecting
// node's links with the heuristic when the block is full.
func (h *HNSW) link(node, newID uint32, d float32, level int) {
	b := h.block(node, level)
	n := int(b[0])
	if n < len(b)-1 {
		b[1+n] = newID
		b[0]++
		return
	}
	sc := &h.build
	nv := h.vec(node)
	cands := append(sc.relink[:0], item{d, newID})
	for _, nb := range b[1:] {
		cands = append(cands, item{distance(nv, h.vec(nb)), nb})
	}
	slices.SortFunc(cands, func(a, b item) int {
		if c := cmp.Compare(a.dist, b.dist); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	sel := h.selectNeighbours(cands, len(b)-1, sc.relinkS[:0], &sc.pruned, false)
	b[0] = uint32(len(sel))
	for i, s := range sel {
		b[1+i] = s.id
	}
	sc.relink, sc.relinkS = cands, sel
}
