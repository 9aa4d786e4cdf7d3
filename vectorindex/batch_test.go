package vectorindex

import (
	"bytes"
	"context"
	"errors"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func keysUpTo(n int) []uint32 {
	keys := make([]uint32, n)
	for i := range keys {
		keys[i] = uint32(i)
	}
	return keys
}

// TestAddBatchOneWorkerIsAdd checks that a one-worker batch builds the graph
// that Add calls in the same order build, byte for byte, including when the
// batch lands on a graph that already has nodes and tombstones.
func TestAddBatchOneWorkerIsAdd(t *testing.T) {
	t.Parallel()
	vecs := clustered(31, 1500, 16, 8, 1)
	cfg := HNSWConfig{M: 8, EfConstruction: 48, Seed: 7}
	adds := buildHNSW(t, vecs[:500], cfg)
	batch := buildHNSW(t, vecs[:500], cfg)
	for key := uint32(0); key < 500; key += 9 {
		adds.Delete(key)
		batch.Delete(key)
	}
	for i, v := range vecs[500:] {
		mustAdd(t, adds, uint32(500+i), v)
	}
	if err := batch.AddBatch(context.Background(), keysUpTo(1500)[500:], vecs[500:], 1); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(encode(t, adds), encode(t, batch)) {
		t.Error("a one-worker AddBatch built a different graph from Add calls")
	}
}

// TestAddBatchParallelRecall builds the recall set with two workers: the
// links depend on scheduling, but recall must hold and the graph must pass
// the reader's structural checks.
func TestAddBatchParallelRecall(t *testing.T) {
	t.Parallel()
	s := recallData()
	h := NewHNSW(recallDim, HNSWConfig{})
	if err := h.AddBatch(context.Background(), keysUpTo(recallN), s.vecs, 2); err != nil {
		t.Fatal(err)
	}
	if h.Len() != recallN {
		t.Fatalf("Len = %d, want %d", h.Len(), recallN)
	}
	got := clone(t, h) // ReadHNSW checks every link
	r := recallAt(s.truth, searchAll(t, got, s.queries, recallK, nil))
	t.Logf("recall@10 after a 2-worker build: %.4f", r)
	if r < minRecall {
		t.Errorf("recall@10 = %.4f, want >= %.2f", r, minRecall)
	}
	for key := range uint32(recallN) {
		v, ok := h.Vector(key)
		w, _, _ := normalised(s.vecs[key], recallDim)
		if !ok || !slices.Equal(v, w) {
			t.Fatalf("Vector(%d) = %v, %v", key, v, ok)
		}
	}
}

func TestAddBatchErrors(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind.name, func(t *testing.T) {
			idx := kind.new(2)
			mustAdd(t, idx, 1, []float32{1, 0})
			tests := []struct {
				name string
				vecs [][]float32
				want error
			}{
				{"short vector", [][]float32{{1, 1}, {1}}, ErrDimension},
				{"NaN", [][]float32{{float32(math.NaN()), 1}, {1, 1}}, ErrInvalidVector},
			}
			for _, tt := range tests {
				err := idx.AddBatch(context.Background(), []uint32{2, 3}, tt.vecs, 2)
				if !errors.Is(err, tt.want) {
					t.Errorf("%s: AddBatch error %v, want %v", tt.name, err, tt.want)
				}
				if idx.Len() != 1 {
					t.Errorf("%s: Len %d after a failed batch, want 1 (nothing added)", tt.name, idx.Len())
				}
			}
			if err := idx.AddBatch(context.Background(), nil, nil, 2); err != nil || idx.Len() != 1 {
				t.Errorf("empty batch: %v, Len %d", err, idx.Len())
			}
			defer func() {
				if recover() == nil {
					t.Error("AddBatch with 2 keys and 1 vector did not panic")
				}
			}()
			idx.AddBatch(context.Background(), []uint32{1, 2}, [][]float32{{1, 0}}, 1)
		})
	}
}

