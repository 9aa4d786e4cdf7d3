package vectorindex

import (
	"math/bits"
	"unsafe"
)

// chunkBytes is the size a full storage chunk aims at. Storage grows one
// chunk at a time and never copies a full chunk, so a build holds no
// abandoned half-size copies of its slabs (append-doubling left the resident
// set at 3.4 times the live heap during a 100k build). The first chunk of a
// store starts small and doubles up to the full size, so small indexes stay
// small; those early copies are at most one chunk in total.
const chunkBytes = 2 << 20

// firstChunkElems is the initial capacity of a store's first chunk, in
// elements (nodes or vectors).
const firstChunkElems = 16

// Flag bits of a node record's flags word.
const (
	levelMask   = 0xff
	deletedBit  = 1 << 8 // tombstone: walked through, never returned
	pendingBit  = 1 << 9 // being inserted by AddBatch: linked, not yet returned
	searchSkip  = deletedBit | pendingBit
	insertSkip  = deletedBit
	recordAlign = 16 // words: records are 64-byte multiples
)

// nodeStore holds one fixed-size record of uint32 words per graph node, laid
// out as hnswlib lays out its level-0 data, so that a node's vector, its
// key and flags and its level-0 links sit in neighbouring cache lines:
//
//	[0, dim)             vector, float32 bits (64-byte aligned)
//	dim                  key
//	dim+1                flags: level (bits 0-7), deletedBit, pendingBit
//	dim+2                offset of the node's upper-level blocks in upperStore
//	dim+3                level-0 link count
//	dim+4 ... dim+3+m0   level-0 links
//	padding to a multiple of 16 words
//
// Records live in chunks of 2^shift nodes. Link words are read and written
// with sync/atomic (writers hold the node's link lock), so that searches can
// walk a graph that AddBatch workers are extending; all other words are
// written only while the index's write lock is held.
//
// Not safe for concurrent use on its own: the owning HNSW's locks guard it.
type nodeStore struct {
	dim      int
	m0       int
	recWords int
	prefetch int // cache lines of the vector, key and flags (capped at maxPrefetchLines)
	shift    uint
	mask     uint32
	chunks   [][]uint32
	n        int // allocated records
}

func newNodeStore(dim, m0 int) nodeStore {
	rec := dim + 4 + m0
	rec = (rec + recordAlign - 1) / recordAlign * recordAlign
	per := max(1, chunkBytes/(4*rec))
	shift := uint(bits.Len(uint(per)) - 1) // largest power of two <= per
	lines := min((4*(dim+2)+63)/64, maxPrefetchLines)
	return nodeStore{dim: dim, m0: m0, recWords: rec, prefetch: lines, shift: shift, mask: 1<<shift - 1}
}

// alloc appends a zeroed record and returns its id.
func (s *nodeStore) alloc() uint32 {
	s.reserve(1)
	s.n++
	return uint32(s.n - 1)
}

// reserve makes room for n more records without changing the count: a batch
// allocates its chunks up front.
func (s *nodeStore) reserve(n int) {
	need := s.n + n
	full := (1 << s.shift) * s.recWords
	if len(s.chunks) == 0 {
		s.chunks = append(s.chunks, make([]uint32, min(max(firstChunkElems, need)*s.recWords, full)))
	}
	if c0 := s.chunks[0]; len(s.chunks) == 1 && len(c0) < full && need*s.recWords > len(c0) {
		// The first chunk doubles. The old array is left as it was, so
		// views of its vectors stay valid and unchanged.
		grown := make([]uint32, min(max(2*len(c0), need*s.recWords), full))
		copy(grown, c0)
		s.chunks[0] = grown
	}
	for len(s.chunks)<<s.shift < need {
		s.chunks = append(s.chunks, make([]uint32, full))
	}
}

// rec returns id's record.
func (s *nodeStore) rec(id uint32) []uint32 {
	c := s.chunks[id>>s.shift]
	i := int(id&s.mask) * s.recWords
	return c[i : i+s.recWords : i+s.recWords]
}

// vec returns the vector of a record as float32s, aliasing the record.
func (s *nodeStore) vec(r []uint32) []float32 {
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(r))), s.dim)
}

func (s *nodeStore) key(r []uint32) uint32   { return r[s.dim] }
func (s *nodeStore) flags(r []uint32) uint32 { return r[s.dim+1] }
func (s *nodeStore) level(r []uint32) int    { return int(r[s.dim+1] & levelMask) }

// links0 returns the level-0 block of a record: a count, then m0 slots.
func (s *nodeStore) links0(r []uint32) []uint32 {
	return r[s.dim+3 : s.dim+4+s.m0 : s.dim+4+s.m0]
}

// bytes is the memory the store holds.
func (s *nodeStore) bytes() int {
	var n int
	for _, c := range s.chunks {
		n += 4 * cap(c)
	}
	return n
}

// upperStore holds the link blocks of levels 1 and up, (m+1) words per level
// (a count, then m slots), a node's levels contiguous. Offsets are chunk<<16
// | word; a node's blocks never straddle chunks. Like nodeStore it grows by
// chunks, its first one doubling.
//
// Not safe for concurrent use on its own: the owning HNSW's locks guard it.
type upperStore struct {
	chunks [][]uint32
	used   int // words used in the last chunk
}

const (
	upperShift      = 16
	upperChunkWords = 1 << upperShift
)

// alloc returns the offset of words zeroed words (at most upperChunkWords).
func (u *upperStore) alloc(words int) uint32 {
	if words == 0 {
		return 0
	}
	last := len(u.chunks) - 1
	if last < 0 || u.used+words > upperChunkWords {
		size := upperChunkWords
		if last < 0 {
			size = max(256, words)
		}
		u.chunks = append(u.chunks, make([]uint32, size))
		u.used, last = 0, last+1
	}
	if u.used+words > len(u.chunks[last]) {
		grown := make([]uint32, min(max(2*len(u.chunks[last]), u.used+words), upperChunkWords))
		copy(grown, u.chunks[last])
		u.chunks[last] = grown
	}
	off := uint32(last)<<upperShift | uint32(u.used)
	u.used += words
	return off
}

// block returns the words of a block at off.
func (u *upperStore) block(off uint32, words int) []uint32 {
	c := u.chunks[off>>upperShift]
	i := int(off & (upperChunkWords - 1))
	return c[i : i+words : i+words]
}

func (u *upperStore) bytes() int {
	var n int
	for _, c := range u.chunks {
		n += 4 * cap(c)
	}
	return n
}
