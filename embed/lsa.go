package embed

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// LSAConfig tunes latent semantic analysis. Zero values mean the defaults.
type LSAConfig struct {
	// Dims is the number of latent dimensions (default 128, at most the
	// number of documents).
	Dims int
	// Oversample and PowerIters tune the randomized SVD (defaults 16 and 3).
	Oversample, PowerIters int
	// Seed seeds the random projection and the sample (default 1); the same
	// corpus and seed give the same vectors.
	Seed uint64
	// View, when set, is applied to each document before the model sees
	// it (recommend passes the shareable part of a TF-IDF vector): the
	// viewed rows of the fitted sample are kept, the rest are viewed one by
	// one as they are folded in, so a large corpus is never held twice.
	View func(Sparse) Sparse
	// MaxFit bounds the documents the SVD is fitted on (default 10,000): a
	// larger corpus is fitted on a seeded sample of that many and every
	// document is folded in, so the cost of fitting stops growing with the
	// corpus and the rest is linear.
	MaxFit int
}

func (c LSAConfig) withDefaults() LSAConfig {
	if c.Dims <= 0 {
		c.Dims = 128
	}
	if c.Oversample <= 0 {
		c.Oversample = 16
	}
	if c.PowerIters <= 0 {
		c.PowerIters = 3
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.MaxFit <= 0 {
		c.MaxFit = 10_000
	}
	return c
}

// LSA projects sparse vectors onto the leading singular directions of a
// corpus's TF-IDF matrix, giving dense unit vectors of fixed dimension in
// which papers that share no word but share context still come close. Safe
// for concurrent use.
type LSA struct {
	dims, terms, l int
	// ids are the features the fit used, ascending, and slot numbers them
	// (−1 for the others): Z holds a row per used feature.
	ids  []uint32
	slot []int32
	// A query x maps to (x·Z)·M: Z = AᵀQ is terms×l (row-major) and M = W_k Σ⁻¹
	// is l×dims, so that x·Z·M = x·V_k, classic LSA's U Σ coordinates.
	z     []float32
	m     []float64
	sigma []float64
}

// ErrEmptyCorpus is returned when a model is fitted on no documents or no features.
var ErrEmptyCorpus = errors.New("empty corpus")

// FitLSA computes a rank-Dims truncated SVD of the matrix A whose rows are
// docs (over terms features) with a seeded randomized SVD (Halko, Martinsson
// and Tropp 2011, with power iterations). Every dense factorisation is of an
// l×l matrix (l = Dims + Oversample) and every product is linear in the
// non-zeros of A or in the number of documents, so it scales to large sparse
// corpora where a dense SVD does not. It returns the model and the
// documents' dense unit vectors.
func FitLSA(docs []Sparse, terms int, cfg LSAConfig) (*LSA, [][]float32, error) {
	cfg = cfg.withDefaults()
	if len(docs) == 0 || terms == 0 {
		return nil, nil, ErrEmptyCorpus
	}
	all := docs
	if len(docs) > cfg.MaxFit {
		docs = sample(docs, cfg.MaxFit, cfg.Seed)
	}
	if cfg.View != nil {
		viewed := make([]Sparse, len(docs))
		for i, d := range docs {
			viewed[i] = cfg.View(d)
		}
		docs = viewed
	}
	// Only the features the fitted documents hold take part: the others'
	// rows of Z would be zero. Numbering them densely keeps Z (float64
	// while fitting, float32 in the model) to the features in use, a
	// fraction of a large corpus's vocabulary; the random projection is
	// still drawn by the original feature numbers, so nothing else changes.
	slot := make([]int32, terms)
	for t := range slot {
		slot[t] = -1
	}
	for _, d := range docs {
		for _, t := range d.Idx {
			if int(t) < terms {
				slot[t] = 0
			}
		}
	}
	var ids []uint32
	for t, s := range slot {
		if s == 0 {
			slot[t] = int32(len(ids))
			ids = append(ids, uint32(t))
		}
	}
	if len(ids) == 0 {
		// No document holds a feature (a corpus of one paper, whose
		// features no other shares): every vector is zero, as before.
		for t := range slot {
			slot[t] = int32(t)
			ids = append(ids, uint32(t))
		}
	}
	dense := make([]Sparse, len(docs))
	for i, d := range docs {
		dense[i] = Sparse{Idx: make([]uint32, 0, len(d.Idx)), Val: make([]float32, 0, len(d.Val))}
		for j, t := range d.Idx {
			if int(t) < terms {
				dense[i].Idx = append(dense[i].Idx, uint32(slot[t]))
				dense[i].Val = append(dense[i].Val, d.Val[j])
			}
		}
	}
	docs = dense
	used := len(ids)
	n := len(docs)
	k := min(cfg.Dims, n, used)
	l := min(k+cfg.Oversample, n, used)

	// Y = A Ω, Ω a terms×l Rademacher matrix drawn from hashed seeds and
	// stored as bits.
	y := mulSparseSigns(docs, ids, l, cfg.Seed)
	cols := transpose(docs, used)
	q, err := orthonormal(y)
	if err != nil {
		return nil, nil, err
	}
	var z *mat.Dense
	for range cfg.PowerIters {
		z = mulSparseT(cols, q, l)
		if q, err = orthonormal(mulSparse(docs, z, l)); err != nil {
			return nil, nil, err
		}
	}
	// B = QᵀA = Zᵀ. B Bᵀ = Qᵀ(A Z) = W Λ Wᵀ, so A ≈ Q W Σ Vᵀ with Σ = √Λ and
	// V = Bᵀ W Σ⁻¹ = Z W Σ⁻¹.
	z = mulSparseT(cols, q, l)
	az := mulSparse(docs, z, l)
	var bbt mat.Dense
	bbt.Mul(q.T(), az)
	sym := mat.NewSymDense(l, nil)
	for a := range l {
		for b := a; b < l; b++ {
			sym.SetSym(a, b, (bbt.At(a, b)+bbt.At(b, a))/2)
		}
	}
	var eig mat.EigenSym
	if !eig.Factorize(sym, true) {
		return nil, nil, fmt.Errorf("lsa: eigendecomposition did not converge")
	}
	vals := eig.Values(nil) // ascending
	var w mat.Dense
	eig.VectorsTo(&w)

	m := &LSA{dims: k, terms: terms, l: l, ids: ids, slot: slot, z: make([]float32, used*l), m: make([]float64, l*k), sigma: make([]float64, k)}
	for c := range k {
		e := l - 1 - c // largest first
		sv := math.Sqrt(math.Max(vals[e], 0))
		m.sigma[c] = sv
		if sv < 1e-12 {
			continue
		}
		for r := range l {
			m.m[r*k+c] = w.At(r, e) / sv
		}
	}
	zr := z.RawMatrix()
	for t := range used {
		for c := range l {
			m.z[t*l+c] = float32(zr.Data[t*zr.Stride+c])
		}
	}
	// Documents: A V = (A Z) M for the fitted ones; a sampled fit folds in all.
	vecs := make([][]float32, len(all))
	if len(all) == n {
		for i := range n {
			vecs[i] = m.project(az.RawRowView(i))
		}
	} else {
		inBlocks(len(all), 64, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				d := all[i]
				if cfg.View != nil {
					d = cfg.View(d)
				}
				vecs[i] = m.Transform(d)
			}
		})
	}
	return m, vecs, nil
}

