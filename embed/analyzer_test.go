package embed

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// tok builds a Token whose Word and Term may differ.
func tok(term, word string, brk bool) Token { return Token{Term: term, Word: word, Break: brk} }

// wordsOf renders tokens as their words, with " | " before each token that
// has Break set (except the first, which always has it).
func wordsOf(toks []Token) string {
	var b strings.Builder
	for i, t := range toks {
		switch {
		case i == 0:
		case t.Break:
			b.WriteString(" | ")
		default:
			b.WriteString(" ")
		}
		b.WriteString(t.Word)
	}
	return b.String()
}

// TestAnalyze pins how Analyze splits text into words and breaks; how words
// become terms is TestAnalyzeTerms's business.
func TestAnalyze(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		want   string // words, " | " marking a Break
		reason string
	}{
		{name: "empty", in: "", want: ""},
		{name: "only punctuation", in: " -- ; ,. () ", want: ""},
		{name: "lower-cased", in: "Neural Networks learn Symmetries", want: "neural networks learn symmetries"},
		{
			name:   "stop words and abstract boilerplate are dropped",
			in:     "We propose a novel method for the study of galaxies",
			want:   "galaxies",
			reason: "we/propose/novel/method/study are abstract stop words, a/for/the/of English ones",
		},
		{name: "stop word breaks a phrase", in: "dark matter in galaxy clusters", want: "dark matter | galaxy clusters"},
		{
			name:   "numbers are dropped, alphanumerics kept",
			in:     "3.5 GeV at 13 TeV in 2024 with 10x",
			want:   "gev | tev | 10x",
			reason: "a dropped number separates its neighbours like a stop word does",
		},
		{
			name:   "one-letter words are dropped",
			in:     "A B c dd ee",
			want:   "dd ee",
			reason: "a is a stop word; b and c are single letters",
		},
		{name: "punctuation breaks, space does not", in: "dark matter, dark energy; (cold) gas", want: "dark matter | dark energy | cold | gas"},
		{name: "hyphen splits words without a break", in: "self-supervised learning Clebsch-Gordan", want: "self supervised learning clebsch gordan"},
		{
			name:   "hyphenated stop word still breaks",
			in:     "end-to-end graph-based",
			want:   "end | end graph",
			reason: "to is a stop word between the two ends; based is an abstract stop word",
		},
		{
			name:   "possessive s breaks like a dropped word",
			in:     "Chentsov's theorem",
			want:   "chentsov | theorem",
			reason: "the apostrophe itself does not break, but the one-letter s is dropped and breaks",
		},
		{
			name: "LaTeX calligraphic with subscript",
			in:   `matrix $\mathcal{F}_{ij}$ derived`,
			want: "matrix | ij derived",
			reason: `\mathcal is unwrapped, F is a single letter and dropped (with a break), ` +
				`_ becomes a space and the braces vanish, so the index pair ij survives as a word`,
		},
		{
			name:   "LaTeX citation is dropped with its key",
			in:     `galaxies \citet{smith2020} cluster`,
			want:   "galaxies cluster",
			reason: "the citation key never becomes a word; the citation turns into a space, so no break",
		},
		{
			name: "LaTeX citation variants with options and several keys",
			in:   `halos \citep[see][p.~3]{a1,b2} and \ref{fig:x} \eqref{eq1} \label{sec:intro} \url{http://x.org} \Cref{t} gas`,
			want: "halos | gas",
		},
		{name: "LaTeX command unwrapped", in: `\textbf{Deep} \emph{learning}`, want: "deep learning"},
		{name: "LaTeX Greek command and Unicode Greek", in: `$\Omega_m$ and α-decay`, want: "omega | alpha decay"},
		{name: "LaTeX varepsilon", in: `$\varepsilon$-greedy`, want: "epsilon greedy"},
		{name: "accents folded", in: "Schrödinger Ångström naïve café Poincaré", want: "schrodinger angstrom naive cafe poincare"},
		{name: "letters without decomposition are spelled", in: "Straße Ørsted Łukasiewicz encyclopædia", want: "strasse orsted lukasiewicz encyclopaedia"},
		{
			name:   "dotted capital I, Omega, Kelvin sign, capital sharp s",
			in:     "\u0130stanbul \u2126 \u03a9 \u212a \u1e9e",
			want:   "istanbul omega omega | ss",
			reason: "these panic in sugarme's accent stripper; here İ folds to i, the ohm sign and Ω to omega, the Kelvin sign to k (one letter, dropped) and ẞ to ss",
		},
		{name: "ohm sign and micro sign are Greek", in: "\u2126 \u00b5", want: "omega mu"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Analyze(tt.in)
			if diff := cmp.Diff(tt.want, wordsOf(got)); diff != "" {
				t.Errorf("Analyze(%q) words mismatch (-want +got):\n%s\n%s", tt.in, diff, tt.reason)
			}
			if len(got) > 0 && !got[0].Break {
				t.Errorf("Analyze(%q)[0].Break = false, want true", tt.in)
			}
		})
	}
}

