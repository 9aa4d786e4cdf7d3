package vectorindex

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"sync/atomic"
)

// A filtered walk costs about what an unfiltered walk with ef/selectivity
// costs, and one unit of ef costs about as much as scanning scanFactor
// vectors: at 10k vectors (64 dimensions) an unfiltered search took 46 µs at
// ef 64 and 167 µs at ef 256, a scan 231 µs. So a filtered search scans
// when fewer than scanFactor*ef live vectors are expected to pass the
// filter, estimated from a sample of filterSample nodes.
//
// The sample is taken lazily: only once the walk itself has met
// walkSample live nodes and the share it saw pass predicts a scan. A
// filter that rejects few keys (a related lookup excluding its own paper)
// never pays for it.
const (
	scanFactor   = 32
	filterSample = 256
	walkSample   = 64
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
//   - accept is not nil and fewer than 32*ef live vectors pass it (a walk
//     would then have to visit more of the graph than a scan reads): certain
//     when the index holds fewer than 32*ef live vectors; otherwise judged,
//     once the walk has seen 64 live nodes and too few of them passed, by
//     calling accept on 256 nodes drawn at random (with a fixed seed);
//   - the walk ends with fewer than k results and fewer than the live count
//     (a filter matching fewer than k keys, or an unreachable region).
//
// So a filtered search returns min(k, accepted live vectors) results, and
// fewer than k only when fewer than k vectors are accepted.
func (h *HNSW) Search(query []float32, k int, accept func(key uint32) bool) ([]Result, error) {
	sc := h.getScratch()
	defer h.pool.Put(sc)
	q, zero, err := normalisedInto(sc.q, query, h.dim)
	sc.q = q
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
	ef := min(max(int(min(h.efSearch.Load(), math.MaxInt32)), k), h.nodes.n)
	if zero || (accept != nil && live < scanFactor*ef) {
		h.scans.Add(1)
		return h.bruteForce(q, k, accept), nil
	}
	entry, maxLevel := h.loadTop()
	ep := item{1 - dot(q, h.vec(entry)), entry}
	for l := maxLevel; l > 0; l-- {
		ep = h.greedy(q, ep, l)
	}
	var f *walkFilter
	if accept != nil {
		f = &sc.filter
		*f = walkFilter{accept: accept, live: live, ef: ef}
	}
	h.searchLayer(sc, q, ep, ef, 0, searchSkip, f)
	if f != nil {
		f.accept = nil // let the pool drop the closure
		if f.scan {
			h.scans.Add(1)
			return h.bruteForce(q, k, accept), nil
		}
	}
	if len(sc.res) < k && len(sc.res) < live {
		h.scans.Add(1)
		return h.bruteForce(q, k, accept), nil
	}
	all := sc.sorted[:0]
	for _, it := range sc.res {
		all = append(all, Result{h.key(it.id), clampDistance(it.dist)})
	}
	sc.sorted = all
	slices.SortFunc(all, compareResults)
	return slices.Clone(all[:min(k, len(all))]), nil
}

// walkFilter carries a filtered walk's accept function and its running
// count of the live nodes it tested and saw pass.
type walkFilter struct {
	accept         func(uint32) bool
	live, ef       int
	tested, passed int
	sampled        bool // the sample was taken and said walk
	scan           bool // the sample said scan: the walk stopped
}

// pass calls accept on a live node and decides, once, whether to stop the
// walk for a scan.
func (h *HNSW) pass(f *walkFilter, key uint32) bool {
	ok := f.accept(key)
	f.tested++
	if ok {
		f.passed++
	}
	if !f.sampled && f.tested >= walkSample && f.live*f.passed < scanFactor*f.ef*f.tested {
		f.sampled = true
		h.samples.Add(1)
		f.scan = h.fewAccepted(f.accept, f.ef)
	}
	return ok
}

// fewAccepted estimates whether fewer than scanFactor*ef live vectors pass
// accept, from filterSample nodes drawn by a fixed-seed generator: the same
// nodes for every search of a graph, and no stride for a filter such as
// key%100 == 0 to alias with. Pending nodes count as live.
func (h *HNSW) fewAccepted(accept func(uint32) bool, ef int) bool {
	var sampled, passed int
	p := rand.NewPCG(1, 2)
	for range filterSample {
		r := h.nodes.rec(uint32(p.Uint64() % uint64(h.nodes.n)))
		if h.nodes.flags(r)&deletedBit != 0 {
			continue
		}
		sampled++
		if accept(h.nodes.key(r)) {
			passed++
		}
	}
	return sampled == 0 || len(h.ids)*passed < scanFactor*ef*sampled
}

// bruteForce scans every live node.
func (h *HNSW) bruteForce(q []float32, k int, accept func(uint32) bool) []Result {
	t := newTopK(k, len(h.ids))
	for id := range uint32(h.nodes.n) {
		r := h.nodes.rec(id)
		if h.nodes.flags(r)&searchSkip != 0 {
			continue
		}
		key := h.nodes.key(r)
		d := distance(q, h.nodes.vec(r))
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
		b := h.block(ep.id, level)
		n := min(atomic.LoadUint32(&b[0]), uint32(len(b)-1))
		for i := uint32(1); i <= n; i++ {
			nb := atomic.LoadUint32(&b[i])
			if d := 1 - dot(q, h.vec(nb)); d < ep.dist {
				ep, changed = item{d, nb}, true
			}
		}
	}
	return ep
}

// searchLayer is Algorithm 2 of Malkov & Yashunin on one level, starting at
// ep, with a candidate list of ef. Every node is walked through; only those
// without a skip flag (and accepted by f, if set) enter the results, left in
// sc.res. It returns the nearest node met, eligible or not. Distances are
// 1 - dot, unclamped.
func (h *HNSW) searchLayer(sc *scratch, q []float32, ep item, ef, level int, skip uint32, f *walkFilter) (nearest item) {
	s := &h.nodes
	sc.seen.reset(s.n)
	sc.cand = sc.cand[:0]
	sc.res = sc.res[:0]
	sc.seen.mark(ep.id)
	sc.cand.push(ep)
	if h.eligible(s.rec(ep.id), skip, f) {
		sc.res.push(ep)
	}
	nearest = ep
	for len(sc.cand) > 0 {
		c := sc.cand.pop()
		if len(sc.res) >= ef && c.dist > sc.res[0].dist {
			break
		}
		var b []uint32
		if level == 0 {
			b = s.links0(s.rec(c.id))
		} else {
			b = h.block(c.id, level)
		}
		n := min(atomic.LoadUint32(&b[0]), uint32(len(b)-1))
		fresh := sc.fresh[:0]
		for i := uint32(1); i <= n; i++ {
			nb := atomic.LoadUint32(&b[i])
			if sc.seen.mark(nb) {
				continue
			}
			fresh = append(fresh, nb)
			prefetch(&s.rec(nb)[0], s.prefetch)
		}
		sc.fresh = fresh
		for _, nb := range fresh {
			r := s.rec(nb)
			d := 1 - dot(q, s.vec(r))
			if d < nearest.dist {
				nearest = item{d, nb}
			}
			if len(sc.res) < ef || d < sc.res[0].dist {
				sc.cand.push(item{d, nb})
				if h.eligible(r, skip, f) {
					sc.res.push(item{d, nb})
					if len(sc.res) > ef {
						sc.res.pop()
					}
				}
			}
		}
		if f != nil && f.scan {
			return nearest
		}
	}
	return nearest
}

// eligible reports whether a node may enter the results: no skip flag, and
// accepted by f if set.
func (h *HNSW) eligible(r []uint32, skip uint32, f *walkFilter) bool {
	if h.nodes.flags(r)&skip != 0 {
		return false
	}
	return f == nil || h.pass(f, h.nodes.key(r))
}

// insert links node id, whose vector and level are set, into the graph
// (Algorithm 1). The caller holds mu, shared or exclusively; concurrent
// inserts coordinate through entryMu and the per-node link locks.
func (h *HNSW) insert(sc *scratch, id uint32) {
	level := h.level(id)
	h.entryMu.Lock()
	entry, maxLevel := h.loadTop()
	if maxLevel < 0 {
		h.storeTop(id, level)
		h.entryMu.Unlock()
		return
	}
	// A node that raises the top level keeps entryMu until it is linked,
	// as in hnswlib, so that the entry point always has its links.
	raises := level > maxLevel
	if !raises {
		h.entryMu.Unlock()
	}
	q := h.vec(id)
	ep := item{1 - dot(q, h.vec(entry)), entry}
	for l := maxLevel; l > level; l-- {
		ep = h.greedy(q, ep, l)
	}
	for l := min(level, maxLevel); l >= 0; l-- {
		nearest := h.searchLayer(sc, q, ep, h.efConstruction, l, insertSkip, nil)
		cands := sc.sorted2[:0]
		for len(sc.res) > 0 {
			if it := sc.res.pop(); it.id != id {
				cands = append(cands, it)
			}
		}
		slices.Reverse(cands)
		if len(cands) == 0 && nearest.id != id {
			// Every node met was a tombstone: link to the nearest anyway so
			// the new node stays reachable.
			cands = append(cands, nearest)
		}
		sc.sorted2 = cands
		sel := h.selectNeighbours(cands, h.m, sc.sel[:0], &sc.pruned, true)
		sc.sel = sel
		for _, s := range sel {
			h.addLink(sc, id, s.id, s.dist, l)
		}
		for _, s := range sel {
			h.addLink(sc, s.id, id, s.dist, l)
		}
		ep = nearest
	}
	if raises {
		h.storeTop(id, level)
		h.entryMu.Unlock()
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
			if 1-dot(cv, h.vec(s.id)) < c.dist {
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

// addLink adds a link from node to newID (at distance d) on level under
// node's link lock, re-selecting node's links with the heuristic when the
// block is full. A link already present is not added twice.
func (h *HNSW) addLink(sc *scratch, node, newID uint32, d float32, level int) {
	mu := &h.linkMu[node%linkStripes]
	mu.Lock()
	defer mu.Unlock()
	b := h.block(node, level)
	n := int(atomic.LoadUint32(&b[0]))
	for _, nb := range b[1 : 1+n] {
		if nb == newID {
			return
		}
	}
	if n < len(b)-1 {
		atomic.StoreUint32(&b[1+n], newID)
		atomic.StoreUint32(&b[0], uint32(n+1))
		return
	}
	nv := h.vec(node)
	cands := append(sc.relink[:0], item{d, newID})
	for _, nb := range b[1:] {
		cands = append(cands, item{1 - dot(nv, h.vec(nb)), nb})
	}
	slices.SortFunc(cands, func(a, b item) int {
		if c := cmp.Compare(a.dist, b.dist); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	sel := h.selectNeighbours(cands, len(b)-1, sc.relinkS[:0], &sc.pruned, false)
	for i, s := range sel {
		atomic.StoreUint32(&b[1+i], s.id)
	}
	atomic.StoreUint32(&b[0], uint32(len(sel)))
	sc.relink, sc.relinkS = cands, sel
}
