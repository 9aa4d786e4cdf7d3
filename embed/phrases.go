package embed

import (
	"math"
	"slices"
	"strings"
	"unicode"
)

// PhraseConfig tunes keyphrase recovery. Zero values mean the defaults.
type PhraseConfig struct {
	// MinLines is how many keyphrase lines must list a multi-word phrase
	// for [Phrases.IsPhrase], [Phrases.Find] and [Phrases.Len] to know it
	// (default 2). Segmentation also finds phrases listed once.
	MinLines int
	// SplitRatio: a phrase is not a unit when it splits into parts that are
	// each listed on their own in at least SplitRatio times as many lines as
	// the whole, i.e. it is phrases that happen to be listed together
	// (default 2.5).
	SplitRatio float64
	// MaxWords bounds a phrase's length (default 6).
	MaxWords int
}

func (c PhraseConfig) withDefaults() PhraseConfig {
	if c.MinLines <= 0 {
		c.MinLines = 2
	}
	if c.SplitRatio <= 0 {
		c.SplitRatio = 2.5
	}
	if c.MaxWords <= 0 {
		c.MaxWords = 6
	}
	return c
}

// PhraseDoc is one paper's keyphrase line with the title and abstract it
// came with. The line lists phrases without separators ("detector
// simulation differentiable simulation calibration"); the title and
// abstract, when known, show which word runs the authors wrote as phrases.
//
// A plain value.
type PhraseDoc struct {
	Line     string
	Title    string
	Abstract string
}

// Phrases recovers the phrases of undelimited keyphrase lines from
// statistics over all lines of a corpus and, for each line, the paper's own
// title and abstract.
//
// A line is split by dynamic programming under a model that prices each
// phrase and the number of phrases:
//   - a phrase that other lines list as a unit costs little, the more
//     lines the less (units are what the other lines' splits use, re-estimated
//     by Viterbi EM from the n-grams at line edges, whose one boundary is
//     known);
//   - a phrase no other line lists is new: it pays for its length and its
//     words, less when the paper's title or abstract has it verbatim, and
//     less when its first and last words often start and end phrases;
//   - a unit that splits into parts each listed more often on their own is
//     dropped (phrases listed together, "equivariant neural networks
//     symmetry preservation");
//   - the number of phrases per line follows the corpus's own distribution.
//
// Statistics of a line's own split are left out when that line is split
// again, so a phrase is never its own evidence. Learning and segmentation
// are deterministic. docs/keyphrases.md has the measurements. Safe for
// concurrent use once learned.
type Phrases struct {
	cfg PhraseConfig
	// units counts, per segment (words joined by single spaces), the lines
	// whose split lists it; multi-word units explained by a split are left
	// out.
	units map[string]int32
	total float64 // sum of units
	words map[string]wordStat
	// nwords is the number of words over all lines.
	nwords float64
	// logK[k] is the log-probability of a line of k phrases; empty means
	// uniform.
	logK []float64
	// own holds the split of every learned line (keyed by its words joined
	// by single spaces) from the last round, left out when it is split again.
	own map[string][]string
}

// wordStat counts a word's occurrences in the keyphrase lines: in all, as a
// line's first or last word, and as a phrase's first or last word in the
// lines' splits.
type wordStat struct {
	Occ, LineFirst, LineLast, First, Last int32
}

// Model constants, chosen on the dev and dev2 parts of
// testdata/keyphrases-gold.tsv from a grid of 243 settings: the chosen one
// sits on a plateau of 112 lines exact out of 125, and one step away on any
// axis costs 0 to 3 lines (docs/keyphrases.md has the table).
const (
	// phraseRounds is how many Viterbi EM rounds LearnPhrases runs (2
	// rounds: dev F1 0.958 -> 0.935, dev2 0.936 -> 0.909; 6: no change).
	phraseRounds = 4
	// newMass is the concentration of new phrases (α of a Dirichlet
	// process): how much a new phrase weighs against listed units.
	newMass = 10.0
	// unitDiscount is taken off every unit's count (absolute discounting):
	// a phrase one other line lists is barely evidence, two lines are.
	unitDiscount = 0.9
	// textBonus is the log-odds a new phrase of two or more words gains when
	// the paper's title or abstract has it verbatim.
	textBonus = 4.0
	// edgeWeight weighs the log-odds of a phrase's first word starting a line
	// and its last word ending one.
	edgeWeight = 1.0
	// roleWeight weighs the rates at which a phrase's first and last words
	// start and end phrases in the other lines' splits, and at which the
	// words around a boundary do not; rolePrior (weight roleEvidence) is the
	// rate before evidence.
	roleWeight   = 0.75
	rolePrior    = 0.4
	roleEvidence = 1.0
	// countWeight weighs the log-prior of the number of phrases per line.
	countWeight = 3.0
)

