package vectorindex

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// dotBound is a bound on the rounding error of a float32 dot product of n
// terms: n ulps of the sum of the terms' magnitudes, plus n times the
// smallest subnormal for products that underflow.
func dotBound(a, b []float32) (ref, bound float64) {
	var abs float64
	for i := range a {
		p := float64(a[i]) * float64(b[i])
		ref += p
		abs += math.Abs(p)
	}
	return ref, float64(len(a)+2) * (0x1p-23*abs + 0x1p-149)
}

// checkDot compares dot (the SIMD kernel where the CPU has one) and
// dotGeneric with a float64 reference.
func checkDot(t *testing.T, a, b []float32) {
	t.Helper()
	ref, bound := dotBound(a, b)
	for _, k := range []struct {
		name string
		f    func(a, b []float32) float32
	}{{"dot", dot}, {"dotGeneric", dotGeneric}} {
		if got := float64(k.f(a, b)); math.Abs(got-ref) > bound {
			t.Fatalf("%s of length %d = %g, want %g within %g", k.name, len(a), got, ref, bound)
		}
	}
}

func TestDotAgrees(t *testing.T) {
	t.Logf("SIMD kernel in use: %v", simdDot)
	rng := rand.New(rand.NewPCG(5, 5))
	tests := []struct {
		name   string
		lens   []int
		reason string
	}{
		{name: "short", lens: []int{1, 2, 3, 4, 5, 7}, reason: "below one SIMD step: the scalar tail only"},
		{name: "around 8 and 16", lens: []int{8, 9, 15, 16, 17}},
		{name: "around 32", lens: []int{31, 32, 33, 63}, reason: "vek's kernel steps by 32 components"},
		{name: "production", lens: []int{64, 256, 384}},
		{name: "odd", lens: []int{255, 257, 1000, 1025}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, n := range tt.lens {
				for range 20 {
					a, b := make([]float32, n), make([]float32, n)
					for i := range a {
						a[i], b[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
					}
					checkDot(t, a, b)
				}
				// Exact cases: ones, and a unit vector with itself.
				ones := make([]float32, n)
				for i := range ones {
					ones[i] = 1
				}
				if got := dot(ones, ones); got != float32(n) {
					t.Errorf("dot(ones, ones) of length %d = %g (%s)", n, got, tt.reason)
				}
			}
		})
	}
}

// FuzzDot feeds arbitrary finite vectors of any length to both kernels.
func FuzzDot(f *testing.F) {
	f.Add([]byte{0, 0, 128, 63, 0, 0, 0, 64})
	f.Add(make([]byte, 4*37*2))
	f.Fuzz(func(t *testing.T, data []byte) {
		n := len(data) / 8
		if n == 0 {
			return
		}
		a, b := make([]float32, n), make([]float32, n)
		for i := range n {
			a[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
			b[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*(n+i):]))
			// Keep products finite and away from overflow: the kernels are
			// only ever given unit vectors.
			if math.IsNaN(float64(a[i])) || math.IsInf(float64(a[i]), 0) || math.Abs(float64(a[i])) > 1e15 {
				a[i] = 1
			}
			if math.IsNaN(float64(b[i])) || math.IsInf(float64(b[i]), 0) || math.Abs(float64(b[i])) > 1e15 {
				b[i] = -1
			}
		}
		checkDot(t, a, b)
	})
}

// BenchmarkDot compares the kernels at the dimensions in use.
func BenchmarkDot(b *testing.B) {
	rng := rand.New(rand.NewPCG(6, 6))
	for _, n := range []int{64, 256, 384} {
		x, y := make([]float32, n), make([]float32, n)
		for i := range x {
			x[i], y[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
		}
		for _, k := range []struct {
			name string
			f    func(a, b []float32) float32
		}{{"dot", dot}, {"generic", dotGeneric}} {
			b.Run(fmt.Sprintf("dim=%d/%s", n, k.name), func(b *testing.B) {
				b.ReportAllocs()
				var s float32
				for b.Loop() {
					s += k.f(x, y)
				}
				_ = s
			})
		}
	}
}
