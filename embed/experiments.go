//go:build relevance_experiments

package embed

// Accessors for the relevance experiments (recommend/experiments_test.go),
// built only with the relevance_experiments tag: none of this is API.

func (m *TFIDF) Key(i uint32) string { return m.names[i] }

func (m *TFIDF) Lookup(key string) (uint32, bool) { i, ok := m.index[key]; return i, ok }

// Frequencies returns raw field-weighted term frequencies by feature.
func (m *TFIDF) Frequencies(d Document) map[uint32]float64 {
	c := m.count(d)
	out := map[uint32]float64{}
	for j, key := range c.keys {
		if i, ok := m.index[key]; ok {
			out[i] += c.tf[j]
		}
	}
	return out
}

func (m *TFIDF) KindWeight(k FeatureKind) float64 { return m.kindWeight(k) }

const PhrasePrefix = phrasePrefix

func (m *LSA) TransformRaw(s Sparse) []float64 {
	xz := make([]float64, m.l)
	for j, t := range s.Idx {
		if int(t) >= m.terms {
			continue
		}
		v := float64(s.Val[j])
		for c, zv := range m.z[int(t)*m.l : int(t+1)*m.l] {
			xz[c] += v * float64(zv)
		}
	}
	out := make([]float64, m.dims)
	for r, v := range xz {
		if v == 0 {
			continue
		}
		for c, mv := range m.m[r*m.dims : (r+1)*m.dims] {
			out[c] += v * mv
		}
	}
	return out
}