// lengthLogPrior is the log-prior of a new phrase of n words (index n).
// Longer phrases lose 1.5 per word.
var lengthLogPrior = [...]float64{0, -1, 0, -0.3, -1.5, -3, -4.5}

func lengthPrior(n int) float64 {
	if n < len(lengthLogPrior) {
		return lengthLogPrior[n]
	}
	return lengthLogPrior[len(lengthLogPrior)-1] - 1.5*float64(n-len(lengthLogPrior)+1)
}

// phraseLine is one line prepared for segmentation.
type phraseLine struct {
	words []string
	key   string
	// inText[a*(maxWords+1)+n] reports whether words[a:a+n] occurs in the
	// paper's title or abstract.
	inText []bool
}

func newPhraseLine(d PhraseDoc, maxWords int) phraseLine {
	w := strings.Fields(strings.ToLower(d.Line))
	l := phraseLine{words: w, key: strings.Join(w, " ")}
	if len(w) == 0 || d.Title == "" && d.Abstract == "" {
		return l
	}
	// toks[i]: word i as match tokens ("n:m" is two).
	toks := make([][]string, len(w))
	at := map[string][]int{} // where the line's tokens occur in the text
	for i, word := range w {
		toks[i] = matchTokens(word)
		for _, t := range toks[i] {
			at[t] = nil
		}
	}
	text := matchTokens(d.Title + " . " + d.Abstract)
	for i, t := range text {
		if p, ok := at[t]; ok {
			at[t] = append(p, i)
		}
	}
	l.inText = make([]bool, len(w)*(maxWords+1))
	var seq []string
	for a := range w {
		seq = seq[:0]
		for n := 1; n <= maxWords && a+n <= len(w); n++ {
			seq = append(seq, toks[a+n-1]...)
			if n < 2 || len(seq) == 0 {
				continue
			}
			for _, p := range at[seq[0]] {
				if p+len(seq) <= len(text) && slices.Equal(text[p:p+len(seq)], seq) {
					l.inText[a*(maxWords+1)+n] = true
					break
				}
			}
		}
	}
	return l
}

// matchTokens splits text into lower-case words for matching phrases
// against titles and abstracts: letters, digits and inner hyphens and
// apostrophes, a plural "s" removed.
func matchTokens(text string) []string {
	f := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-' && r != '\'' && r != '*'
	})
	out := f[:0]
	for _, t := range f {
		t = strings.Trim(t, "-'")
		if t == "" {
			continue
		}
		if len(t) > 3 && strings.HasSuffix(t, "s") && !strings.HasSuffix(t, "ss") {
			t = t[:len(t)-1]
		}
		out = append(out, t)
	}
	return out
}

// LearnPhrases learns the phrases of a corpus's keyphrase lines. Docs with
// an empty line are skipped.
func LearnPhrases(docs []PhraseDoc, cfg PhraseConfig) *Phrases {
	cfg = cfg.withDefaults()
	var lines []phraseLine
	for _, d := range docs {
		if l := newPhraseLine(d, cfg.MaxWords); len(l.words) > 0 {
			lines = append(lines, l)
		}
	}
	ph := &Phrases{cfg: cfg, words: map[string]wordStat{}}
	for _, l := range lines {
		for i, x := range l.words {
			s := ph.words[x]
			s.Occ++
			if i == 0 {
				s.LineFirst++
			}
			if i == len(l.words)-1 {
				s.LineLast++
			}
			ph.words[x] = s
		}
		ph.nwords += float64(len(l.words))
	}

	// Round 0: the units are the n-grams at line edges, one of whose
	// boundaries is known.
	own := make([][]string, len(lines))
	ph.units = map[string]int32{}
	for k, l := range lines {
		n := len(l.words)
		for m := 1; m <= cfg.MaxWords && m <= n; m++ {
			own[k] = append(own[k], strings.Join(l.words[:m], " "))
			if m < n {
				own[k] = append(own[k], strings.Join(l.words[n-m:], " "))
			}
		}
		for _, g := range own[k] {
			ph.units[g]++
		}
	}
	ph.dropExplained()
	rounds := phraseRounds
	roles := false
	for range rounds {
		segs := make([][]string, len(lines))
		for k := range lines {
			segs[k] = ph.segment(&lines[k], own[k], true, roles)
		}
		ph.fit(segs)
		own, roles = segs, true
	}
	ph.own = make(map[string][]string, len(lines))
	for k, l := range lines {
		ph.own[l.key] = own[k]
	}
	return ph
}

