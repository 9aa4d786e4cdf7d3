package vectorindex

import (
	"math"
	"math/rand/v2"
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
	// sequence of Add and Delete calls the graph is identical.
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
// Memory is kept in flat slices indexed by an internal node id: one float32
// slab for the vectors, one uint32 slab of fixed-size level-0 link blocks,
// and a second slab for the few nodes that reach upper levels.
//
// Delete and re-Add leave tombstones: a deleted node stays in the graph for
// navigation but is never returned. When tombstones outnumber live vectors,
// the graph is rebuilt from the live vectors in insertion order, inside the
// Delete or Add call that crossed the threshold; that call then takes about
// as long as adding the live vectors to an empty graph.
//
// HNSW is safe for concurrent use: searches run concurrently with each other
// under a read lock; Add, Delete and rebuilds take the write lock, so
// searches wait for them.
type HNSW struct {
	dim            int
	m, m0          int // link caps above level 0 and on level 0
	efConstruction int
	ml             float64
	seed           int64
	efSearch       atomic.Int64

	mu       sync.RWMutex
	rng      *rand.PCG
	rnd      *rand.Rand
	keys     []uint32          // id -> key
	levels   []uint8           // id -> top level of the node
	deleted  []uint64          // bitset over ids: tombstones
	vecs     []float32         // id at [id*dim, (id+1)*dim)
	links0   []uint32          // id at [id*(m0+1), ...): count, then m0 slots
	upperOff []uint32          // id -> offset in upper of its level-1 block
	upper    []uint32          // per node levels 1..top, each count then m slots
	ids      map[uint32]uint32 // key -> id of the live node
	nDeleted int
	rebuilds int // count, for tests
	entry    uint32
	maxLevel int // -1 when empty
	build    scratch

	pool  sync.Pool    // *scratch for searches
	scans atomic.Int64 // searches answered by an exact scan, for tests
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
		maxLevel:       -1,
	}
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

// Vector returns a copy of the normalised vector stored under key.
func (h *HNSW) Vector(key uint32) ([]float32, bool) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	id, ok := h.ids[key]
	if !ok {
		return nil, false
	}
	return append([]float32(nil), h.vec(id)...), true
}

// Add stores a normalised copy of vec under key and links it into the graph.
// An existing vector under key is replaced (its old node becomes a
// tombstone). It returns an error wrapping [ErrDimension] or
// [ErrInvalidVector] if vec is unusable.
func (h *HNSW) Add(key uint32, vec []float32) error {
	scale, err := checkVector(vec, h.dim)
	if err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if old, ok := h.ids[key]; ok {
		h.markDeleted(old)
	}
	id := h.appendNode(key, h.randomLevel())
	scaleInto(h.vec(id), vec, scale)
	h.insert(id)
	h.ids[key] = id
	h.compactIfNeeded()
	return nil
}

// Delete removes key and reports whether it was present. Its node stays as
// a tombstone until the next rebuild.
func (h *HNSW) Delete(key uint32) bool {
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

// appendNode allocates storage for a node with no links and returns its id.
func (h *HNSW) appendNode(key uint32, level int) uint32 {
	id := uint32(len(h.keys))
	h.keys = append(h.keys, key)
	h.levels = append(h.levels, uint8(level))
	if id%64 == 0 {
		h.deleted = append(h.deleted, 0)
	}
	h.vecs = grow(h.vecs, h.dim)
	h.links0 = grow(h.links0, h.m0+1)
	h.upperOff = append(h.upperOff, uint32(len(h.upper)))
	h.upper = grow(h.upper, level*(h.m+1))
	return id
}

// grow extends s by n zero elements.
func grow[T any](s []T, n int) []T {
	l := len(s)
	if cap(s)-l < n {
		s = append(s[:cap(s)], make([]T, l+n-cap(s))...)
	}
	s = s[:l+n]
	clear(s[l:])
	return s
}

func (h *HNSW) vec(id uint32) []float32 {
	i := int(id) * h.dim
	return h.vecs[i : i+h.dim : i+h.dim]
}

// block returns id's link block on level: a count followed by the slots.
func (h *HNSW) block(id uint32, level int) []uint32 {
	if level == 0 {
		i := int(id) * (h.m0 + 1)
		return h.links0[i : i+h.m0+1 : i+h.m0+1]
	}
	i := int(h.upperOff[id]) + (level-1)*(h.m+1)
	return h.upper[i : i+h.m+1 : i+h.m+1]
}

// neighbours returns id's links on level.
func (h *HNSW) neighbours(id uint32, level int) []uint32 {
	b := h.block(id, level)
	return b[1 : 1+b[0]]
}

func (h *HNSW) isDeleted(id uint32) bool {
	return h.deleted[id/64]&(1<<(id%64)) != 0
}

func (h *HNSW) markDeleted(id uint32) {
	h.deleted[id/64] |= 1 << (id % 64)
	h.nDeleted++
}

// eligible reports whether id may be returned: live and accepted.
func (h *HNSW) eligible(id uint32, accept func(uint32) bool) bool {
	return !h.isDeleted(id) && (accept == nil || accept(h.keys[id]))
}

// compactIfNeeded rebuilds the graph from its live nodes once tombstones
// outnumber them; each rebuild is paid for by at least as many deletes as
// it reinserts.
func (h *HNSW) compactIfNeeded() {
	if h.nDeleted > len(h.ids) {
		h.rebuild()
	}
}

// rebuild drops the tombstones, renumbers the live nodes in id (insertion)
// order, keeps their levels and reinserts them. It consumes no randomness.
func (h *HNSW) rebuild() {
	h.rebuilds++
	n := 0
	for id := range h.keys {
		if h.isDeleted(uint32(id)) {
			continue
		}
		if id != n {
			h.keys[n] = h.keys[id]
			h.levels[n] = h.levels[id]
			copy(h.vecs[n*h.dim:(n+1)*h.dim], h.vec(uint32(id)))
		}
		h.ids[h.keys[n]] = uint32(n)
		n++
	}
	h.keys = shrink(h.keys, n)
	h.levels = shrink(h.levels, n)
	h.vecs = shrink(h.vecs, n*h.dim)
	h.deleted = make([]uint64, (n+63)/64)
	h.nDeleted = 0
	h.links0 = shrink(h.links0, n*(h.m0+1))
	clear(h.links0)
	h.upperOff = shrink(h.upperOff, n)
	var up int
	for id, l := range h.levels {
		h.upperOff[id] = uint32(up)
		up += int(l) * (h.m + 1)
	}
	h.upper = shrink(h.upper, up)
	clear(h.upper)
	h.entry, h.maxLevel = 0, -1
	for id := range n {
		h.insert(uint32(id))
	}
}

// shrink returns s[:n], copied to a smaller array when most of s's capacity
// would be wasted.
func shrink[T any](s []T, n int) []T {
	if cap(s) > 2*n+64 {
		return append([]T(nil), s[:n]...)
	}
	return s[:n]
}
