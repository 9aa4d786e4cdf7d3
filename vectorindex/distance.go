package vectorindex

import (
	"fmt"
	"math"
	"runtime"

	"github.com/viterin/vek/vek32"
	"golang.org/x/sys/cpu"
)

// maxDim bounds the dimension accepted by the constructors and the readers.
const maxDim = 1 << 16

// simdDot says whether dot uses vek's AVX2/FMA kernel: the condition under
// which vek32.Dot dispatches to its assembly (golang.org/x/sys/cpu flags,
// read by that package's init). Otherwise dot runs dotGeneric.
var simdDot = runtime.GOARCH == "amd64" && runtime.GOOS != "darwin" && cpu.X86.HasAVX2 && cpu.X86.HasFMA

// dot returns the inner product of a and b, which have the same length, at
// least 1.
//
// On amd64 with AVX2 and FMA it is github.com/viterin/vek's kernel
// (assembly generated with avo: 4 accumulators of 8 lanes, fused
// multiply-adds, 32 components a step and a scalar tail); elsewhere the
// pure-Go dotGeneric. The two round differently (TestDotAgrees bounds the
// difference), so graphs built on machines with and without AVX2 can
// differ; on one machine results are reproducible.
//
// dot is left out of race instrumentation: it only reads vectors that are
// written before they are published (under the index lock or through an
// atomic link store). Races on the stored vectors are still caught where
// they are written.
//
//go:norace
func dot(a, b []float32) float32 {
	if simdDot {
		return vek32.Dot(a, b)
	}
	return dotGeneric(a, b)
}

// dotGeneric is the portable inner product: four accumulators let the CPU
// overlap the multiply-adds; the summation order is fixed.
//
//go:norace
func dotGeneric(a, b []float32) float32 {
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
	return clampDistance(1 - dot(a, b))
}

func clampDistance(d float32) float32 {
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

// normalisedInto validates vec and writes its unit-length copy into dst
// (grown as needed), reporting whether it is the zero vector.
func normalisedInto(dst, vec []float32, dim int) ([]float32, bool, error) {
	scale, err := checkVector(vec, dim)
	if err != nil {
		return dst, false, err
	}
	if cap(dst) < dim {
		dst = make([]float32, dim)
	}
	dst = dst[:dim]
	scaleInto(dst, vec, scale)
	return dst, scale == 0, nil
}

// normalised validates vec and returns a unit-length copy and whether it is
// the zero vector.
func normalised(vec []float32, dim int) ([]float32, bool, error) {
	q, zero, err := normalisedInto(nil, vec, dim)
	if err != nil {
		return nil, false, err
	}
	return q, zero, nil
}

func checkDim(dim int) {
	if dim < 1 || dim > maxDim {
		panic(fmt.Sprintf("vectorindex: dimension %d out of range [1, %d]", dim, maxDim))
	}
}
