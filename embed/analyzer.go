// Package embed turns paper text into vectors: an analyzer that copes with
// LaTeX, hyphens and Unicode; keyphrase recovery from corpus statistics;
// TF-IDF and BM25 sparse vectors over fields; WordPiece features from
// github.com/sugarme/tokenizer; and dense LSA vectors (a truncated SVD of the
// TF-IDF matrix) for the approximate index.
//
// Everything fitted here is immutable once built and safe for concurrent use.
package embed

import (
	"fmt"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/kljensen/snowball/english"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Token is one content word of a text.
//
// A plain value.
type Token struct {
	// Term is the normalised, stemmed form used as a feature ("network").
	Term string
	// Word is the lower-cased, accent-folded word as written ("networks"),
	// for showing terms to people.
	Word string
	// Break is set when a stop word or punctuation separates this token from
	// the previous one, so no phrase or bigram spans the two.
	Break bool
}

// citeCommands are LaTeX commands whose argument is a key, not text.
var citeCommands = map[string]bool{"cite": true, "citet": true, "citep": true, "citealt": true, "citealp": true,
	"citeauthor": true, "citeyear": true, "ref": true, "eqref": true, "label": true, "url": true,
	"autoref": true, "cref": true, "Cref": true}

// greekCommands spells \alpha ... \Omega and their \var forms.
var greekCommands = func() map[string]string {
	m := map[string]string{}
	for _, name := range strings.Fields(`alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi
		omicron pi rho sigma tau upsilon phi chi psi omega`) {
		m[name] = name
		m["var"+name] = name
		m[strings.ToUpper(name[:1])+name[1:]] = name
	}
	return m
}()

// greekNames spells Greek letters, so "ΛCDM", "$\Lambda$CDM" and "LambdaCDM"
// give the same term.
var greekNames = map[rune]string{
	'α': "alpha", 'β': "beta", 'γ': "gamma", 'δ': "delta", 'ε': "epsilon", 'ϵ': "epsilon", 'ζ': "zeta",
	'η': "eta", 'θ': "theta", 'ϑ': "theta", 'ι': "iota", 'κ': "kappa", 'λ': "lambda", 'μ': "mu", 'µ': "mu",
	'ν': "nu", 'ξ': "xi", 'ο': "omicron", 'π': "pi", 'ρ': "rho", 'σ': "sigma", 'ς': "sigma", 'τ': "tau",
	'υ': "upsilon", 'φ': "phi", 'ϕ': "phi", 'χ': "chi", 'ψ': "psi", 'ω': "omega", 'Ω': "omega",
}

// foldSpecial spells letters that Unicode decomposition leaves alone.
var foldSpecial = map[rune]string{'ß': "ss", 'ẞ': "ss", 'ø': "o", 'ł': "l", 'đ': "d", 'ð': "d", 'þ': "th",
	'æ': "ae", 'œ': "oe", 'ı': "i", 'K': "k", 'ℓ': "l", 'ℒ': "l"}

// Stemmer names a stemming algorithm.
//
// A plain value; its methods are safe for concurrent use.
type Stemmer uint8

// Stemmers.
const (
	// PluralStemmer reduces plurals only (Harman's S-stemmer: "networks" →
	// "network", "theories" → "theory"). The default: on the dev judgments
	// it beats Snowball, which conflates words a physicist keeps apart
	// ("universe" and "universal", "physics" and "physical").
	PluralStemmer Stemmer = iota
	// SnowballStemmer is the Snowball (Porter 2) English stemmer.
	SnowballStemmer
	// NoStemmer keeps words as they are.
	NoStemmer
)

// ParseStemmer reads "plural", "snowball" or "none".
func ParseStemmer(s string) (Stemmer, error) {
	switch strings.ToLower(s) {
	case "", "plural":
		return PluralStemmer, nil
	case "snowball":
		return SnowballStemmer, nil
	case "none":
		return NoStemmer, nil
	}
	return 0, fmt.Errorf("unknown stemmer %q: want plural, snowball or none", s)
}

// String returns the name ParseStemmer reads.
func (s Stemmer) String() string {
	return [...]string{"plural", "snowball", "none"}[s]
}

// Stem returns the stem of a lower-case word.
func (s Stemmer) Stem(word string) string {
	switch s {
	case SnowballStemmer:
		return Stem(word)
	case NoStemmer:
		return word
	}
	return PluralStem(word)
}

// PluralStem applies Harman's S-stemmer (1991): "ies" → "y" (not after
// "e" or "a"), "es" → "e" (not after "a", "e" or "o"), a final "s" dropped
// (not after "u" or "s"). Words of three letters or fewer are kept.
func PluralStem(w string) string {
	if len(w) <= 3 {
		return w
	}
	switch {
	case strings.HasSuffix(w, "ies") && !strings.HasSuffix(w, "eies") && !strings.HasSuffix(w, "aies"):
		return w[:len(w)-3] + "y"
	case strings.HasSuffix(w, "es") && !strings.HasSuffix(w, "aes") && !strings.HasSuffix(w, "ees") && !strings.HasSuffix(w, "oes"):
		return w[:len(w)-1]
	case strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "us") && !strings.HasSuffix(w, "ss"):
		return w[:len(w)-1]
	}
	return w
}

