package themes

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"fmt"
	"slices"
)

// modelState is the encoded form of a Model. Maps are stored in sorted
// order (themes as JSON, whose maps are sorted), so that one model always
// encodes to the same bytes and snapshots can be compared by checksum.
type modelState struct {
	Themes      []byte // JSON of []Theme
	Of          []int
	Layout      []Point
	Stats       Stats
	TitleIDs    []string
	TitleValues []string
}

// GobEncode encodes the model, so that a built engine can be saved as a
// snapshot and loaded by replicas.
func (m *Model) GobEncode() ([]byte, error) {
	js, err := json.Marshal(m.themes)
	if err != nil {
		return nil, err
	}
	st := modelState{Themes: js, Of: m.of, Layout: m.layout, Stats: m.stats}
	st.Stats.Duration = 0 // not part of the model; keeps the bytes reproducible
	for id := range m.titles {
		st.TitleIDs = append(st.TitleIDs, id)
	}
	slices.Sort(st.TitleIDs)
	for _, id := range st.TitleIDs {
		st.TitleValues = append(st.TitleValues, m.titles[id])
	}
	var buf bytes.Buffer
	err = gob.NewEncoder(&buf).Encode(st)
	return buf.Bytes(), err
}

// GobDecode decodes a model written by GobEncode.
func (m *Model) GobDecode(b []byte) error {
	var st modelState
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&st); err != nil {
		return fmt.Errorf("decode themes: %w", err)
	}
	var all []Theme
	if err := json.Unmarshal(st.Themes, &all); err != nil {
		return fmt.Errorf("decode themes: %w", err)
	}
	if len(st.TitleIDs) != len(st.TitleValues) {
		return fmt.Errorf("decode themes: %d title ids, %d titles", len(st.TitleIDs), len(st.TitleValues))
	}
	if len(st.Layout) != len(st.Of) {
		return fmt.Errorf("decode themes: %d papers but %d map points", len(st.Of), len(st.Layout))
	}
	want := st.Stats.Themes
	if st.Stats.Outliers > 0 {
		want++
	}
	if len(all) != want {
		return fmt.Errorf("decode themes: %d themes, stats say %d", len(all), want)
	}
	ids := map[int]bool{}
	for _, t := range all {
		ids[t.ID] = true
	}
	for i, id := range st.Of {
		if !ids[id] {
			return fmt.Errorf("decode themes: paper %d in unknown theme %d", i, id)
		}
	}
	titles := make(map[string]string, len(st.TitleIDs))
	for i, id := range st.TitleIDs {
		titles[id] = st.TitleValues[i]
	}
	*m = Model{themes: all, of: st.Of, layout: st.Layout, stats: st.Stats, titles: titles}
	return nil
}