// TestAnalyzeTerms pins Analyze's terms: words stemmed by the default
// PluralStemmer.
func TestAnalyzeTerms(t *testing.T) {
	got := Analyze("Neural Networks learn Symmetries of galaxies; self-supervised learning theories")
	want := []Token{tok("neural", "neural", true), tok("network", "networks", false), tok("learn", "learn", false),
		tok("symmetry", "symmetries", false), tok("galaxy", "galaxies", true), tok("self", "self", true),
		tok("supervised", "supervised", false), tok("learning", "learning", false), tok("theory", "theories", false)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Analyze mismatch (-want +got):\n%s", diff)
	}
	for _, p := range bundledPapers(t)[:50] {
		for _, tk := range Analyze(p.Abstract) {
			if want := PluralStemmer.Stem(tk.Word); tk.Term != want {
				t.Fatalf("Analyze term of %q = %q, want PluralStemmer's %q", tk.Word, tk.Term, want)
			}
		}
	}
}

func TestStemmers(t *testing.T) {
	tests := []struct {
		name                   string
		word                   string
		plural, snowball, none string
		reason                 string
	}{
		{name: "plain plural", word: "networks", plural: "network", snowball: "network", none: "networks"},
		{name: "ies", word: "galaxies", plural: "galaxy", snowball: "galaxi", none: "galaxies"},
		{name: "eies kept", word: "zombeies", plural: "zombeie", snowball: "zombei", none: "zombeies", reason: `"eies" is excluded from ies→y; es→e applies`},
		{name: "es", word: "phases", plural: "phase", snowball: "phase", none: "phases"},
		{name: "oes", word: "heroes", plural: "heroe", snowball: "hero", none: "heroes", reason: `"oes" is excluded from es→e; the final s goes`},
		{name: "us kept", word: "corpus", plural: "corpus", snowball: "corpus", none: "corpus"},
		{name: "ss kept", word: "class", plural: "class", snowball: "class", none: "class"},
		{name: "short words kept", word: "gas", plural: "gas", snowball: "gas", none: "gas"},
		{name: "physics is not physical", word: "physics", plural: "physic", snowball: "physic", none: "physics"},
		{name: "physical", word: "physical", plural: "physical", snowball: "physic", none: "physical", reason: "Snowball conflates physics and physical; the plural stemmer does not"},
		{name: "universal", word: "universal", plural: "universal", snowball: "univers", none: "universal"},
		{name: "learning", word: "learning", plural: "learning", snowball: "learn", none: "learning"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, c := range []struct {
				s    Stemmer
				want string
			}{{PluralStemmer, tt.plural}, {SnowballStemmer, tt.snowball}, {NoStemmer, tt.none}} {
				if got := c.s.Stem(tt.word); got != c.want {
					t.Errorf("%v.Stem(%q) = %q, want %q %s", c.s, tt.word, got, c.want, tt.reason)
				}
			}
			if got := PluralStem(tt.word); got != tt.plural {
				t.Errorf("PluralStem(%q) = %q, want %q", tt.word, got, tt.plural)
			}
			// Twice: the second Snowball answer comes from the cache.
			if got := Stem(tt.word); got != tt.snowball {
				t.Errorf("Stem(%q) = %q, want %q", tt.word, got, tt.snowball)
			}
		})
	}
}