// sample returns k of the rows, chosen by a seeded shuffle, in their order.
func sample(rows []Sparse, k int, seed uint64) []Sparse {
	idx := make([]int, len(rows))
	for i := range idx {
		idx[i] = i
	}
	// Partial Fisher-Yates with a splitmix64 stream: deterministic.
	state := seed
	for i := 0; i < k; i++ {
		state = splitmix64(state)
		j := i + int(state%uint64(len(idx)-i))
		idx[i], idx[j] = idx[j], idx[i]
	}
	chosen := idx[:k]
	slices.Sort(chosen)
	out := make([]Sparse, k)
	for i, j := range chosen {
		out[i] = rows[j]
	}
	return out
}

// Dims returns the dimension of the dense vectors.
func (m *LSA) Dims() int { return m.dims }

// SingularValues returns the singular values found, largest first.
func (m *LSA) SingularValues() []float64 { return append([]float64(nil), m.sigma...) }

// Transform folds a sparse vector into the latent space and returns a unit
// vector (all zeros when the vector shares no feature with the corpus).
func (m *LSA) Transform(s Sparse) []float32 {
	xz := make([]float64, m.l)
	for j, t := range s.Idx {
		if int(t) >= m.terms || m.slot[t] < 0 {
			continue
		}
		v := float64(s.Val[j])
		at := int(m.slot[t]) * m.l
		for c, zv := range m.z[at : at+m.l] {
			xz[c] += v * float64(zv)
		}
	}
	return m.project(xz)
}

