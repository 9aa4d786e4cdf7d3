package themes

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/paperrec/paperrec/models"
)

func TestSplitSentences(t *testing.T) {
	tests := []struct {
		name, text string
		want       []string
		reason     string
	}{
		{name: "plain", text: "We study flows. They work well! Do they scale? Yes.",
			want: []string{"We study flows.", "They work well!", "Do they scale?", "Yes."}},
		{name: "abbreviations", text: "Models, e.g. Transformers, fit. Smith et al. Show it. Compare Fig. 3 here.",
			want:   []string{"Models, e.g. Transformers, fit.", "Smith et al. Show it.", "Compare Fig. 3 here."},
			reason: "\"et al.\" before a capital is ambiguous; it is kept inside, as a citation usually is"},
		{name: "math", text: "We find $x = 1. Y$ holds. Next one.", want: []string{"We find $x = 1. Y$ holds.", "Next one."}},
		{name: "lower case after stop", text: "Values near 0.5 mean little. The rest.", want: []string{"Values near 0.5 mean little.", "The rest."}},
		{name: "white space folded", text: "  One\nline.   Two  lines. ", want: []string{"One line.", "Two lines."}},
		{name: "empty", text: "", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, splitSentences(tt.text)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestStandsAlone(t *testing.T) {
	tests := []struct {
		s    string
		want bool
	}{
		{"We train equivariant networks on molecular data and compare them with baselines.", true},
		{"This method trains equivariant networks on molecular data and compares baselines.", false},
		{"However, we train equivariant networks on molecular data and compare them.", false},
		{"We train networks with $O(N^2)$ cost on molecular data and compare them.", false},
		{"Too short to say anything.", false},
		{"we train equivariant networks on molecular data and compare them with baselines.", false},
		{"We train equivariant networks on molecular data and compare them with baselines", false},
	}
	for _, tt := range tests {
		if got := standsAlone(tt.s); got != tt.want {
			t.Errorf("standsAlone(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
}

func TestEscape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain title", "plain title"},
		{"a_b *c* [d] <e> | f # g", `a\_b \*c\* \[d\] \<e\> \| f \# g`},
		{"$E_{3}$-equivariant_nets", `$E_{3}$-equivariant\_nets`},
		{"two\nlines", "two lines"},
	}
	for _, tt := range tests {
		if got := escape(tt.in); got != tt.want {
			t.Errorf("escape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestTerms checks the class-based TF-IDF on a hand-made corpus: the label
// takes the distinctive phrases, the terms fold words into the phrases that
// hold them, and the abstracts' capitals come back.
func TestTerms(t *testing.T) {
	p := func(title, abstract string, kw ...string) models.Paper {
		return models.Paper{Title: title, Abstract: abstract, Keywords: kw}
	}
	papers := []models.Paper{
		p("Lattice QCD with flows", "We sample lattice QCD with normalizing flows. The flows are exact.", "lattice qcd", "normalizing flows"),
		p("Flows for lattice QCD", "Normalizing flows speed up lattice QCD. Gauge fields are sampled.", "lattice qcd", "normalizing flows", "gauge fields"),
		p("Gauge fields and flows", "We learn gauge fields with normalizing flows in lattice QCD.", "gauge fields", "normalizing flows"),
		p("Galaxy surveys", "We measure the galaxy power spectrum in surveys.", "power spectrum", "galaxy surveys"),
		p("Power spectra of galaxies", "The power spectrum of galaxy surveys constrains cosmology.", "power spectrum", "galaxy surveys"),
		p("Cosmology from surveys", "Galaxy surveys and the power spectrum in cosmology.", "power spectrum", "cosmology"),
	}
	m := newTermModel(papers, nil)
	w := m.classWeights([][]int{{0, 1, 2}, {3, 4, 5}})
	labels := m.labels([][]int{{0, 1, 2}, {3, 4, 5}}, w, false)
	if diff := cmp.Diff([]string{"Normalizing flows", "Power spectrum"}, labels); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
	var terms []string
	for _, term := range m.top(w[0], 10) {
		terms = append(terms, term.Term)
	}
	for _, term := range terms {
		switch term {
		case "lattice", "QCD", "normalizing", "gauge":
			t.Errorf("terms %v list %q, which a listed phrase holds", terms, term)
		}
	}
	if terms[0] != "lattice QCD" && terms[0] != "normalizing flows" {
		t.Errorf("terms %v do not start with a phrase of every paper", terms)
	}
}

// FuzzSplitSentences checks that splitting loses and adds nothing: the
// sentences joined by spaces are the text with its white space folded.
func FuzzSplitSentences(f *testing.F) {
	for _, s := range []string{"We study flows. They work well!", "e.g. A. B. $x. Y$ z.", " . . ", "Fig. 2. See it? Yes!\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		got := strings.Join(splitSentences(text), " ")
		if want := strings.Join(strings.Fields(text), " "); got != want {
			t.Errorf("splitSentences(%q) joined = %q, want %q", text, got, want)
		}
	})
}

// TestLabelRules checks the choice of label phrases on hand-made classes
// of ten papers each: each paper lists the phrases given for its range of
// papers.
func TestLabelRules(t *testing.T) {
	type listing struct {
		from, to int // papers [from, to) of the 30
		phrase   string
	}
	tests := []struct {
		name     string
		listings []listing
		titles   []listing // titles instead of "Paper"
		want     string    // label of the first class
		reason   string
	}{
		{name: "a covering phrase over a narrow one",
			listings: []listing{{0, 3, "toy grokking"}, {0, 8, "learning theory"}, {10, 16, "learning theory"}, {20, 26, "learning theory"}},
			want:     "Learning theory",
			reason: "the narrow phrase is in 3 of 10 papers (and nowhere else), the broad one in 8 of 10 and 12 others: " +
				"class-based TF-IDF preferred the narrow one (0.44 against 0.32); coverage × concentration the broad one (0.32 against 0.30)"},
		{name: "a narrow phrase below the coverage floor",
			listings: []listing{{0, 2, "toy grokking"}, {0, 5, "learning theory"}, {10, 14, "learning theory"}, {20, 24, "learning theory"}},
			want:     "Learning theory",
			reason:   "in 2 of 10 papers, the narrow phrase scores 0.2 against 0.19 but covers less than 30% of the class"},
		{name: "no second phrase when the head covers the theme",
			listings: []listing{{0, 7, "neutrino detection"}, {4, 10, "event reconstruction"}},
			want:     "Neutrino detection",
			reason:   "the head covers 70% of the class: the second (60%, all the papers the head misses) is not needed"},
		{name: "a second phrase for the papers the head misses",
			listings: []listing{{0, 5, "cosmological stasis"}, {5, 10, "big bang nucleosynthesis"}},
			want:     "Big bang nucleosynthesis and cosmological stasis",
			reason:   "equal scores: the phrase first in alphabetical order heads"},
		{name: "a narrow phrase when nothing covers",
			listings: []listing{{0, 2, "toy grokking"}, {2, 4, "toy phase"}},
			want:     "Toy grokking",
			reason:   "no phrase covers 30% of the class: the best concentrated one heads it"},
		{name: "a phrase the titles share and no paper lists",
			listings: []listing{{0, 3, "multi-task learning"}, {10, 19, "multi-task learning"}, {20, 30, "particle physics"}},
			titles:   []listing{{0, 8, "Nuclear physics with neural networks"}},
			want:     "Nuclear physics",
			reason: `"nuclear physics" is in 8 of 10 titles and ends like a keyphrase ("particle physics"); ` +
				`"multi-task learning" covers 3 and is in 9 other papers; "neural networks" ends no keyphrase`},
		{name: "a title phrase that ends no keyphrase",
			listings: []listing{{0, 3, "multi-task learning"}, {20, 30, "particle physics"}},
			titles:   []listing{{0, 8, "Nuclear masses at late time"}},
			want:     "Multi-task learning",
			reason:   `no keyphrase ends in "time" or "masses": neither run is a noun phrase by the corpus's evidence`},
		{name: "a title phrase inside a keyphrase",
			listings: []listing{{0, 3, "neural scaling laws"}, {20, 23, "neural scaling laws"}},
			titles:   []listing{{0, 8, "Scaling laws of models"}},
			want:     "Neural scaling laws",
			reason:   `"scaling laws" is a part of the keyphrase "neural scaling laws", which a label never cuts`},
		{name: "a title phrase inside a longer one",
			listings: []listing{{0, 3, "multi-task learning"}, {10, 19, "multi-task learning"}, {20, 30, "particle physics"}, {20, 30, "collider experiments"}},
			titles:   []listing{{0, 8, "Bounds from nuclear physics experiments"}},
			want:     "Nuclear physics experiments",
			reason:   `"nuclear physics" and "physics experiments" come only inside "nuclear physics experiments"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			papers := make([]models.Paper, 30)
			for i := range papers {
				papers[i] = models.Paper{Title: "Paper", Abstract: "We study things."}
			}
			for _, l := range tt.listings {
				for i := l.from; i < l.to; i++ {
					papers[i].Keywords = append(papers[i].Keywords, l.phrase)
				}
			}
			for _, l := range tt.titles {
				for i := l.from; i < l.to; i++ {
					papers[i].Title = l.phrase
				}
			}
			classes := [][]int{make([]int, 10), make([]int, 10), make([]int, 10)}
			for i := range 30 {
				classes[i/10][i%10] = i
			}
			m := newTermModel(papers, nil)
			got := m.labels(classes, m.classWeights(classes), false)
			if got[0] != tt.want {
				t.Errorf("label %q, want %q", got[0], tt.want)
			}
		})
	}
}
