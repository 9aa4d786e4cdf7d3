package embed

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"maps"
	"slices"
	"strings"
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
	cfg.Analyzer, cfg.Progress = nil, nil
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
	// IDs are the features the fit used, ascending; Z has a row for each.
	IDs      []uint32
	Z        []float32
	M, Sigma []float64
}

// GobEncode encodes the fitted model.
func (m *LSA) GobEncode() ([]byte, error) {
	return encodeGob(lsaState{Dims: m.dims, Terms: m.terms, L: m.l, IDs: m.ids, Z: m.z, M: m.m, Sigma: m.sigma})
}

// GobDecode decodes a model written by GobEncode.
func (m *LSA) GobDecode(b []byte) error {
	var st lsaState
	if err := decodeGob(b, &st); err != nil {
		return fmt.Errorf("decode lsa: %w", err)
	}
	if st.Dims <= 0 || st.L < st.Dims || st.Terms < 0 || len(st.Z) != len(st.IDs)*st.L || len(st.M) != st.L*st.Dims || len(st.Sigma) != st.Dims {
		return fmt.Errorf("decode lsa: inconsistent sizes (dims %d, terms %d, used %d, l %d)", st.Dims, st.Terms, len(st.IDs), st.L)
	}
	slot := make([]int32, st.Terms)
	for t := range slot {
		slot[t] = -1
	}
	for i, id := range st.IDs {
		if int(id) >= st.Terms || (i > 0 && id <= st.IDs[i-1]) {
			return fmt.Errorf("decode lsa: feature %d out of order or range (%d features)", id, st.Terms)
		}
		slot[id] = int32(i)
	}
	*m = LSA{dims: st.Dims, terms: st.Terms, l: st.L, ids: st.IDs, slot: slot, z: st.Z, m: st.M, sigma: st.Sigma}
	return nil
}

// phrasesVersion marks the encoding of Phrases; snapshots of the earlier
// model (no version) are refused rather than read as an empty model.
const phrasesVersion = 2

type phrasesState struct {
	Version int
	Cfg     PhraseConfig
	// Units and Counts: the units, sorted, and the lines that list each.
	Units  []string
	Counts []int32
	// Words and Stats: the words, sorted, and their statistics.
	Words  []string
	Stats  []wordStat
	NWords float64
	LogK   []float64
	// Lines and Splits: the learned lines, sorted, and each one's split
	// (phrases joined by "|").
	Lines  []string
	Splits []string
}

// GobEncode encodes the learned phrases (in sorted order: deterministic bytes).
func (ph *Phrases) GobEncode() ([]byte, error) {
	st := phrasesState{Version: phrasesVersion, Cfg: ph.cfg, NWords: ph.nwords, LogK: ph.logK}
	st.Units = slices.Sorted(maps.Keys(ph.units))
	for _, u := range st.Units {
		st.Counts = append(st.Counts, ph.units[u])
	}
	st.Words = slices.Sorted(maps.Keys(ph.words))
	for _, w := range st.Words {
		st.Stats = append(st.Stats, ph.words[w])
	}
	st.Lines = slices.Sorted(maps.Keys(ph.own))
	for _, l := range st.Lines {
		st.Splits = append(st.Splits, strings.Join(ph.own[l], "|"))
	}
	return encodeGob(st)
}

// GobDecode decodes phrases written by GobEncode.
func (ph *Phrases) GobDecode(b []byte) error {
	var st phrasesState
	if err := decodeGob(b, &st); err != nil {
		return fmt.Errorf("decode phrases: %w", err)
	}
	if st.Version != phrasesVersion {
		return fmt.Errorf("decode phrases: version %d, want %d", st.Version, phrasesVersion)
	}
	if len(st.Units) != len(st.Counts) || len(st.Words) != len(st.Stats) || len(st.Lines) != len(st.Splits) {
		return fmt.Errorf("decode phrases: %d units, %d counts, %d words, %d stats, %d lines, %d splits",
			len(st.Units), len(st.Counts), len(st.Words), len(st.Stats), len(st.Lines), len(st.Splits))
	}
	*ph = Phrases{cfg: st.Cfg.withDefaults(), units: make(map[string]int32, len(st.Units)), words: make(map[string]wordStat, len(st.Words)),
		nwords: st.NWords, logK: st.LogK, own: make(map[string][]string, len(st.Lines))}
	for i, u := range st.Units {
		ph.units[u] = st.Counts[i]
		ph.total += float64(st.Counts[i])
	}
	for i, w := range st.Words {
		ph.words[w] = st.Stats[i]
	}
	for i, l := range st.Lines {
		ph.own[l] = strings.Split(st.Splits[i], "|")
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
