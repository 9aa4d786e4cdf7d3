package vectorindex

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const minRecall = 0.95

// defaultGraph is the recall set in an HNSW with the default config, built
// once and shared by the tests that only read it.
var defaultGraph = sync.OnceValue(func() *HNSW {
	s := recallData()
	h := NewHNSW(recallDim, HNSWConfig{})
	for i, v := range s.vecs {
		if err := h.Add(uint32(i), v); err != nil {
			panic(err)
		}
	}
	return h
})

// clone copies h through its serialised form.
func clone(t testing.TB, h *HNSW) *HNSW {
	t.Helper()
	var buf bytes.Buffer
	if _, err := h.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	c, err := ReadHNSW(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// checkResults fails unless res is sorted, within k and holds only keys
// that want accepts.
func checkResults(t testing.TB, res []Result, k int, want func(uint32) bool) {
	t.Helper()
	if len(res) > k {
		t.Fatalf("%d results, want at most %d", len(res), k)
	}
	if !slices.IsSortedFunc(res, compareResults) {
		t.Fatalf("results not sorted: %v", res)
	}
	for _, r := range res {
		if !want(r.Key) {
			t.Fatalf("result has unexpected key %d", r.Key)
		}
		if r.Distance < 0 || r.Distance > 2 {
			t.Fatalf("distance %v out of [0, 2]", r.Distance)
		}
	}
}

func TestHNSWRecall(t *testing.T) {
	t.Parallel()
	s := recallData()
	h := clone(t, defaultGraph())
	got := searchAll(t, h, s.queries, recallK, nil)
	r := recallAt(s.truth, got)
	t.Logf("recall@10 with the default config (EfSearch %d): %.4f", DefaultEfSearch, r)
	if r < minRecall {
		t.Errorf("recall@10 = %.4f, want >= %.2f", r, minRecall)
	}
	for _, ef := range []int{10, 16, 32, 128} {
		h.SetEfSearch(ef)
		t.Logf("EfSearch %d: recall@10 %.4f", ef, recallAt(s.truth, searchAll(t, h, s.queries, recallK, nil)))
	}
	if f := h.scans.Load(); f != 0 {
		t.Errorf("%d unfiltered searches scanned, want 0", f)
	}
}

func TestHNSWDeleteHalfRecall(t *testing.T) {
	t.Parallel()
	s := recallData()
	h := clone(t, defaultGraph())
	live := NewExact(recallDim)
	for i, v := range s.vecs {
		if i%2 == 0 {
			if !h.Delete(uint32(i)) {
				t.Fatalf("Delete(%d) = false", i)
			}
			continue
		}
		mustAdd(t, live, uint32(i), v)
	}
	if h.Len() != recallN/2 || h.nDeleted != recallN/2 {
		t.Fatalf("Len %d, tombstones %d; want %d each (no rebuild yet)", h.Len(), h.nDeleted, recallN/2)
	}
	truth := searchAll(t, live, s.queries, recallK, nil)
	got := searchAll(t, h, s.queries, recallK, nil)
	odd := func(k uint32) bool { return k%2 == 1 }
	for _, r := range got {
		checkResults(t, r, recallK, odd)
	}
	r := recallAt(truth, got)
	t.Logf("recall@10 with half the nodes tombstoned: %.4f (%d searches scanned)", r, h.scans.Load())
	if r < minRecall {
		t.Errorf("recall@10 = %.4f, want >= %.2f", r, minRecall)
	}
}

func TestHNSWFilteredRecall(t *testing.T) {
	t.Parallel()
	s := recallData()
	h := clone(t, defaultGraph())
	// region accepts the 3,000 vectors nearest vector 0: a filter
	// correlated with position, dense near some queries and empty near most.
	near, err := s.exact.Search(s.vecs[0], 3000, nil)
	if err != nil {
		t.Fatal(err)
	}
	inRegion := make(map[uint32]bool)
	for _, r := range near {
		inRegion[r.Key] = true
	}
	const all, none = "all", "none"
	tests := []struct {
		name   string
		accept func(uint32) bool
		ef     int
		scans  string // how many of the searches scan instead of walking
		reason string
	}{
		{name: "half", accept: func(k uint32) bool { return k%2 == 0 }, scans: none},
		{
			name: "tenth", accept: func(k uint32) bool { return k%10 == 3 }, scans: all,
			reason: "about 1,000 accepted, below 32*ef = 2,048",
		},
		{
			name: "tenth at ef 24", accept: func(k uint32) bool { return k%10 == 3 }, ef: 24, scans: none,
			reason: "about 1,000 accepted, above 32*ef = 768: the walk collects one node in ten",
		},
		{
			name: "region", accept: func(k uint32) bool { return inRegion[k] }, scans: none,
			reason: "a filter correlated with position: most queries start far from the accepted nodes",
		},
		{name: "hundredth", accept: func(k uint32) bool { return k%100 == 7 }, scans: all},
		{
			name: "five keys", accept: func(k uint32) bool { return k%2000 == 1 }, ef: 8, scans: all,
			reason: "fewer than k accepted: all five must come back, exactly",
		},
		{name: "none", accept: func(uint32) bool { return false }, scans: all},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.SetEfSearch(tt.ef)
			before := h.scans.Load()
			truth := searchAll(t, s.exact, s.queries, recallK, tt.accept)
			got := searchAll(t, h, s.queries, recallK, tt.accept)
			for i := range got {
				checkResults(t, got[i], recallK, tt.accept)
				if len(got[i]) != len(truth[i]) {
					t.Fatalf("query %d: %d results, want %d (%s)", i, len(got[i]), len(truth[i]), tt.reason)
				}
			}
			r := recallAt(truth, got)
			scans := h.scans.Load() - before
			t.Logf("recall@10 %.4f, %d of %d searches scanned", r, scans, len(s.queries))
			if r < minRecall {
				t.Errorf("recall@10 = %.4f, want >= %.2f (%s)", r, minRecall, tt.reason)
			}
			switch {
			case tt.scans == all && scans != int64(len(s.queries)),
				tt.scans == none && scans != 0:
				t.Errorf("%d of %d searches scanned, want %s (%s)", scans, len(s.queries), tt.scans, tt.reason)
			}
		})
	}
}

