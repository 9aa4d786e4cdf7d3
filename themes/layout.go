package themes

import (
	"cmp"
	"context"
	"math"
	"math/rand/v2"
	"slices"
)

// Layout parameters: a UMAP-like embedding of the k-nearest-neighbour graph
// (McInnes, Healy and Melville 2018) with the Cauchy kernel 1/(1+d²) of
// t-SNE, which is UMAP's curve with a = b = 1 and needs no powers.
const (
	layoutNeighbours = 12
	layoutEpochs     = 200
	layoutNegatives  = 4
	// crossTheme scales the pull of a neighbour in another theme, so that
	// each theme gathers into a region while neighbouring themes stay near.
	crossTheme = 0.2
	// layoutRound rounds positions, so that JSON stays short and stable.
	layoutRound = 1e4
)

// neighbours returns each unit's k most similar others from a similarity
// matrix, best first (ties: lower index).
func neighbours(s []float32, m, k int) [][]int {
	k = min(k, m-1)
	out := make([][]int, m)
	parallel(m, func(i int) {
		row := s[i*m : (i+1)*m]
		nb := make([]int, 0, k+1)
		better := func(a, b int) bool { return row[a] > row[b] || (row[a] == row[b] && a < b) }
		for j := range m {
			if j == i {
				continue
			}
			if len(nb) == k && !better(j, nb[k-1]) {
				continue
			}
			pos := len(nb)
			for pos > 0 && better(j, nb[pos-1]) {
				pos--
			}
			nb = slices.Insert(nb, pos, j)
			if len(nb) > k {
				nb = nb[:k]
			}
		}
		out[i] = nb
	})
	return out
}

// layout places the groups on a plane and the papers with them. Groups start
// from the first two principal components of their vectors, half their own
// and half their theme's, and are then pulled towards their neighbours and
// pushed from random others by stochastic gradient descent with a seeded
// generator: O(m·k) per epoch. Papers of a micro-cluster (above
// [ExactLimit]) scatter around its place. The result is scaled into [0, 1]².
func layout(ctx context.Context, vecs [][]float32, g groups, nb [][]int, theme []int, seed uint64) ([]Point, error) {
	m := len(g.size)
	rng := rand.New(rand.NewPCG(seed, 0x6c61796f7574)) // "layout"
	// Theme of each group: that of its first paper (a micro-cluster's papers
	// nearly always share one).
	gTheme := make([]int, m)
	for i := range gTheme {
		gTheme[i] = math.MinInt
	}
	for i, grp := range g.of {
		if gTheme[grp] == math.MinInt {
			gTheme[grp] = theme[i]
		}
	}
	y := initialLayout(g, gTheme)
	if m > 1 {
		type edge struct {
			a, b int
			w    float64
		}
		seen := map[[2]int]bool{}
		var edges []edge
		for a, list := range nb {
			for _, b := range list {
				key := [2]int{min(a, b), max(a, b)}
				if seen[key] {
					continue
				}
				seen[key] = true
				w := 1.0
				if gTheme[a] != gTheme[b] || gTheme[a] == OutlierID {
					w = crossTheme
				}
				edges = append(edges, edge{key[0], key[1], w})
			}
		}
		slices.SortFunc(edges, func(x, z edge) int {
			if c := cmp.Compare(x.a, z.a); c != 0 {
				return c
			}
			return cmp.Compare(x.b, z.b)
		})
		for epoch := range layoutEpochs {
			if epoch%20 == 0 {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
			}
			lr := 1 - float64(epoch)/layoutEpochs
			for _, e := range edges {
				if e.w < 1 && rng.Float64() >= e.w {
					continue
				}
				pa, pb := &y[e.a], &y[e.b]
				dx, dy := pa.X-pb.X, pa.Y-pb.Y
				c := -2 / (1 + dx*dx + dy*dy)
				gx, gy := clip(c*dx)*lr, clip(c*dy)*lr
				pa.X += gx
				pa.Y += gy
				pb.X -= gx
				pb.Y -= gy
				for range layoutNegatives {
					o := rng.IntN(m)
					if o == e.a {
						continue
					}
					po := &y[o]
					dx, dy := pa.X-po.X, pa.Y-po.Y
					d2 := dx*dx + dy*dy
					c := 2 / ((0.001 + d2) * (1 + d2))
					pa.X += clip(c*dx) * lr
					pa.Y += clip(c*dy) * lr
				}
			}
		}
	}
	pts := y
	if m < len(vecs) {
		pts = scatter(y, g, nb, rng)
	}
	return normalize(pts), nil
}

