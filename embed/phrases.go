package embed

import (
	"math"
	"strings"
	"unicode"
)

// PhraseConfig tunes keyphrase recovery. Zero values mean the defaults.
type PhraseConfig struct {
	// MinLines is how many keyphrase lines a multi-word phrase must occur in
	// (default 2).
	MinLines int
	// SplitRatio: an n-gram is not a phrase when it splits into two parts
	// that each occur in more than SplitRatio times as many lines as the
	// whole, i.e. it is two phrases that happen to be listed together
	// (default 2.5).
	SplitRatio float64
	// MaxWords bounds a phrase's length (default 5).
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
		c.MaxWords = 5
	}
	return c
}

// Phrases recovers the phrases of undelimited keyphrase lines ("detector
// simulation differentiable simulation calibration") from statistics over
// all lines of a corpus: phrases recur across papers in varying company.
//
// A multi-word n-gram is a candidate when it occurs in at least MinLines
// lines, is not explained by a split into two parts that each occur far more
// often than the whole (two phrases listed together), and every word pair in
// it is cohesive. Lines are then segmented under a unigram phrase model
// whose probabilities are fitted by Viterbi EM: segment every line, count
// the segments used, re-estimate, repeat. Safe for concurrent use once
// learned.
type Phrases struct {
	cfg    PhraseConfig
	phrase map[string]bool    // multi-word candidates, words joined by single spaces
	logp   map[string]float64 // log-probability of a segment (word or phrase)
	unseen float64            // log-probability of a segment never counted
}

// emRounds is how many Viterbi EM rounds LearnPhrases runs; segmentations
// stop changing after two or three on the bundled corpus.
const emRounds = 4

// LearnPhrases learns the phrase vocabulary of a corpus's keyphrase lines.
func LearnPhrases(lines []string, cfg PhraseConfig) *Phrases {
	cfg = cfg.withDefaults()
	words := make([][]string, len(lines))
	df := map[string]int{}
	for k, line := range lines {
		w := strings.Fields(strings.ToLower(line))
		words[k] = w
		seen := map[string]bool{}
		for i := range w {
			for n := 1; n <= cfg.MaxWords && i+n <= len(w); n++ {
				seen[strings.Join(w[i:i+n], " ")] = true
			}
		}
		for g := range seen {
			df[g]++
		}
	}
	ph := &Phrases{cfg: cfg, phrase: map[string]bool{}}
	counts := map[string]float64{}
	for g, n := range df {
		if !strings.Contains(g, " ") {
			counts[g] = float64(n)
			continue
		}
		if n >= cfg.MinLines && !explained(g, n, df, cfg.SplitRatio) && cohesive(g, df) {
			ph.phrase[g] = true
			counts[g] = float64(n)
		}
	}
	for range emRounds {
		ph.setCounts(counts)
		counts = map[string]float64{}
		for _, w := range words {
			for _, seg := range ph.segment(w) {
				counts[seg]++
			}
		}
	}
	ph.setCounts(counts)
	return ph
}

// setCounts turns segment counts into smoothed log-probabilities.
func (ph *Phrases) setCounts(counts map[string]float64) {
	const alpha = 0.5
	total := 0.0
	for _, c := range counts {
		total += c + alpha
	}
	total += alpha // mass for unseen segments
	ph.logp = make(map[string]float64, len(counts))
	for g, c := range counts {
		ph.logp[g] = math.Log((c + alpha) / total)
	}
	ph.unseen = math.Log(alpha / total)
}

// explained reports whether n-gram g (in n lines) splits into two parts that
// each occur in more than ratio*n lines.
func explained(g string, n int, df map[string]int, ratio float64) bool {
	limit := ratio * float64(n)
	for i := 0; i < len(g); i++ {
		if g[i] != ' ' {
			continue
		}
		if float64(df[g[:i]]) > limit && float64(df[g[i+1:]]) > limit {
			return true
		}
	}
	return false
}

// cohesion constants: a word pair inside a phrase must follow one another in
// at least minCohesion of the lines holding either word (add-cohesionPrior
// smoothing, so that rare words need repeated evidence).
const (
	minCohesion   = 0.3
	cohesionPrior = 3.0
)

// cohesive reports whether every adjacent word pair of g is cohesive: the
// pair occurs in a large share of the lines holding its first or its second
// word. Listed-together phrases fail at their junction ("networks symmetry").
func cohesive(g string, df map[string]int) bool {
	w := strings.Fields(g)
	for i := 0; i+1 < len(w); i++ {
		pair := float64(df[w[i]+" "+w[i+1]])
		a, b := float64(df[w[i]]), float64(df[w[i+1]])
		if pair/(a+cohesionPrior) < minCohesion && pair/(b+cohesionPrior) < minCohesion {
			return false
		}
	}
	return true
}

// Len returns the number of multi-word phrases learned.
func (ph *Phrases) Len() int { return len(ph.phrase) }

// IsPhrase reports whether a lower-case multi-word string is a learned phrase.
func (ph *Phrases) IsPhrase(s string) bool { return ph.phrase[s] }

// Find returns the learned multi-word phrases that occur in running text,
// longest first where they overlap, in order of occurrence. Matching is on
// lower-cased words with punctuation removed.
func (ph *Phrases) Find(text string) []string {
	w := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-'
	})
	var out []string
	for i := 0; i < len(w); {
		n := min(ph.cfg.MaxWords, len(w)-i)
		for ; n >= 2; n-- {
			if ph.phrase[strings.Join(w[i:i+n], " ")] {
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

// Segment splits a keyphrase line into phrases, lower-cased, in order.
func (ph *Phrases) Segment(line string) []string {
	return ph.segment(strings.Fields(strings.ToLower(line)))
}

// segment finds the most probable split of w into words and candidate
// phrases by dynamic programming.
func (ph *Phrases) segment(w []string) []string {
	if len(w) == 0 {
		return nil
	}
	logp := func(g string) float64 {
		if p, ok := ph.logp[g]; ok {
			return p
		}
		return ph.unseen
	}
	// best[j]: log-probability of the best split of w[:j]; from[j]: where
	// its last segment starts.
	best := make([]float64, len(w)+1)
	from := make([]int, len(w)+1)
	for j := 1; j <= len(w); j++ {
		best[j], from[j] = best[j-1]+logp(w[j-1]), j-1
		for n := 2; n <= ph.cfg.MaxWords && n <= j; n++ {
			i := j - n
			g := strings.Join(w[i:j], " ")
			if !ph.phrase[g] {
				continue
			}
			if s := best[i] + logp(g); s > best[j] {
				best[j], from[j] = s, i
			}
		}
	}
	var out []string
	for j := len(w); j > 0; j = from[j] {
		out = append(out, strings.Join(w[from[j]:j], " "))
	}
	for i, k := 0, len(out)-1; i < k; i, k = i+1, k-1 {
		out[i], out[k] = out[k], out[i]
	}
	return out
}