// TestHNSWRebuild deletes nine tenths of a graph one key at a time, which
// crosses the tombstone threshold three times, and checks recall after each
// rebuild.
func TestHNSWRebuild(t *testing.T) {
	t.Parallel()
	const n = 3000
	all := clustered(11, n+50, 32, 20, 1)
	vecs, queries := all[:n], all[n:]
	h := buildHNSW(t, vecs, HNSWConfig{})
	live := NewExact(32)
	for i, v := range vecs {
		mustAdd(t, live, uint32(i), v)
	}
	rng := rand.New(rand.NewPCG(3, 3))
	order := rng.Perm(n)
	rebuilds := 0
	for i, key := range order[:9*n/10] {
		h.Delete(uint32(key))
		live.Delete(uint32(key))
		if h.nDeleted > h.Len() {
			t.Fatalf("after %d deletes: %d tombstones > %d live", i+1, h.nDeleted, h.Len())
		}
		if h.rebuilds == rebuilds {
			continue
		}
		rebuilds++
		if h.nodes.n != h.Len() {
			t.Fatalf("after rebuild: %d nodes for %d live vectors", h.nodes.n, h.Len())
		}
		r := recallAt(searchAll(t, live, queries, recallK, nil), searchAll(t, h, queries, recallK, nil))
		t.Logf("rebuild %d at %d live: recall@10 %.4f", rebuilds, h.Len(), r)
		if r < minRecall {
			t.Errorf("recall@10 after rebuild %d = %.4f, want >= %.2f", rebuilds, r, minRecall)
		}
	}
	if rebuilds != 3 {
		t.Fatalf("%d rebuilds, want 3", rebuilds)
	}
	for _, key := range order[:9*n/10] {
		if _, ok := h.Vector(uint32(key)); ok {
			t.Fatalf("deleted key %d still has a vector", key)
		}
	}
	for _, key := range order[9*n/10:] {
		got, ok := h.Vector(uint32(key))
		want, _ := live.Vector(uint32(key))
		if diff := cmp.Diff(want, got); !ok || diff != "" {
			t.Fatalf("Vector(%d) after rebuilds (-want +got):\n%s", key, diff)
		}
	}
}