// fit re-estimates the units, the word roles and the number of phrases per
// line from the lines' splits.
func (ph *Phrases) fit(segs [][]string) {
	ph.units = map[string]int32{}
	for x, s := range ph.words {
		s.First, s.Last = 0, 0
		ph.words[x] = s
	}
	hist := map[int]int{}
	maxK := 0
	for _, s := range segs {
		for i, g := range s {
			if !slices.Contains(s[:i], g) {
				ph.units[g]++
			}
			first, last := firstLast(g)
			ws := ph.words[first]
			ws.First++
			ph.words[first] = ws
			ws = ph.words[last]
			ws.Last++
			ph.words[last] = ws
		}
		hist[len(s)]++
		maxK = max(maxK, len(s))
	}
	ph.dropExplained()
	ph.logK = make([]float64, maxK+2)
	for k := range ph.logK {
		ph.logK[k] = math.Log((float64(hist[k]) + 0.1) / (float64(len(segs)) + 4))
	}
}

func firstLast(g string) (string, string) {
	first, last := g, g
	if i := strings.IndexByte(g, ' '); i >= 0 {
		first = g[:i]
		last = g[strings.LastIndexByte(g, ' ')+1:]
	}
	return first, last
}

// dropExplained removes the multi-word units that split into parts each
// listed on their own in at least SplitRatio times as many lines, shortest
// first, and totals the rest.
func (ph *Phrases) dropExplained() {
	var multi []string
	for g := range ph.units {
		if strings.Contains(g, " ") {
			multi = append(multi, g)
		}
	}
	slices.SortFunc(multi, func(a, b string) int {
		if c := strings.Count(a, " ") - strings.Count(b, " "); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	for _, g := range multi {
		limit := ph.cfg.SplitRatio * float64(ph.units[g])
		w := strings.Fields(g)
		// ok[j]: w[:j] splits into parts listed at least limit times.
		ok := make([]bool, len(w)+1)
		ok[0] = true
		for j := 1; j <= len(w); j++ {
			for i := 0; i < j && !ok[j]; i++ {
				ok[j] = ok[i] && (i > 0 || j < len(w)) && float64(ph.units[strings.Join(w[i:j], " ")]) >= limit
			}
		}
		if ok[len(w)] {
			delete(ph.units, g)
		}
	}
	ph.total = 0
	for _, c := range ph.units {
		ph.total += float64(c)
	}
}

// Len returns the number of multi-word phrases listed in at least MinLines
// lines.
func (ph *Phrases) Len() int {
	n := 0
	for g, c := range ph.units {
		if int(c) >= ph.cfg.MinLines && strings.Contains(g, " ") {
			n++
		}
	}
	return n
}

// IsPhrase reports whether a lower-case multi-word string is a phrase
// listed in at least MinLines lines.
func (ph *Phrases) IsPhrase(s string) bool {
	return strings.Contains(s, " ") && int(ph.units[s]) >= ph.cfg.MinLines
}

// Find returns the phrases known to [Phrases.IsPhrase] that occur in running
// text, longest first where they overlap, in order of occurrence. Matching
// is on lower-cased words with punctuation removed.
func (ph *Phrases) Find(text string) []string {
	w := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-'
	})
	var out []string
	for i := 0; i < len(w); {
		n := min(ph.cfg.MaxWords, len(w)-i)
		for ; n >= 2; n-- {
			if ph.IsPhrase(strings.Join(w[i:i+n], " ")) {
				break
			}
		}
		if n >= 2 {
			out = append(out, strings.Join(w[i:i+n], " "))
			i += n
		} else {
			i++
		}
	}
	return out
}

// Segment splits a keyphrase line into phrases, lower-cased, in order,
// without a title or abstract to go by (see [Phrases.SegmentDoc]).
func (ph *Phrases) Segment(line string) []string {
	return ph.SegmentDoc(PhraseDoc{Line: line})
}

// SegmentDoc splits a paper's keyphrase line into phrases, lower-cased, in
// order, using its title and abstract as evidence. Joined by single spaces
// the phrases give the line back.
func (ph *Phrases) SegmentDoc(d PhraseDoc) []string {
	l := newPhraseLine(d, ph.cfg.MaxWords)
	if len(l.words) == 0 {
		return nil
	}
	own, learned := ph.own[l.key]
	return ph.segment(&l, own, learned, len(ph.own) > 0)
}

