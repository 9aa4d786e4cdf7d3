package vectorindex

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// index is the method set Exact and HNSW share.
type index interface {
	Add(key uint32, vec []float32) error
	Delete(key uint32) bool
	Search(query []float32, k int, accept func(uint32) bool) ([]Result, error)
	Len() int
	Dim() int
	Vector(key uint32) ([]float32, bool)
	AddBatch(ctx context.Context, keys []uint32, vecs [][]float32, workers int) error
}

var (
	_ index = (*Exact)(nil)
	_ index = (*HNSW)(nil)
)

// kinds builds each index type for the shared tests.
var kinds = []struct {
	name string
	new  func(dim int) index
}{
	{"exact", func(dim int) index { return NewExact(dim) }},
	{"hnsw", func(dim int) index { return NewHNSW(dim, HNSWConfig{}) }},
}

var approx = cmpopts.EquateApprox(0, 1e-6)

func TestSearch(t *testing.T) {
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	// Keys 1..4 sit at 0, 90, 180 and 45 degrees on the unit circle; key 5
	// is a longer copy of key 1 and key 6 is the zero vector.
	vecs := map[uint32][]float32{
		1: {1, 0},
		2: {0, 1},
		3: {-1, 0},
		4: {1, 1},
		5: {3, 0},
		6: {0, 0},
	}
	even := func(k uint32) bool { return k%2 == 0 }
	none := func(uint32) bool { return false }
	s := float32(1 - math.Sqrt(0.5))
	tests := []struct {
		name    string
		query   []float32
		k       int
		accept  func(uint32) bool
		want    []Result
		wantErr error
		reason  string
	}{
		{
			name:  "nearest first, ties by key",
			query: []float32{2, 0},
			k:     3,
			want:  []Result{{1, 0}, {5, 0}, {4, s}},
		},
		{
			name:  "k beyond size returns all",
			query: []float32{0, 1},
			k:     10,
			want:  []Result{{2, 0}, {4, s}, {1, 1}, {3, 1}, {5, 1}, {6, 1}},
		},
		{
			name:   "filter",
			query:  []float32{1, 0},
			k:      2,
			accept: even,
			want:   []Result{{4, s}, {2, 1}},
		},
		{
			name:   "filter rejecting all",
			query:  []float32{1, 0},
			k:      2,
			accept: none,
			want:   []Result{},
		},
		{
			name:   "zero query",
			query:  []float32{0, 0},
			k:      2,
			want:   []Result{{1, 1}, {2, 1}},
			reason: "every vector is at distance 1 from the zero vector, so the smallest keys win",
		},
		{
			name:   "opposite vector at distance 2",
			query:  []float32{1, 0},
			k:      3,
			accept: func(k uint32) bool { return k == 3 },
			want:   []Result{{3, 2}},
		},
		{name: "k zero", query: []float32{1, 0}, k: 0, want: []Result{}},
		{name: "k negative", query: []float32{1, 0}, k: -1, want: []Result{}},
		{name: "short query", query: []float32{1}, k: 1, wantErr: ErrDimension},
		{name: "long query", query: []float32{1, 0, 0}, k: 1, wantErr: ErrDimension},
		{name: "nil query", query: nil, k: 1, wantErr: ErrDimension},
		{name: "NaN query", query: []float32{nan, 0}, k: 1, wantErr: ErrInvalidVector},
		{name: "Inf query", query: []float32{inf, 0}, k: 1, wantErr: ErrInvalidVector},
	}
	for _, kind := range kinds {
		idx := kind.new(2)
		for key := uint32(1); key <= 6; key++ {
			if err := idx.Add(key, vecs[key]); err != nil {
				t.Fatalf("%s: Add(%d): %v", kind.name, key, err)
			}
		}
		for _, tt := range tests {
			t.Run(kind.name+"/"+tt.name, func(t *testing.T) {
				got, err := idx.Search(tt.query, tt.k, tt.accept)
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Search error = %v, want %v", err, tt.wantErr)
				}
				if diff := cmp.Diff(tt.want, got, approx); diff != "" {
					t.Errorf("Search (-want +got):\n%s\n%s", diff, tt.reason)
				}
			})
		}
	}
}

func TestAddRejects(t *testing.T) {
	tests := []struct {
		name    string
		vec     []float32
		wantErr error
	}{
		{"short", []float32{1, 2}, ErrDimension},
		{"long", []float32{1, 2, 3, 4}, ErrDimension},
		{"NaN", []float32{1, float32(math.NaN()), 0}, ErrInvalidVector},
		{"-Inf", []float32{float32(math.Inf(-1)), 0, 0}, ErrInvalidVector},
	}
	for _, kind := range kinds {
		for _, tt := range tests {
			t.Run(kind.name+"/"+tt.name, func(t *testing.T) {
				idx := kind.new(3)
				if err := idx.Add(7, tt.vec); !errors.Is(err, tt.wantErr) {
					t.Errorf("Add error = %v, want %v", err, tt.wantErr)
				}
				if n := idx.Len(); n != 0 {
					t.Errorf("Len after rejected Add = %d, want 0", n)
				}
			})
		}
	}
}

