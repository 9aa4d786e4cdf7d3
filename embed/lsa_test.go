package embed

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gonum.org/v1/gonum/mat"
)

// randomSparse returns n seeded random sparse rows over terms features, each
// with about density·terms non-zeros (at least one), as unit vectors.
func randomSparse(seed uint64, n, terms int, density float64) []Sparse {
	rng := rand.New(rand.NewPCG(seed, 99))
	rows := make([]Sparse, n)
	for i := range rows {
		m := map[uint32]float64{uint32(rng.IntN(terms)): rng.Float64() + 0.1}
		for t := range terms {
			if rng.Float64() < density {
				m[uint32(t)] = rng.Float64() + 0.1
			}
		}
		rows[i] = sparseFromMap(m)
		rows[i].Normalize()
	}
	return rows
}

// denseOf returns the n×terms dense matrix of sparse rows.
func denseOf(rows []Sparse, terms int) *mat.Dense {
	a := mat.NewDense(len(rows), terms, nil)
	for i, r := range rows {
		for j, t := range r.Idx {
			a.Set(i, int(t), float64(r.Val[j]))
		}
	}
	return a
}

// exactSingularValues returns the singular values of the rows' matrix by
// gonum's dense SVD, largest first.
func exactSingularValues(t *testing.T, rows []Sparse, terms int) []float64 {
	t.Helper()
	var svd mat.SVD
	if !svd.Factorize(denseOf(rows, terms), mat.SVDThin) {
		t.Fatal("gonum SVD did not converge")
	}
	return svd.Values(nil)
}

func TestFitLSASingularValues(t *testing.T) {
	const n, terms = 60, 200
	rows := randomSparse(1, n, terms, 0.05)
	exact := exactSingularValues(t, rows, terms)
	tests := []struct {
		name   string
		cfg    LSAConfig
		check  int     // how many leading values to compare
		tol    float64 // relative tolerance
		reason string
	}{
		{
			name: "rank 10", cfg: LSAConfig{Dims: 10}, check: 5, tol: 1e-3,
			reason: "with 16 oversampled directions and 3 power iterations the top values converge well",
		},
		{name: "rank 20 more power iterations", cfg: LSAConfig{Dims: 20, PowerIters: 6}, check: 10, tol: 1e-4},
		{
			name: "full rank", cfg: LSAConfig{Dims: n}, check: n, tol: 1e-8,
			reason: "l = min(Dims+Oversample, n) = n: the range is captured exactly and every value is exact",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, vecs, err := FitLSA(rows, terms, tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if m.Dims() != tt.cfg.Dims || len(vecs) != n {
				t.Fatalf("Dims() = %d, %d vectors; want %d, %d", m.Dims(), len(vecs), tt.cfg.Dims, n)
			}
			got := m.SingularValues()
			if len(got) != tt.cfg.Dims {
				t.Fatalf("%d singular values, want %d", len(got), tt.cfg.Dims)
			}
			for c := range tt.check {
				if rel := math.Abs(got[c]-exact[c]) / exact[0]; rel > tt.tol {
					t.Errorf("σ%d = %.10g, gonum %.10g (relative error %.2g > %.2g) %s", c, got[c], exact[c], rel, tt.tol, tt.reason)
				}
			}
			for c := 1; c < len(got); c++ {
				if got[c] > got[c-1]*(1+1e-12) {
					t.Errorf("singular values not decreasing at %d: %v > %v", c, got[c], got[c-1])
				}
			}
			// SingularValues returns a copy.
			got[0] = -1
			if m.SingularValues()[0] == -1 {
				t.Error("SingularValues returned the model's own slice")
			}
		})
	}
}