// TestHNSWDeleteMost deletes 99% of a graph in insertion order (the entry
// point and the upper levels go early) and then everything.
func TestHNSWDeleteMost(t *testing.T) {
	t.Parallel()
	const n = 2000
	vecs := clustered(12, n, 16, 10, 1)
	h := buildHNSW(t, vecs, HNSWConfig{M: 8, EfConstruction: 64})
	entry, _ := h.loadTop()
	entryKey := h.key(entry)
	if !h.Delete(entryKey) {
		t.Fatal("Delete(entry) = false")
	}
	for key := range uint32(n - 20) {
		h.Delete(key)
		if key%97 != 0 {
			continue
		}
		// Searches in between see tombstoned entry points and upper levels.
		res, err := h.Search(vecs[key], 10, nil)
		if err != nil {
			t.Fatal(err)
		}
		checkResults(t, res, 10, func(k uint32) bool { return k > key && k != entryKey })
		if len(res) != 10 {
			t.Fatalf("after deleting %d: %d results, want 10", key+1, len(res))
		}
	}
	live := NewExact(16)
	for key := n - 20; key < n; key++ {
		if uint32(key) != entryKey {
			mustAdd(t, live, uint32(key), vecs[key])
		}
	}
	if h.Len() != live.Len() {
		t.Fatalf("Len = %d, want %d", h.Len(), live.Len())
	}
	for i, q := range vecs[:50] {
		want, _ := live.Search(q, 5, nil)
		got, err := h.Search(q, 5, nil)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("query %d over %d live (-want +got):\n%s", i, live.Len(), diff)
		}
	}
	for key := range uint32(n) {
		h.Delete(key)
	}
	if _, maxLevel := h.loadTop(); h.Len() != 0 || h.nodes.n != 0 || maxLevel != -1 {
		t.Fatalf("after deleting all: Len %d, nodes %d, max level %d", h.Len(), h.nodes.n, maxLevel)
	}
	if res, err := h.Search(vecs[0], 5, nil); err != nil || len(res) != 0 {
		t.Fatalf("Search on emptied graph = %v, %v", res, err)
	}
	mustAdd(t, h, 5, vecs[5])
	if res, _ := h.Search(vecs[5], 5, nil); len(res) != 1 || res[0].Key != 5 {
		t.Fatalf("Search after refill = %v", res)
	}
}

// TestHNSWReAdd replaces most vectors of a graph, some several times.
func TestHNSWReAdd(t *testing.T) {
	t.Parallel()
	const n = 1500
	all := clustered(13, 3*n, 24, 10, 1)
	h := buildHNSW(t, all[:n], HNSWConfig{})
	latest := NewExact(24)
	for i, v := range all[:n] {
		mustAdd(t, latest, uint32(i), v)
	}
	for round := 1; round < 3; round++ {
		for i := range n {
			if i%3 == round {
				continue
			}
			v := all[round*n+i]
			mustAdd(t, h, uint32(i), v)
			mustAdd(t, latest, uint32(i), v)
		}
	}
	if h.Len() != n {
		t.Fatalf("Len = %d, want %d", h.Len(), n)
	}
	for i := range uint32(n) {
		want, _ := latest.Vector(i)
		got, _ := h.Vector(i)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("Vector(%d) (-want +got):\n%s", i, diff)
		}
	}
	queries := clustered(14, 100, 24, 10, 1)
	r := recallAt(searchAll(t, latest, queries, recallK, nil), searchAll(t, h, queries, recallK, nil))
	t.Logf("recall@10 after replacing %d vectors: %.4f", 4*n/3, r)
	if r < minRecall {
		t.Errorf("recall@10 = %.4f, want >= %.2f", r, minRecall)
	}
}

func TestHNSWDeterministic(t *testing.T) {
	t.Parallel()
	vecs := clustered(15, 1000, 16, 8, 1)
	build := func(seed int64) []byte {
		h := buildHNSW(t, vecs, HNSWConfig{Seed: seed})
		for i := 0; i < 1000; i += 4 {
			h.Delete(uint32(i))
		}
		var buf bytes.Buffer
		if _, err := h.WriteTo(&buf); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	a, b, c := build(0), build(DefaultSeed), build(2)
	if !bytes.Equal(a, b) {
		t.Error("two builds with the same seed differ")
	}
	if bytes.Equal(a, c) {
		t.Error("builds with seeds 1 and 2 are identical")
	}
}

func TestHNSWConfigDefaults(t *testing.T) {
	tests := []struct {
		name string
		in   HNSWConfig
		want HNSWConfig
	}{
		{"zero", HNSWConfig{}, HNSWConfig{16, 200, 64, 1}},
		{"negative", HNSWConfig{-1, -1, -1, -5}, HNSWConfig{16, 200, 64, -5}},
		{"tiny M", HNSWConfig{M: 1}, HNSWConfig{2, 200, 64, 1}},
		{"huge M", HNSWConfig{M: 1000}, HNSWConfig{256, 256, 64, 1}},
		{"efConstruction below M", HNSWConfig{M: 32, EfConstruction: 8}, HNSWConfig{32, 32, 64, 1}},
		{"kept", HNSWConfig{8, 100, 20, 9}, HNSWConfig{8, 100, 20, 9}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.in.withDefaults()); diff != "" {
				t.Errorf("withDefaults (-want +got):\n%s", diff)
			}
		})
	}
	h := NewHNSW(4, HNSWConfig{EfSearch: 10})
	h.SetEfSearch(0)
	if got := h.efSearch.Load(); got != DefaultEfSearch {
		t.Errorf("SetEfSearch(0): ef = %d, want %d", got, DefaultEfSearch)
	}
}

