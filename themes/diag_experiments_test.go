//go:build themes_experiments

package themes

import (
	"cmp"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/paperrec/paperrec/models"
)

// LabelCandidates reports, for each theme of m, its label and its best
// label candidates with their coverage and concentration.
func LabelCandidates(papers []models.Paper, m *Model) string {
	k := m.stats.Themes
	classes := make([][]int, k+1)
	for i, t := range m.of {
		c := t
		if t == OutlierID {
			c = k
		}
		classes[c] = append(classes[c], i)
	}
	tm := newTermModel(papers, nil)
	w := tm.classWeights(classes)
	var b strings.Builder
	for c := range k {
		mem := classes[c]
		fmt.Fprintf(&b, "\n## %d (%d) %s\n", c, len(mem), m.themes[c].Label)
		type row struct {
			t                  int
			count, listed      int
			cover, conc, score float64
		}
		var rows []row
		for t := range w[c] {
			if !tm.labelTerm(t, 1) && !tm.titled[t] {
				continue
			}
			r := row{t: t}
			for _, i := range mem {
				if tm.has(i, t) {
					r.count++
				}
				for _, kw := range papers[i].Keywords {
					if strings.EqualFold(strings.Join(strings.Fields(kw), " "), tm.display[t]) {
						r.listed++
						break
					}
				}
			}
			r.cover = float64(r.count) / float64(len(mem))
			r.conc = float64(r.count) / float64(tm.df[t])
			r.score = w[c][t]
			rows = append(rows, r)
		}
		slices.SortFunc(rows, func(a, b row) int { return cmp.Compare(b.cover*b.conc, a.cover*a.conc) })
		for _, r := range rows[:min(12, len(rows))] {
			fmt.Fprintf(&b, "  %-40.40s cnt %2d lst %2d df %3d L %3d cover %.2f conc %.2f  w %.3f  cc %.3f\n",
				tm.display[r.t], r.count, r.listed, tm.df[r.t], tm.listed[r.t], r.cover, r.conc, r.score, r.cover*r.conc)
		}
	}
	return b.String()
}

// MemberFits reports, for each member of each theme of m, its mean cosine
// to the theme's other members, its best other theme and that fit, and the
// theme's median fit.
func MemberFits(papers []models.Paper, vecs [][]float32, m *Model) string {
	k := m.stats.Themes
	classes := make([][]int, k+1)
	for i, t := range m.of {
		c := t
		if t == OutlierID {
			c = k
		}
		classes[c] = append(classes[c], i)
	}
	fit := func(i int, mem []int) float64 {
		s, n := 0.0, 0
		for _, j := range mem {
			if j != i {
				s += dot32(vecs[i], vecs[j])
				n++
			}
		}
		return s / float64(max(1, n))
	}
	var b strings.Builder
	for c := range k + 1 {
		fits := make([]float64, len(classes[c]))
		for x, i := range classes[c] {
			fits[x] = fit(i, classes[c])
		}
		sorted := slices.Clone(fits)
		slices.Sort(sorted)
		med := sorted[len(sorted)/2]
		label := "OUTLIERS"
		if c < k {
			label = m.themes[c].Label
		}
		fmt.Fprintf(&b, "\n## %d (%d) %s  median fit %.3f\n", c, len(classes[c]), label, med)
		for x, i := range classes[c] {
			best, bf := -1, -1.0
			for u := range k {
				if u == c {
					continue
				}
				if f := fit(i, classes[u]); f > bf {
					best, bf = u, f
				}
			}
			mark := ""
			if bf > fits[x] {
				mark = "  MOVE"
			}
			fmt.Fprintf(&b, "  %3d own %.3f (rel %.2f)  best other %2d %.3f%s  %-70.70s\n", i, fits[x], fits[x]/med, best, bf, mark, papers[i].Title)
		}
	}
	return b.String()
}

// ThemeSplits reports, for each theme, the communities of its own
// nearest-neighbour graph and their modularity.
func ThemeSplits(papers []models.Paper, vecs [][]float32, m *Model, k int) string {
	classes := make([][]int, m.stats.Themes+1)
	for i, t := range m.of {
		c := t
		if t == OutlierID {
			c = m.stats.Themes
		}
		classes[c] = append(classes[c], i)
	}
	var b strings.Builder
	for c, list := range classes {
		if len(list) < 4 {
			continue
		}
		comm, q := themeCommunities(vecs, list, k)
		parts := map[int][]int{}
		for x, cc := range comm {
			parts[cc] = append(parts[cc], list[x])
		}
		var sizes []int
		for _, p := range parts {
			sizes = append(sizes, len(p))
		}
		slices.Sort(sizes)
		slices.Reverse(sizes)
		// Mean cosine within and between the two largest communities.
		label := "OUTLIERS"
		if c < m.stats.Themes {
			label = m.themes[c].Label
		}
		fmt.Fprintf(&b, "%2d (%2d) Q %.3f sizes %v  %s\n", c, len(list), q, sizes, label)
		if os.Getenv("PAPERREC_SPLITVERBOSE") != "" {
			for cc := range len(parts) {
				fmt.Fprintf(&b, "     [%d] coh %.3f:", cc, cohesion(vecs, parts[cc]))
				for _, i := range parts[cc] {
					fmt.Fprintf(&b, " %d %.25s;", i, papers[i].Title)
				}
				b.WriteString("\n")
			}
		}
	}
	return b.String()
}

// themeCommunities returns the communities (Louvain, resolution 1) of the
// k-nearest-neighbour graph of a theme's papers (list, indices into vecs),
// as a community per paper, and the modularity of that partition: the
// split of a mixed theme that the second pass measured and did not keep.
func themeCommunities(vecs [][]float32, list []int, k int) ([]int, float64) {
	n := len(list)
	k = min(k, n-1)
	sim := make([]float32, n*n)
	for a := range n {
		for b := a + 1; b < n; b++ {
			v := float32(dot32(vecs[list[a]], vecs[list[b]]))
			sim[a*n+b], sim[b*n+a] = v, v
		}
	}
	nb := neighbours(sim, n, k)
	keep := make([]int, n)
	size := make([]int, n)
	for i := range keep {
		keep[i], size[i] = i, 1
	}
	g := knnGraph(sim, size, nb, keep, keep, k)
	comm := louvain(g, 1)
	return comm, modularity(g, comm)
}

// modularity returns the modularity (resolution 1) of a partition of g.
func modularity(g graph, comm []int) float64 {
	if g.tot == 0 {
		return 0
	}
	k := 0
	for _, c := range comm {
		k = max(k, c+1)
	}
	in := make([]float64, k)
	tot := make([]float64, k)
	for i, list := range g.adj {
		tot[comm[i]] += g.deg[i]
		for e, j := range list {
			if comm[j] == comm[i] {
				in[comm[i]] += g.w[i][e]
			}
		}
	}
	q := 0.0
	for c := range k {
		q += in[c]/g.tot - (tot[c]/g.tot)*(tot[c]/g.tot)
	}
	return q
}
