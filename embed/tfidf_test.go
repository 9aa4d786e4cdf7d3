package embed

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// smallDocs is a corpus of four short papers.
var smallDocs = []Document{
	{
		Title:    "Dark matter halos",
		Abstract: "Galaxy clusters trace dark matter halos and dark matter subhalos.",
		Keywords: []string{"dark matter", "galaxy clusters"},
	},
	{
		Title:    "Neural networks for galaxy clusters",
		Abstract: "Neural networks classify galaxy images; galaxy clusters are rare.",
		Keywords: []string{"neural networks", "galaxy clusters"},
	},
	{
		Title:    "Gravitational waves",
		Abstract: "Neural networks detect gravitational waves in noisy strain.",
		Keywords: []string{"gravitational waves", "neural networks"},
	},
	{
		Title:    "Quasar spectra",
		Abstract: "Spectra of quasars constrain dark energy.",
		Keywords: []string{"quasars"},
	},
}

// vecMap turns a model's vector into feature key → value.
func vecMap(m *TFIDF, s Sparse) map[string]float64 {
	out := make(map[string]float64, s.Len())
	for i, k := range s.Idx {
		out[m.names[k]] = float64(s.Val[i])
	}
	return out
}

// feature returns a feature's index by key ("galaxy", "dark matter",
// phrasePrefix + "galaxy cluster"), failing the test when the model lacks it.
func feature(t *testing.T, m *TFIDF, key string) uint32 {
	t.Helper()
	i, ok := m.index[key]
	if !ok {
		t.Fatalf("model has no feature %q", key)
	}
	return i
}

// naiveWordVectors computes word-only TF-IDF (or BM25) vectors from Analyze
// by the textbook formulas, as feature key → value.
func naiveWordVectors(docs []Document, cfg TFIDFConfig) []map[string]float64 {
	cfg = cfg.withDefaults()
	type field struct {
		w      float64
		counts map[string]float64
	}
	fieldsOf := func(d Document) []field {
		count := func(texts []string, w float64) field {
			f := field{w: w, counts: map[string]float64{}}
			if w == 0 {
				return f
			}
			for _, s := range texts {
				for _, tk := range Analyze(s) {
					f.counts[tk.Term]++
				}
			}
			return f
		}
		return []field{count([]string{d.Title}, cfg.TitleWeight), count([]string{d.Abstract}, cfg.AbstractWeight),
			count(d.Keywords, cfg.KeywordWeight)}
	}
	df := map[string]float64{}
	all := make([][]field, len(docs))
	total := 0.0
	for i, d := range docs {
		all[i] = fieldsOf(d)
		seen := map[string]bool{}
		for _, f := range all[i] {
			for k, c := range f.counts {
				seen[k] = true
				total += f.w * c
			}
		}
		for k := range seen {
			df[k]++
		}
	}
	n := float64(len(docs))
	avg := total / n
	out := make([]map[string]float64, len(docs))
	for i, fields := range all {
		v := map[string]float64{}
		if cfg.BM25 {
			tf, dl := map[string]float64{}, 0.0
			for _, f := range fields {
				for k, c := range f.counts {
					tf[k] += f.w * c
					dl += f.w * c
				}
			}
			for k, t := range tf {
				idf := math.Log(1 + (n-df[k]+0.5)/(df[k]+0.5))
				v[k] = idf * t * (cfg.K1 + 1) / (t + cfg.K1*(1-cfg.B+cfg.B*dl/avg))
			}
		} else {
			// Field-weighted counts are summed, then saturated (BM25F style).
			for _, f := range fields {
				for k, c := range f.counts {
					v[k] += f.w * c
				}
			}
			for k, t := range v {
				if !cfg.LinearTF {
					t = saturate(t)
				}
				v[k] = t * (math.Log((n+1)/(df[k]+1)) + 1)
			}
		}
		var norm float64
		for _, x := range v {
			norm += x * x
		}
		for k := range v {
			v[k] /= math.Sqrt(norm)
		}
		out[i] = v
	}
	return out
}