// project maps a row of A·Z to a unit vector: (x·Z)·M, normalised.
func (m *LSA) project(xz []float64) []float32 {
	out := make([]float64, m.dims)
	for r, v := range xz {
		if v == 0 {
			continue
		}
		for c, mv := range m.m[r*m.dims : (r+1)*m.dims] {
			out[c] += v * mv
		}
	}
	var norm float64
	for _, v := range out {
		norm += v * v
	}
	vec := make([]float32, m.dims)
	if norm == 0 {
		return vec
	}
	norm = math.Sqrt(norm)
	for c, v := range out {
		vec[c] = float32(v / norm)
	}
	return vec
}

// mulSparseSigns returns A·Ω for sparse rows A over the features ids (by
// their place in ids) and a matrix Ω of ±1 entries, each drawn from a hash
// of (seed, the feature's original number, column).
func mulSparseSigns(rows []Sparse, ids []uint32, l int, seed uint64) *mat.Dense {
	terms := len(ids)
	words := (l + 63) / 64
	bits := make([]uint64, terms*words)
	for t, id := range ids {
		for w := range words {
			bits[t*words+w] = splitmix64(seed ^ (uint64(id)*uint64(words) + uint64(w) + 1))
		}
	}
	y := mat.NewDense(len(rows), l, nil)
	inBlocks(len(rows), 64, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			r := rows[i]
			out := y.RawRowView(i)
			for j, t := range r.Idx {
				if int(t) >= terms {
					continue
				}
				b := bits[int(t)*words : int(t+1)*words]
				v := float64(r.Val[j])
				for c := range out {
					if b[c/64]>>(c%64)&1 == 1 {
						out[c] += v
					} else {
						out[c] -= v
					}
				}
			}
		}
	})
	return y
}

// splitmix64 is a fast 64-bit mixer (Steele, Lea and Flood 2014).
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// mulSparse returns A·X for sparse rows A (n×terms) and dense X (terms×l).
func mulSparse(rows []Sparse, x *mat.Dense, l int) *mat.Dense {
	y := mat.NewDense(len(rows), l, nil)
	raw := x.RawMatrix()
	inBlocks(l, 32, func(lo, hi int) {
		for i, r := range rows {
			out := y.RawRowView(i)[lo:hi]
			for j, t := range r.Idx {
				if int(t) >= raw.Rows {
					continue
				}
				// out += v·x, gonum's assembly axpy: same arithmetic as
				// the loop it replaces, about twice as fast.
				floats.AddScaled(out, float64(r.Val[j]), raw.Data[int(t)*raw.Stride+lo:int(t)*raw.Stride+hi])
			}
		}
	})
	return y
}

// column is one column of a sparse matrix: the rows holding a feature.
type column struct {
	rows []int32
	vals []float32
}

// transpose returns the columns of sparse rows over terms features.
func transpose(rows []Sparse, terms int) []column {
	cols := make([]column, terms)
	for i, r := range rows {
		for j, t := range r.Idx {
			if int(t) < terms {
				cols[t].rows = append(cols[t].rows, int32(i))
				cols[t].vals = append(cols[t].vals, r.Val[j])
			}
		}
	}
	return cols
}

// mulSparseT returns Aᵀ·Q for A given by its columns and dense Q (n×l):
// each output row is written once and the reads fall in Q, which is small.
func mulSparseT(cols []column, q *mat.Dense, l int) *mat.Dense {
	z := mat.NewDense(len(cols), l, nil)
	raw := z.RawMatrix()
	inBlocks(len(cols), 64, func(lo, hi int) {
		for t := lo; t < hi; t++ {
			out := raw.Data[t*raw.Stride : t*raw.Stride+l]
			col := cols[t]
			for j, i := range col.rows {
				floats.AddScaled(out, float64(col.vals[j]), q.RawRowView(int(i)))
			}
		}
	})
	return z
}

