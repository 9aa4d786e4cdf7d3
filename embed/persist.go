package embed

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"slices"
)

// Fitted models encode with encoding/gob (GobEncode and GobDecode), so that
// a built engine can be saved as a snapshot and loaded by replicas.

// tfidfState is the encoded form of a TFIDF, without the Analyzer function.
type tfidfState struct {
	Cfg     TFIDFConfig
	Names   []string
	Display []string
	Kind    []FeatureKind
	IDF     []float64
	DF      []int32
	Docs    int
	AvgLen  float64
}

// GobEncode encodes the fitted model. The Analyzer function is not encoded:
// after decoding, set it with SetAnalyzer before use.
func (m *TFIDF) GobEncode() ([]byte, error) {
	cfg := m.cfg
	cfg.Analyzer = nil
	return encodeGob(tfidfState{Cfg: cfg, Names: m.names, Display: m.display, Kind: m.kind, IDF: m.idf, DF: m.df, Docs: m.docs, AvgLen: m.avgLen})
}

// GobDecode decodes a model written by GobEncode. Its analyzer is Analyze
// until SetAnalyzer sets the one it was fitted with.
func (m *TFIDF) GobDecode(b []byte) error {
	var st tfidfState
	if err := decodeGob(b, &st); err != nil {
		return fmt.Errorf("decode tfidf: %w", err)
	}
	n := len(st.Names)
	if len(st.Display) != n || len(st.Kind) != n || len(st.IDF) != n || len(st.DF) != n {
		return fmt.Errorf("decode tfidf: %d features but %d/%d/%d/%d display/kind/idf/df", n, len(st.Display), len(st.Kind), len(st.IDF), len(st.DF))
	}
	*m = TFIDF{cfg: st.Cfg.withDefaults(), index: make(map[string]uint32, n), names: st.Names, display: st.Display,
		kind: st.Kind, idf: st.IDF, df: st.DF, docs: st.Docs, avgLen: st.AvgLen}
	for i, key := range st.Names {
		m.index[key] = uint32(i)
	}
	return nil
}

// SetAnalyzer sets the analyzer of a decoded model; call it before the
// model is shared.
func (m *TFIDF) SetAnalyzer(a func(text string) []Token) { m.cfg.Analyzer = a }

type lsaState struct {
	Dims, Terms, L int
	Z              []float32
	M, Sigma       []float64
}

// GobEncode encodes the fitted model.
func (m *LSA) GobEncode() ([]byte, error) {
	return encodeGob(lsaState{Dims: m.dims, Terms: m.terms, L: m.l, Z: m.z, M: m.m, Sigma: m.sigma})
}

// GobDecode decodes a model written by GobEncode.
func (m *LSA) GobDecode(b []byte) error {
	var st lsaState
	if err := decodeGob(b, &st); err != nil {
		return fmt.Errorf("decode lsa: %w", err)
	}
	if st.Dims <= 0 || st.L < st.Dims || len(st.Z) != st.Terms*st.L || len(st.M) != st.L*st.Dims || len(st.Sigma) != st.Dims {
		return fmt.Errorf("decode lsa: inconsistent sizes (dims %d, terms %d, l %d)", st.Dims, st.Terms, st.L)
	}
	*m = LSA{dims: st.Dims, terms: st.Terms, l: st.L, z: st.Z, m: st.M, sigma: st.Sigma}
	return nil
}

type phrasesState struct {
	Cfg     PhraseConfig
	Phrases []string
	Segs    []string
	LogP    []float64
	Unseen  float64
}

// GobEncode encodes the learned phrases (in sorted order: deterministic bytes).
func (ph *Phrases) GobEncode() ([]byte, error) {
	st := phrasesState{Cfg: ph.cfg, Unseen: ph.unseen}
	for p := range ph.phrase {
		st.Phrases = append(st.Phrases, p)
	}
	slices.Sort(st.Phrases)
	for s := range ph.logp {
		st.Segs = append(st.Segs, s)
	}
	slices.Sort(st.Segs)
	for _, s := range st.Segs {
		st.LogP = append(st.LogP, ph.logp[s])
	}
	return encodeGob(st)
}

// GobDecode decodes phrases written by GobEncode.
func (ph *Phrases) GobDecode(b []byte) error {
	var st phrasesState
	if err := decodeGob(b, &st); err != nil {
		return fmt.Errorf("decode phrases: %w", err)
	}
	if len(st.Segs) != len(st.LogP) {
		return fmt.Errorf("decode phrases: %d segments, %d probabilities", len(st.Segs), len(st.LogP))
	}
	*ph = Phrases{cfg: st.Cfg.withDefaults(), phrase: make(map[string]bool, len(st.Phrases)), logp: make(map[string]float64, len(st.Segs)), unseen: st.Unseen}
	for _, p := range st.Phrases {
		ph.phrase[p] = true
	}
	for i, s := range st.Segs {
		ph.logp[s] = st.LogP[i]
	}
	return nil
}

func encodeGob(v any) ([]byte, error) {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func decodeGob(b []byte, v any) error {
	return gob.NewDecoder(bytes.NewReader(b)).Decode(v)
}