// segment finds the best split of a line. own is the line's previous split
// (its units are left out of the counts) and learned says whether the
// line's words are in the word statistics (they are left out too); roles
// turns on the word-role rates, known after the first round.
func (ph *Phrases) segment(l *phraseLine, own []string, learned, roles bool) []string {
	w := l.words
	n := len(w)
	mw := ph.cfg.MaxWords
	// The line's own word counts, left out.
	self := map[string]wordStat{}
	if learned {
		for i, x := range w {
			s := self[x]
			s.Occ++
			if i == 0 {
				s.LineFirst++
			}
			if i == n-1 {
				s.LineLast++
			}
			self[x] = s
		}
		if roles {
			for _, g := range own {
				first, last := firstLast(g)
				s := self[first]
				s.First++
				self[first] = s
				s = self[last]
				s.Last++
				self[last] = s
			}
		}
	}
	stat := func(x string) wordStat {
		s, o := ph.words[x], self[x]
		return wordStat{Occ: s.Occ - o.Occ, LineFirst: s.LineFirst - o.LineFirst, LineLast: s.LineLast - o.LineLast,
			First: s.First - o.First, Last: s.Last - o.Last}
	}
	stats := make([]wordStat, n)
	logWord := make([]float64, n)
	startOdds := make([]float64, n) // edge log-odds of starting a phrase
	endOdds := make([]float64, n)
	for i, x := range w {
		s := stat(x)
		stats[i] = s
		logWord[i] = math.Log((float64(s.Occ) + 0.5) / max(ph.nwords, 1))
		startOdds[i] = math.Log((float64(s.LineFirst) + 0.5) / (float64(s.Occ) + 2) * 12)
		endOdds[i] = math.Log((float64(s.LineLast) + 0.5) / (float64(s.Occ) + 2) * 12)
	}
	// gapIn[t], gapOut[t]: role evidence that words t and t+1 are in one
	// phrase, or in two.
	gapIn := make([]float64, n)
	gapOut := make([]float64, n)
	if roles {
		rate := func(c, occ int32) float64 {
			return (float64(c) + roleEvidence*rolePrior) / (float64(occ) + roleEvidence)
		}
		for t := 0; t+1 < n; t++ {
			ends := rate(stats[t].Last, stats[t].Occ)
			starts := rate(stats[t+1].First, stats[t+1].Occ)
			gapIn[t] = roleWeight * (math.Log(1-ends) + math.Log(1-starts))
			gapOut[t] = roleWeight * (math.Log(ends) + math.Log(starts))
		}
	}

	// score[a*(mw+1)+m]: log-score of the phrase w[a:a+m].
	score := make([]float64, n*(mw+1))
	norm := math.Log(ph.total + newMass)
	for a := range n {
		base := startOdds[a] * edgeWeight
		words, in := 0.0, 0.0
		for m := 1; m <= mw && a+m <= n; m++ {
			b := a + m
			words += logWord[b-1]
			if m > 1 {
				in += gapIn[b-2]
			}
			g := strings.Join(w[a:b], " ")
			c := float64(ph.units[g])
			if slices.Contains(own, g) {
				c--
			}
			lp := base + edgeWeight*endOdds[b-1] + lengthPrior(m) + words
			if m >= 2 && l.inText != nil && l.inText[a*(mw+1)+m] {
				lp += textBonus
			}
			s := math.Log(max(c-unitDiscount, 0)+newMass*math.Exp(lp)) - norm + in
			if b < n {
				s += gapOut[b-1]
			}
			score[a*(mw+1)+m] = s
		}
	}

	// best[j*(n+1)+k]: best log-score of w[:j] in k phrases; from: where its
	// last phrase starts.
	neg := math.Inf(-1)
	best := make([]float64, (n+1)*(n+1))
	from := make([]int, (n+1)*(n+1))
	for i := range best {
		best[i] = neg
	}
	best[0] = 0
	for j := 1; j <= n; j++ {
		for a := max(0, j-mw); a < j; a++ {
			s := score[a*(mw+1)+j-a]
			for k := 0; k <= a; k++ {
				if best[a*(n+1)+k] == neg {
					continue
				}
				if v := best[a*(n+1)+k] + s; v > best[j*(n+1)+k+1] {
					best[j*(n+1)+k+1], from[j*(n+1)+k+1] = v, a
				}
			}
		}
	}
	bestK, bestV := 0, neg
	for k := 1; k <= n; k++ {
		v := best[n*(n+1)+k]
		if v == neg {
			continue
		}
		v += countWeight * ph.logCount(k)
		if v > bestV {
			bestK, bestV = k, v
		}
	}
	out := make([]string, bestK)
	for j, k := n, bestK; j > 0; j, k = from[j*(n+1)+k], k-1 {
		out[k-1] = strings.Join(w[from[j*(n+1)+k]:j], " ")
	}
	return out
}

// logCount is the log-prior of a line of k phrases.
func (ph *Phrases) logCount(k int) float64 {
	switch {
	case len(ph.logK) == 0:
		return 0
	case k < len(ph.logK):
		return ph.logK[k]
	}
	return ph.logK[len(ph.logK)-1]
}
