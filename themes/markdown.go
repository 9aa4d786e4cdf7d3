package themes

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// maxListed bounds the outlier papers the report lists by title.
const maxListed = 30

// Markdown writes the themes as a report that reads on its own: an overview
// table, then each theme with its size, areas, years, summary, key terms
// and representative papers, and the papers of no theme last. Themes are
// numbered by their ids, as the API numbers them.
func (m *Model) Markdown(w io.Writer) error {
	bw := bufio.NewWriter(w)
	st := m.stats
	fmt.Fprintf(bw, "# Research themes\n\n")
	fmt.Fprintf(bw, "%d %s in %d %s", st.Papers, plural(st.Papers, "paper", "papers"), st.Themes, plural(st.Themes, "theme", "themes"))
	if st.Outliers > 0 {
		fmt.Fprintf(bw, "; %d %s (%s) fit no theme and %s listed at the end", st.Outliers,
			plural(st.Outliers, "paper", "papers"), percent(st.Outliers, st.Papers), plural(st.Outliers, "is", "are"))
	}
	fmt.Fprintf(bw, ". Each theme is a group of papers whose titles, abstracts and keyphrases are closest to each other; "+
		"its name comes from the keyphrases that set it apart, and its summary from its most central papers.\n\n")

	fmt.Fprintf(bw, "| # | Theme | Papers | Main areas | Years |\n|---:|---|---:|---|---|\n")
	for _, t := range m.themes {
		num := strconv.Itoa(t.ID)
		if t.Outlier {
			num = ""
		}
		fmt.Fprintf(bw, "| %s | %s | %d | %s | %s |\n", num, escape(t.Label), t.Size, areas(t.Categories, 2), years(t.Years, false))
	}
	for _, t := range m.themes {
		if t.Outlier {
			fmt.Fprintf(bw, "\n## %s\n\n", escape(t.Label))
		} else {
			fmt.Fprintf(bw, "\n## %d. %s\n\n", t.ID, escape(t.Label))
		}
		fmt.Fprintf(bw, "**%d %s** · %s · %s\n\n", t.Size, plural(t.Size, "paper", "papers"), areas(t.Categories, 4), years(t.Years, true))
		if t.Summary != "" {
			fmt.Fprintf(bw, "%s\n\n", escape(t.Summary))
		}
		if len(t.Terms) > 0 {
			terms := make([]string, len(t.Terms))
			for i, term := range t.Terms {
				terms[i] = escape(term.Term)
			}
			fmt.Fprintf(bw, "Key terms: %s.\n\n", strings.Join(terms, ", "))
		}
		if t.Outlier {
			fmt.Fprintf(bw, "Papers:\n\n")
			for _, id := range t.Members[:min(len(t.Members), maxListed)] {
				fmt.Fprintf(bw, "- %s\n", escape(m.title(id)))
			}
			if len(t.Members) > maxListed {
				fmt.Fprintf(bw, "- and %d more\n", len(t.Members)-maxListed)
			}
			continue
		}
		fmt.Fprintf(bw, "Representative papers:\n\n")
		for _, p := range t.Representative {
			fmt.Fprintf(bw, "- %s\n", escape(p.Title))
		}
	}
	return bw.Flush()
}

// title returns the title of a paper of the outlier group.
func (m *Model) title(id string) string {
	if s, ok := m.titles[id]; ok {
		return s
	}
	return id
}

// areas renders the k largest areas with their counts.
func areas(c map[string]int, k int) string {
	type kv struct {
		k string
		v int
	}
	var list []kv
	for name, v := range c {
		list = append(list, kv{name, v})
	}
	slices.SortFunc(list, func(a, b kv) int {
		if a.v != b.v {
			return b.v - a.v
		}
		return cmp.Compare(a.k, b.k)
	})
	var parts []string
	for _, e := range list[:min(k, len(list))] {
		parts = append(parts, fmt.Sprintf("%s %d", escape(e.k), e.v))
	}
	if len(list) > k {
		rest := 0
		for _, e := range list[k:] {
			rest += e.v
		}
		parts = append(parts, fmt.Sprintf("other %d", rest))
	}
	return strings.Join(parts, ", ")
}

// years renders the span of known years, and with peak the busiest one.
func years(c map[string]int, peak bool) string {
	var ys []int
	best, bestN := 0, 0
	for s, n := range c {
		y, err := strconv.Atoi(s)
		if err != nil {
			continue
		}
		ys = append(ys, y)
		if n > bestN || (n == bestN && y > best) {
			best, bestN = y, n
		}
	}
	if len(ys) == 0 {
		return "years unknown"
	}
	slices.Sort(ys)
	span := strconv.Itoa(ys[0])
	if ys[len(ys)-1] != ys[0] {
		span += "–" + strconv.Itoa(ys[len(ys)-1])
	}
	if peak && len(ys) > 1 {
		span += fmt.Sprintf(" (most in %d: %d)", best, bestN)
	}
	return span
}

func percent(part, whole int) string {
	return strconv.FormatFloat(100*float64(part)/float64(max(1, whole)), 'f', 1, 64) + "%"
}

// escape keeps Markdown from reading text as markup; $…$ math is left for
// renderers that typeset it.
func escape(s string) string {
	var b strings.Builder
	inMath := false
	for _, r := range s {
		switch {
		case r == '$':
			inMath = !inMath
		case r == '\n':
			r = ' '
		case !inMath && strings.ContainsRune("\\`*_[]<>|#", r):
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
