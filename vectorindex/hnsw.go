package vectorindex

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
)

// Defaults for the zero fields of [HNSWConfig].
const (
	DefaultM              = 16
	DefaultEfConstruction = 200
	DefaultEfSearch       = 64
	DefaultSeed           = 1
)

const (
	maxM        = 256 // largest M accepted; larger values are clamped
	maxLevelCap = 31  // levels above this are clamped (probability M^-31)
	linkStripes = 1 << 12
)

// HNSWConfig sets the graph's parameters. Zero or negative fields take the
// defaults: M 16, EfConstruction 200, EfSearch 64, Seed 1.
//
// A plain value.
type HNSWConfig struct {
	// M is the number of neighbours a node links to on insertion. Nodes keep
	// at most 2*M links on level 0 and M on the levels above. Values below 2
	// become 2 and above 256 become 256. The level multiplier is 1/ln(M).
	M int
	// EfConstruction is the size of the candidate list while inserting.
	// Values below M become M.
	EfConstruction int
	// EfSearch is the size of the candidate list while searching; a search
	// for k neighbours uses max(EfSearch, k). It trades speed for recall: see
	// docs/vectorindex.md for measured figures.
	EfSearch int
	// Seed seeds the level generator. With the same Seed and the same
	// sequence of Add, AddBatch with one worker, and Delete calls the graph
	// is identical (on one machine: see [HNSW.AddBatch]).
	Seed int64
}

func (c HNSWConfig) withDefaults() HNSWConfig {
	if c.M <= 0 {
		c.M = DefaultM
	}
	c.M = min(max(c.M, 2), maxM)
	if c.EfConstruction <= 0 {
		c.EfConstruction = DefaultEfConstruction
	}
	c.EfConstruction = max(c.EfConstruction, c.M)
	if c.EfSearch <= 0 {
		c.EfSearch = DefaultEfSearch
	}
	if c.Seed == 0 {
		c.Seed = DefaultSeed
	}
	return c
}

// HNSW is a hierarchical navigable small world graph (Malkov & Yashunin)
// over cosine distance.
//
// Each node is one fixed-size record (its vector, key, flags and level-0
// links, in neighbouring cache lines) in chunked storage that grows without
// copying; the few nodes that reach upper levels have their blocks in a
// second chunked store. See docs/vectorindex.md for the layout.
//
// Delete and re-Add leave tombstones: a deleted node stays in the graph for
// navigation but is never returned. When tombstones outnumber live vectors,
// the graph is rebuilt from the live vectors in insertion order, inside the
// Delete or Add call that crossed the threshold; that call then takes about
// as long as adding the live vectors to an empty graph.
//
// HNSW is safe for concurrent use. Searches run concurrently with each other
// and with the linking of new nodes by Add and AddBatch (which use per-node
// locks, as hnswlib does); they wait only while a writer allocates or
// publishes nodes, deletes, or rebuilds. Writers (Add, AddBatch, Delete,
// WriteTo) run one at a time.
type HNSW struct {
	dim            int
	m, m0          int // link caps above level 0 and on level 0
	efConstruction int
	ml             float64
	seed           int64
	efSearch       atomic.Int64

	// writeMu serialises writers: Add, AddBatch, Delete and WriteTo (which
	// must not see links being written).
	writeMu sync.Mutex
	// mu guards the structure below. Searches and the workers linking new
	// nodes hold it shared; allocating, publishing, deleting and rebuilding
	// hold it exclusively.
	mu       sync.RWMutex
	rng      *rand.PCG
	rnd      *rand.Rand
	nodes    nodeStore
	upper    upperStore
	ids      map[uint32]uint32 // key -> id of the live node
	nDeleted int
	rebuilds int // count, for tests

	// top packs the entry point (high 32 bits) and the max level + 1 (low
	// 32 bits, 0 when empty). Inserts change it under entryMu; searches
	// load it.
	top     atomic.Uint64
	entryMu sync.Mutex
	// linkMu[id%linkStripes] guards the writes of node id's link blocks.
	linkMu *[linkStripes]sync.Mutex

	pool    sync.Pool    // *scratch for searches and inserts
	scans   atomic.Int64 // searches answered by an exact scan, for tests
	samples atomic.Int64 // filter estimates taken (fewAccepted), for tests
}

// NewHNSW returns an empty graph of dim-dimensional vectors. It panics if dim
// is outside [1, 65536].
func NewHNSW(dim int, cfg HNSWConfig) *HNSW {
	checkDim(dim)
	cfg = cfg.withDefaults()
	h := &HNSW{
		dim:            dim,
		m:              cfg.M,
		m0:             2 * cfg.M,
		efConstruction: cfg.EfConstruction,
		ml:             1 / math.Log(float64(cfg.M)),
		seed:           cfg.Seed,
		ids:            make(map[uint32]uint32),
		linkMu:         new([linkStripes]sync.Mutex),
	}
	h.nodes = newNodeStore(dim, h.m0)
	h.efSearch.Store(int64(cfg.EfSearch))
	h.setRNG(rand.NewPCG(uint64(cfg.Seed), pcgStream))
	return h
}

