package embed

import (
	"math"
	"slices"
	"strings"
)

// Document is the text of one paper by field.
type Document struct {
	Title    string
	Abstract string
	// Keywords are whole keyphrases (see [Phrases]); each also becomes one
	// phrase feature.
	Keywords []string
}

// TFIDFConfig tunes the sparse model. Zero values mean the defaults; a
// negative weight turns that kind of feature off.
type TFIDFConfig struct {
	TitleWeight    float64 // default 1
	AbstractWeight float64 // default 1
	KeywordWeight  float64 // default 1: words of the keyphrases
	// PhraseWeight scales whole-keyphrase features ("#equivariant neural
	// network"), one per keyphrase of the keyword field (default 1).
	PhraseWeight float64
	// BigramWeight scales adjacent-word features within a field (default 0.5).
	BigramWeight float64
	// MinDF drops features found in fewer documents (default 1 for words,
	// always at least 2 for bigrams, which otherwise swamp the vocabulary).
	MinDF int
	// LinearTF uses raw counts instead of the default sublinear 1+ln(tf).
	LinearTF bool
	// BM25 weights terms with Okapi BM25 (K1 default 1.2, B default 0.75)
	// instead of TF-IDF.
	BM25  bool
	K1, B float64
	// Analyzer splits text into tokens (default [Analyze]; see
	// [WordPiece.Analyze]). Keyphrase features always use Analyze.
	Analyzer func(text string) []Token
}

func (c TFIDFConfig) withDefaults() TFIDFConfig {
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		} else if *v < 0 {
			*v = 0
		}
	}
	def(&c.TitleWeight, 1)
	def(&c.AbstractWeight, 1)
	def(&c.KeywordWeight, 1)
	def(&c.PhraseWeight, 1)
	def(&c.BigramWeight, 0.5)
	def(&c.K1, 1.2)
	def(&c.B, 0.75)
	if c.MinDF <= 0 {
		c.MinDF = 1
	}
	if c.Analyzer == nil {
		c.Analyzer = Analyze
	}
	return c
}

// FeatureKind says what a feature of a [TFIDF] model stands for.
type FeatureKind uint8

// Kinds of feature.
const (
	Word   FeatureKind = iota // one stemmed word
	Bigram                    // two adjacent stemmed words
	Phrase                    // a whole keyphrase
)

// TFIDF is a fitted sparse vector model over a corpus: vocabulary, document
// frequencies and field weights. Safe for concurrent use.
type TFIDF struct {
	cfg     TFIDFConfig
	index   map[string]uint32
	names   []string // feature keys, by index
	display []string // human-readable feature, by index
	kind    []FeatureKind
	idf     []float64
	df      []int32
	docs    int
	avgLen  float64
}

// fieldCounts are the feature counts of one field of one document, with the
// surface forms seen, keyed by feature key.
type fieldCounts struct {
	weight  float64
	counts  map[string]float64 // occurrences
	mult    map[string]float64 // the feature kind's weight (bigram, phrase)
	surface map[string]string
}

func newFieldCounts(weight float64) fieldCounts {
	return fieldCounts{weight: weight, counts: map[string]float64{}, mult: map[string]float64{}, surface: map[string]string{}}
}

