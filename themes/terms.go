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
	// phrases maps the key of each phrase to its id, and maxLen is the
	// longest phrase in stems, for finding phrases in running text.
	maxLen int
}

// newTermModel analyses the papers (see [embed.Analyze]), on all cores. The
// phrases are the corpus's multi-word keyphrases; a corpus with none falls
// back on the title bigrams that two or more papers share.
func newTermModel(papers []models.Paper) *termModel {
	m := &termModel{index: map[string]int{}}
	type analysed struct {
		title, abstract []embed.Token
		keywords        [][]embed.Token
	}
	an := make([]analysed, len(papers))
	parallel(len(papers), func(i int) {
		p := papers[i]
		a := analysed{title: embed.Analyze(p.Title), abstract: embed.Analyze(p.Abstract)}
		for _, k := range p.Keywords {
			a.keywords = append(a.keywords, embed.Analyze(k))
		}
		an[i] = a
	})

	// surfaces counts the written forms of each key: "stem\x00form".
	surfaces := map[string]int{}
	phrases := map[string]bool{}
	for i, p := range papers {
		for j, toks := range an[i].keywords {
			if len(toks) < 2 {
				continue
			}
			key := joinTerms(toks)
			phrases[key] = true
			m.maxLen = max(m.maxLen, len(toks))
			surfaces[key+"\x00"+strings.Join(strings.Fields(strings.ToLower(p.Keywords[j])), " ")]++
		}
	}
	fromKeywords := len(phrases) > 0
	if !fromKeywords {
		df := map[string]int{}
		for i := range papers {
			toks := an[i].title
			seen := map[string]bool{}
			for j := 1; j < len(toks); j++ {
				if !toks[j].Break {
					seen[toks[j-1].Term+" "+toks[j].Term] = true
				}
			}
			for k := range seen {
				df[k]++
			}
		}
		for k, n := range df {
			if n >= 2 {
				phrases[k] = true
				m.maxLen = 2
			}
		}
	}

	// Terms of each paper by key; ids are given in sorted key order below.
	whole := map[string]bool{} // keys of whole keyphrases
	keys := make([]map[string]float64, len(papers))
	for i := range papers {
		set := map[string]float64{}
		add := func(key string, w float64) { set[key] = max(set[key], w) }
		word := func(t embed.Token, w float64) {
			add(t.Term, w)
			surfaces[t.Term+"\x00"+t.Word]++
		}
		for f, toks := range [][]embed.Token{an[i].title, an[i].abstract} {
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
						if !fromKeywords {
							surfaces[key+"\x00"+wordsOf(toks[s:j+1])]++
						}
					}
				}
			}
		}
		for _, toks := range an[i].keywords {
			for _, t := range toks {
				word(t, 1)
			}
			key := joinTerms(toks)
			if phrases[key] {
				add(key, 1)
			}
			if len(toks) > 0 {
				whole[key] = true
			}
		}
		keys[i] = set
	}
	all := map[string]bool{}
	for _, set := range keys {
		for k := range set {
			all[k] = true
		}
	}
	sorted := make([]string, 0, len(all))
	for k := range all {
		sorted = append(sorted, k)
	}
	slices.Sort(sorted)
	for id, k := range sorted {
		m.index[k] = id
		m.keyword = append(m.keyword, whole[k])
		m.phrase = append(m.phrase, strings.Contains(k, " "))
		m.stems = append(m.stems, strings.Fields(k))
	}
	// The display form of a key is its most common written form, the
	// smallest on ties.
	m.display = make([]string, len(sorted))
	best := make([]int, len(sorted))
	for ks, n := range surfaces {
		key, form, _ := strings.Cut(ks, "\x00")
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
	for i, set := range keys {
		for k := range set {
			id := m.index[k]
			m.docs[i] = append(m.docs[i], id)
			m.df[id]++
		}
		slices.Sort(m.docs[i])
		m.field[i] = make([]float64, len(m.docs[i]))
		for j, id := range m.docs[i] {
			m.field[i][j] = set[sorted[id]]
		}
	}
	m.recase(papers)
	m.shown = make([]bool, len(sorted))
	for id, d := range m.display {
		m.shown[id] = fitToShow(d)
	}
	return m
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
// phrases found in it.
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
			if id, ok := m.index[key]; ok && m.phrase[id] {
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
	for c, mem := range classes {
		tf := map[int]float64{}
		papers := map[int]int{}
		for _, i := range mem {
			for j, t := range m.docs[i] {
				if m.shown[t] {
					tf[t] += m.field[i][j]
					papers[t]++
				}
			}
		}
		w := map[int]float64{}
		for t, f := range tf {
			if papers[t] < min(2, len(mem)) {
				continue
			}
			w[t] = f / float64(len(mem)) * math.Log(1+avg/float64(m.df[t]))
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

// label names a class by its most distinctive keyphrases: up to three that
// do not repeat each other's words ("Gravitational waves, black holes and
// neutron stars"), two when three would make a long label. Phrases of
// several words are preferred: a one-word keyphrase ("knot") joins them only
// with [oneWordLabel] of the best one's weight. The top words stand in when
// the class has no keyphrase.
func (m *termModel) label(w map[int]float64) string {
	ranked := m.ranked(w)
	best := 0.0
	for _, t := range ranked {
		if m.labelPhrase(t) {
			best = w[t]
			break
		}
	}
	var chosen []int
	for _, t := range ranked {
		if len(chosen) == 3 {
			break
		}
		if !m.labelPhrase(t) && !(m.keyword[t] && !m.phrase[t] && w[t] >= oneWordLabel*best) {
			continue
		}
		// A phrase takes the place of a chosen word it holds ("wavelet
		// scattering transform" that of "wavelet"); otherwise a term may
		// share at most a minority of its words with the chosen ones.
		if i := slices.IndexFunc(chosen, func(c int) bool { return within(m.stems[t], m.stems[c]) }); i >= 0 {
			chosen[i] = t
			continue
		}
		shared := 0
		for _, s := range m.stems[t] {
			if slices.ContainsFunc(chosen, func(c int) bool { return slices.Contains(m.stems[c], s) }) {
				shared++
			}
		}
		if 2*shared >= len(m.stems[t]) {
			continue
		}
		if len(chosen) == 2 && len(m.display[chosen[0]])+len(m.display[chosen[1]])+len(m.display[t]) > maxLabel {
			break
		}
		chosen = append(chosen, t)
	}
	var parts []string
	for _, t := range chosen {
		parts = append(parts, m.display[t])
	}
	if len(parts) == 0 {
		for _, t := range ranked[:min(3, len(ranked))] {
			parts = append(parts, m.display[t])
		}
	}
	if len(parts) == 0 {
		return "Untitled theme"
	}
	var label string
	switch len(parts) {
	case 1:
		label = parts[0]
	case 2:
		label = parts[0] + " and " + parts[1]
	default:
		label = parts[0] + ", " + parts[1] + " and " + parts[2]
	}
	r, size := utf8.DecodeRuneInString(label)
	return string(unicode.ToUpper(r)) + label[size:]
}

// labelPhrase reports whether a term is a phrase written as words ("dark
// matter"), not as one hyphenated modifier ("time-dependent").
func (m *termModel) labelPhrase(t int) bool {
	return m.phrase[t] && strings.Contains(m.display[t], " ")
}

// oneWordLabel is how much of the best phrase's weight a one-word keyphrase
// needs to enter a label.
const oneWordLabel = 0.75

// maxLabel is the length in bytes past which a label keeps two phrases.
const maxLabel = 60

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
func (m *termModel) recase(papers []models.Paper) {
	// Written forms with a capital, by lower-case word.
	forms := map[string]map[string]int{}
	lower := map[string]int{}
	scanWords(papers, func(w string, initial bool) {
		if initial || w == strings.ToLower(w) {
			return
		}
		low := strings.ToLower(w)
		if forms[low] == nil {
			forms[low] = map[string]int{}
			lower[low] = 0
		}
		forms[low][w]++
	})
	scanWords(papers, func(w string, initial bool) {
		if n, ok := lower[w]; ok && !initial {
			lower[w] = n + 1
		}
	})
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
