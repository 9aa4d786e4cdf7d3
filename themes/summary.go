package themes

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/paperrec/paperrec/models"
)

// Limits of the extractive summary.
const (
	summaryPapers    = 8  // sentences come from this many of the most central members
	summarySentences = 3  // at most
	summaryWords     = 50 // stop adding sentences past this many words
	summaryMaxWords  = 70 // and add none that would pass this many
	sentenceMinWords = 8
	sentenceMaxWords = 40
)

// summarize writes a short extractive paragraph for a theme: the sentences
// of its most central members' abstracts that weigh most in the theme's
// class-based TF-IDF (the sum of their terms' weights over the square root
// of their number of terms), at most one per paper, none that repeats a
// chosen one (Jaccard overlap of terms above 0.3), in order of weight.
// Sentences that cannot stand alone (math, "This", "However"), or are very
// short or long, are passed over.
func summarize(papers []models.Paper, central []int, terms *termModel, w map[int]float64) string {
	type candidate struct {
		text  string
		paper int
		rank  int
		terms []int
		score float64
	}
	var cands []candidate
	for rank, i := range central[:min(len(central), summaryPapers)] {
		for _, s := range splitSentences(papers[i].Abstract) {
			if !standsAlone(s) {
				continue
			}
			ts := terms.termsOf(s)
			if len(ts) == 0 {
				continue
			}
			score := 0.0
			for _, t := range ts {
				score += w[t]
			}
			cands = append(cands, candidate{s, i, rank, ts, score / math.Sqrt(float64(len(ts)))})
		}
	}
	slices.SortStableFunc(cands, func(a, b candidate) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return cmp.Compare(a.rank, b.rank)
	})
	var chosen []candidate
	words := 0
	for _, c := range cands {
		if len(chosen) == summarySentences || words >= summaryWords {
			break
		}
		if slices.ContainsFunc(chosen, func(o candidate) bool { return o.paper == c.paper || jaccard(o.terms, c.terms) > 0.3 }) {
			continue
		}
		n := len(strings.Fields(c.text))
		if len(chosen) > 0 && words+n > summaryMaxWords {
			continue
		}
		chosen = append(chosen, c)
		words += n
	}
	if len(chosen) == 0 {
		return titlesSummary(papers, central)
	}
	parts := make([]string, len(chosen))
	for i, c := range chosen {
		parts[i] = c.text
	}
	return strings.Join(parts, " ")
}

// titlesSummary stands in when no abstract has a usable sentence.
func titlesSummary(papers []models.Paper, central []int) string {
	var titles []string
	for _, i := range central[:min(3, len(central))] {
		titles = append(titles, "“"+strings.Join(strings.Fields(papers[i].Title), " ")+"”")
	}
	switch len(titles) {
	case 0:
		return ""
	case 1:
		return "Papers such as " + titles[0] + "."
	}
	return "Papers such as " + strings.Join(titles[:len(titles)-1], ", ") + " and " + titles[len(titles)-1] + "."
}

// outlierSummary describes the outlier group.
func outlierSummary(t Theme) string {
	return fmt.Sprintf("%d %s fit no theme closely enough to join it; %s kept apart rather than forced into a theme.",
		t.Size, plural(t.Size, "paper", "papers"), plural(t.Size, "it is", "they are"))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// abbreviations end with a full stop that does not end a sentence.
var abbreviations = map[string]bool{"e.g": true, "i.e": true, "al": true, "vs": true, "cf": true, "fig": true,
	"figs": true, "eq": true, "eqs": true, "ref": true, "refs": true, "sec": true, "approx": true, "resp": true,
	"no": true, "dr": true, "prof": true, "st": true, "ca": true, "viz": true}

// splitSentences splits an abstract at a full stop, question or exclamation
// mark outside $…$ that white space and a capital, digit or opening mark
// follow, except after an abbreviation.
func splitSentences(text string) []string {
	text = strings.Join(strings.Fields(text), " ")
	var out []string
	start, inMath := 0, false
	for i := 0; i < len(text); i++ {
		switch c := text[i]; c {
		case '$':
			inMath = !inMath
		case '.', '?', '!':
			if inMath || i+2 >= len(text) || text[i+1] != ' ' {
				continue
			}
			r, _ := utf8.DecodeRuneInString(text[i+2:])
			if !unicode.IsUpper(r) && !unicode.IsDigit(r) && !strings.ContainsRune("$\\(\"“'", r) {
				continue
			}
			if c == '.' {
				w := text[start:i]
				if j := strings.LastIndexByte(w, ' '); j >= 0 {
					w = w[j+1:]
				}
				if abbreviations[strings.ToLower(strings.TrimLeft(w, "(["))] || len(w) == 1 {
					continue
				}
			}
			out = append(out, text[start:i+1])
			start = i + 2
		}
	}
	if s := strings.TrimSpace(text[start:]); s != "" {
		out = append(out, s)
	}
	return out
}

// contextOpeners start sentences that lean on the one before.
var contextOpeners = map[string]bool{"this": true, "these": true, "those": true, "it": true, "its": true,
	"they": true, "their": true, "however": true, "moreover": true, "furthermore": true, "finally": true,
	"additionally": true, "also": true, "thus": true, "therefore": true, "hence": true, "such": true,
	"then": true, "here": true, "there": true, "second": true, "third": true, "lastly": true, "similarly": true,
	"consequently": true, "instead": true, "nevertheless": true, "meanwhile": true, "both": true,
	"specifically": true, "importantly": true, "notably": true, "besides": true, "conversely": true}

// standsAlone reports whether a sentence reads well out of its abstract:
// plain text of a moderate length that ends with a full stop and does not
// start by pointing back.
func standsAlone(s string) bool {
	n := len(strings.Fields(s))
	if n < sentenceMinWords || n > sentenceMaxWords || !strings.HasSuffix(s, ".") {
		return false
	}
	if strings.ContainsAny(s, "$\\{}[]") || strings.Contains(s, "http") || strings.Contains(s, "~") {
		return false
	}
	r, _ := utf8.DecodeRuneInString(s)
	if !unicode.IsUpper(r) {
		return false
	}
	first := strings.ToLower(strings.TrimRight(strings.Fields(s)[0], ",:;"))
	return !contextOpeners[first]
}

// jaccard is the overlap of two sorted sets.
func jaccard(a, b []int) float64 {
	inter, i, j := 0, 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] < b[j]:
			i++
		case a[i] > b[j]:
			j++
		default:
			inter++
			i++
			j++
		}
	}
	union := len(a) + len(b) - inter
	if union == 0 {
		return 0
	}
	return float64(inter) / float64(union)
}