// FitTFIDF learns a model from a corpus and returns it with each
// document's unit vector, in order.
func FitTFIDF(docs []Document, cfg TFIDFConfig) (*TFIDF, []Sparse) {
	cfg = cfg.withDefaults()
	m := &TFIDF{cfg: cfg, index: map[string]uint32{}, docs: len(docs)}
	// Counts per document and document frequencies.
	fields := make([][]fieldCounts, len(docs))
	df := map[string]int{}
	surfaces := map[string]map[string]int{}
	totalLen := 0.0
	for i, d := range docs {
		fields[i] = m.analyze(d)
		seen := map[string]bool{}
		for _, f := range fields[i] {
			for key, c := range f.counts {
				seen[key] = true
				totalLen += f.weight * f.mult[key] * c
				if surfaces[key] == nil {
					surfaces[key] = map[string]int{}
				}
				surfaces[key][f.surface[key]]++
			}
		}
		for key := range seen {
			df[key]++
		}
	}
	if len(docs) > 0 {
		m.avgLen = totalLen / float64(len(docs))
	}
	// Vocabulary in sorted order, so that indices are deterministic.
	keys := make([]string, 0, len(df))
	for key, n := range df {
		minDF := cfg.MinDF
		if featureKind(key) == Bigram {
			minDF = max(minDF, 2)
		}
		if n >= minDF {
			keys = append(keys, key)
		}
	}
	slices.Sort(keys)
	m.names = keys
	m.display = make([]string, len(keys))
	m.kind = make([]FeatureKind, len(keys))
	m.idf = make([]float64, len(keys))
	m.df = make([]int32, len(keys))
	n := float64(len(docs))
	for i, key := range keys {
		m.index[key] = uint32(i)
		m.kind[i] = featureKind(key)
		m.display[i] = mostCommon(surfaces[key])
		m.df[i] = int32(df[key])
		d := float64(df[key])
		if cfg.BM25 {
			m.idf[i] = math.Log(1 + (n-d+0.5)/(d+0.5))
		} else {
			m.idf[i] = math.Log((n+1)/(d+1)) + 1
		}
	}
	vecs := make([]Sparse, len(docs))
	for i := range docs {
		vecs[i] = m.weigh(fields[i])
	}
	return m, vecs
}

// Transform returns the unit vector of a document under the fitted model;
// features the model does not know are dropped.
func (m *TFIDF) Transform(d Document) Sparse {
	return m.weigh(m.analyze(d))
}

