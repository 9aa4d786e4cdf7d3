package vectorindex

import (
	"fmt"
	"math"
)

// maxDim bounds the dimension accepted by the constructors and the readers.
const maxDim = 1 << 16

// dot returns the inner product of a and b; b must be at least as long as a.
// Four accumulators let the CPU overlap the multiply-adds; the summation
// order is fixed, so results are reproducible.
//
// dot is left out of race instrumentation: it only reads vectors that its
// callers reach under the index lock, and instrumented it made a 10k build
// under -race take 32 s instead of 7 s. Races on the vector slab are still
// caught where it is written (Add, rebuild) and copied (Vector, WriteTo).
//
//go:norace
func dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		aa := a[i : i+4 : i+4]
		bb := b[i : i+4 : i+4]
		s0 += aa[0] * bb[0]
		s1 += aa[1] * bb[1]
		s2 += aa[2] * bb[2]
		s3 += aa[3] * bb[3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// distance is the cosine distance of two unit (or zero) vectors, clamped to
// [0, 2] against rounding.
func distance(a, b []float32) float32 {
	d := 1 - dot(a, b)
	if d < 0 {
		return 0
	}
	if d > 2 {
		return 2
	}
	return d
}

// checkVector validates vec against dim and returns the factor that scales it
// to unit length (0 for the zero vector).
func checkVector(vec []float32, dim int) (float32, error) {
	if len(vec) != dim {
		return 0, fmt.Errorf("got %d, want %d: %w", len(vec), dim, ErrDimension)
	}
	var ss float64
	for _, v := range vec {
		f := float64(v)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, ErrInvalidVector
		}
		ss += f * f
	}
	if ss == 0 {
		return 0, nil
	}
	return float32(1 / math.Sqrt(ss)), nil
}

// scaleInto writes src*scale into dst.
func scaleInto(dst, src []float32, scale float32) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = v * scale
	}
}

// normalised validates vec and returns a unit-length copy and whether it is
// the zero vector.
func normalised(vec []float32, dim int) ([]float32, bool, error) {
	scale, err := checkVector(vec, dim)
	if err != nil {
		return nil, false, err
	}
	q := make([]float32, dim)
	scaleInto(q, vec, scale)
	return q, scale == 0, nil
}

func checkDim(dim int) {
	if dim < 1 || dim > maxDim {
		panic(fmt.Sprintf("vectorindex: dimension %d out of range [1, %d]", dim, maxDim))
	}
}