// Analyze splits text into content tokens with the default PluralStemmer;
// see [Stemmer.Analyze]. Safe for concurrent use.
func Analyze(text string) []Token { return PluralStemmer.Analyze(text) }

// Analyze splits text into content tokens: LaTeX citations dropped and
// commands unwrapped, Greek letters spelled out, accents folded, lower-cased,
// split at anything but letters and digits (so "end-to-end" gives three
// words), numbers, one-letter words and stop words dropped, the rest
// stemmed. Safe for concurrent use.
func (s Stemmer) Analyze(text string) []Token {
	text = Normalize(text)
	var (
		out   []Token
		brk   = true
		start = -1
	)
	flush := func(end int) {
		if start < 0 {
			return
		}
		word := text[start:end]
		start = -1
		if !isContentWord(word) {
			brk = true
			return
		}
		out = append(out, Token{Term: s.Stem(word), Word: word, Break: brk})
		brk = false
	}
	for i, r := range text {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if start < 0 {
				start = i
			}
			continue
		}
		flush(i)
		if r != ' ' && r != '-' && r != '\'' {
			// Punctuation other than a space or hyphen ends a phrase.
			brk = true
		}
	}
	flush(len(text))
	return out
}

// Normalize applies Analyze's character-level steps: LaTeX, Greek, accent
// folding and lower case. Words are left unsplit.
func Normalize(text string) string {
	if strings.ContainsRune(text, '\\') {
		text = unlatex(text)
	}
	text = strings.Map(func(r rune) rune {
		switch r {
		case '$', '{', '}':
			return -1
		case '~', '^', '_':
			return ' '
		}
		return r
	}, text)
	ascii := true
	for i := 0; i < len(text) && ascii; i++ {
		ascii = text[i] < utf8.RuneSelf
	}
	if ascii {
		return strings.ToLower(text)
	}
	var b strings.Builder
	b.Grow(len(text))
	for _, r := range text {
		if s, greek := greekNames[unicode.ToLower(r)]; greek {
			b.WriteString(s)
		} else if s, ok := foldSpecial[unicode.ToLower(r)]; ok {
			b.WriteString(s)
		} else {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	folded, _, err := transform.String(accentFolder(), b.String())
	if err != nil {
		return b.String()
	}
	return folded
}

// unlatex rewrites LaTeX commands: citation-like commands and their
// arguments are dropped, Greek letters spelled out ("$\Lambda$CDM" →
// "$lambda$CDM", and "\alpha\beta" → "alphabeta"), other commands become a
// space while their braced arguments stay as text ("\emph{dark matter}").
func unlatex(text string) string {
	var b strings.Builder
	b.Grow(len(text))
	for i := 0; i < len(text); {
		if text[i] != '\\' {
			b.WriteByte(text[i])
			i++
			continue
		}
		j := i + 1
		for j < len(text) && isASCIILetter(text[j]) {
			j++
		}
		name := text[i+1 : j]
		if name == "" {
			// An escaped symbol (\%, \&, \\): a separator.
			b.WriteByte(' ')
			i = min(j+1, len(text))
			continue
		}
		if j < len(text) && text[j] == '*' {
			j++
		}
		switch g, greek := greekCommands[name]; {
		case citeCommands[name]:
			j = skipLaTeXArgs(text, j)
			b.WriteByte(' ')
		case greek:
			// A run of Greek letters is one symbol ("\mu\nu" → "munu",
			// as "μν"): spelled apart they would be common words that
			// index symbols share by accident.
			b.WriteString(g)
		default:
			b.WriteByte(' ')
		}
		i = j
	}
	return b.String()
}

// skipLaTeXArgs skips optional [..] arguments and one {..} argument from j.
func skipLaTeXArgs(text string, j int) int {
	for j < len(text) && text[j] == '[' {
		k := strings.IndexByte(text[j:], ']')
		if k < 0 {
			return len(text)
		}
		j += k + 1
	}
	if j < len(text) && text[j] == '{' {
		k := strings.IndexByte(text[j:], '}')
		if k < 0 {
			return len(text)
		}
		j += k + 1
	}
	return j
}

func isASCIILetter(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }

// accentFolder removes combining marks after canonical decomposition. A
// transform.Chain is stateful, so each call gets its own.
func accentFolder() transform.Transformer {
	return transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
}

// isContentWord keeps words of two or more characters that are not stop
// words and not pure numbers.
func isContentWord(w string) bool {
	if utf8.RuneCountInString(w) < 2 || stopWords[w] {
		return false
	}
	for _, r := range w {
		if !unicode.IsDigit(r) {
			return true
		}
	}
	return false
}

// Stem returns the Snowball English stem of a lower-case word. Stems are
// cached (up to maxStemCache words), since a corpus repeats its words.
func Stem(word string) string {
	stemCache.RLock()
	st, ok := stemCache.m[word]
	stemCache.RUnlock()
	if ok {
		return st
	}
	st = english.Stem(word, true)
	stemCache.Lock()
	if len(stemCache.m) < maxStemCache {
		stemCache.m[strings.Clone(word)] = st
	}
	stemCache.Unlock()
	return st
}

// maxStemCache bounds the stem cache (about 10 MB).
const maxStemCache = 200_000

var stemCache = struct {
	sync.RWMutex
	m map[string]string
}{m: map[string]string{}}

// IsStopWord reports whether a lower-case word is one of the analyzer's stop
// words: English function words and the boilerplate of abstracts ("we",
// "propose", "paper").
func IsStopWord(w string) bool { return stopWords[w] }

var stopWords = func() map[string]bool {
	m := map[string]bool{}
	for w := range strings.FieldsSeq(englishStopWords + " " + abstractStopWords) {
		m[w] = true
	}
	return m
}()

// englishStopWords are function words (after scikit-learn's list).
const englishStopWords = `a about above across after afterwards again against all almost alone along already also
although always am among amongst amoungst amount an and another any anyhow anyone anything anyway anywhere are around
as at back be became because become becomes becoming been before beforehand behind being below beside besides between
beyond both but by can cannot could did do does doing done down due during each eg either else elsewhere enough
etc even ever every everyone everything everywhere except few for former formerly from further had has have having he
hence her here hereafter hereby herein hereupon hers herself him himself his how however i ie if in indeed into is it
its itself just last latter latterly least less many may me meanwhile might mine more moreover most mostly much must my
myself namely neither never nevertheless next no nobody none noone nor not nothing now nowhere of off often on once
one only onto or other others otherwise our ours ourselves out over own per perhaps please rather re same seem seemed
seeming seems several she should since so some somehow someone something sometime sometimes somewhere still such than
that the their theirs them themselves then thence there thereafter thereby therefore therein thereupon these they this
those though through throughout thru thus to together too toward towards under until up upon us very via was we well
were what whatever when whence whenever where whereafter whereas whereby wherein whereupon wherever whether which while
whither who whoever whole whom whose why will with within without would yet you your yours yourself yourselves et al
vs viz cf`

// abstractStopWords are words every abstract uses that say nothing about its topic.
const abstractStopWords = `paper papers work works propose proposed proposes present presents presented show shows
shown showed demonstrate demonstrates demonstrated introduce introduces introduced study studies studied investigate
investigates investigated use used uses using based approach approaches method methods new novel result results find
finds found obtain obtained provide provides provided allow allows allowing enable enables enabled different various
including include includes given well significant significantly also furthermore respectively particular particularly
recent recently first second two three able existing here demonstrating`
