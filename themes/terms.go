package themes

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/paperrec/paperrec/embed"
	"github.com/paperrec/paperrec/models"
)

// termModel is the vocabulary that describes themes: stemmed words of the
// titles, abstracts and keyphrases, and whole keyphrases (of two or more
// words) wherever they occur, each with the number of papers it occurs in.
type termModel struct {
	index   map[string]int // key: stem, or stems joined by spaces for a phrase
	display []string
	phrase  []bool
	stems   [][]string
	df      []int
	docs    [][]int     // sorted distinct terms of each paper
	field   [][]float64 // 1 for a term of the title or keyphrases, abstractWeight for one of the abstract only
	shown   []bool      // a term fit to describe a theme
	keyword []bool      // a term that is a whole keyphrase of some paper
	// titled marks a phrase that no paper lists but titles share (see
	// titlePhrases): it may name a theme, and is no key term.
	titled []bool
	// noKeywords marks a corpus without multi-word keyphrases, whose
	// phrases are title bigrams.
	noKeywords bool
	listed     []int // papers that list each term as a whole keyphrase
	// phrases maps the key of each phrase to its id, and maxLen is the
	// longest phrase in stems, for finding phrases in running text.
	maxLen int
	// sample marks the papers analysed, nil for all of them.
	sample []bool
}

// termChunk is how many papers newTermModel analyses at once: their tokens
// are dropped before the next chunk, so the model's memory grows with the
// vocabulary and the papers' term lists, not with the text.
const termChunk = 4096