// saturate is the sublinear term frequency of a field-weighted count:
// 1+ln t above 1, t itself up to 1 (so that the two meet at 1).
func saturate(t float64) float64 {
	if t > 1 {
		return 1 + math.Log(t)
	}
	return t
}

// wordsOnly turns off bigram and phrase features.
func wordsOnly(cfg TFIDFConfig) TFIDFConfig {
	cfg.BigramWeight, cfg.PhraseWeight = -1, -1
	return cfg
}

// TestFitTFIDFNaive compares word features with a direct computation of the
// formulas, under several configurations.
func TestFitTFIDFNaive(t *testing.T) {
	tests := []struct {
		name   string
		cfg    TFIDFConfig
		reason string
	}{
		{name: "defaults", cfg: TFIDFConfig{}},
		{name: "title weight 3", cfg: TFIDFConfig{TitleWeight: 3}},
		{name: "keywords off", cfg: TFIDFConfig{KeywordWeight: -1}, reason: "a negative weight turns the field off"},
		{name: "title only", cfg: TFIDFConfig{AbstractWeight: -1, KeywordWeight: -1}},
		{name: "abstract half", cfg: TFIDFConfig{AbstractWeight: 0.5, KeywordWeight: 2}},
		{name: "linear tf", cfg: TFIDFConfig{LinearTF: true}},
		{name: "bm25", cfg: TFIDFConfig{BM25: true}},
		{name: "bm25 k1 b", cfg: TFIDFConfig{BM25: true, K1: 2, B: 0.3}},
		{name: "bm25 weighted", cfg: TFIDFConfig{BM25: true, TitleWeight: 2, KeywordWeight: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := wordsOnly(tt.cfg)
			m, vecs := FitTFIDF(smallDocs, cfg)
			want := naiveWordVectors(smallDocs, cfg)
			for i := range smallDocs {
				if diff := cmp.Diff(want[i], vecMap(m, vecs[i]), approx(1e-6)); diff != "" {
					t.Errorf("doc %d mismatch (-want +got):\n%s\n%s", i, diff, tt.reason)
				}
			}
		})
	}
}

func TestFitTFIDFUnitVectors(t *testing.T) {
	for _, cfg := range []TFIDFConfig{{}, {BM25: true}, {LinearTF: true, TitleWeight: 4}} {
		docs := append(slices.Clone(smallDocs), Document{}, Document{Title: "the of and"})
		m, vecs := FitTFIDF(docs, cfg)
		if len(vecs) != len(docs) || m.Docs() != len(docs) {
			t.Fatalf("%+v: %d vectors, Docs() = %d, want %d", cfg, len(vecs), m.Docs(), len(docs))
		}
		for i, v := range vecs {
			if !slices.IsSorted(v.Idx) || len(slices.Compact(slices.Clone(v.Idx))) != len(v.Idx) {
				t.Errorf("%+v: doc %d indices not strictly increasing: %v", cfg, i, v.Idx)
			}
			for _, k := range v.Idx {
				if int(k) >= m.Len() {
					t.Errorf("%+v: doc %d feature %d out of range %d", cfg, i, k, m.Len())
				}
			}
			switch {
			case i >= len(smallDocs):
				if v.Len() != 0 {
					t.Errorf("%+v: empty doc %d has %d features", cfg, i, v.Len())
				}
			case math.Abs(v.Norm()-1) > 1e-6:
				t.Errorf("%+v: doc %d norm %v, want 1", cfg, i, v.Norm())
			}
		}
	}
}

