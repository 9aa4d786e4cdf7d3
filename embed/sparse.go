package embed

import (
	"math"
	"slices"
)

// Sparse is a sparse vector: feature indices in increasing order and their
// values. Vectors from a [TFIDF] model are L2-normalised, so Dot is their
// cosine similarity.
type Sparse struct {
	Idx []uint32
	Val []float32
}

// Len returns the number of non-zero entries.
func (s Sparse) Len() int { return len(s.Idx) }

// Dot returns the inner product of two sparse vectors.
func (s Sparse) Dot(t Sparse) float64 {
	var sum float64
	i, j := 0, 0
	for i < len(s.Idx) && j < len(t.Idx) {
		switch {
		case s.Idx[i] < t.Idx[j]:
			i++
		case s.Idx[i] > t.Idx[j]:
			j++
		default:
			sum += float64(s.Val[i]) * float64(t.Val[j])
			i++
			j++
		}
	}
	return sum
}

// Norm returns the Euclidean norm.
func (s Sparse) Norm() float64 {
	var sum float64
	for _, v := range s.Val {
		sum += float64(v) * float64(v)
	}
	return math.Sqrt(sum)
}

// Normalize scales s to unit length in place; a zero vector stays zero.
func (s Sparse) Normalize() {
	n := s.Norm()
	if n == 0 {
		return
	}
	for i := range s.Val {
		s.Val[i] = float32(float64(s.Val[i]) / n)
	}
}

// Contribution is one shared feature's part of a dot product.
//
// A plain value.
type Contribution struct {
	Feature uint32
	Value   float64 // s[Feature] * t[Feature]
}

// Contributions returns the shared features of s and t with their products,
// largest first (ties by feature index).
func (s Sparse) Contributions(t Sparse) []Contribution {
	var out []Contribution
	i, j := 0, 0
	for i < len(s.Idx) && j < len(t.Idx) {
		switch {
		case s.Idx[i] < t.Idx[j]:
			i++
		case s.Idx[i] > t.Idx[j]:
			j++
		default:
			out = append(out, Contribution{s.Idx[i], float64(s.Val[i]) * float64(t.Val[j])})
			i++
			j++
		}
	}
	slices.SortFunc(out, func(a, b Contribution) int {
		switch {
		case a.Value > b.Value:
			return -1
		case a.Value < b.Value:
			return 1
		}
		return int(a.Feature) - int(b.Feature)
	})
	return out
}

// sparseFromMap builds a sorted Sparse from feature weights.
func sparseFromMap(m map[uint32]float64) Sparse {
	s := Sparse{Idx: make([]uint32, 0, len(m)), Val: make([]float32, len(m))}
	for k := range m {
		s.Idx = append(s.Idx, k)
	}
	slices.Sort(s.Idx)
	for i, k := range s.Idx {
		s.Val[i] = float32(m[k])
	}
	return s
}
