package embed

import (
	"math"
	"slices"
	"strings"
)

// Document is the text of one paper by field.
//
// A plain value; the models only read it.
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
	// always at least 2 for bigrams, which otherwise swamp the vocabulary,
	// and for whole keyphrases, which match nothing when one paper lists
	// them: measured, dev nDCG@10 0.8095 -> 0.8192, docs/keyphrases.md).
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
	// Progress, when set, is told how many documents FitTFIDF has analysed,
	// after each chunk of them, from the goroutine that called it.
	Progress func(done int)
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
//
// A plain value.
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

// counted is one document's features after analysis: feature keys with
// their field-weighted term frequency (Σ field weight × occurrences) and
// the form seen, plus the document's weighted length for BM25.
type counted struct {
	keys    []string
	tf      []float64
	surface []string
	length  float64
}

// docCounts is a document kept between the passes of FitTFIDF: interned
// feature ids and frequencies, 8 bytes a feature, sorted by id.
type docCounts struct {
	ids    []uint32
	tf     []float32
	length float32
}

// fitChunk is how many documents are analysed in parallel before their
// features are interned.
const fitChunk = 512

// FitTFIDF learns a model from a corpus and returns it with each
// document's unit vector, in order. Analysis runs on all cores; between the
// passes a document costs 8 bytes a distinct feature, so corpora of
// millions of abstracts fit in memory.
func FitTFIDF(docs []Document, cfg TFIDFConfig) (*TFIDF, []Sparse) {
	cfg = cfg.withDefaults()
	m := &TFIDF{cfg: cfg, index: map[string]uint32{}, docs: len(docs)}
	// Pass 1: intern every feature, count document frequencies, keep the
	// best display form, and keep each document as (id, tf) pairs.
	raw := map[string]uint32{}
	var (
		rawKeys    []string
		rawDF      []int32
		rawSurface []string
		totalLen   float64
	)
	counts := make([]docCounts, len(docs))
	buf := make([]counted, fitChunk)
	for lo := 0; lo < len(docs); lo += fitChunk {
		hi := min(lo+fitChunk, len(docs))
		parallel(hi-lo, func(k int) { buf[k] = m.count(docs[lo+k]) })
		for k := range hi - lo {
			c := &buf[k]
			dc := docCounts{ids: make([]uint32, len(c.keys)), tf: make([]float32, len(c.keys)), length: float32(c.length)}
			for j, key := range c.keys {
				id, ok := raw[key]
				if !ok {
					id = uint32(len(rawKeys))
					key = strings.Clone(key)
					raw[key] = id
					rawKeys = append(rawKeys, key)
					rawDF = append(rawDF, 0)
					rawSurface = append(rawSurface, strings.Clone(c.surface[j]))
				} else if betterSurface(c.surface[j], rawSurface[id]) {
					rawSurface[id] = strings.Clone(c.surface[j])
				}
				rawDF[id]++
				dc.ids[j], dc.tf[j] = id, float32(c.tf[j])
			}
			totalLen += c.length
			counts[lo+k] = dc
			*c = counted{}
		}
		if cfg.Progress != nil {
			cfg.Progress(hi)
		}
	}
	if len(docs) > 0 {
		m.avgLen = totalLen / float64(len(docs))
	}
	// The vocabulary: features frequent enough, in sorted order so that
	// indices are deterministic.
	keep := make([]uint32, 0, len(rawKeys))
	for id, key := range rawKeys {
		minDF := cfg.MinDF
		if k := featureKind(key); k == Bigram || k == Phrase {
			minDF = max(minDF, 2)
		}
		if int(rawDF[id]) >= minDF {
			keep = append(keep, uint32(id))
		}
	}
	slices.SortFunc(keep, func(a, b uint32) int { return strings.Compare(rawKeys[a], rawKeys[b]) })
	final := make([]int32, len(rawKeys))
	for i := range final {
		final[i] = -1
	}
	m.names = make([]string, len(keep))
	m.display = make([]string, len(keep))
	m.kind = make([]FeatureKind, len(keep))
	m.idf = make([]float64, len(keep))
	m.df = make([]int32, len(keep))
	n := float64(len(docs))
	for i, id := range keep {
		key := rawKeys[id]
		final[id] = int32(i)
		m.index[key] = uint32(i)
		m.names[i] = key
		m.kind[i] = featureKind(key)
		m.display[i] = rawSurface[id]
		m.df[i] = rawDF[id]
		d := float64(rawDF[id])
		if cfg.BM25 {
			m.idf[i] = math.Log(1 + (n-d+0.5)/(d+0.5))
		} else {
			m.idf[i] = math.Log((n+1)/(d+1)) + 1
		}
	}
	// Pass 2: weigh.
	vecs := make([]Sparse, len(docs))
	parallel(len(docs), func(i int) {
		dc := &counts[i]
		ids := make([]uint32, 0, len(dc.ids))
		tf := make([]float64, 0, len(dc.ids))
		for j, id := range dc.ids {
			if f := final[id]; f >= 0 {
				ids = append(ids, uint32(f))
				tf = append(tf, float64(dc.tf[j]))
			}
		}
		vecs[i] = m.weigh(ids, tf, float64(dc.length))
		*dc = docCounts{}
	})
	return m, vecs
}