// newTermModel analyses the papers (see [embed.Analyze]), on all cores. The
// phrases are the corpus's multi-word keyphrases; a corpus with none falls
// back on the title bigrams that two or more papers share. When sample is
// not nil only the papers it marks are analysed: the others have no terms
// (see [termModel.sampled]).
func newTermModel(papers []models.Paper, sample []bool) *termModel {
	m := &termModel{index: map[string]int{}, sample: sample}
	in := func(i int) bool { return sample == nil || sample[i] }

	// Pass 1: the keyphrases, which the title and abstract passes look for.
	keywords := make([][][]embed.Token, len(papers))
	parallel(len(papers), func(i int) {
		if in(i) {
			for _, k := range papers[i].Keywords {
				keywords[i] = append(keywords[i], embed.Analyze(k))
			}
		}
	})
	// surfaces counts the written forms of each key: {stem, form}.
	surfaces := map[[2]string]int{}
	phrases := map[string]bool{}
	for i, p := range papers {
		for j, toks := range keywords[i] {
			if len(toks) < 2 {
				continue
			}
			key := joinTerms(toks)
			phrases[key] = true
			m.maxLen = max(m.maxLen, len(toks))
			surfaces[[2]string{key, strings.Join(strings.Fields(strings.ToLower(p.Keywords[j])), " ")}]++
		}
	}
	fromKeywords := len(phrases) > 0
	m.noKeywords = !fromKeywords
	// The phrases that titles share: without keyphrases, the title bigrams
	// are the phrases; with them, the title phrases of two and three words
	// that no paper lists may name a theme too (see titlePhrases).
	longest := 3
	// ends: with keyphrases, only runs that end in a word ending some
	// keyphrase are counted (see titlePhrases), which keeps the count small.
	var ends map[string]bool
	if fromKeywords {
		ends = map[string]bool{}
		for k := range phrases {
			ends[k[strings.LastIndexByte(k, ' ')+1:]] = true
		}
	} else {
		longest = 2
	}
	df := map[string]int{}
	for lo := 0; lo < len(papers); lo += termChunk {
		hi := min(lo+termChunk, len(papers))
		titles := make([][]embed.Token, hi-lo)
		parallel(hi-lo, func(k int) {
			if in(lo + k) {
				titles[k] = embed.Analyze(papers[lo+k].Title)
			}
		})
		for _, toks := range titles {
			seen := map[string]bool{}
			for j := 1; j < len(toks); j++ {
				key := toks[j].Term
				if ends != nil && !ends[key] {
					continue
				}
				for s := j - 1; s >= 0 && j-s < longest && !toks[s+1].Break; s-- {
					key = toks[s].Term + " " + key
					seen[key] = true
				}
			}
			for k := range seen {
				df[k]++
			}
		}
	}
	titled := map[string]bool{}
	if !fromKeywords {
		for k, n := range df {
			if n >= 2 {
				phrases[k] = true
				m.maxLen = 2
			}
		}
	} else {
		for _, k := range titlePhrases(df, phrases) {
			phrases[k], titled[k] = true, true
			m.maxLen = max(m.maxLen, strings.Count(k, " ")+1)
		}
	}

	// Pass 2, a chunk at a time: each paper's terms, interned in the order
	// met (renumbered in key order below), with their field weight.
	intern := map[string]int{}
	var keys []string
	whole := map[int]bool{} // interned ids of whole keyphrases
	listed := map[int]int{} // papers that list each as a whole keyphrase
	type termOf struct {
		id int
		w  float64
	}
	docs := make([][]termOf, len(papers))
	idOf := func(key string) int {
		id, ok := intern[key]
		if !ok {
			id = len(keys)
			intern[key] = id
			keys = append(keys, key)
		}
		return id
	}
	type analysed struct{ title, abstract []embed.Token }
	an := make([]analysed, termChunk)
	for lo := 0; lo < len(papers); lo += termChunk {
		hi := min(lo+termChunk, len(papers))
		parallel(hi-lo, func(k int) {
			if in(lo + k) {
				an[k] = analysed{title: embed.Analyze(papers[lo+k].Title), abstract: embed.Analyze(papers[lo+k].Abstract)}
			} else {
				an[k] = analysed{}
			}
		})
		for i := lo; i < hi; i++ {
			if !in(i) {
				continue
			}
			set := map[string]float64{}
			add := func(key string, w float64) { set[key] = max(set[key], w) }
			word := func(t embed.Token, w float64) {
				add(t.Term, w)
				surfaces[[2]string{t.Term, t.Word}]++
			}
			for f, toks := range [][]embed.Token{an[i-lo].title, an[i-lo].abstract} {
				w := 1.0
				if f == 1 {
					w = abstractWeight
				}
				for j, t := range toks {
					word(t, w)
					key := t.Term
					for s := j - 1; s >= 0 && j-s < m.maxLen && !toks[s+1].Break; s-- {
						key = toks[s].Term + " " + key
						if phrases[key] {
							add(key, w)
							if !fromKeywords || titled[key] {
								surfaces[[2]string{key, wordsOf(toks[s : j+1])}]++
							}
						}
					}
				}
			}
			lists := map[string]bool{}
			for _, toks := range keywords[i] {
				for _, t := range toks {
					word(t, 1)
				}
				key := joinTerms(toks)
				if phrases[key] {
					add(key, 1)
				}
				if len(toks) > 0 {
					lists[key] = true
				}
			}
			keywords[i] = nil
			for key := range lists {
				id := idOf(key)
				whole[id] = true
				listed[id]++
			}
			d := make([]termOf, 0, len(set))
			for key, w := range set {
				d = append(d, termOf{idOf(key), w})
			}
			docs[i] = d
		}
	}
	// Ids in key order, so that the model does not depend on the order met.
	order := make([]int, len(keys))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(keys[a], keys[b]) })
	final := make([]int, len(keys))
	sorted := make([]string, len(keys))
	for id, old := range order {
		final[old] = id
		sorted[id] = keys[old]
	}
	for id, k := range sorted {
		m.index[k] = id
		m.keyword = append(m.keyword, whole[order[id]])
		m.titled = append(m.titled, titled[k] && !whole[order[id]])
		m.listed = append(m.listed, listed[order[id]])
		m.phrase = append(m.phrase, strings.Contains(k, " "))
		m.stems = append(m.stems, strings.Fields(k))
	}
	// The display form of a key is its most common written form, the
	// smallest on ties.
	m.display = make([]string, len(sorted))
	best := make([]int, len(sorted))
	for ks, n := range surfaces {
		key, form := ks[0], ks[1]
		id, ok := m.index[key]
		if !ok {
			continue
		}
		if n > best[id] || (n == best[id] && form < m.display[id]) {
			m.display[id], best[id] = form, n
		}
	}
	m.df = make([]int, len(sorted))
	m.docs = make([][]int, len(papers))
	m.field = make([][]float64, len(papers))
	for i, d := range docs {
		if d == nil {
			continue
		}
		for k := range d {
			d[k].id = final[d[k].id]
		}
		slices.SortFunc(d, func(a, b termOf) int { return cmp.Compare(a.id, b.id) })
		m.docs[i] = make([]int, len(d))
		m.field[i] = make([]float64, len(d))
		for j, t := range d {
			m.docs[i][j], m.field[i][j] = t.id, t.w
			m.df[t.id]++
		}
		docs[i] = nil
	}
	m.recase(papers, in)
	m.shown = make([]bool, len(sorted))
	for id, d := range m.display {
		m.shown[id] = fitToShow(d)
	}
	return m
}

