package themes

import (
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/paperrec/paperrec/models"
)

// Added is a paper that joins a model after it was built: the engine
// places it (its theme and map point) from its nearest neighbours.
//
// A plain value.
type Added struct {
	Paper models.Paper
	Theme int
	Point Point
}

// Removed is a paper that leaves a model: its position and the paper.
//
// A plain value.
type Removed struct {
	Position int
	Paper    models.Paper
}

// Change returns a model in which the added papers have joined their
// themes, appended at the next positions in order, and then the removed
// papers (at old or new positions) have left theirs. m itself is unchanged: the new model shares what did
// not change with it, so a change costs the size of the themes it touches,
// not of the corpus. Members, sizes, area and year counts follow; a removed
// representative leaves the representatives, and a theme whose
// representatives changed is summarised by their titles until the next
// build. Labels and terms stay those of the build.
//
// An added paper placed in a theme that does not exist (the outlier group
// of a model without one, say) is an error wrapping [ErrInvalidInput].
func (m *Model) Change(removed []Removed, added []Added) (*Model, error) {
	n := &Model{themes: slices.Clone(m.themes), of: m.of, layout: m.layout, stats: m.stats, titles: m.titles}
	index := func(id int) (int, error) {
		switch {
		case id >= 0 && id < m.stats.Themes:
			return id, nil
		case id == OutlierID && m.stats.Outliers > 0:
			return len(m.themes) - 1, nil
		}
		return 0, fmt.Errorf("%w: no theme %d", ErrInvalidInput, id)
	}
	for _, a := range added {
		if _, err := index(a.Theme); err != nil {
			return nil, err
		}
	}
	touched := map[int]bool{}
	touch := func(c int) *Theme {
		t := &n.themes[c]
		if !touched[c] {
			touched[c] = true
			t.Members = slices.Clone(t.Members)
			t.Categories = maps.Clone(t.Categories)
			t.Years = maps.Clone(t.Years)
			t.Representative = slices.Clone(t.Representative)
		}
		return t
	}
	titlesCopied := false
	setTitle := func(id, title string, keep bool) {
		if !titlesCopied {
			n.titles, titlesCopied = maps.Clone(n.titles), true
		}
		if keep {
			n.titles[id] = title
		} else {
			delete(n.titles, id)
		}
	}
	for _, a := range added {
		c, _ := index(a.Theme)
		t := touch(c)
		t.Members = append(t.Members, a.Paper.ID)
		t.Size++
		count(t.Categories, area(a.Paper), 1)
		count(t.Years, year(a.Paper), 1)
		if t.Outlier {
			setTitle(a.Paper.ID, a.Paper.Title, true)
			n.stats.Outliers++
		}
		n.stats.Papers++
		n.of = append(n.of, a.Theme)
		n.layout = append(n.layout, a.Point)
	}
	repsChanged := map[int]bool{}
	for _, r := range removed {
		if r.Position < 0 || r.Position >= len(n.of) {
			return nil, fmt.Errorf("%w: removed position %d of %d", ErrInvalidInput, r.Position, len(n.of))
		}
		c, err := index(n.of[r.Position])
		if err != nil {
			return nil, err
		}
		t := touch(c)
		k := slices.Index(t.Members, r.Paper.ID)
		if k < 0 {
			return nil, fmt.Errorf("%w: paper %q is not in theme %d", ErrInvalidInput, r.Paper.ID, t.ID)
		}
		t.Members = slices.Delete(t.Members, k, k+1)
		t.Size--
		count(t.Categories, area(r.Paper), -1)
		count(t.Years, year(r.Paper), -1)
		if k := slices.IndexFunc(t.Representative, func(p PaperRef) bool { return p.ID == r.Paper.ID }); k >= 0 {
			t.Representative = slices.Delete(t.Representative, k, k+1)
			repsChanged[c] = true
		}
		if t.Outlier {
			setTitle(r.Paper.ID, "", false)
			n.stats.Outliers--
		}
		n.stats.Papers--
	}
	for c := range touched {
		t := &n.themes[c]
		switch {
		case t.Outlier:
			t.Summary = outlierSummary(*t)
		case repsChanged[c]:
			t.Summary = refsSummary(t.Representative)
		}
	}
	return n, nil
}

// count adds d to key's count, dropping a count that reaches zero.
func count(m map[string]int, key string, d int) {
	if m[key]+d <= 0 {
		delete(m, key)
		return
	}
	m[key] += d
}

// area and year are the keys a theme counts a paper under.
func area(p models.Paper) string {
	if p.Category == "" {
		return "Uncategorized"
	}
	return string(p.Category)
}

func year(p models.Paper) string {
	if p.Year() == 0 {
		return "unknown"
	}
	return strconv.Itoa(p.Year())
}

// refsSummary is titlesSummary for papers named by reference.
func refsSummary(refs []PaperRef) string {
	papers := make([]models.Paper, len(refs))
	central := make([]int, len(refs))
	for i, r := range refs {
		papers[i], central[i] = models.Paper{Title: r.Title}, i
	}
	return titlesSummary(papers, central)
}