func TestParseStemmer(t *testing.T) {
	for _, s := range []Stemmer{PluralStemmer, SnowballStemmer, NoStemmer} {
		got, err := ParseStemmer(s.String())
		if err != nil || got != s {
			t.Errorf("ParseStemmer(%q) = %v, %v; want %v", s.String(), got, err, s)
		}
	}
	for in, want := range map[string]Stemmer{"": PluralStemmer, "Snowball": SnowballStemmer, "NONE": NoStemmer} {
		if got, err := ParseStemmer(in); err != nil || got != want {
			t.Errorf("ParseStemmer(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseStemmer("porter"); err == nil {
		t.Error(`ParseStemmer("porter") succeeded, want an error`)
	}
}

// TestStemmerAnalyze checks that each stemmer's Analyze splits alike and
// differs only in terms.
func TestStemmerAnalyze(t *testing.T) {
	const text = "Universal physics of galaxies: learning symmetries"
	base := Analyze(text)
	for _, s := range []Stemmer{PluralStemmer, SnowballStemmer, NoStemmer} {
		got := s.Analyze(text)
		if diff := cmp.Diff(wordsOf(base), wordsOf(got)); diff != "" {
			t.Errorf("%v.Analyze words differ from Analyze (-want +got):\n%s", s, diff)
		}
		for _, tk := range got {
			if want := s.Stem(tk.Word); tk.Term != want {
				t.Errorf("%v.Analyze term of %q = %q, want %q", s, tk.Word, tk.Term, want)
			}
		}
	}
}

// TestAnalyzeLambdaCDM pins that the three spellings of ΛCDM give one term.
func TestAnalyzeLambdaCDM(t *testing.T) {
	want := []string{"lambdacdm"}
	// Greek letters are spelled before stemming, so any stemmer gives this.
	for _, in := range []string{`$\Lambda$CDM`, "ΛCDM", "LambdaCDM", "λCDM", `$\lambda$CDM`} {
		if diff := cmp.Diff(want, terms(Analyze(in))); diff != "" {
			t.Errorf("Analyze(%q) terms mismatch (-want +got):\n%s", in, diff)
		}
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		name, in, want string
		reason         string
	}{
		{name: "ascii lower-cased", in: "Dark Matter", want: "dark matter"},
		{name: "math delimiters and braces removed", in: "${x}$", want: "x"},
		{name: "sub- and superscripts and ties become spaces", in: "a_b^c~d", want: "a b c d"},
		{name: "citation removed", in: `x \cite{k} y`, want: "x   y"},
		{name: "Greek command spelled", in: `\Lambda CDM`, want: "lambda cdm"},
		{
			name: "Greek command needs a word end", in: `\pix y`, want: "  y",
			reason: `\pix is not \pi followed by x: it is an unknown command, removed whole`,
		},
		{name: "Greek letters spelled", in: "Λσ", want: "lambdasigma"},
		{name: "accents folded", in: "Schrödinger", want: "schrodinger"},
		{name: "sharp s", in: "ẞß", want: "ssss"},
		{name: "dotless i", in: "ı", want: "i"},
		{name: "Kelvin sign", in: "\u212a", want: "k"},
		{name: "ohm sign", in: "\u2126", want: "omega"},
		{name: "words are not split", in: "end-to-end", want: "end-to-end"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Normalize(tt.in); got != tt.want {
				t.Errorf("Normalize(%q) = %q, want %q\n%s", tt.in, got, tt.want, tt.reason)
			}
		})
	}
}

// TestAnalyzeConsecutiveGreekCommands pins a fixed bug: the Greek command
// pattern consumes the character after the letter name, so when that
// character is the backslash of the next command, the next command is no
// longer seen as Greek and is deleted as an unknown command.
func TestAnalyzeConsecutiveGreekCommands(t *testing.T) {
	tests := []struct{ name, in, want, reason string }{
		{name: "two different letters", in: `$\alpha\beta$`, want: "alphabeta", reason: "a run of Greek letters is one symbol, as μν"},
		{name: "same letter twice", in: `$\gamma\gamma$ scattering`, want: "gammagamma scattering"},
		{name: "letter command letter", in: `$\nu\bar\nu$`, want: "nu nu"},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, wordsOf(Analyze(tt.in))); diff != "" {
			t.Errorf("%s: Analyze(%q) words mismatch (-want +got):\n%s", tt.name, tt.in, diff)
		}
	}
}