// inBlocks runs f over disjoint blocks [lo, hi) of [0, n), one per
// goroutine, on up to GOMAXPROCS goroutines and no block smaller than
// minBlock: the sparse products split rows or columns this way, so no two
// goroutines write one output element.
func inBlocks(n, minBlock int, f func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), max(1, n/minBlock))
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*n/workers, (w+1)*n/workers
		wg.Go(func() { f(lo, hi) })
	}
	wg.Wait()
}

// Above gramSplit rows the Gram matrix of orthonormal is summed from row
// blocks computed in parallel (gonum's BLAS runs on one core), which
// changes the order of the additions: corpora of the bundled size keep
// their exact digits. solveBlock is the smallest block of rows solved on a
// core of its own.
const (
	gramSplit  = 8192
	gramBlocks = 8
	solveBlock = 2048
)

// gramOf returns AᵀA.
func gramOf(a *mat.Dense) *mat.SymDense {
	rows, c := a.Dims()
	gram := mat.NewSymDense(c, nil)
	if rows < gramSplit {
		gram.SymOuterK(1, a.T())
		return gram
	}
	// A fixed number of blocks, summed in their order: the same digits on
	// every run, whatever the number of cores.
	parts := make([]*mat.SymDense, gramBlocks)
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for b := range gramBlocks {
		lo, hi := b*rows/gramBlocks, (b+1)*rows/gramBlocks
		g.Go(func() error {
			parts[b] = mat.NewSymDense(c, nil)
			parts[b].SymOuterK(1, a.Slice(lo, hi, 0, c).T())
			return nil
		})
	}
	g.Wait()
	for _, part := range parts {
		gram.AddSym(gram, part)
	}
	return gram
}

// orthonormal returns an orthonormal basis of a's column space as an r×c
// matrix, in O(r·c²) time and without an r×r factor, so it scales to
// millions of rows. It runs CholeskyQR2 (Q = A R⁻¹ with RᵀR = AᵀA, twice for
// numerical orthogonality); when AᵀA is too ill-conditioned for Cholesky it
// falls back to Q = A W Λ^(-1/2) from AᵀA = W Λ Wᵀ, where directions with
// negligible energy become zero columns.
func orthonormal(a *mat.Dense) (*mat.Dense, error) {
	q := a
	for range 2 {
		rows, c := q.Dims()
		gram := gramOf(q)
		var chol mat.Cholesky
		if chol.Factorize(gram) {
			var r mat.TriDense
			chol.UTo(&r)
			// Q R = A  ⇒  Rᵀ Qᵀ = Aᵀ: solve with the triangular factor,
			// each block of rows on its own core (a row's solution does not
			// depend on the others, so the split changes no digit).
			next := mat.NewDense(rows, c, nil)
			var failed atomic.Bool
			inBlocks(rows, solveBlock, func(lo, hi int) {
				var sol mat.Dense
				if err := sol.Solve(r.T(), q.Slice(lo, hi, 0, c).T()); err != nil {
					failed.Store(true)
					return
				}
				next.Slice(lo, hi, 0, c).(*mat.Dense).Copy(sol.T())
			})
			if !failed.Load() {
				q = next
				continue
			}
		}
		var eig mat.EigenSym
		if !eig.Factorize(gram, true) {
			return nil, fmt.Errorf("lsa: orthonormalisation did not converge")
		}
		vals := eig.Values(nil)
		var w mat.Dense
		eig.VectorsTo(&w)
		top := vals[len(vals)-1]
		for j := range c {
			scale := 0.0
			if vals[j] > top*1e-12 && vals[j] > 0 {
				scale = 1 / math.Sqrt(vals[j])
			}
			for i := range c {
				w.Set(i, j, w.At(i, j)*scale)
			}
		}
		var next mat.Dense
		next.Mul(q, &w)
		q = &next
	}
	return q, nil
}