// TestFitLSAVectors checks that document vectors are unit, that Transform
// of a training document gives its vector, and that at full rank the
// vectors' cosines are those of the sparse rows (nothing is truncated).
func TestFitLSAVectors(t *testing.T) {
	const n, terms = 60, 200
	rows := randomSparse(2, n, terms, 0.05)
	for _, dims := range []int{8, 32, n} {
		t.Run(fmt.Sprintf("dims=%d", dims), func(t *testing.T) {
			m, vecs, err := FitLSA(rows, terms, LSAConfig{Dims: dims})
			if err != nil {
				t.Fatal(err)
			}
			for i, v := range vecs {
				if len(v) != dims {
					t.Fatalf("doc %d: %d dims, want %d", i, len(v), dims)
				}
				if nv := norm32(v); math.Abs(nv-1) > 1e-5 {
					t.Errorf("doc %d norm %v, want 1", i, nv)
				}
				if diff := cmp.Diff(v, m.Transform(rows[i]), approx32(1e-5)); diff != "" {
					t.Errorf("Transform(doc %d) differs from its vector (-fit +transform):\n%s", i, diff)
				}
			}
			if dims < n {
				return
			}
			for i := range n {
				for j := range i {
					got := dot32(vecs[i], vecs[j])
					if want := rows[i].Dot(rows[j]); math.Abs(got-want) > 1e-4 {
						t.Errorf("full rank: cos(doc %d, doc %d) = %v, sparse cosine %v", i, j, got, want)
					}
				}
			}
		})
	}
}

