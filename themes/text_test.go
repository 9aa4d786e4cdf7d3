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
	m := newTermModel(papers)
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