// TestHNSWConcurrent runs adds, deletes, re-adds and searches at once, with
// enough deletes to force rebuilds under the readers; run it with -race. The
// interleaving varies, so it checks invariants, not exact results.
func TestHNSWConcurrent(t *testing.T) {
	t.Parallel()
	const n = 600
	all := clustered(16, 3*n, 16, 8, 1)
	h := buildHNSW(t, all[:n], HNSWConfig{M: 8, EfConstruction: 64})
	// want[key] is the vector key ends up with; nil if deleted.
	want := make(map[uint32][]float32)
	var wg sync.WaitGroup
	wg.Go(func() { // delete keys 0..449
		for i := range uint32(450) {
			h.Delete(i)
		}
	})
	wg.Go(func() { // replace keys 450..599 twice
		for round := 1; round <= 2; round++ {
			for i := 450; i < n; i++ {
				mustAdd(t, h, uint32(i), all[round*n+i])
			}
		}
	})
	wg.Go(func() { // add keys 1200..1349
		for i := 2 * n; i < 2*n+150; i++ {
			mustAdd(t, h, uint32(i), all[i])
		}
	})
	for i := 450; i < n; i++ {
		want[uint32(i)] = all[2*n+i]
	}
	for i := 2 * n; i < 2*n+150; i++ {
		want[uint32(i)] = all[i]
	}
	done := make(chan struct{})
	var readers sync.WaitGroup
	for r := range 2 {
		readers.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				q := all[(i*7+r)%len(all)]
				var accept func(uint32) bool
				if i%3 == 0 {
					accept = func(k uint32) bool { return k%5 == 0 }
				}
				res, err := h.Search(q, 10, accept)
				if err != nil {
					t.Error(err)
					return
				}
				checkResults(t, res, 10, func(k uint32) bool { return (k < n || k >= 2*n) && (accept == nil || accept(k)) })
				h.Len()
				h.Vector(uint32(i % (3 * n)))
				if i%50 == 0 {
					h.SetEfSearch(32 + i%64)
				}
			}
		})
	}
	wg.Wait()
	close(done)
	readers.Wait()
	h.mu.RLock()
	rebuilds := h.rebuilds
	h.mu.RUnlock()
	if rebuilds == 0 {
		t.Error("no rebuild ran during the test")
	}
	if h.Len() != len(want) {
		t.Fatalf("Len = %d, want %d", h.Len(), len(want))
	}
	for i := range uint32(3 * n) {
		got, ok := h.Vector(i)
		src, live := want[i]
		if ok != live {
			t.Fatalf("Vector(%d) found = %v, want %v", i, ok, live)
		}
		if !live {
			continue
		}
		w, _, _ := normalised(src, 16)
		if diff := cmp.Diff(w, got); diff != "" {
			t.Fatalf("Vector(%d) (-want +got):\n%s", i, diff)
		}
	}
}

// TestFewAccepted checks the filter estimate on a fabricated 100,000-node
// graph (keys equal to node ids, odd ids deleted), including filters that
// alias with any fixed stride.
func TestFewAccepted(t *testing.T) {
	const n = 100000
	h := NewHNSW(1, HNSWConfig{})
	for key := range uint32(n) {
		id := h.allocNode(key, 0, 0)
		if id%2 == 1 {
			h.markDeleted(id)
		} else {
			h.ids[key] = id
		}
	}
	// 50,000 live even keys; the scan threshold at ef 64 is 2,048.
	tests := []struct {
		name   string
		accept func(uint32) bool
		want   bool
	}{
		{"all", func(uint32) bool { return true }, false},
		{"none", func(uint32) bool { return false }, true},
		{"every 10th: 5,000 live", func(k uint32) bool { return k%10 == 0 }, false},
		{"every 100th: 500 live", func(k uint32) bool { return k%100 == 0 }, true},
		{"every 200th: 250 live", func(k uint32) bool { return k%200 == 0 }, true},
		{"first 40,000 keys: 20,000 live", func(k uint32) bool { return k < 40000 }, false},
		{"first 2,000 keys: 1,000 live", func(k uint32) bool { return k < 2000 }, true},
		{"odd keys: all deleted", func(k uint32) bool { return k%2 == 1 }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := h.fewAccepted(tt.accept, 64); got != tt.want {
				t.Errorf("fewAccepted = %v, want %v", got, tt.want)
			}
		})
	}
}
