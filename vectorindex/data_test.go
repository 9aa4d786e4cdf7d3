package vectorindex

import (
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

// clustered returns n seeded vectors of dim components drawn from a mixture
// of Gaussians: clusters centres with N(0,1) components, and points at a
// centre plus spread*N(0,1) noise per component.
func clustered(seed uint64, n, dim, clusters int, spread float64) [][]float32 {
	rng := rand.New(rand.NewPCG(seed, 0))
	centres := make([][]float64, clusters)
	for i := range centres {
		centres[i] = make([]float64, dim)
		for j := range centres[i] {
			centres[i][j] = rng.NormFloat64()
		}
	}
	out := make([][]float32, n)
	for i := range out {
		c := centres[rng.IntN(clusters)]
		v := make([]float32, dim)
		for j := range v {
			v[j] = float32(c[j] + spread*rng.NormFloat64())
		}
		out[i] = v
	}
	return out
}

// The recall set: 10,000 vectors and 200 held-out queries from the same
// mixture of 64-dimensional Gaussians.
const (
	recallN        = 10000
	recallDim      = 64
	recallClusters = 50
	recallSpread   = 1.0
	recallQueries  = 200
	recallK        = 10
)

type recallSet struct {
	vecs    [][]float32
	queries [][]float32
	exact   *Exact
	truth   [][]Result // exact top recallK per query
}

var recallData = sync.OnceValue(func() *recallSet {
	all := clustered(42, recallN+recallQueries, recallDim, recallClusters, recallSpread)
	s := &recallSet{vecs: all[:recallN], queries: all[recallN:], exact: NewExact(recallDim)}
	for i, v := range s.vecs {
		if err := s.exact.Add(uint32(i), v); err != nil {
			panic(err)
		}
	}
	for _, q := range s.queries {
		r, err := s.exact.Search(q, recallK, nil)
		if err != nil {
			panic(err)
		}
		s.truth = append(s.truth, r)
	}
	return s
})

// recallAt returns the mean fraction of truth's keys found in got.
func recallAt(truth, got [][]Result) float64 {
	var hit, total int
	for i := range truth {
		want := make(map[uint32]bool, len(truth[i]))
		for _, r := range truth[i] {
			want[r.Key] = true
		}
		for _, r := range got[i] {
			if want[r.Key] {
				hit++
			}
		}
		total += len(truth[i])
	}
	if total == 0 {
		return 1
	}
	return float64(hit) / float64(total)
}

type searcher interface {
	Search(query []float32, k int, accept func(uint32) bool) ([]Result, error)
}

// searchAll runs every query against idx.
func searchAll(tb testing.TB, idx searcher, queries [][]float32, k int, accept func(uint32) bool) [][]Result {
	tb.Helper()
	out := make([][]Result, len(queries))
	for i, q := range queries {
		r, err := idx.Search(q, k, accept)
		if err != nil {
			tb.Fatalf("Search: %v", err)
		}
		out[i] = r
	}
	return out
}

func buildHNSW(tb testing.TB, vecs [][]float32, cfg HNSWConfig) *HNSW {
	tb.Helper()
	h := NewHNSW(len(vecs[0]), cfg)
	for i, v := range vecs {
		if err := h.Add(uint32(i), v); err != nil {
			tb.Fatalf("Add(%d): %v", i, err)
		}
	}
	return h
}

func sortResults(r []Result) { slices.SortFunc(r, compareResults) }