// betterSurface reports whether a is a better display form than b: the
// shorter (for plural stemming, the singular), then the smaller.
func betterSurface(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// parallel runs f(0..n-1) on up to GOMAXPROCS goroutines.
func parallel(n int, f func(i int)) {
	inBlocks(n, 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			f(i)
		}
	})
}

// Transform returns the unit vector of a document under the fitted model;
// features the model does not know are dropped.
func (m *TFIDF) Transform(d Document) Sparse {
	c := m.count(d)
	ids := make([]uint32, 0, len(c.keys))
	tf := make([]float64, 0, len(c.keys))
	for j, key := range c.keys {
		if i, ok := m.index[key]; ok {
			ids = append(ids, i)
			tf = append(tf, c.tf[j])
		}
	}
	return m.weigh(ids, tf, c.length)
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

// Parts returns the features a bigram or keyphrase is made of, as far as
// the model knows them: its words and, for a keyphrase, the bigrams of its
// adjacent words ("#quantum field theory" → quantum, field, theory,
// "quantum field", "field theory"). A word has no parts. Explanations use
// it to show a phrase once instead of the phrase and each of its words.
func (m *TFIDF) Parts(i uint32) []uint32 {
	if m.kind[i] == Word {
		return nil
	}
	words := strings.Fields(strings.TrimPrefix(m.names[i], phrasePrefix))
	var out []uint32
	for j, w := range words {
		if f, ok := m.index[w]; ok {
			out = append(out, f)
		}
		if m.kind[i] == Phrase && j > 0 {
			if f, ok := m.index[words[j-1]+" "+w]; ok {
				out = append(out, f)
			}
		}
	}
	return out
}

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

// count analyses a document: words and bigrams of the title and abstract;
// words, bigrams and whole phrases of the keyphrases. Field-weighted counts
// are summed per feature (as BM25F does before saturation): a word in the
// title, the abstract and the keyphrases is one word seen three times.
func (m *TFIDF) count(d Document) counted {
	cfg := m.cfg
	at := map[string]int{}
	var c counted
	add := func(key, surface string, fieldWeight, kindWeight float64) {
		if fieldWeight == 0 || kindWeight == 0 {
			return
		}
		j, ok := at[key]
		if !ok {
			j = len(c.keys)
			at[key] = j
			c.keys = append(c.keys, key)
			c.tf = append(c.tf, 0)
			c.surface = append(c.surface, surface)
		}
		c.tf[j] += fieldWeight
		c.length += fieldWeight * kindWeight
	}
	words := func(s string, w float64) {
		toks := cfg.Analyzer(s)
		for i, t := range toks {
			add(t.Term, t.Word, w, 1)
			if cfg.BigramWeight > 0 && i > 0 && !t.Break {
				add(toks[i-1].Term+" "+t.Term, toks[i-1].Word+" "+t.Word, w, cfg.BigramWeight)
			}
		}
	}
	words(d.Title, cfg.TitleWeight)
	words(d.Abstract, cfg.AbstractWeight)
	for _, k := range d.Keywords {
		words(k, cfg.KeywordWeight)
		if key, n := phraseKey(k); n > 1 && cfg.PhraseWeight > 0 {
			add(phrasePrefix+key, strings.ToLower(strings.TrimSpace(k)), cfg.KeywordWeight, cfg.PhraseWeight)
		}
	}
	return c
}

// kindWeight is the weight of a feature kind relative to a word.
func (m *TFIDF) kindWeight(k FeatureKind) float64 {
	switch k {
	case Bigram:
		return m.cfg.BigramWeight
	case Phrase:
		return m.cfg.PhraseWeight
	}
	return 1
}

// weigh turns model features with their field-weighted frequencies into a
// unit vector; length is the document's weighted length (for BM25).
func (m *TFIDF) weigh(ids []uint32, tf []float64, length float64) Sparse {
	w := make(map[uint32]float64, len(ids))
	for j, i := range ids {
		t, kw := tf[j], m.kindWeight(m.kind[i])
		if m.cfg.BM25 {
			t *= kw
			norm := m.cfg.K1 * (1 - m.cfg.B + m.cfg.B*length/max(m.avgLen, 1e-9))
			w[i] += m.idf[i] * t * (m.cfg.K1 + 1) / (t + norm)
			continue
		}
		if !m.cfg.LinearTF && t > 1 {
			t = 1 + math.Log(t)
		}
		w[i] += kw * t * m.idf[i]
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
