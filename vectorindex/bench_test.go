package vectorindex

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
)

// Benchmarks use the recall set's distribution (64-dimensional mixture of
// 50 Gaussians, spread 1) at 1k, 10k and 100k vectors. The 100k sets are
// built once, lazily, and skipped with -short.
var benchSizes = []int{1000, 10000, 100000}

type benchSet struct {
	vecs    [][]float32
	queries [][]float32
	exact   *Exact
	truth   [][]Result
	graph   *HNSW
}

var (
	benchMu   sync.Mutex
	benchSets = map[int]*benchSet{}
)

func sizeName(n int) string { return fmt.Sprintf("n=%dk", n/1000) }

// benchData returns the set of n vectors; withGraph also builds the default
// HNSW over it.
func benchData(b *testing.B, n int, withGraph bool) *benchSet {
	if n >= 100000 && testing.Short() {
		b.Skip("100k set skipped with -short")
	}
	benchMu.Lock()
	defer benchMu.Unlock()
	s := benchSets[n]
	if s == nil {
		all := clustered(42, n+recallQueries, recallDim, recallClusters, recallSpread)
		s = &benchSet{vecs: all[:n], queries: all[n:], exact: NewExact(recallDim)}
		for i, v := range s.vecs {
			mustAdd(b, s.exact, uint32(i), v)
		}
		s.truth = searchAll(b, s.exact, s.queries, recallK, nil)
		benchSets[n] = s
	}
	if withGraph && s.graph == nil {
		s.graph = buildHNSW(b, s.vecs, HNSWConfig{})
	}
	return s
}

func BenchmarkExactSearch(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(sizeName(n), func(b *testing.B) {
			s := benchData(b, n, false)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := s.exact.Search(s.queries[i%len(s.queries)], recallK, nil); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// BenchmarkHNSWSearch reports the time of one k=10 search and, as a metric,
// recall@10 against Exact over the set's 200 queries at each EfSearch.
func BenchmarkHNSWSearch(b *testing.B) {
	for _, n := range benchSizes {
		for _, ef := range []int{16, 32, 64, 128, 256} {
			b.Run(fmt.Sprintf("%s/ef=%d", sizeName(n), ef), func(b *testing.B) {
				s := benchData(b, n, true)
				s.graph.SetEfSearch(ef)
				defer s.graph.SetEfSearch(0)
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					if _, err := s.graph.Search(s.queries[i%len(s.queries)], recallK, nil); err != nil {
						b.Fatal(err)
					}
					i++
				}
				b.ReportMetric(recallAt(s.truth, searchAll(b, s.graph, s.queries, recallK, nil)), "recall@10")
			})
		}
	}
}

// BenchmarkHNSWSearchFiltered shows the cost of filters of falling
// selectivity at the default EfSearch; scan/op is the share of searches
// answered by an exact scan instead of the graph walk, sample/op the share
// that took the 256-node filter estimate. "self" rejects one key, as a
// related lookup excludes its own paper.
func BenchmarkHNSWSearchFiltered(b *testing.B) {
	for _, n := range benchSizes[1:] {
		for _, mod := range []uint32{0, 2, 10, 100} {
			name := fmt.Sprintf("%s/keep=1in%d", sizeName(n), mod)
			if mod == 0 {
				name = sizeName(n) + "/self"
			}
			b.Run(name, func(b *testing.B) {
				s := benchData(b, n, true)
				accept := func(k uint32) bool { return k%mod == 0 }
				var self uint32
				if mod == 0 {
					accept = func(k uint32) bool { return k != self }
				}
				b.ReportAllocs()
				scans, samples := s.graph.scans.Load(), s.graph.samples.Load()
				i := 0
				for b.Loop() {
					self = uint32(i % n)
					if _, err := s.graph.Search(s.queries[i%len(s.queries)], recallK, accept); err != nil {
						b.Fatal(err)
					}
					i++
				}
				b.ReportMetric(float64(s.graph.scans.Load()-scans)/float64(i), "scan/op")
				b.ReportMetric(float64(s.graph.samples.Load()-samples)/float64(i), "sample/op")
				truth := searchAll(b, s.exact, s.queries, recallK, accept)
				b.ReportMetric(recallAt(truth, searchAll(b, s.graph, s.queries, recallK, accept)), "recall@10")
			})
		}
	}
}

// BenchmarkHNSWAdd builds a graph of n vectors per op with the default
// config, with Add calls and with AddBatch on 1 and 2 workers, and reports
// the time per vector and the live heap per vector (vectors, links and key
// map; measured after a GC).
func BenchmarkHNSWAdd(b *testing.B) {
	for _, n := range benchSizes {
		for _, workers := range []int{0, 1, 2} {
			name := fmt.Sprintf("%s/batch-workers=%d", sizeName(n), workers)
			if workers == 0 {
				name = sizeName(n) + "/add"
			}
			b.Run(name, func(b *testing.B) {
				s := benchData(b, n, false)
				b.ReportAllocs()
				var (
					h             *HNSW
					before, after runtime.MemStats
				)
				for i := range b.N {
					if i == b.N-1 {
						b.StopTimer()
						h = nil
						runtime.GC()
						runtime.ReadMemStats(&before)
						b.StartTimer()
					}
					if workers == 0 {
						h = buildHNSW(b, s.vecs, HNSWConfig{})
						continue
					}
					h = NewHNSW(len(s.vecs[0]), HNSWConfig{})
					if err := h.AddBatch(context.Background(), keysUpTo(n), s.vecs, workers); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				runtime.GC()
				runtime.ReadMemStats(&after)
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/add")
				b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/float64(n), "B/vector")
				runtime.KeepAlive(h)
			})
		}
	}
}

// BenchmarkFilterEstimate times the 256-node filter estimate that every
// filtered search took before it became lazy, with the self-excluding
// filter of a related lookup: what such a search no longer pays.
func BenchmarkFilterEstimate(b *testing.B) {
	for _, n := range benchSizes[1:] {
		b.Run(sizeName(n), func(b *testing.B) {
			s := benchData(b, n, true)
			self := uint32(7)
			accept := func(k uint32) bool { return k != self }
			b.ReportAllocs()
			s.graph.mu.RLock()
			defer s.graph.mu.RUnlock()
			for b.Loop() {
				if s.graph.fewAccepted(accept, DefaultEfSearch) {
					b.Fatal("a filter rejecting one key judged selective")
				}
			}
		})
	}
}