// TestAddBatchRepeatedKey: a key repeated in a batch, and a key already in
// the index, end up with their last vector.
func TestAddBatchRepeatedKey(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind.name, func(t *testing.T) {
			idx := kind.new(2)
			mustAdd(t, idx, 5, []float32{1, 0})
			keys := []uint32{5, 6, 6, 7}
			vecs := [][]float32{{0, 1}, {1, 0}, {-1, 0}, {1, 1}}
			for _, workers := range []int{1, 2} {
				if err := idx.AddBatch(context.Background(), keys, vecs, workers); err != nil {
					t.Fatal(err)
				}
				if idx.Len() != 3 {
					t.Fatalf("Len = %d, want 3", idx.Len())
				}
				for key, want := range map[uint32][]float32{5: {0, 1}, 6: {-1, 0}, 7: {0.70710677, 0.70710677}} {
					if got, _ := idx.Vector(key); !cmp.Equal(want, got, approx) {
						t.Errorf("%d workers: Vector(%d) = %v, want %v", workers, key, got, want)
					}
				}
				res, _ := idx.Search([]float32{-1, 0}, 3, nil)
				if len(res) != 3 || res[0].Key != 6 || res[0].Distance != 0 {
					t.Errorf("%d workers: Search = %v", workers, res)
				}
			}
		})
	}
}

// TestAddBatchCancel cancels a two-worker batch part-way: the vectors
// linked before the cancellation are published, the rest keep their old
// vector or stay absent, and the graph stays sound.
func TestAddBatchCancel(t *testing.T) {
	t.Parallel()
	vecs := clustered(32, 4000, 16, 8, 1)
	h := buildHNSW(t, vecs[:1000], HNSWConfig{M: 8, EfConstruction: 48})
	// Keys 500..3499: 500 replacements, then 2,500 new keys.
	keys := keysUpTo(3500)[500:]
	pre, cancel := context.WithCancel(context.Background())
	cancel()
	if err := h.AddBatch(pre, keys, vecs[500:3500], 2); !errors.Is(err, context.Canceled) || h.Len() != 1000 {
		t.Fatalf("AddBatch with a cancelled context = %v, Len %d; want context.Canceled, 1000", err, h.Len())
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- h.AddBatch(ctx, keys, vecs[500:3500], 2) }()
	for range 50 {
		h.Search(vecs[0], 5, nil)
	}
	cancel()
	err := <-done
	if err == nil {
		t.Skip("the batch finished before the cancellation")
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("AddBatch error %v, want context.Canceled", err)
	}
	added := 0
	for i, key := range keys {
		got, ok := h.Vector(key)
		nw, _, _ := normalised(vecs[500+i], 16)
		switch {
		case ok && slices.Equal(got, nw):
			added++
		case key < 1000:
			old, _, _ := normalised(vecs[key], 16)
			if !ok || !slices.Equal(got, old) {
				t.Fatalf("replaced key %d: Vector = %v, %v; want its old vector", key, got, ok)
			}
		case ok:
			t.Fatalf("new key %d has a vector it was never given", key)
		}
	}
	if h.Len() != 1000+added-min(added, 500) {
		t.Errorf("Len = %d with %d of the batch added", h.Len(), added)
	}
	t.Logf("cancelled after %d of %d vectors", added, len(keys))
	c := clone(t, h) // structural checks
	res, err := c.Search(vecs[0], 10, nil)
	if err != nil || len(res) != 10 {
		t.Fatalf("Search after cancel = %v, %v", res, err)
	}
}