func TestTFIDFIDF(t *testing.T) {
	// "galaxy" is in docs 0 and 1, "neural" in 1 and 2, "dark" in 0 and 3,
	// "quasar" in 3 only.
	for _, bm25 := range []bool{false, true} {
		m, _ := FitTFIDF(smallDocs, TFIDFConfig{BM25: bm25})
		idf := func(df float64) float64 {
			if bm25 {
				return math.Log(1 + (4-df+0.5)/(df+0.5))
			}
			return math.Log(5/(df+1)) + 1
		}
		for _, c := range []struct {
			key string
			df  float64
		}{{"quasar", 1}, {"galaxy", 2}, {"neural", 2}, {"dark", 2}, {phrasePrefix + "neural network", 2}, {phrasePrefix + "quasar", 0}} {
			i, ok := m.index[c.key]
			if c.df == 0 {
				if ok {
					t.Errorf("bm25=%v: one-word keyphrase %q became a phrase feature", bm25, c.key)
				}
				continue
			}
			if !ok {
				t.Fatalf("bm25=%v: no feature %q", bm25, c.key)
			}
			if got, want := m.IDF(i), idf(c.df); math.Abs(got-want) > 1e-12 {
				t.Errorf("bm25=%v: IDF(%q) = %v, want %v", bm25, c.key, got, want)
			}
			if got := m.DF(i); got != int(c.df) {
				t.Errorf("bm25=%v: DF(%q) = %d, want %v", bm25, c.key, got, c.df)
			}
		}
		if rare, common := m.IDF(feature(t, m, "quasar")), m.IDF(feature(t, m, "galaxy")); rare <= common {
			t.Errorf("bm25=%v: IDF(quasar, 1 doc) = %v <= IDF(galaxy, 2 docs) = %v", bm25, rare, common)
		}
	}
}

// TestTFIDFFieldWeights pins how the configured weights scale one
// document's features relative to each other.
func TestTFIDFFieldWeights(t *testing.T) {
	docs := []Document{
		{Title: "alpha", Abstract: "beta"},
		{Title: "beta", Abstract: "alpha"},
	}
	ratio := func(cfg TFIDFConfig) float64 {
		m, vecs := FitTFIDF(docs, cfg)
		v := vecMap(m, vecs[0])
		return v["alpha"] / v["beta"]
	}
	// alpha and beta have the same IDF; in doc 0 alpha is in the title,
	// beta in the abstract, so their ratio is that of the saturated field
	// weights.
	tests := []struct {
		name   string
		cfg    TFIDFConfig
		want   float64
		reason string
	}{
		{name: "defaults", cfg: TFIDFConfig{}, want: 1},
		{name: "title 3", cfg: TFIDFConfig{TitleWeight: 3}, want: 1 + math.Log(3), reason: "a weighted count above 1 is saturated"},
		{name: "title 3 linear", cfg: TFIDFConfig{TitleWeight: 3, LinearTF: true}, want: 3},
		{name: "abstract 0.25", cfg: TFIDFConfig{AbstractWeight: 0.25}, want: 4, reason: "a weighted count up to 1 is used as is"},
		{name: "title 2 abstract 5", cfg: TFIDFConfig{TitleWeight: 2, AbstractWeight: 5}, want: (1 + math.Log(2)) / (1 + math.Log(5))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ratio(tt.cfg); math.Abs(got-tt.want) > 1e-6 {
				t.Errorf("alpha/beta = %v, want %v %s", got, tt.want, tt.reason)
			}
		})
	}
	t.Run("fields are summed before saturation", func(t *testing.T) {
		// Doc 0 has gamma in title, abstract and keyphrases, delta in the
		// abstract only: 1+ln 3 to 1, not 3 to 1.
		docs := []Document{
			{Title: "gamma", Abstract: "gamma delta", Keywords: []string{"gamma"}},
			{Title: "gamma delta"},
		}
		m, vecs := FitTFIDF(docs, TFIDFConfig{})
		v := vecMap(m, vecs[0])
		if got, want := v["gamma"]/v["delta"], 1+math.Log(3); math.Abs(got-want) > 1e-6 {
			t.Errorf("gamma/delta = %v, want %v", got, want)
		}
	})
	t.Run("negative weight drops the field", func(t *testing.T) {
		m, vecs := FitTFIDF(docs, TFIDFConfig{TitleWeight: -1})
		if diff := cmp.Diff(map[string]float64{"beta": 1}, vecMap(m, vecs[0]), approx(1e-6)); diff != "" {
			t.Errorf("doc 0 with the title off (-want +got):\n%s", diff)
		}
	})
	t.Run("phrase and bigram weights", func(t *testing.T) {
		// One keyphrase gives its words (1 each), their bigram
		// (BigramWeight) and the whole phrase (PhraseWeight).
		kdocs := []Document{{Keywords: []string{"galaxy clusters"}}, {Keywords: []string{"galaxy clusters"}}, {Title: "galaxy"}}
		for _, c := range []struct{ bigram, phrase float64 }{{0.5, 1}, {0.25, 2}, {1, 0.5}} {
			m, vecs := FitTFIDF(kdocs, TFIDFConfig{BigramWeight: c.bigram, PhraseWeight: c.phrase})
			v := vecMap(m, vecs[0])
			idf := func(k string) float64 { return m.IDF(feature(t, m, k)) }
			if got, want := v["galaxy cluster"]/v["cluster"], c.bigram*idf("galaxy cluster")/idf("cluster"); math.Abs(got-want) > 1e-6 {
				t.Errorf("%+v: bigram/word = %v, want %v", c, got, want)
			}
			if got, want := v[phrasePrefix+"galaxy cluster"]/v["cluster"], c.phrase*idf(phrasePrefix+"galaxy cluster")/idf("cluster"); math.Abs(got-want) > 1e-6 {
				t.Errorf("%+v: phrase/word = %v, want %v", c, got, want)
			}
		}
	})
}

