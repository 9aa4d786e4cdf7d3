package vectorindex

import (
	"context"
	"fmt"
	"math/bits"
	"sync"
)

// Exact answers nearest-neighbour queries by comparing the query with every
// stored vector. It is the reference for [HNSW]'s recall and the better
// choice below a few thousand vectors.
//
// Vectors are stored in chunks that grow without copying and are never
// overwritten: Delete and replacing Add leave holes, and the live vectors
// are copied into fresh chunks once holes outnumber them. So [Exact.Vector]
// can hand out the stored copy itself.
//
// Exact is safe for concurrent use: searches run concurrently with each other;
// Add, AddBatch and Delete take an exclusive lock.
type Exact struct {
	dim int

	mu    sync.RWMutex
	vecs  vecStore
	keys  []uint32         // slot -> key
	holes []uint64         // bitset over slots: deleted or replaced
	slot  map[uint32]int32 // key -> slot
	nHole int
}

// NewExact returns an empty index of dim-dimensional vectors. It panics if dim
// is outside [1, 65536].
func NewExact(dim int) *Exact {
	checkDim(dim)
	return &Exact{dim: dim, vecs: newVecStore(dim), slot: make(map[uint32]int32)}
}

// Dim returns the dimension given to [NewExact].
func (x *Exact) Dim() int { return x.dim }

// Len returns the number of stored vectors.
func (x *Exact) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.slot)
}

// Add stores a normalised copy of vec under key, replacing any vector already
// stored under key. It returns an error wrapping [ErrDimension] or
// [ErrInvalidVector] if vec is unusable.
func (x *Exact) Add(key uint32, vec []float32) error {
	scale, err := checkVector(vec, x.dim)
	if err != nil {
		return err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	x.add(key, vec, scale)
	return nil
}

// AddBatch adds vecs[i] under keys[i] for every i, as Add does. Every vector
// is checked first: if one is unusable it returns an error wrapping
// [ErrDimension] or [ErrInvalidVector] and adds nothing. Adding to an Exact
// index is a copy, so workers is ignored (it is there to share
// [HNSW.AddBatch]'s signature) and so is ctx. It panics if
// len(keys) != len(vecs).
func (x *Exact) AddBatch(_ context.Context, keys []uint32, vecs [][]float32, _ int) error {
	if len(keys) != len(vecs) {
		panic(fmt.Sprintf("vectorindex: AddBatch with %d keys and %d vectors", len(keys), len(vecs)))
	}
	scales := make([]float32, len(vecs))
	for i, v := range vecs {
		s, err := checkVector(v, x.dim)
		if err != nil {
			return fmt.Errorf("vector %d: %w", i, err)
		}
		scales[i] = s
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	x.vecs.reserve(len(keys))
	for i, key := range keys {
		x.add(key, vecs[i], scales[i])
	}
	return nil
}

func (x *Exact) add(key uint32, vec []float32, scale float32) {
	if s, ok := x.slot[key]; ok {
		x.punch(s)
	}
	s := x.vecs.alloc()
	scaleInto(x.vecs.vec(s), vec, scale)
	x.keys = append(x.keys, key)
	if s%64 == 0 {
		x.holes = append(x.holes, 0)
	}
	x.slot[key] = int32(s)
	x.compactIfNeeded()
}

// Delete removes key and reports whether it was present.
func (x *Exact) Delete(key uint32) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	s, ok := x.slot[key]
	if !ok {
		return false
	}
	delete(x.slot, key)
	x.punch(s)
	x.compactIfNeeded()
	return true
}

func (x *Exact) punch(s int32) {
	x.holes[s/64] |= 1 << (s % 64)
	x.nHole++
}

func (x *Exact) isHole(s int) bool { return x.holes[s/64]&(1<<(s%64)) != 0 }

// compactIfNeeded copies the live vectors, in slot order, into fresh chunks
// once holes outnumber them. The old chunks are left as they were.
func (x *Exact) compactIfNeeded() {
	if x.nHole <= len(x.slot) {
		return
	}
	old, oldKeys := x.vecs, x.keys
	x.vecs = newVecStore(x.dim)
	x.vecs.reserve(len(x.slot))
	x.keys = make([]uint32, 0, len(x.slot))
	for s, key := range oldKeys {
		if x.isHole(s) {
			continue
		}
		n := x.vecs.alloc()
		copy(x.vecs.vec(n), old.vec(s))
		x.keys = append(x.keys, key)
		x.slot[key] = int32(n)
	}
	x.holes = make([]uint64, (len(x.keys)+63)/64)
	x.nHole = 0
}

// Vector returns the normalised vector stored under key. The slice is the
// index's own copy, not a clone: callers must not modify it. It stays valid
// and unchanged for as long as the caller holds it, even after the key is
// replaced or deleted (the index then stops referring to it).
func (x *Exact) Vector(key uint32) ([]float32, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	s, ok := x.slot[key]
	if !ok {
		return nil, false
	}
	return x.vecs.vec(int(s)), true
}

// Search returns the k stored vectors nearest to query among the keys accept
// reports true for (all keys if accept is nil), sorted by distance and then
// by key. It returns an empty slice if k <= 0 or nothing matches, and an error
// wrapping [ErrDimension] or [ErrInvalidVector] if query is unusable. accept
// is called with the index's read lock held and must not call the index.
func (x *Exact) Search(query []float32, k int, accept func(key uint32) bool) ([]Result, error) {
	q, _, err := normalised(query, x.dim)
	if err != nil {
		return nil, err
	}
	if k <= 0 {
		return []Result{}, nil
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	t := newTopK(k, len(x.slot))
	for s, key := range x.keys {
		if x.nHole > 0 && x.isHole(s) {
			continue
		}
		d := distance(q, x.vecs.vec(s))
		if !t.wants(key, d) || (accept != nil && !accept(key)) {
			continue
		}
		t.push(Result{key, d})
	}
	return t.sorted(), nil
}

// vecStore holds float32 vectors of one dimension in chunks of 2^shift
// vectors, the first chunk doubling up to that size; growing never copies a
// full chunk and never overwrites a vector.
//
// Not safe for concurrent use on its own: the owning index's lock guards it.
type vecStore struct {
	dim    int
	shift  uint
	mask   int
	chunks [][]float32
	n      int
}

func newVecStore(dim int) vecStore {
	per := max(1, chunkBytes/(4*dim))
	shift := uint(bits.Len(uint(per)) - 1)
	return vecStore{dim: dim, shift: shift, mask: 1<<shift - 1}
}

func (v *vecStore) alloc() int {
	v.reserve(1)
	v.n++
	return v.n - 1
}

func (v *vecStore) reserve(n int) {
	need := v.n + n
	full := (1 << v.shift) * v.dim
	if len(v.chunks) == 0 {
		v.chunks = append(v.chunks, make([]float32, min(max(firstChunkElems, need)*v.dim, full)))
	}
	if c0 := v.chunks[0]; len(v.chunks) == 1 && len(c0) < full && need*v.dim > len(c0) {
		grown := make([]float32, min(max(2*len(c0), need*v.dim), full))
		copy(grown, c0)
		v.chunks[0] = grown
	}
	for len(v.chunks)<<v.shift < need {
		v.chunks = append(v.chunks, make([]float32, full))
	}
}

func (v *vecStore) vec(i int) []float32 {
	c := v.chunks[i>>v.shift]
	o := (i & v.mask) * v.dim
	return c[o : o+v.dim : o+v.dim]
}