// pcgStream is the second PCG seed word; the first is HNSWConfig.Seed.
const pcgStream = 0x9e3779b97f4a7c15

func (h *HNSW) setRNG(p *rand.PCG) {
	h.rng = p
	h.rnd = rand.New(p)
}

// Dim returns the dimension given to [NewHNSW].
func (h *HNSW) Dim() int { return h.dim }

// Len returns the number of live vectors.
func (h *HNSW) Len() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.ids)
}

// SetEfSearch sets the search candidate list size; ef <= 0 restores the
// default. It does not wait for searches in progress.
func (h *HNSW) SetEfSearch(ef int) {
	if ef <= 0 {
		ef = DefaultEfSearch
	}
	h.efSearch.Store(int64(ef))
}

// Vector returns the normalised vector stored under key. The slice is the
// index's own copy, not a clone: callers must not modify it. It stays valid
// and unchanged for as long as the caller holds it, even after the key is
// replaced or deleted and across rebuilds (the index then stops referring
// to it), so an engine can keep this slice instead of a copy of its own.
func (h *HNSW) Vector(key uint32) ([]float32, bool) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	id, ok := h.ids[key]
	if !ok {
		return nil, false
	}
	return h.vec(id), true
}

// Add stores a normalised copy of vec under key and links it into the graph.
// An existing vector under key is replaced (its old node becomes a
// tombstone). It returns an error wrapping [ErrDimension] or
// [ErrInvalidVector] if vec is unusable.
//
// Searches that start before Add returns do not see the new vector (and may
// still see the one it replaces); they do not wait for the linking.
func (h *HNSW) Add(key uint32, vec []float32) error {
	return h.addBatch(context.Background(), []uint32{key}, [][]float32{vec}, 1)
}

// AddBatch adds vecs[i] under keys[i] for every i, as Add does, linking
// them into the graph with the given number of worker goroutines
// (GOMAXPROCS if workers <= 0). It panics if len(keys) != len(vecs).
//
// Every vector is checked first: if one is unusable AddBatch returns an
// error wrapping [ErrDimension] or [ErrInvalidVector] (naming its position)
// and adds nothing. A key repeated in keys ends up with its last vector.
//
// The batch becomes visible at once when AddBatch returns: searches running
// meanwhile see the index as it was before (they walk through the new nodes
// but never return them) and are not blocked by the linking. If ctx is
// cancelled, workers stop taking new vectors and AddBatch returns ctx.Err()
// after publishing the vectors already linked; keys not reached keep their
// previous vector, or stay absent.
//
// Determinism: levels are drawn from the seeded generator in batch order
// before any linking, so they never depend on scheduling. With one worker
// the graph is the one a sequence of Add calls in the same order builds
// (for distinct keys), byte for byte. With several, the order in which
// nodes are linked depends on scheduling, so the links differ between runs;
// recall is the same within noise (docs/performance.md). Distances use the
// machine's SIMD kernel when it has one (see docs/vectorindex.md), so
// graphs built on machines with and without AVX2 can differ.
func (h *HNSW) AddBatch(ctx context.Context, keys []uint32, vecs [][]float32, workers int) error {
	if len(keys) != len(vecs) {
		panic(fmt.Sprintf("vectorindex: AddBatch with %d keys and %d vectors", len(keys), len(vecs)))
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	return h.addBatch(ctx, keys, vecs, workers)
}

func (h *HNSW) addBatch(ctx context.Context, keys []uint32, vecs [][]float32, workers int) error {
	scales := make([]float32, len(vecs))
	for i, v := range vecs {
		s, err := checkVector(v, h.dim)
		if err != nil {
			if len(vecs) > 1 {
				return fmt.Errorf("vector %d: %w", i, err)
			}
			return err
		}
		scales[i] = s
	}
	if len(keys) == 0 {
		return nil
	}
	h.writeMu.Lock()
	defer h.writeMu.Unlock()

	// Allocate every node, pending, with its vector and level.
	h.mu.Lock()
	first := uint32(h.nodes.n)
	h.nodes.reserve(len(keys))
	if len(h.ids) == 0 && len(keys) > 64 {
		h.ids = make(map[uint32]uint32, len(keys))
	}
	for i, key := range keys {
		id := h.allocNode(key, h.randomLevel(), pendingBit)
		scaleInto(h.vec(id), vecs[i], scales[i])
	}
	h.mu.Unlock()

	// Link them, holding mu shared so that searches proceed.
	linked := h.link(ctx, first, len(keys), workers)

	h.mu.Lock()
	defer h.mu.Unlock()
	for i := range len(keys) {
		id := first + uint32(i)
		r := h.nodes.rec(id)
		r[h.dim+1] &^= pendingBit
		if i >= linked {
			// Never linked (cancelled): an unreachable tombstone.
			r[h.dim+1] |= deletedBit
			h.nDeleted++
			continue
		}
		key := h.nodes.key(r)
		if old, ok := h.ids[key]; ok {
			h.markDeleted(old)
		}
		h.ids[key] = id
	}
	h.compactIfNeeded()
	if linked < len(keys) {
		return ctx.Err()
	}
	return nil
}

// link inserts nodes first..first+n-1 into the graph with workers
// goroutines, in id order, and returns how many leading ones were linked
// (fewer than n only if ctx is cancelled).
func (h *HNSW) link(ctx context.Context, first uint32, n, workers int) int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if workers == 1 || n == 1 {
		sc := h.getScratch()
		defer h.pool.Put(sc)
		for i := range n {
			if i%64 == 0 && ctx.Err() != nil {
				return i
			}
			h.insert(sc, first+uint32(i))
		}
		return n
	}
	// Workers take ids in order from a shared counter. On cancellation
	// the ids handed out are all finished, so the linked ones form a
	// prefix.
	var (
		next atomic.Int64
		wg   sync.WaitGroup
	)
	for range min(workers, n) {
		wg.Go(func() {
			sc := h.getScratch()
			defer h.pool.Put(sc)
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				h.insert(sc, first+uint32(i))
			}
		})
	}
	wg.Wait()
	return int(min(next.Load(), int64(n)))
}