// PhraseFeatures returns the phrase features of whole keyphrases, sorted,
// without duplicates; phrases the model does not know are dropped.
func (m *TFIDF) PhraseFeatures(keywords []string) []uint32 {
	var out []uint32
	for _, k := range keywords {
		if key, n := phraseKey(k); n > 1 {
			if i, ok := m.index[phrasePrefix+key]; ok {
				out = append(out, i)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Len returns the number of features.
func (m *TFIDF) Len() int { return len(m.names) }

// Docs returns the number of documents the model was fitted on.
func (m *TFIDF) Docs() int { return m.docs }

// Feature returns a feature's readable form ("neural networks") and kind.
func (m *TFIDF) Feature(i uint32) (string, FeatureKind) { return m.display[i], m.kind[i] }

// DF returns how many documents of the fitted corpus hold a feature.
func (m *TFIDF) DF(i uint32) int { return int(m.df[i]) }

// SharedNorm returns the norm of the part of v made of features that at
// least two fitted documents hold. A feature of one document can never be
// shared with another, so dividing a document-to-document dot product by
// both shared norms measures the overlap without that dilution.
func (m *TFIDF) SharedNorm(v Sparse) float64 {
	var sum float64
	for j, i := range v.Idx {
		if int(i) < len(m.df) && m.df[i] >= 2 {
			sum += float64(v.Val[j]) * float64(v.Val[j])
		}
	}
	return math.Sqrt(sum)
}

// Shared returns the unit vector of v's shareable part: the features at
// least two fitted documents hold.
func (m *TFIDF) Shared(v Sparse) Sparse {
	var out Sparse
	for j, i := range v.Idx {
		if int(i) < len(m.df) && m.df[i] >= 2 {
			out.Idx = append(out.Idx, i)
			out.Val = append(out.Val, v.Val[j])
		}
	}
	out.Normalize()
	return out
}

// IDF returns a feature's inverse document frequency.
func (m *TFIDF) IDF(i uint32) float64 { return m.idf[i] }

// analyze counts the features of each field: words and bigrams of the
// title and abstract; words, bigrams and whole phrases of the keyphrases.
func (m *TFIDF) analyze(d Document) []fieldCounts {
	cfg := m.cfg
	text := func(s string, w float64) fieldCounts {
		f := newFieldCounts(w)
		toks := cfg.Analyzer(s)
		for i, t := range toks {
			f.add(t.Term, t.Word, 1)
			if cfg.BigramWeight > 0 && i > 0 && !t.Break {
				f.add(toks[i-1].Term+" "+t.Term, toks[i-1].Word+" "+t.Word, cfg.BigramWeight)
			}
		}
		return f
	}
	out := []fieldCounts{text(d.Title, cfg.TitleWeight), text(d.Abstract, cfg.AbstractWeight)}
	kw := newFieldCounts(cfg.KeywordWeight)
	for _, k := range d.Keywords {
		toks := cfg.Analyzer(k)
		for i, t := range toks {
			kw.add(t.Term, t.Word, 1)
			if cfg.BigramWeight > 0 && i > 0 && !t.Break {
				kw.add(toks[i-1].Term+" "+t.Term, toks[i-1].Word+" "+t.Word, cfg.BigramWeight)
			}
		}
		if key, n := phraseKey(k); n > 1 && cfg.PhraseWeight > 0 {
			kw.add(phrasePrefix+key, strings.ToLower(strings.TrimSpace(k)), cfg.PhraseWeight)
		}
	}
	return append(out, kw)
}

// add counts a feature occurrence with a weight relative to a word.
func (f *fieldCounts) add(key, surface string, w float64) {
	if f.weight == 0 || w == 0 {
		return
	}
	f.counts[key]++
	if _, ok := f.surface[key]; !ok {
		f.surface[key] = surface
		f.mult[key] = w
	}
}

// weigh turns field counts into a unit vector.
func (m *TFIDF) weigh(fields []fieldCounts) Sparse {
	w := map[uint32]float64{}
	if m.cfg.BM25 {
		tf := map[uint32]float64{}
		dl := 0.0
		for _, f := range fields {
			for key, c := range f.counts {
				dl += f.weight * f.mult[key] * c
				if i, ok := m.index[key]; ok {
					tf[i] += f.weight * f.mult[key] * c
				}
			}
		}
		norm := m.cfg.K1 * (1 - m.cfg.B + m.cfg.B*dl/max(m.avgLen, 1e-9))
		for i, t := range tf {
			w[i] = m.idf[i] * t * (m.cfg.K1 + 1) / (t + norm)
		}
	} else {
		// As in BM25F, field-weighted counts are summed before the
		// sublinear saturation, so a word in the title, the abstract and
		// the keyphrases is not counted as three independent hits.
		tf := map[uint32]float64{}
		mult := map[uint32]float64{}
		for _, f := range fields {
			for key, c := range f.counts {
				if i, ok := m.index[key]; ok {
					tf[i] += f.weight * c
					mult[i] = f.mult[key]
				}
			}
		}
		for i, t := range tf {
			if !m.cfg.LinearTF && t > 1 {
				t = 1 + math.Log(t)
			}
			w[i] = mult[i] * t * m.idf[i]
		}
	}
	s := sparseFromMap(w)
	s.Normalize()
	return s
}

// phrasePrefix marks phrase feature keys; no analyzer emits a control
// character, so it cannot clash with a word or a WordPiece piece ("##ing").
const phrasePrefix = "\x01"

// phraseKey returns a keyphrase's stem sequence and its length in stems.
func phraseKey(phrase string) (string, int) {
	toks := Analyze(phrase)
	terms := make([]string, len(toks))
	for i, t := range toks {
		terms[i] = t.Term
	}
	return strings.Join(terms, " "), len(terms)
}

func featureKind(key string) FeatureKind {
	switch {
	case strings.HasPrefix(key, phrasePrefix):
		return Phrase
	case strings.Contains(key, " "):
		return Bigram
	}
	return Word
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