// initialLayout returns the first two principal components of each group's
// mean vector, blended half and half with its theme's mean, scaled to a
// spread of about 10 (UMAP's starting range).
func initialLayout(g groups, gTheme []int) []Point {
	m, dim := len(g.size), len(g.sum[0])
	x := make([][]float64, m)
	for i := range x {
		x[i] = make([]float64, dim)
		for d := range x[i] {
			x[i][d] = g.sum[i][d] / float64(g.size[i])
		}
	}
	// Theme means, then the blend.
	tsum := map[int][]float64{}
	tn := map[int]int{}
	for i, t := range gTheme {
		if tsum[t] == nil {
			tsum[t] = make([]float64, dim)
		}
		for d, v := range x[i] {
			tsum[t][d] += v * float64(g.size[i])
		}
		tn[t] += g.size[i]
	}
	for i, t := range gTheme {
		if t == OutlierID {
			continue
		}
		for d := range x[i] {
			x[i][d] = 0.5*x[i][d] + 0.5*tsum[t][d]/float64(tn[t])
		}
	}
	mean := make([]float64, dim)
	for _, v := range x {
		for d := range v {
			mean[d] += v[d] / float64(m)
		}
	}
	for _, v := range x {
		for d := range v {
			v[d] -= mean[d]
		}
	}
	cov := make([][]float64, dim)
	for d := range cov {
		cov[d] = make([]float64, dim)
	}
	for _, v := range x {
		for a, va := range v {
			row := cov[a]
			for b := a; b < dim; b++ {
				row[b] += va * v[b]
			}
		}
	}
	for a := range dim {
		for b := range a {
			cov[a][b] = cov[b][a]
		}
	}
	pc1 := principal(cov, nil)
	pc2 := principal(cov, pc1)
	y := make([]Point, m)
	var sx, sy float64
	for i, v := range x {
		y[i] = Point{dot64(v, pc1), dot64(v, pc2)}
		sx += y[i].X * y[i].X
		sy += y[i].Y * y[i].Y
	}
	sx, sy = math.Sqrt(sx/float64(m)), math.Sqrt(sy/float64(m))
	for i := range y {
		if sx > 0 {
			y[i].X *= 5 / sx
		}
		if sy > 0 {
			y[i].Y *= 5 / sy
		}
	}
	return y
}

// principal returns the leading eigenvector of a symmetric matrix (the
// covariance of the centred rows) by power iteration from a fixed start,
// orthogonal to prev when given. The sign is fixed so that the largest
// coordinate is positive.
func principal(cov [][]float64, prev []float64) []float64 {
	dim := len(cov)
	v := make([]float64, dim)
	for d := range v {
		v[d] = 1 / math.Sqrt(float64(d+1))
	}
	orth := func(v []float64) {
		if prev != nil {
			p := dot64(v, prev)
			for d := range v {
				v[d] -= p * prev[d]
			}
		}
		n := math.Sqrt(dot64(v, v))
		if n == 0 {
			return
		}
		for d := range v {
			v[d] /= n
		}
	}
	orth(v)
	w := make([]float64, dim)
	for range 60 {
		for d, row := range cov {
			w[d] = dot64(row, v)
		}
		orth(w)
		v, w = w, v
	}
	big := 0
	for d := range v {
		if math.Abs(v[d]) > math.Abs(v[big]) {
			big = d
		}
	}
	if v[big] < 0 {
		for d := range v {
			v[d] = -v[d]
		}
	}
	return v
}

// scatter places each paper near its micro-cluster: a seeded normal offset
// of a quarter of the distance to the cluster's nearest neighbour.
func scatter(y []Point, g groups, nb [][]int, rng *rand.Rand) []Point {
	spread := make([]float64, len(y))
	for a := range y {
		spread[a] = math.Inf(1)
		for _, b := range nb[a] {
			spread[a] = min(spread[a], math.Hypot(y[a].X-y[b].X, y[a].Y-y[b].Y))
		}
		if math.IsInf(spread[a], 1) {
			spread[a] = 0
		}
	}
	pts := make([]Point, len(g.of))
	for i, grp := range g.of {
		r := spread[grp] / 4
		pts[i] = Point{y[grp].X + r*rng.NormFloat64(), y[grp].Y + r*rng.NormFloat64()}
	}
	return pts
}

// normalize scales points into [0, 1]² keeping the aspect ratio, the shorter
// side centred, and rounds them.
func normalize(p []Point) []Point {
	if len(p) == 0 {
		return p
	}
	minX, maxX, minY, maxY := p[0].X, p[0].X, p[0].Y, p[0].Y
	for _, q := range p {
		minX, maxX = min(minX, q.X), max(maxX, q.X)
		minY, maxY = min(minY, q.Y), max(maxY, q.Y)
	}
	span := max(maxX-minX, maxY-minY)
	out := make([]Point, len(p))
	for i, q := range p {
		if span == 0 {
			out[i] = Point{0.5, 0.5}
			continue
		}
		x := (q.X-minX)/span + (1-(maxX-minX)/span)/2
		y := (q.Y-minY)/span + (1-(maxY-minY)/span)/2
		out[i] = Point{math.Round(x*layoutRound) / layoutRound, math.Round(y*layoutRound) / layoutRound}
	}
	return out
}

func clip(v float64) float64 { return max(-4, min(4, v)) }