// TestSearchDuringAddBatch runs searches while two workers link a batch:
// searches must never block for the batch, never return a key of the
// unfinished batch, and see all of it once AddBatch returns. Run it with
// -race.
func TestSearchDuringAddBatch(t *testing.T) {
	t.Parallel()
	const old, n = 500, 3000
	vecs := clustered(33, n, 16, 8, 1)
	h := buildHNSW(t, vecs[:old], HNSWConfig{M: 8, EfConstruction: 48})
	var (
		wg       sync.WaitGroup
		finished atomic.Bool
		during   atomic.Int64
	)
	wg.Go(func() {
		if err := h.AddBatch(context.Background(), keysUpTo(n)[old:], vecs[old:], 2); err != nil {
			t.Error(err)
		}
		finished.Store(true)
	})
	for i := 0; !finished.Load(); i++ {
		var accept func(uint32) bool
		if i%2 == 1 {
			accept = func(k uint32) bool { return k%3 != 0 }
		}
		res, err := h.Search(vecs[i%n], 10, accept)
		if err != nil {
			t.Fatal(err)
		}
		// The batch is published under the write lock before AddBatch
		// returns, and finished is set only after that: a search that began
		// while finished was false may still see the batch. One that
		// returned while the index still held only the old vectors ran
		// entirely before publication, and must not.
		if h.Len() == old {
			checkResults(t, res, 10, func(k uint32) bool { return k < old && (accept == nil || accept(k)) })
			during.Add(1)
		}
		h.Len()
		h.Vector(uint32(i % n))
	}
	wg.Wait()
	t.Logf("%d searches ran during the batch", during.Load())
	// Every vector of the batch is in the graph: a search whose candidate
	// list can hold the whole index explores all it can reach, so it finds
	// each one. (At the default ef a vector that two workers linked poorly
	// can be missed, about one run in 40: that is recall, which the recall
	// tests measure, not visibility.)
	h.SetEfSearch(n)
	for i := old; i < n; i += 97 {
		res, _ := h.Search(vecs[i], 1, nil)
		if len(res) != 1 || res[0].Key != uint32(i) {
			t.Fatalf("after the batch, Search(vector %d) = %v", i, res)
		}
	}
}

// TestSelfExclusionIsFree: a filter that rejects one key (a related lookup
// excluding its own paper) walks the graph without a sampling step.
func TestSelfExclusionIsFree(t *testing.T) {
	t.Parallel()
	s := recallData()
	h := clone(t, defaultGraph())
	for i, q := range s.vecs[:200] {
		self := uint32(i)
		res, err := h.Search(q, recallK, func(k uint32) bool { return k != self })
		if err != nil {
			t.Fatal(err)
		}
		checkResults(t, res, recallK, func(k uint32) bool { return k != self })
		if len(res) != recallK {
			t.Fatalf("query %d: %d results", i, len(res))
		}
	}
	if n, sc := h.samples.Load(), h.scans.Load(); n != 0 || sc != 0 {
		t.Errorf("200 self-excluding searches took %d samples and %d scans, want 0 and 0", n, sc)
	}
}

func TestNodeStoreGrowth(t *testing.T) {
	tests := []struct {
		name    string
		dim, m0 int
		n       int
		reserve int
		reason  string
	}{
		{name: "tiny records, several chunks", dim: 1, m0: 4, n: 70000, reason: "64-byte records: 32,768 a chunk"},
		{name: "reserved up front", dim: 3, m0: 4, n: 40000, reserve: 40000},
		{name: "huge records", dim: maxDim, m0: 4, n: 3, reason: "a record larger than a chunk: one record a chunk"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newNodeStore(tt.dim, tt.m0)
			s.reserve(tt.reserve)
			first := s.vec(s.rec(s.alloc()))
			first[0] = 42
			for i := 1; i < tt.n; i++ {
				id := s.alloc()
				r := s.rec(id)
				r[tt.dim] = id
				s.vec(r)[0] = float32(id)
			}
			if s.n != tt.n {
				t.Fatalf("n = %d, want %d", s.n, tt.n)
			}
			for id := uint32(1); id < uint32(tt.n); id++ {
				r := s.rec(id)
				if s.key(r) != id || s.vec(r)[0] != float32(id) {
					t.Fatalf("record %d holds key %d, vector[0] %g (%s)", id, s.key(r), s.vec(r)[0], tt.reason)
				}
			}
			if first[0] != 42 || s.vec(s.rec(0))[0] != 42 {
				t.Errorf("first vector changed while growing")
			}
			if got, limit := s.bytes(), 4*s.recWords*tt.n+chunkBytes+4*s.recWords; got > limit {
				t.Errorf("store holds %d bytes for %d records, want at most %d", got, tt.n, limit)
			}
		})
	}
}