func TestAddReplaceDeleteVector(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind.name, func(t *testing.T) {
			idx := kind.new(3)
			if idx.Dim() != 3 {
				t.Fatalf("Dim = %d, want 3", idx.Dim())
			}
			in := []float32{3, 0, 4}
			mustAdd(t, idx, 1, in)
			mustAdd(t, idx, 2, []float32{0, 1, 0})
			in[0] = 100 // Add must have copied
			got, ok := idx.Vector(1)
			if diff := cmp.Diff([]float32{0.6, 0, 0.8}, got, approx); !ok || diff != "" {
				t.Errorf("Vector(1) = %v, %v (-want +got):\n%s", got, ok, diff)
			}
			// Vector returns the stored copy, which never changes: the view
			// keeps its value through the replace and delete below.
			view := got

			mustAdd(t, idx, 1, []float32{0, 0, -2})
			if n := idx.Len(); n != 2 {
				t.Errorf("Len after replace = %d, want 2", n)
			}
			res, err := idx.Search([]float32{0, 0, -1}, 1, nil)
			if diff := cmp.Diff([]Result{{1, 0}}, res, approx); err != nil || diff != "" {
				t.Errorf("Search for replaced vector: %v (-want +got):\n%s", err, diff)
			}
			res, _ = idx.Search([]float32{3, 0, 4}, 2, nil)
			if diff := cmp.Diff([]Result{{2, 1}, {1, 1.8}}, res, approx); diff != "" {
				t.Errorf("old vector still found (-want +got):\n%s", diff)
			}

			if !idx.Delete(1) {
				t.Error("Delete(1) = false, want true")
			}
			if idx.Delete(1) {
				t.Error("second Delete(1) = true, want false")
			}
			if idx.Delete(99) {
				t.Error("Delete(99) = true, want false")
			}
			if _, ok := idx.Vector(1); ok {
				t.Error("Vector(1) found after Delete")
			}
			res, _ = idx.Search([]float32{0, 0, -1}, 5, nil)
			if diff := cmp.Diff([]Result{{2, 1}}, res, approx); diff != "" {
				t.Errorf("Search after Delete (-want +got):\n%s", diff)
			}
			for i := range 100 { // enough churn to compact
				mustAdd(t, idx, uint32(10+i%3), []float32{float32(i), 1, 1})
			}
			if diff := cmp.Diff([]float32{0.6, 0, 0.8}, view, approx); diff != "" {
				t.Errorf("a view from Vector changed after replace, delete and compaction (-want +got):\n%s", diff)
			}
			for i := range 3 {
				idx.Delete(uint32(10 + i))
			}
			if !idx.Delete(2) || idx.Len() != 0 {
				t.Fatalf("Delete(2): Len = %d, want 0", idx.Len())
			}
			res, err = idx.Search([]float32{1, 0, 0}, 5, nil)
			if err != nil || len(res) != 0 {
				t.Errorf("Search on emptied index = %v, %v; want empty, nil", res, err)
			}
			mustAdd(t, idx, 3, []float32{1, 0, 0})
			res, _ = idx.Search([]float32{1, 0, 0}, 5, nil)
			if diff := cmp.Diff([]Result{{3, 0}}, res, approx); diff != "" {
				t.Errorf("Search after refill (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEmptyIndex(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind.name, func(t *testing.T) {
			idx := kind.new(4)
			res, err := idx.Search([]float32{1, 2, 3, 4}, 10, nil)
			if err != nil || res == nil || len(res) != 0 {
				t.Errorf("Search = %#v, %v; want empty non-nil, nil", res, err)
			}
			if _, err := idx.Search([]float32{1}, 10, nil); !errors.Is(err, ErrDimension) {
				t.Errorf("wrong-dimension Search error = %v, want ErrDimension", err)
			}
			if idx.Len() != 0 || idx.Delete(1) {
				t.Error("empty index reports content")
			}
		})
	}
}

func TestNewPanicsOnBadDimension(t *testing.T) {
	for _, dim := range []int{0, -1, maxDim + 1} {
		for _, kind := range kinds {
			func() {
				defer func() {
					if recover() == nil {
						t.Errorf("%s: new(%d) did not panic", kind.name, dim)
					}
				}()
				kind.new(dim)
			}()
		}
	}
}

// TestExactMatchesReference checks Exact's distances and order against a
// float64 computation on seeded random data.
func TestExactMatchesReference(t *testing.T) {
	vecs := clustered(7, 500, 16, 5, 1)
	x := NewExact(16)
	for i, v := range vecs {
		mustAdd(t, x, uint32(i), v)
	}
	// Deleting swaps the last slot into the hole: exercise it.
	for i := 0; i < 500; i += 3 {
		x.Delete(uint32(i))
	}
	q := clustered(8, 1, 16, 5, 1)[0]
	got, err := x.Search(q, 20, nil)
	if err != nil {
		t.Fatal(err)
	}
	var want []Result
	for i, v := range vecs {
		if i%3 != 0 {
			want = append(want, Result{uint32(i), float32(refDistance(q, v))})
		}
	}
	sortResults(want)
	if diff := cmp.Diff(want[:20], got, cmpopts.EquateApprox(0, 1e-5)); diff != "" {
		t.Errorf("Search (-want +got):\n%s", diff)
	}
}

func refDistance(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	return 1 - ab/math.Sqrt(aa*bb)
}

func mustAdd(t testing.TB, idx index, key uint32, vec []float32) {
	t.Helper()
	if err := idx.Add(key, vec); err != nil {
		t.Fatalf("Add(%d): %v", key, err)
	}
}