// Delete removes key and reports whether it was present. Its node stays as
// a tombstone until the next rebuild.
func (h *HNSW) Delete(key uint32) bool {
	h.writeMu.Lock()
	defer h.writeMu.Unlock()
	h.mu.Lock()
	defer h.mu.Unlock()
	id, ok := h.ids[key]
	if !ok {
		return false
	}
	delete(h.ids, key)
	h.markDeleted(id)
	h.compactIfNeeded()
	return true
}

func (h *HNSW) randomLevel() int {
	u := 1 - h.rnd.Float64() // (0, 1]
	return min(int(-math.Log(u)*h.ml), maxLevelCap)
}

// allocNode allocates a node with no links and returns its id. The caller
// holds mu exclusively.
func (h *HNSW) allocNode(key uint32, level int, flags uint32) uint32 {
	id := h.nodes.alloc()
	r := h.nodes.rec(id)
	r[h.dim] = key
	r[h.dim+1] = uint32(level) | flags
	r[h.dim+2] = h.upper.alloc(level * (h.m + 1))
	return id
}

func (h *HNSW) vec(id uint32) []float32 {
	return h.nodes.vec(h.nodes.rec(id))
}

func (h *HNSW) key(id uint32) uint32 { return h.nodes.key(h.nodes.rec(id)) }

func (h *HNSW) level(id uint32) int { return h.nodes.level(h.nodes.rec(id)) }

// block returns id's link block on level: a count followed by the slots.
// Its words are accessed with sync/atomic.
func (h *HNSW) block(id uint32, level int) []uint32 {
	r := h.nodes.rec(id)
	if level == 0 {
		return h.nodes.links0(r)
	}
	return h.upper.block(r[h.dim+2]+uint32((level-1)*(h.m+1)), h.m+1)
}

func (h *HNSW) isDeleted(id uint32) bool {
	return h.nodes.flags(h.nodes.rec(id))&deletedBit != 0
}

// markDeleted tombstones a live node. The caller holds mu exclusively.
func (h *HNSW) markDeleted(id uint32) {
	h.nodes.rec(id)[h.dim+1] |= deletedBit
	h.nDeleted++
}

// loadTop returns the entry point and the max level (-1 when empty).
func (h *HNSW) loadTop() (uint32, int) {
	t := h.top.Load()
	return uint32(t >> 32), int(uint32(t)) - 1
}

func (h *HNSW) storeTop(entry uint32, maxLevel int) {
	h.top.Store(uint64(entry)<<32 | uint64(uint32(maxLevel+1)))
}

func (h *HNSW) getScratch() *scratch {
	if sc, _ := h.pool.Get().(*scratch); sc != nil {
		return sc
	}
	return new(scratch)
}

// compactIfNeeded rebuilds the graph from its live nodes once tombstones
// outnumber them; each rebuild is paid for by at least as many deletes as
// it reinserts.
func (h *HNSW) compactIfNeeded() {
	if h.nDeleted > len(h.ids) {
		h.rebuild()
	}
}

// rebuild copies the live nodes, in id (insertion) order and with their
// levels, into fresh storage and reinserts them. It consumes no randomness.
// The old storage is left as it was, so vectors returned by Vector stay
// unchanged. The caller holds mu exclusively.
func (h *HNSW) rebuild() {
	h.rebuilds++
	old := h.nodes
	h.nodes = newNodeStore(h.dim, h.m0)
	h.nodes.reserve(len(h.ids))
	h.upper = upperStore{}
	h.nDeleted = 0
	for id := range uint32(old.n) {
		r := old.rec(id)
		if old.flags(r)&deletedBit != 0 {
			continue
		}
		key := old.key(r)
		n := h.allocNode(key, old.level(r), 0)
		copy(h.vec(n), old.vec(r))
		h.ids[key] = n
	}
	h.top.Store(0)
	sc := h.getScratch()
	defer h.pool.Put(sc)
	for id := range uint32(h.nodes.n) {
		h.insert(sc, id)
	}
}
