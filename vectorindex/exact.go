package vectorindex

import "sync"

// Exact answers nearest-neighbour queries by comparing the query with every
// stored vector. It is the reference for [HNSW]'s recall and the better
// choice below a few thousand vectors.
//
// Exact is safe for concurrent use: searches run concurrently with each other;
// Add and Delete take an exclusive lock.
type Exact struct {
	dim int

	mu   sync.RWMutex
	keys []uint32         // slot -> key
	vecs []float32        // slot i at [i*dim, (i+1)*dim), unit or zero length
	slot map[uint32]int32 // key -> slot
}

// NewExact returns an empty index of dim-dimensional vectors. It panics if dim
// is outside [1, 65536].
func NewExact(dim int) *Exact {
	checkDim(dim)
	return &Exact{dim: dim, slot: make(map[uint32]int32)}
}

// Dim returns the dimension given to [NewExact].
func (x *Exact) Dim() int { return x.dim }

// Len returns the number of stored vectors.
func (x *Exact) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.keys)
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
	if s, ok := x.slot[key]; ok {
		scaleInto(x.vecs[int(s)*x.dim:], vec, scale)
		return nil
	}
	x.slot[key] = int32(len(x.keys))
	x.keys = append(x.keys, key)
	n := len(x.vecs)
	x.vecs = append(x.vecs, vec...)
	scaleInto(x.vecs[n:], vec, scale)
	return nil
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
	last := len(x.keys) - 1
	if int(s) != last {
		moved := x.keys[last]
		x.keys[s] = moved
		x.slot[moved] = s
		copy(x.vecs[int(s)*x.dim:int(s+1)*x.dim], x.vecs[last*x.dim:])
	}
	x.keys = x.keys[:last]
	x.vecs = x.vecs[:last*x.dim]
	return true
}

// Vector returns a copy of the normalised vector stored under key.
func (x *Exact) Vector(key uint32) ([]float32, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	s, ok := x.slot[key]
	if !ok {
		return nil, false
	}
	return append([]float32(nil), x.vecs[int(s)*x.dim:int(s+1)*x.dim]...), true
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
	t := newTopK(k, len(x.keys))
	for s, key := range x.keys {
		d := distance(q, x.vecs[s*x.dim:(s+1)*x.dim])
		if !t.wants(key, d) || (accept != nil && !accept(key)) {
			continue
		}
		t.push(Result{key, d})
	}
	return t.sorted(), nil
}