func TestTFIDFBigrams(t *testing.T) {
	docs := []Document{
		{Title: "dark matter halos", Abstract: "halos dark"},
		{Title: "Dark matter halos", Abstract: "spectra"},
		{Title: "dark", Abstract: "matter"},
	}
	m, vecs := FitTFIDF(docs, TFIDFConfig{MinDF: 1})
	if _, ok := m.index["halo dark"]; ok {
		t.Error(`bigram "halo dark" of one document kept: bigrams need 2 documents whatever MinDF`)
	}
	if _, ok := m.index["spectra"]; !ok {
		t.Error(`word "spectra" of one document dropped with MinDF 1`)
	}
	for _, key := range []string{"dark matter", "matter halo"} {
		if _, kind := m.Feature(feature(t, m, key)); kind != Bigram {
			t.Errorf("Feature(%q) kind = %v, want Bigram", key, kind)
		}
	}
	if s, _ := m.Feature(feature(t, m, "matter halo")); s != "matter halos" {
		t.Errorf(`Feature("matter halo") = %q, want the surface form "matter halos"`, s)
	}
	// Doc 2 has "dark" in its title and "matter" in its abstract: no bigram.
	if _, ok := vecMap(m, vecs[2])["dark matter"]; ok {
		t.Error(`"dark matter" bigram formed across the title and the abstract`)
	}
	tests := []struct {
		name string
		doc  Document
		want []string // bigram keys present
	}{
		{name: "adjacent in title", doc: Document{Title: "dark matter halos"}, want: []string{"dark matter", "matter halo"}},
		{name: "adjacent in abstract", doc: Document{Abstract: "dark matter halos"}, want: []string{"dark matter", "matter halo"}},
		{name: "comma breaks", doc: Document{Title: "dark matter, halos"}, want: []string{"dark matter"}},
		{name: "stop word breaks", doc: Document{Title: "dark matter in halos"}, want: []string{"dark matter"}},
		{name: "across fields", doc: Document{Title: "dark", Abstract: "matter halos"}, want: []string{"matter halo"}},
		{name: "across keyphrases", doc: Document{Keywords: []string{"dark", "matter", "halos"}}, want: nil},
		{name: "within a keyphrase", doc: Document{Keywords: []string{"dark matter", "halos"}}, want: []string{"dark matter"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for k := range vecMap(m, m.Transform(tt.doc)) {
				if featureKind(k) == Bigram {
					got = append(got, k)
				}
			}
			slices.Sort(got)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("bigrams mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestTFIDFPhraseSource pins that whole-keyphrase features come from the
// keyword field only, one per keyphrase, never from running text.
func TestTFIDFPhraseSource(t *testing.T) {
	m, _ := FitTFIDF(smallDocs, TFIDFConfig{})
	tests := []struct {
		name string
		doc  Document
		cfg  *TFIDFConfig
		want []string
	}{
		{name: "keyword", doc: Document{Keywords: []string{"Neural Networks"}}, want: []string{phrasePrefix + "neural network"}},
		// "dark matter" is one small doc's keyphrase: whole keyphrases,
		// like bigrams, need two documents.
		{name: "two keywords", doc: Document{Keywords: []string{"dark matter", "galaxy clusters"}}, want: []string{phrasePrefix + "galaxy cluster"}},
		{name: "in abstract only", doc: Document{Abstract: "we study galaxy clusters"}, want: nil},
		{name: "in title only", doc: Document{Title: "Neural networks"}, want: nil},
		{name: "one-word keyword", doc: Document{Keywords: []string{"quasars"}}, want: nil},
		{name: "unknown keyphrase", doc: Document{Keywords: []string{"dark galaxies"}}, want: nil},
		{name: "phrases off", doc: Document{Keywords: []string{"dark matter"}}, cfg: &TFIDFConfig{PhraseWeight: -1}, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mm := m
			if tt.cfg != nil {
				mm, _ = FitTFIDF(smallDocs, *tt.cfg)
			}
			var got []string
			for k := range vecMap(mm, mm.Transform(tt.doc)) {
				if featureKind(k) == Phrase {
					got = append(got, k)
				}
			}
			slices.Sort(got)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("phrase features mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTFIDFPhraseFeatures(t *testing.T) {
	m, _ := FitTFIDF(smallDocs, TFIDFConfig{})
	nn, gc := feature(t, m, phrasePrefix+"neural network"), feature(t, m, phrasePrefix+"galaxy cluster")
	want := []uint32{min(nn, gc), max(nn, gc)}
	got := m.PhraseFeatures([]string{"Neural Networks", "galaxy clusters", "neural network", "quasars", "unknown phrase", "", "the of"})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("PhraseFeatures mismatch (-want +got):\n%s", diff)
	}
	if got := m.PhraseFeatures(nil); len(got) != 0 {
		t.Errorf("PhraseFeatures(nil) = %v, want none", got)
	}
	s, kind := m.Feature(nn)
	if kind != Phrase || s != "neural networks" {
		t.Errorf("Feature(#neural network) = %q, %v; want \"neural networks\", Phrase", s, kind)
	}
	for i := range uint32(m.Len()) {
		_, kind := m.Feature(i)
		if want := featureKind(m.names[i]); kind != want {
			t.Errorf("Feature(%d %q) kind %v, want %v", i, m.names[i], kind, want)
		}
	}
}

func TestTFIDFParts(t *testing.T) {
	docs := []Document{
		{Abstract: "quantum field theory of fine tuning", Keywords: []string{"quantum field theory", "fine tuning"}},
		{Abstract: "a quantum field theory with fine tuning", Keywords: []string{"quantum field theory", "fine tuning"}},
		{Abstract: "rare words only once"},
	}
	m, _ := FitTFIDF(docs, TFIDFConfig{MinDF: 2})
	keys := func(ids []uint32) []string {
		var out []string
		for _, i := range ids {
			out = append(out, m.names[i])
		}
		slices.Sort(out)
		return out
	}
	tests := []struct {
		name, key string
		want      []string
		reason    string
	}{
		{name: "word", key: "quantum", want: nil},
		{name: "bigram", key: "fine tuning", want: []string{"fine", "tuning"}},
		{name: "keyphrase", key: phrasePrefix + "quantum field theory", want: []string{"field", "field theory", "quantum", "quantum field", "theory"},
			reason: "a keyphrase holds its adjacent-word bigrams as well as its words"},
		{name: "two-word keyphrase", key: phrasePrefix + "fine tuning", want: []string{"fine", "fine tuning", "tuning"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, keys(m.Parts(feature(t, m, tt.key)))); diff != "" {
				t.Errorf("Parts(%q) mismatch (-want +got) %s:\n%s", tt.key, tt.reason, diff)
			}
		})
	}
}

func TestTFIDFTransformUnknown(t *testing.T) {
	m, _ := FitTFIDF(smallDocs, TFIDFConfig{})
	got := vecMap(m, m.Transform(Document{Abstract: "zzyzx neural flibbertigibbet"}))
	if diff := cmp.Diff(map[string]float64{"neural": 1}, got, approx(1e-6)); diff != "" {
		t.Errorf("Transform with unknown words (-want +got):\n%s", diff)
	}
	if v := m.Transform(Document{Title: "zzyzx", Keywords: []string{"unknown phrase"}}); v.Len() != 0 {
		t.Errorf("Transform of unknown words = %v, want empty", v)
	}
	if v := m.Transform(Document{}); v.Len() != 0 {
		t.Errorf("Transform of an empty document = %v, want empty", v)
	}
}

func TestTFIDFMinDF(t *testing.T) {
	m, _ := FitTFIDF(smallDocs, TFIDFConfig{MinDF: 2})
	for _, key := range []string{"quasar", "spectra", "strain"} {
		if _, ok := m.index[key]; ok {
			t.Errorf("feature %q of one document kept with MinDF 2", key)
		}
	}
	for _, key := range []string{"galaxy", "neural", "neural network", phrasePrefix + "neural network"} {
		feature(t, m, key)
	}
}

// TestTFIDFDisplay pins the display form: the shortest form seen (for
// plural stemming, the singular), then the alphabetically first. It is
// independent of document order and costs one string per feature.
func TestTFIDFDisplay(t *testing.T) {
	tests := []struct {
		name string
		docs []Document
		key  string
		want string
	}{
		{"singular wins", []Document{{Title: "networks"}, {Title: "networks"}, {Title: "network"}}, "network", "network"},
		{"order does not matter", []Document{{Title: "network"}, {Title: "networks"}}, "network", "network"},
		{"snowball stem shows a word", []Document{{Title: "equivariance"}, {Title: "equivariant"}}, "equivari", "equivariant"},
		{"bigram", []Document{{Abstract: "neural networks"}, {Abstract: "neural network"}}, "neural network", "neural network"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := TFIDFConfig{}
			if tt.key == "equivari" {
				cfg.Analyzer = SnowballStemmer.Analyze
			}
			m, _ := FitTFIDF(tt.docs, cfg)
			if s, _ := m.Feature(feature(t, m, tt.key)); s != tt.want {
				t.Errorf("Feature(%s) = %q, want %q", tt.key, s, tt.want)
			}
		})
	}
}

// TestTFIDFTransformTraining checks that transforming a training document
// gives its fitted vector, on the bundled corpus.
func TestTFIDFTransformTraining(t *testing.T) {
	docs := bundledDocs(t)
	if testing.Short() || raceEnabled {
		docs = docs[:120]
	}
	for _, cfg := range []TFIDFConfig{{}, {BM25: true}, {MinDF: 2}, {BM25: true, MinDF: 3}, {LinearTF: true, TitleWeight: 2}} {
		m, vecs := FitTFIDF(docs, cfg)
		for i, d := range docs {
			if diff := cmp.Diff(vecs[i], m.Transform(d), approx32(1e-6)); diff != "" {
				t.Fatalf("%+v: Transform(doc %d) differs from its fitted vector (-fit +transform):\n%s", cfg, i, diff)
			}
		}
	}
}

// TestTFIDFDeterministic fits the bundled corpus twice, and once in reverse
// order: the features and their indices must not change.
func TestTFIDFDeterministic(t *testing.T) {
	docs := bundledDocs(t)
	if testing.Short() || raceEnabled {
		docs = docs[:120]
	}
	m1, v1 := FitTFIDF(docs, TFIDFConfig{})
	m2, v2 := FitTFIDF(docs, TFIDFConfig{})
	rev := slices.Clone(docs)
	slices.Reverse(rev)
	m3, v3 := FitTFIDF(rev, TFIDFConfig{})
	if m1.Len() < 1000 {
		t.Errorf("Len() = %d features on the bundled corpus, want thousands", m1.Len())
	}
	for _, other := range []*TFIDF{m2, m3} {
		if diff := cmp.Diff(m1.names, other.names); diff != "" {
			t.Fatalf("feature keys differ between fits (-first +other):\n%s", diff)
		}
		if diff := cmp.Diff(m1.display, other.display); diff != "" {
			t.Errorf("feature display differs between fits (-first +other):\n%s", diff)
		}
		if diff := cmp.Diff(m1.idf, other.idf, approx(1e-12)); diff != "" {
			t.Errorf("IDF differs between fits (-first +other):\n%s", diff)
		}
	}
	for i := range docs {
		if diff := cmp.Diff(v1[i], v2[i]); diff != "" {
			t.Fatalf("doc %d vector differs between two fits (-first +second):\n%s", i, diff)
		}
		if diff := cmp.Diff(v1[i], v3[len(docs)-1-i], approx32(1e-7)); diff != "" {
			t.Fatalf("doc %d vector differs when fitted in reverse order (-first +reversed):\n%s", i, diff)
		}
	}
}

func TestFitTFIDFEmpty(t *testing.T) {
	m, vecs := FitTFIDF(nil, TFIDFConfig{})
	if m.Len() != 0 || m.Docs() != 0 || len(vecs) != 0 {
		t.Errorf("FitTFIDF(nil): Len %d, Docs %d, %d vectors; want 0, 0, 0", m.Len(), m.Docs(), len(vecs))
	}
	if v := m.Transform(Document{Title: "dark matter"}); v.Len() != 0 {
		t.Errorf("Transform on an empty model = %v, want empty", v)
	}
	for _, bm25 := range []bool{false, true} {
		m, vecs := FitTFIDF([]Document{{}, {Title: "the"}}, TFIDFConfig{BM25: bm25})
		if m.Len() != 0 || vecs[0].Len() != 0 || vecs[1].Len() != 0 {
			t.Errorf("bm25=%v: corpus of stop words: Len %d, vectors %v", bm25, m.Len(), vecs)
		}
	}
}

// TestTFIDFWordPieceAnalyzer fits with the WordPiece analyzer.
func TestTFIDFWordPieceAnalyzer(t *testing.T) {
	wp, err := NewWordPiece()
	if err != nil {
		t.Fatal(err)
	}
	m, vecs := FitTFIDF(smallDocs, TFIDFConfig{Analyzer: wp.Analyze})
	for i, v := range vecs {
		if math.Abs(v.Norm()-1) > 1e-6 {
			t.Errorf("doc %d norm %v", i, v.Norm())
		}
		if diff := cmp.Diff(v, m.Transform(smallDocs[i]), approx32(1e-6)); diff != "" {
			t.Errorf("Transform(doc %d) differs (-fit +transform):\n%s", i, diff)
		}
	}
	for _, key := range []string{"neural", "galaxy", "networks", phrasePrefix + "neural network"} {
		feature(t, m, key)
	}
}

// TestTFIDFWordPieceKinds pins a fixed bug: WordPiece continuation pieces
// ("##oh") start with "#", the mark of a phrase feature.
func TestTFIDFWordPieceKinds(t *testing.T) {
	wp, err := NewWordPiece()
	if err != nil {
		t.Fatal(err)
	}
	docs := []Document{{Title: "magnetohydrodynamics turbulence"}, {Title: "magnetohydrodynamics simulation"}, {Title: "photoionization"}}
	m, _ := FitTFIDF(docs, TFIDFConfig{Analyzer: wp.Analyze})
	for i := range uint32(m.Len()) {
		key := m.names[i]
		_, kind := m.Feature(i)
		want := Word
		if strings.Contains(key, " ") {
			want = Bigram
		}
		if kind != want {
			t.Errorf("Feature(%q) kind = %v, want %v", key, kind, want)
		}
		if want == Bigram && m.DF(i) < 2 {
			t.Errorf("bigram %q of %d document kept: bigrams need 2", key, m.DF(i))
		}
	}
}

func (k FeatureKind) String() string {
	switch k {
	case Word:
		return "Word"
	case Bigram:
		return "Bigram"
	case Phrase:
		return "Phrase"
	}
	return fmt.Sprintf("FeatureKind(%d)", uint8(k))
}

func BenchmarkFitTFIDF(b *testing.B) {
	docs := bundledDocs(b)
	for _, n := range []int{100, 300, len(docs)} {
		for _, bm25 := range []bool{false, true} {
			name := fmt.Sprintf("docs=%d/tfidf", n)
			if bm25 {
				name = fmt.Sprintf("docs=%d/bm25", n)
			}
			b.Run(name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					FitTFIDF(docs[:n], TFIDFConfig{BM25: bm25})
				}
			})
		}
	}
}

func BenchmarkTFIDFTransform(b *testing.B) {
	docs := bundledDocs(b)
	m, _ := FitTFIDF(docs, TFIDFConfig{})
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		m.Transform(docs[i%len(docs)])
	}
}

func TestTFIDFSharedNorm(t *testing.T) {
	m, vecs := FitTFIDF(smallDocs, TFIDFConfig{})
	for d, v := range vecs {
		var want float64
		for j, i := range v.Idx {
			if m.DF(i) >= 2 {
				want += float64(v.Val[j]) * float64(v.Val[j])
			}
		}
		want = math.Sqrt(want)
		if got := m.SharedNorm(v); math.Abs(got-want) > 1e-9 {
			t.Errorf("doc %d: SharedNorm = %v, want %v", d, got, want)
		}
		if got := m.SharedNorm(v); got > v.Norm()+1e-9 || got <= 0 {
			t.Errorf("doc %d: SharedNorm = %v, want in (0, %v]", d, got, v.Norm())
		}
	}
	// Doc 3 ("Quasar spectra") shares only "dark" with another document.
	v := vecs[3]
	dark := v.Val[slices.Index(v.Idx, feature(t, m, "dark"))]
	if got := m.SharedNorm(v); math.Abs(got-float64(dark)) > 1e-7 {
		t.Errorf("doc 3: SharedNorm = %v, want |dark| = %v", got, dark)
	}
	for d, v := range vecs {
		sh := m.Shared(v)
		if got := sh.Norm(); math.Abs(got-1) > 1e-6 {
			t.Errorf("doc %d: Shared(v).Norm() = %v, want 1", d, got)
		}
		// Shared is the shared part scaled by 1/SharedNorm.
		n := m.SharedNorm(v)
		want := Sparse{}
		for j, i := range v.Idx {
			if m.DF(i) >= 2 {
				want.Idx = append(want.Idx, i)
				want.Val = append(want.Val, float32(float64(v.Val[j])/n))
			}
		}
		if diff := cmp.Diff(want, sh, approx32(1e-6)); diff != "" {
			t.Errorf("doc %d: Shared mismatch (-want +got):\n%s", d, diff)
		}
	}
	if got := m.Shared(Sparse{Idx: []uint32{feature(t, m, "quasar")}, Val: []float32{1}}); got.Len() != 0 {
		t.Errorf("Shared of a one-document feature = %v, want empty", got)
	}
	tests := []struct {
		name string
		v    Sparse
		want float64
	}{
		{name: "empty", v: Sparse{}, want: 0},
		{name: "features of one document only", v: Sparse{Idx: []uint32{feature(t, m, "quasar")}, Val: []float32{1}}, want: 0},
		{name: "features beyond the model ignored", v: Sparse{Idx: []uint32{feature(t, m, "galaxy"), uint32(m.Len()), 1 << 30}, Val: []float32{3, 4, 5}}, want: 3},
	}
	for _, tt := range tests {
		if got := m.SharedNorm(tt.v); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("%s: SharedNorm = %v, want %v", tt.name, got, tt.want)
		}
	}
}
