// Package vectorindex stores unit vectors under uint32 keys and finds nearest
// neighbours by cosine distance.
//
// Two indexes share one method set: [Exact] scans every vector and is the
// reference answer; [HNSW] is a hierarchical navigable small world graph
// (Malkov & Yashunin, arXiv:1603.09320) that answers in time roughly
// logarithmic in the number of vectors at a small loss of recall.
//
// Vectors are copied and L2-normalised on Add (or AddBatch, which links a
// batch into an HNSW graph with several goroutines), so the distance
// between two stored vectors is 1 - dot(a, b), a number in [0, 2]. A zero
// vector is allowed and is at distance 1 from everything. Vector returns
// the stored copy itself, which never changes, so a caller need not keep
// its own. Dot products use an AVX2/FMA kernel where the CPU has one. Both
// indexes serialise to a versioned little-endian binary format with a
// CRC-32C trailer ([Exact.WriteTo], [ReadExact], [HNSW.WriteTo],
// [ReadHNSW]).
//
// See docs/vectorindex.md for the design, the file format and measured
// recall and speed.
package vectorindex

import "errors"

// Result is one neighbour: the key given to Add and its cosine distance
// 1-cos in [0,2].
//
// A plain value.
type Result struct {
	Key      uint32
	Distance float32
}

var (
	// ErrDimension means a vector's length differs from the index's dimension.
	ErrDimension = errors.New("vector dimension mismatch")
	// ErrInvalidVector means a vector has a NaN or infinite component.
	ErrInvalidVector = errors.New("vector has NaN or infinite component")
	// ErrCorrupt means ReadExact or ReadHNSW found a malformed, truncated or
	// checksum-failing stream.
	ErrCorrupt = errors.New("corrupt index stream")
)