func dot32(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

func TestFitLSADeterministic(t *testing.T) {
	rows := randomSparse(3, 80, 300, 0.04)
	cfg := LSAConfig{Dims: 12, Seed: 42}
	m1, v1, err := FitLSA(rows, 300, cfg)
	if err != nil {
		t.Fatal(err)
	}
	m2, v2, err := FitLSA(rows, 300, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(v1, v2); diff != "" {
		t.Errorf("same seed, different vectors (-first +second):\n%s", diff)
	}
	if diff := cmp.Diff(m1.SingularValues(), m2.SingularValues()); diff != "" {
		t.Errorf("same seed, different singular values (-first +second):\n%s", diff)
	}
	q := Sparse{Idx: []uint32{1, 5, 17, 299}, Val: []float32{0.5, 0.5, 0.5, 0.5}}
	if diff := cmp.Diff(m1.Transform(q), m2.Transform(q)); diff != "" {
		t.Errorf("same seed, different Transform (-first +second):\n%s", diff)
	}

	// Another seed draws another projection: the leading values agree
	// (loosely: a random matrix has a flat spectrum, the hard case for a
	// randomized SVD), the vectors need not.
	m3, _, err := FitLSA(rows, 300, LSAConfig{Dims: 12, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	for c := range 4 {
		if a, b := m1.SingularValues()[c], m3.SingularValues()[c]; math.Abs(a-b) > 1e-2*a {
			t.Errorf("σ%d: seed 42 gives %v, seed 7 gives %v", c, a, b)
		}
	}
}

// TestFitLSARankDeficient fits matrices whose rank is far below the number
// of directions asked for, which sends the orthonormalisation to its
// eigen fallback.
func TestFitLSARankDeficient(t *testing.T) {
	base := randomSparse(4, 3, 50, 0.2)
	tests := []struct {
		name   string
		rows   []Sparse
		rank   int
		period int // row i+period has the direction of row i
		reason string
	}{
		{name: "three distinct rows repeated", rows: repeatRows(base, 40), rank: 3, period: 3},
		{name: "one row repeated", rows: repeatRows(base[:1], 30), rank: 1, period: 1},
		{
			name: "scaled copies", rows: scaledCopies(base[0], 20), rank: 1, period: 1,
			reason: "rows that are multiples of one another span one direction",
		},
		{
			name: "empty rows among others", rows: append(repeatRows(base[:2], 10), make([]Sparse, 10)...), rank: 2, period: 2,
			reason: "documents with no features have zero vectors",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, vecs, err := FitLSA(tt.rows, 50, LSAConfig{Dims: 10})
			if err != nil {
				t.Fatalf("FitLSA: %v", err)
			}
			exact := exactSingularValues(t, tt.rows, 50)
			sv := m.SingularValues()
			for c := range sv {
				want := 0.0
				if c < tt.rank {
					want = exact[c]
				}
				if math.IsNaN(sv[c]) || math.Abs(sv[c]-want) > 1e-6*exact[0] {
					t.Errorf("σ%d = %v, want %v", c, sv[c], want)
				}
			}
			for i, v := range vecs {
				for _, x := range v {
					if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
						t.Fatalf("doc %d vector holds %v: %v", i, x, v)
					}
				}
				nv := norm32(v)
				if tt.rows[i].Len() == 0 {
					if nv != 0 {
						t.Errorf("empty doc %d has norm %v, want 0", i, nv)
					}
					continue
				}
				if math.Abs(nv-1) > 1e-5 {
					t.Errorf("doc %d norm %v, want 1", i, nv)
				}
				if diff := cmp.Diff(v, m.Transform(tt.rows[i]), approx32(1e-5)); diff != "" {
					t.Errorf("Transform(doc %d) differs (-fit +transform):\n%s", i, diff)
				}
			}
			// Rows of one direction get one vector.
			if got := dot32(vecs[0], vecs[tt.period]); math.Abs(got-1) > 1e-5 {
				t.Errorf("cos(doc 0, doc %d) = %v, want 1: same direction", tt.period, got)
			}
		})
	}
}

func repeatRows(rows []Sparse, n int) []Sparse {
	out := make([]Sparse, n)
	for i := range out {
		out[i] = rows[i%len(rows)]
	}
	return out
}

func scaledCopies(r Sparse, n int) []Sparse {
	out := make([]Sparse, n)
	for i := range out {
		s := Sparse{Idx: r.Idx, Val: make([]float32, len(r.Val))}
		for j, v := range r.Val {
			s.Val[j] = v * float32(i+1)
		}
		out[i] = s
	}
	return out
}

func TestFitLSAErrors(t *testing.T) {
	rows := randomSparse(5, 5, 20, 0.2)
	tests := []struct {
		name  string
		docs  []Sparse
		terms int
	}{
		{name: "no documents", docs: nil, terms: 20},
		{name: "empty slice", docs: []Sparse{}, terms: 20},
		{name: "no features", docs: rows, terms: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, vecs, err := FitLSA(tt.docs, tt.terms, LSAConfig{})
			if !errors.Is(err, ErrEmptyCorpus) {
				t.Errorf("FitLSA error = %v, want ErrEmptyCorpus", err)
			}
			if m != nil || vecs != nil {
				t.Errorf("FitLSA returned a model or vectors with an error")
			}
		})
	}
}

func TestFitLSADimsCapped(t *testing.T) {
	rows := randomSparse(6, 7, 30, 0.2)
	m, vecs, err := FitLSA(rows, 30, LSAConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if m.Dims() != 7 || len(vecs[0]) != 7 {
		t.Errorf("Dims() = %d, vector length %d; want 7 (the default 128 capped at the number of documents)", m.Dims(), len(vecs[0]))
	}
	m, _, err = FitLSA(randomSparse(8, 10, 4, 0.5), 4, LSAConfig{Dims: 6})
	if err != nil {
		t.Fatal(err)
	}
	if m.Dims() != 4 {
		t.Errorf("Dims() = %d over 4 terms, want 4", m.Dims())
	}
}

func TestLSATransform(t *testing.T) {
	rows := randomSparse(7, 40, 100, 0.06)
	m, _, err := FitLSA(rows, 100, LSAConfig{Dims: 8})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("unknown features are ignored", func(t *testing.T) {
		withExtra := Sparse{Idx: append(append([]uint32(nil), rows[0].Idx...), 100, 5000), Val: append(append([]float32(nil), rows[0].Val...), 3, 4)}
		if diff := cmp.Diff(m.Transform(rows[0]), m.Transform(withExtra), approx32(1e-6)); diff != "" {
			t.Errorf("features beyond the model changed Transform (-want +got):\n%s", diff)
		}
	})
	t.Run("nothing shared gives zeros", func(t *testing.T) {
		got := m.Transform(Sparse{Idx: []uint32{100, 200}, Val: []float32{1, 1}})
		if diff := cmp.Diff(make([]float32, 8), got); diff != "" {
			t.Errorf("Transform of unknown features (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(make([]float32, 8), m.Transform(Sparse{})); diff != "" {
			t.Errorf("Transform of the empty vector (-want +got):\n%s", diff)
		}
	})
	t.Run("scale invariant", func(t *testing.T) {
		if diff := cmp.Diff(m.Transform(rows[3]), m.Transform(scaledCopies(rows[3], 3)[2]), approx32(1e-5)); diff != "" {
			t.Errorf("Transform(3x) differs from Transform(x) (-x +3x):\n%s", diff)
		}
	})
}

// TestFitLSABundled fits the bundled corpus's TF-IDF vectors.
func TestFitLSABundled(t *testing.T) {
	if testing.Short() {
		t.Skip("fits the whole bundled corpus")
	}
	docs := bundledDocs(t)
	lex, sparse := FitTFIDF(docs, TFIDFConfig{})
	m, vecs, err := FitLSA(sparse, lex.Len(), LSAConfig{Dims: 64})
	if err != nil {
		t.Fatal(err)
	}
	if m.Dims() != 64 || len(vecs) != len(docs) {
		t.Fatalf("Dims() = %d, %d vectors; want 64, %d", m.Dims(), len(vecs), len(docs))
	}
	for i, v := range vecs {
		if nv := norm32(v); math.Abs(nv-1) > 1e-5 {
			t.Errorf("doc %d norm %v", i, nv)
		}
	}
	for _, i := range []int{0, 100, 573} {
		if diff := cmp.Diff(vecs[i], m.Transform(lex.Transform(docs[i])), approx32(1e-4)); diff != "" {
			t.Errorf("Transform(doc %d) differs (-fit +transform):\n%s", i, diff)
		}
	}
}

func BenchmarkFitLSA(b *testing.B) {
	docs := bundledDocs(b)
	for _, n := range []int{100, 300, len(docs)} {
		lex, sparse := FitTFIDF(docs[:n], TFIDFConfig{})
		for _, dims := range []int{64, 128} {
			b.Run(fmt.Sprintf("docs=%d/dims=%d", n, dims), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, _, err := FitLSA(sparse, lex.Len(), LSAConfig{Dims: dims}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkLSATransform(b *testing.B) {
	docs := bundledDocs(b)
	lex, sparse := FitTFIDF(docs, TFIDFConfig{})
	m, _, err := FitLSA(sparse, lex.Len(), LSAConfig{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		m.Transform(sparse[i%len(sparse)])
	}
}

// TestLSASampledFit checks the large-corpus path: fitted on a seeded
// sample, every document folded in, deterministic, and close to the full
// fit on the same data.
func TestLSASampledFit(t *testing.T) {
	rows := randomSparse(7, 400, 300, 0.05)
	full, fv, err := FitLSA(rows, 300, LSAConfig{Dims: 20})
	if err != nil {
		t.Fatal(err)
	}
	sm, sv, err := FitLSA(rows, 300, LSAConfig{Dims: 20, MaxFit: 200})
	if err != nil {
		t.Fatal(err)
	}
	_, sv2, _ := FitLSA(rows, 300, LSAConfig{Dims: 20, MaxFit: 200})
	if len(sv) != len(rows) {
		t.Fatalf("%d vectors for %d rows", len(sv), len(rows))
	}
	for i := range sv {
		if !slices.Equal(sv[i], sv2[i]) {
			t.Fatalf("row %d: the sampled fit is not deterministic", i)
		}
		var norm float64
		for _, v := range sv[i] {
			norm += float64(v) * float64(v)
		}
		if rows[i].Len() > 0 && math.Abs(norm-1) > 1e-4 {
			t.Fatalf("row %d: norm %v", i, norm)
		}
	}
	// Leading singular values of half the rows are about those of all rows
	// scaled by sqrt(1/2), and the top direction agrees: compare the
	// cosines of a few pairs under both fits.
	ratio := sm.SingularValues()[0] / full.SingularValues()[0]
	if ratio < 0.6 || ratio > 0.85 {
		t.Errorf("top singular value ratio sampled/full %.3f, want about 0.71", ratio)
	}
	if len(fv) != len(sv) {
		t.Errorf("full fit gave %d vectors, sampled %d", len(fv), len(sv))
	}
}