// TestAnalyzeOneLetterNonASCII pins a fixed bug: isContentWord measured length
// in bytes, so a one-letter word outside ASCII is kept although Analyze's
// documentation says one-letter words are dropped.
func TestAnalyzeOneLetterNonASCII(t *testing.T) {
	for _, in := range []string{"ℏ", "ħ", "ж", "中"} {
		if got := Analyze(in); len(got) != 0 {
			t.Errorf("Analyze(%q) = %+v, want no tokens (one letter)", in, got)
		}
	}
}

func TestIsStopWord(t *testing.T) {
	for _, w := range []string{"the", "we", "propose", "paper", "novel", "et", "al", "using", "demonstrating"} {
		if !IsStopWord(w) {
			t.Errorf("IsStopWord(%q) = false, want true", w)
		}
	}
	for _, w := range []string{"galaxy", "neural", "network", "dark", "quantum", "The", ""} {
		if IsStopWord(w) {
			t.Errorf("IsStopWord(%q) = true, want false", w)
		}
	}
}

// TestAnalyzeConcurrent runs Analyze from several goroutines (the stem cache
// is shared); run with -race.
func TestAnalyzeConcurrent(t *testing.T) {
	papers := bundledPapers(t)[:40]
	want := make([][]Token, len(papers))
	for i, p := range papers {
		want[i] = Analyze(p.Abstract)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 4*len(papers))
	for g := range 4 {
		wg.Go(func() {
			for i := range papers {
				i := (i + g*7) % len(papers)
				if diff := cmp.Diff(want[i], Analyze(papers[i].Abstract)); diff != "" {
					errs <- fmt.Sprintf("paper %d (-want +got):\n%s", i, diff)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// FuzzAnalyze checks that Analyze never panics, gives non-empty terms and
// words made of letters and digits only, never a stop word or a number, and
// is deterministic.
func FuzzAnalyze(f *testing.F) {
	for _, s := range []string{
		"", "Neural networks", `$\mathcal{F}_{ij}$`, `\citet{x}`, `$\Lambda$CDM`, "ΛCDM", "\u0130 \u2126 \u03a9 \u212a \u1e9e",
		"Schrödinger", "end-to-end", "3.5 GeV", `\citep[a][b]{c`, `\`, `\alpha\beta`, "\xff\xfe", "ǅ",
		"a\u0301\u0301", "ﬁ ligature", "١٢٣ arabic digits", "x_{\\rm eff}", strings.Repeat("α", 50),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Analyze(s)
		for i, tk := range got {
			if tk.Term == "" || tk.Word == "" {
				t.Fatalf("Analyze(%q)[%d] = %+v: empty term or word", s, i, tk)
			}
			if !utf8.ValidString(tk.Word) {
				t.Fatalf("Analyze(%q)[%d].Word = %q: invalid UTF-8", s, i, tk.Word)
			}
			digits := true
			for _, r := range tk.Word {
				if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
					t.Fatalf("Analyze(%q)[%d].Word = %q holds %q", s, i, tk.Word, r)
				}
				digits = digits && unicode.IsDigit(r)
			}
			if digits || IsStopWord(tk.Word) {
				t.Fatalf("Analyze(%q)[%d].Word = %q is a number or stop word", s, i, tk.Word)
			}
			if i == 0 && !tk.Break {
				t.Fatalf("Analyze(%q)[0] has Break false", s)
			}
		}
		if diff := cmp.Diff(got, Analyze(s)); diff != "" {
			t.Fatalf("Analyze(%q) not deterministic (-first +second):\n%s", s, diff)
		}
	})
}

// benchAbstract is a real abstract from the bundled listing.
func benchAbstract(b *testing.B) string {
	b.Helper()
	for _, p := range bundledPapers(b) {
		if strings.HasPrefix(p.Title, "End-to-end Differentiable Calibration") {
			return p.Abstract
		}
	}
	b.Fatal("benchmark abstract not found")
	return ""
}

func BenchmarkAnalyze(b *testing.B) {
	abs := benchAbstract(b)
	sizes := []struct {
		name string
		text string
	}{
		{"title", "End-to-end Differentiable Calibration and Reconstruction for Optical Particle Detectors"},
		{"abstract", abs},
		{"abstractx10", strings.Repeat(abs+" ", 10)},
	}
	for _, sz := range sizes {
		b.Run(sz.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(sz.text)))
			for b.Loop() {
				Analyze(sz.text)
			}
		})
	}
}