// titlePhrases returns the phrases of two or three words that
// [minTitlePhrase] titles share and no paper lists as a keyphrase, given
// the titles' counts of the runs of two and three words that end in a word
// ending some keyphrase (df), the corpus's evidence of a noun ("nuclear
// physics", not "late time"). A part of a keyphrase is no phrase ("scaling
// laws" of "neural scaling laws"), and a run that nearly always comes
// inside a longer one (in at least [closedShare] of its titles) is left to
// the longer. These name the lines of work that the keyphrases have no
// phrase for ("nuclear physics"); a label must still be concentrated in
// its theme and cover it (see labels).
func titlePhrases(df map[string]int, keyphrases map[string]bool) []string {
	parts := map[string]bool{}
	for k := range keyphrases {
		w := strings.Fields(k)
		for a := range w {
			for b := a + 1; b <= len(w); b++ {
				if b-a < len(w) {
					parts[strings.Join(w[a:b], " ")] = true
				}
			}
		}
	}
	// The most titles of a run of three words that starts or ends with
	// each run of two.
	within := map[string]int{}
	for k, n := range df {
		if strings.Count(k, " ") == 2 {
			a, b := strings.IndexByte(k, ' '), strings.LastIndexByte(k, ' ')
			within[k[:b]] = max(within[k[:b]], n)
			within[k[a+1:]] = max(within[k[a+1:]], n)
		}
	}
	var out []string
	for k, n := range df {
		if n < minTitlePhrase || keyphrases[k] || parts[k] || float64(within[k]) >= closedShare*float64(n) {
			continue
		}
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Title phrases (see titlePhrases).
const (
	minTitlePhrase = 2
	closedShare    = 0.75
)

// sampled returns the papers of list that the model analysed: all of them
// unless it was built on a sample.
func (m *termModel) sampled(list []int) []int {
	if m.sample == nil {
		return list
	}
	out := make([]int, 0, len(list))
	for _, i := range list {
		if m.sample[i] {
			out = append(out, i)
		}
	}
	return out
}

// abstractWeight is what a term found only in a paper's abstract counts
// for, against 1 in its title or keyphrases: abstracts are full of words
// such as "evaluating" that say little about a topic.
const abstractWeight = 0.5

// fitToShow keeps terms without digits ("64x64") and, of two letters, only
// acronyms ("AI" but not "fb").
func fitToShow(display string) bool {
	if strings.ContainsFunc(display, unicode.IsDigit) {
		return false
	}
	if utf8.RuneCountInString(display) < 3 {
		return display == strings.ToUpper(display)
	}
	return true
}

func wordsOf(toks []embed.Token) string {
	w := make([]string, len(toks))
	for i, t := range toks {
		w[i] = t.Word
	}
	return strings.Join(w, " ")
}

// termsOf returns the sorted distinct known terms of a text: words and the
// phrases found in it, but not the title phrases, which only name themes.
func (m *termModel) termsOf(text string) []int {
	var out []int
	toks := embed.Analyze(text)
	for j, t := range toks {
		if id, ok := m.index[t.Term]; ok {
			out = append(out, id)
		}
		key := t.Term
		for s := j - 1; s >= 0 && j-s < m.maxLen && !toks[s+1].Break; s-- {
			key = toks[s].Term + " " + key
			if id, ok := m.index[key]; ok && m.phrase[id] && !m.titled[id] {
				out = append(out, id)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// classWeights returns the class-based TF-IDF weight of every term in each
// class of papers: W(t, c) = tf(t, c)·log(1 + A/f(t)), BERTopic's formula
// in document units: tf is the share of the class's papers with the term
// (a paper with it in the abstract only counting [abstractWeight]), f(t)
// the number of papers with it in the corpus and A the mean class size. A
// term must occur in two papers of the class (one in a class of one) so
// that one paper's oddity does not name a theme.
func (m *termModel) classWeights(classes [][]int) []map[int]float64 {
	n := 0
	for _, c := range classes {
		n += len(c)
	}
	avg := float64(n) / float64(max(1, len(classes)))
	out := make([]map[int]float64, len(classes))
	// Sums over a class's papers, indexed by term and cleared after each
	// class through the list of terms met.
	tf := make([]float64, len(m.df))
	papers := make([]int, len(m.df))
	var met []int
	for c, mem := range classes {
		met = met[:0]
		for _, i := range mem {
			for j, t := range m.docs[i] {
				if m.shown[t] {
					if papers[t] == 0 {
						met = append(met, t)
					}
					tf[t] += m.field[i][j]
					papers[t]++
				}
			}
		}
		w := map[int]float64{}
		for _, t := range met {
			if papers[t] >= min(2, len(mem)) {
				w[t] = tf[t] / float64(len(mem)) * math.Log(1+avg/float64(m.df[t]))
			}
			tf[t], papers[t] = 0, 0
		}
		out[c] = w
	}
	return out
}

// ranked returns the terms of a class by weight, best first; ties by
// display form, so the order is deterministic.
func (m *termModel) ranked(w map[int]float64) []int {
	ids := make([]int, 0, len(w))
	for t := range w {
		ids = append(ids, t)
	}
	slices.SortFunc(ids, func(a, b int) int {
		if c := cmp.Compare(w[b], w[a]); c != 0 {
			return c
		}
		return cmp.Compare(m.display[a], m.display[b])
	})
	return ids
}

// top returns the k most distinctive terms. A word or phrase inside a
// better-ranked phrase is left out ("black" after "black holes"), and a
// phrase replaces the better-ranked words it contains ("Monte Carlo" those
// of "Monte" and "Carlo").
func (m *termModel) top(w map[int]float64, k int) []Term {
	var kept []int
	for _, t := range m.ranked(w) {
		if len(kept) == k {
			break
		}
		if !m.noKeywords && !m.keyword[t] {
			continue // a word or phrase that no paper lists as a keyphrase
		}
		if slices.ContainsFunc(kept, func(p int) bool { return m.phrase[p] && within(m.stems[p], m.stems[t]) }) {
			continue
		}
		if m.phrase[t] {
			kept = slices.DeleteFunc(kept, func(p int) bool { return within(m.stems[t], m.stems[p]) })
		}
		kept = append(kept, t)
	}
	out := make([]Term, len(kept))
	for i, t := range kept {
		out[i] = Term{Term: m.display[t], Weight: math.Round(w[t]*1e4) / 1e4}
	}
	return out
}

// labels names the classes (the outlier class, if any, is the last one
// when hasOutliers, and gets no label) by whole keyphrases, or title
// phrases (see titlePhrases) for a head: one, or two
// ("X and Y") when the first leaves a good share of the theme uncovered
// and the second covers it. A phrase's score in a class is its coverage
// (the share of the class's papers that list it or write it in their
// title or abstract, an abstract counting [abstractWeight]) times its
// concentration (the share of the corpus's papers with it that are in the
// class): the phrase that names the class's papers and few others.
// Phrases are chosen globally, best score first, so that no phrase names
// two themes and each goes to the theme it names best; a phrase must be in
// two papers of the theme (one in a theme of one). A head phrase must be
// concentrated ([headShare]) and should cover [headCover] of the theme
// ("Grokking", in 3 of 13 papers on deep-learning theory, gives way to a
// covering phrase when there is one), which keeps generic phrases
// ("machine learning") and one paper's topic out. Words stand in for a
// class with no keyphrase.
func (m *termModel) labels(classes [][]int, w []map[int]float64, hasOutliers bool) []string {
	k := len(classes)
	if hasOutliers {
		k--
	}
	// Papers of each class with each of its terms (those of w), and the
	// term's coverage: the share of the class's papers that have it, a
	// paper with it in the abstract only counting [abstractWeight].
	count := make([]map[int]int, k)
	cover := make([]map[int]float64, k)
	for c := range k {
		count[c] = make(map[int]int, len(w[c]))
		cover[c] = make(map[int]float64, len(w[c]))
		for _, i := range classes[c] {
			for j, t := range m.docs[i] {
				if _, ok := w[c][t]; ok {
					count[c][t]++
					cover[c][t] += m.field[i][j] / float64(len(classes[c]))
				}
			}
		}
	}
	score := func(c, t int) float64 {
		return cover[c][t] * float64(count[c][t]) / float64(m.df[t])
	}
	type cand struct {
		class, term int
		w           float64
	}
	candidates := func(listed int, ok func(c, t int) bool) []cand {
		var out []cand
		for c := range k {
			for t := range w[c] {
				if (m.labelTerm(t, listed) || m.titled[t]) && ok(c, t) {
					out = append(out, cand{c, t, score(c, t)})
				}
			}
		}
		slices.SortFunc(out, func(a, b cand) int {
			if d := cmp.Compare(b.w, a.w); d != 0 {
				return d
			}
			if d := cmp.Compare(a.class, b.class); d != 0 {
				return d
			}
			if d := cmp.Compare(m.listed[b.term], m.listed[a.term]); d != 0 {
				return d // on a tie, the phrase more papers list
			}
			return cmp.Compare(m.display[a.term], m.display[b.term])
		})
		return out
	}
	used := map[int]bool{}
	head := make([]int, k)
	second := make([]int, k)
	for c := range head {
		head[c], second[c] = -1, -1
	}
	concentrated := func(c, t int) bool { return float64(count[c][t]) >= headShare*float64(m.df[t]) }
	// Heads, in passes, each for the classes still without one: (0) a
	// concentrated phrase that two papers list (one, for a phrase of
	// several words) and that covers [headCover] of the class; (1) the same
	// without the coverage; then, after the second phrases, (2) a
	// concentrated phrase that one paper lists; (3) the best unused phrase.
	pickHeads := func(passes ...int) {
		for _, pass := range passes {
			listed, ok := 2, concentrated
			switch pass {
			case 0:
				ok = func(c, t int) bool { return concentrated(c, t) && cover[c][t] >= headCover }
			case 2:
				listed = 1
			case 3:
				listed, ok = 1, func(int, int) bool { return true }
			}
			for _, x := range candidates(listed, ok) {
				if head[x.class] < 0 && !used[x.term] && !m.overlaps(x.term, used) {
					head[x.class] = x.term
					used[x.term] = true
				}
			}
		}
	}
	pickHeads(0, 1)
	// Seconds, for a class whose head covers less than [secondBelow] of it:
	// a phrase that shares no word with the head, scores at least
	// [secondWeight] of it, is concentrated ([secondShare]) and is in at
	// least [secondCover] of the class and of its papers without the head.
	for _, x := range candidates(2, func(c, t int) bool {
		h := head[c]
		if h < 0 || cover[c][h] >= secondBelow || score(c, t) < secondWeight*score(c, h) || m.shareStem(h, t) ||
			float64(count[c][t]) < secondShare*float64(m.df[t]) ||
			float64(count[c][t]) < secondCover*float64(len(classes[c])) {
			return false
		}
		without, gain := 0, 0
		for _, i := range classes[c] {
			if !m.has(i, h) {
				without++
				if m.has(i, t) {
					gain++
				}
			}
		}
		return without > 0 && float64(gain) >= secondCover*float64(without) && !m.titled[t]
	}) {
		if second[x.class] < 0 && !used[x.term] && !m.overlaps(x.term, used) {
			second[x.class] = x.term
			used[x.term] = true
		}
	}
	pickHeads(2, 3)
	out := make([]string, k)
	for c := range k {
		var parts []string
		for _, t := range []int{head[c], second[c]} {
			if t >= 0 {
				parts = append(parts, m.display[t])
			}
		}
		if len(parts) == 0 {
			for _, t := range m.ranked(w[c])[:min(2, len(w[c]))] {
				parts = append(parts, m.display[t])
			}
		}
		label := strings.Join(parts, " and ")
		if label == "" {
			label = "Untitled theme"
		}
		r, size := utf8.DecodeRuneInString(label)
		out[c] = string(unicode.ToUpper(r)) + label[size:]
	}
	return out
}

// Rules of the label (see labels; docs/themes.md, "Second pass", for the
// variants measured).
const (
	headShare    = 0.25
	headCover    = 0.3
	secondBelow  = 0.6 // a head covering 0.94 of its theme needs no second ("Gravitational waves and signal detection")
	secondShare  = 0.5 // a second at 0.3 named algebraic geometry "Moduli spaces and group theory"
	secondWeight = 0.4
	secondCover  = 0.25
)

// labelTerm reports whether a term may name a theme: a whole keyphrase of
// at least listed papers (or, in a corpus without keyphrases, a shared
// title phrase); a phrase of several words written as words ("dark
// matter"), not joined by hyphens.
func (m *termModel) labelTerm(t, listed int) bool {
	if m.phrase[t] && strings.Contains(m.display[t], " ") {
		listed = min(listed, 1) // a phrase of words is a noun phrase
	}
	if m.listed[t] < listed && !(m.noKeywords && m.phrase[t]) {
		return false
	}
	if m.phrase[t] && listed < 2 {
		return strings.Contains(m.display[t], " ")
	}
	return true
}

// has reports whether paper i has term t.
func (m *termModel) has(i, t int) bool {
	_, ok := slices.BinarySearch(m.docs[i], t)
	return ok
}

// shareStem reports whether two terms share a word (by stem).
func (m *termModel) shareStem(a, b int) bool {
	for _, s := range m.stems[a] {
		if slices.Contains(m.stems[b], s) {
			return true
		}
	}
	return false
}

// overlaps reports whether a term repeats a used one: the same words, or
// all of its words within it or it within them ("neural networks" after
// "graph neural networks").
func (m *termModel) overlaps(t int, used map[int]bool) bool {
	for u := range used {
		if within(m.stems[u], m.stems[t]) || within(m.stems[t], m.stems[u]) {
			return true
		}
	}
	return false
}

// within reports whether sub is a shorter term all of whose stems are in
// phrase.
func within(phrase, sub []string) bool {
	if len(sub) >= len(phrase) {
		return false
	}
	for _, s := range sub {
		if !slices.Contains(phrase, s) {
			return false
		}
	}
	return true
}

func joinTerms(toks []embed.Token) string {
	terms := make([]string, len(toks))
	for i, t := range toks {
		terms[i] = t.Term
	}
	return strings.Join(terms, " ")
}

// mostCommon returns the most frequent string, the smallest on ties.
func mostCommon(m map[string]int) string {
	best, n := "", -1
	for s, c := range m {
		if c > n || (c == n && s < best) {
			best, n = s, c
		}
	}
	return best
}

// recase writes the words of each display form as the abstracts usually
// write them away from the start of a sentence, when that is not plain
// lower case: "qcd" → "QCD", "gaussian" → "Gaussian". Titles are left out:
// their capitals are style, not spelling.
//
// A word capitalised only in a run of capitalised words ("Cosmic Microwave
// Background") is written in title case there, which says nothing of its
// spelling: such a capital counts only next to a lower-case word ("the
// Monte Carlo method", "Gaussian processes") or when it is more than an
// initial capital (QCD, LIGO).
func (m *termModel) recase(papers []models.Paper, in func(int) bool) {
	// Written forms with a capital, by lower-case word.
	forms := map[string]map[string]int{}
	lower := map[string]int{}
	title := map[string]string{} // a capitalised form seen in a title-case run
	type word struct {
		w       string
		initial bool
	}
	isLower := func(w string) bool { return w == strings.ToLower(w) && strings.ContainsFunc(w, unicode.IsLetter) }
	var words []word
	for i, p := range papers {
		if !in(i) {
			continue
		}
		words = words[:0]
		scanWords([]models.Paper{p}, func(w string, initial bool) { words = append(words, word{w, initial}) })
		for j, x := range words {
			if x.initial || x.w == strings.ToLower(x.w) {
				continue
			}
			rest := x.w[1:]
			low := strings.ToLower(x.w)
			if title[low] == "" || x.w < title[low] {
				title[low] = x.w
				if _, ok := lower[low]; !ok {
					lower[low] = 0
				}
			}
			spelled := rest != strings.ToLower(rest) ||
				(j > 0 && isLower(words[j-1].w)) || (j+1 < len(words) && isLower(words[j+1].w))
			if !spelled {
				continue
			}
			if forms[low] == nil {
				forms[low] = map[string]int{}
				lower[low] = 0
			}
			forms[low][x.w]++
		}
	}
	for i, p := range papers {
		if in(i) {
			scanWords([]models.Paper{p}, func(w string, initial bool) {
				if n, ok := lower[w]; ok && !initial {
					lower[w] = n + 1
				}
			})
		}
	}
	for id, d := range m.display {
		words := strings.Fields(d)
		for i, w := range words {
			parts := strings.Split(w, "-") // "calabi-yau" → "Calabi-Yau"
			for j, part := range parts {
				if f, ok := forms[part]; ok {
					if best := mostCommon(f); f[best] > lower[part] {
						parts[j] = best
					}
				}
			}
			words[i] = strings.Join(parts, "-")
			// A run of capitals goes on with a word the abstracts never
			// write in lower case: "Big Bang" after "Big".
			if i > 0 && words[i] == w && title[w] != "" && lower[w] == 0 &&
				!isLower(words[i-1]) && words[i-1] != strings.ToUpper(words[i-1]) {
				words[i] = title[w]
			}
		}
		m.display[id] = strings.Join(words, " ")
	}
}

// scanWords calls f with each word of the abstracts, a run of ASCII
// letters and digits between white space or punctuation, and whether it
// starts a sentence. Words next to other characters (accents, math) are
// skipped.
func scanWords(papers []models.Paper, f func(word string, initial bool)) {
	for _, p := range papers {
		text := p.Abstract
		initial := true
		for i := 0; i < len(text); {
			c := text[i]
			if !isAlnum(c) {
				switch c {
				case '.', '?', '!', ':':
					initial = true
				case ' ', '\t', '\n', '(', ')', ',', ';', '"', '\'':
				default:
					if c >= utf8.RuneSelf || c == '$' || c == '\\' {
						// Skip the rest of a word holding other characters.
						for i < len(text) && text[i] != ' ' {
							i++
						}
						initial = false
						continue
					}
				}
				i++
				continue
			}
			j := i
			for j < len(text) && isAlnum(text[j]) {
				j++
			}
			if j == len(text) || text[j] < utf8.RuneSelf {
				f(text[i:j], initial)
			}
			initial = false
			i = j
		}
	}
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// nameable reports whether a group of papers has a name: a phrase that may
// head a label (see labelTerm), in two of its papers and concentrated there
// (at least [headShare] of the papers that have it).
func (m *termModel) nameable(list []int) bool {
	count := map[int]int{}
	for _, i := range m.sampled(list) {
		for _, t := range m.docs[i] {
			if m.shown[t] {
				count[t]++
			}
		}
	}
	for t, c := range count {
		if c >= 2 && float64(c) >= headShare*float64(m.df[t]) && m.labelTerm(t, 1) {
			return true
		}
	}
	return false
}
