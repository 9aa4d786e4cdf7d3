package embed

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// dense spreads a sparse vector over n entries.
func dense(s Sparse, n int) []float64 {
	d := make([]float64, n)
	for i, k := range s.Idx {
		d[k] = float64(s.Val[i])
	}
	return d
}

// naiveContributions is Contributions computed over dense vectors.
func naiveContributions(s, t Sparse, n int) []Contribution {
	a, b := dense(s, n), dense(t, n)
	inS := map[uint32]bool{}
	for _, k := range s.Idx {
		inS[k] = true
	}
	var out []Contribution
	for _, k := range t.Idx {
		if inS[k] {
			out = append(out, Contribution{Feature: k, Value: a[k] * b[k]})
		}
	}
	slices.SortStableFunc(out, func(x, y Contribution) int {
		if x.Value != y.Value {
			if x.Value > y.Value {
				return -1
			}
			return 1
		}
		return int(x.Feature) - int(y.Feature)
	})
	return out
}

func naiveDot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func sp(idx []uint32, val []float32) Sparse { return Sparse{Idx: idx, Val: val} }

func TestSparse(t *testing.T) {
	tests := []struct {
		name   string
		s, t   Sparse
		reason string
	}{
		{name: "both empty", s: Sparse{}, t: Sparse{}},
		{name: "one empty", s: sp([]uint32{1, 4}, []float32{1, 2}), t: Sparse{}},
		{name: "disjoint", s: sp([]uint32{0, 2, 4}, []float32{1, 1, 1}), t: sp([]uint32{1, 3, 5}, []float32{1, 1, 1})},
		{name: "identical", s: sp([]uint32{1, 3, 7}, []float32{0.5, -2, 3}), t: sp([]uint32{1, 3, 7}, []float32{0.5, -2, 3})},
		{name: "partial overlap", s: sp([]uint32{0, 3, 9, 12}, []float32{1, 2, 3, 4}), t: sp([]uint32{3, 4, 12, 20}, []float32{5, 6, -7, 8})},
		{
			name: "overlap at the ends", s: sp([]uint32{0, 50}, []float32{2, 3}), t: sp([]uint32{0, 1, 2, 50}, []float32{4, 1, 1, 5}),
			reason: "the merge must not stop before the last index of either vector",
		},
		{
			name: "ties ordered by feature", s: sp([]uint32{2, 5, 8}, []float32{1, 1, 1}), t: sp([]uint32{2, 5, 8}, []float32{2, 2, 2}),
			reason: "equal products come out by increasing feature index",
		},
		{
			name: "negative products last", s: sp([]uint32{1, 2, 3}, []float32{-1, 1, 0.5}), t: sp([]uint32{1, 2, 3}, []float32{1, 1, 1}),
		},
	}
	const n = 64
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := dense(tt.s, n), dense(tt.t, n)
			if got, want := tt.s.Dot(tt.t), naiveDot(a, b); math.Abs(got-want) > 1e-12 {
				t.Errorf("Dot = %v, want %v", got, want)
			}
			if got, want := tt.t.Dot(tt.s), naiveDot(a, b); math.Abs(got-want) > 1e-12 {
				t.Errorf("Dot reversed = %v, want %v", got, want)
			}
			if got, want := tt.s.Norm(), math.Sqrt(naiveDot(a, a)); math.Abs(got-want) > 1e-12 {
				t.Errorf("Norm = %v, want %v", got, want)
			}
			if got, want := tt.s.Len(), len(tt.s.Idx); got != want {
				t.Errorf("Len = %d, want %d", got, want)
			}
			if diff := cmp.Diff(naiveContributions(tt.s, tt.t, n), tt.s.Contributions(tt.t), approx(1e-12)); diff != "" {
				t.Errorf("Contributions mismatch (-want +got):\n%s\n%s", diff, tt.reason)
			}
		})
	}
}

func TestSparseNormalize(t *testing.T) {
	tests := []struct {
		name string
		in   Sparse
		want []float32
	}{
		{name: "zero vector stays zero", in: sp([]uint32{1, 2}, []float32{0, 0}), want: []float32{0, 0}},
		{name: "empty", in: Sparse{}, want: nil},
		{name: "3-4-5", in: sp([]uint32{0, 9}, []float32{3, -4}), want: []float32{0.6, -0.8}},
		{name: "already unit", in: sp([]uint32{7}, []float32{1}), want: []float32{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			idx := slices.Clone(tt.in.Idx)
			tt.in.Normalize()
			if diff := cmp.Diff(tt.want, tt.in.Val, approx32(1e-7)); diff != "" {
				t.Errorf("Normalize values mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(idx, tt.in.Idx); diff != "" {
				t.Errorf("Normalize changed indices (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSparseRandom compares Dot, Norm, Normalize and Contributions with a
// dense computation on seeded random vectors.
func TestSparseRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 300
	random := func() Sparse {
		var s Sparse
		for k := range n {
			if rng.Float64() < 0.1 {
				s.Idx = append(s.Idx, uint32(k))
				s.Val = append(s.Val, float32(rng.NormFloat64()))
			}
		}
		return s
	}
	for range 200 {
		s, u := random(), random()
		a, b := dense(s, n), dense(u, n)
		if got, want := s.Dot(u), naiveDot(a, b); math.Abs(got-want) > 1e-9 {
			t.Fatalf("Dot = %v, want %v", got, want)
		}
		var sum float64
		for _, c := range s.Contributions(u) {
			sum += c.Value
		}
		if math.Abs(sum-s.Dot(u)) > 1e-9 {
			t.Fatalf("sum of Contributions = %v, Dot = %v", sum, s.Dot(u))
		}
		if diff := cmp.Diff(naiveContributions(s, u, n), s.Contributions(u), approx(1e-12)); diff != "" {
			t.Fatalf("Contributions mismatch (-want +got):\n%s", diff)
		}
		if s.Len() > 0 {
			s.Normalize()
			if got := s.Norm(); math.Abs(got-1) > 1e-6 {
				t.Fatalf("Norm after Normalize = %v, want 1", got)
			}
		}
	}
}

func TestSparseFromMap(t *testing.T) {
	got := sparseFromMap(map[uint32]float64{9: 1.5, 2: -1, 40: 0.25})
	want := sp([]uint32{2, 9, 40}, []float32{-1, 1.5, 0.25})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sparseFromMap mismatch (-want +got):\n%s", diff)
	}
	if got := sparseFromMap(nil); got.Len() != 0 {
		t.Errorf("sparseFromMap(nil).Len() = %d, want 0", got.Len())
	}
}

func BenchmarkSparseDot(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, nnz := range []int{10, 100, 1000} {
		mk := func() Sparse {
			m := map[uint32]float64{}
			for len(m) < nnz {
				m[uint32(rng.IntN(20*nnz))] = rng.Float64()
			}
			return sparseFromMap(m)
		}
		s, u := mk(), mk()
		b.Run("nnz="+itoa(nnz), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s.Dot(u)
			}
		})
	}
}
