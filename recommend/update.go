package recommend

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/paperrec/paperrec/models"
	"github.com/paperrec/paperrec/themes"
)

// Apply returns a new version of the service with the changes made in
// order (an add as a put: the log checked it), and leaves s as it was: requests under way on s finish on it. A
// put paper is folded in: embedded with the fitted vocabulary and latent
// model, added to the index, and placed in the theme and at the map point
// its nearest neighbours suggest; a removed paper leaves every answer, the
// index and its theme. The fitted models do not change (see Refit).
//
// Apply checks every change before it changes anything shared, so an error
// leaves s and its index as they were: an unknown paper to remove wraps
// [models.ErrNotFound], an invalid paper is an [InvalidArgumentError].
// Apply is safe for concurrent use. Versions form a line: only the newest
// version can be changed, and Apply on an older one returns [ErrStale].
func (s *Service) Apply(ctx context.Context, changes []models.Change) (*Service, error) {
	s.line.writer.Lock()
	defer s.line.writer.Unlock()
	if s.gen != s.line.gen {
		return nil, ErrStale
	}
	n := *s
	n.gen++
	n.removed = maps.Clone(s.removed)
	if n.removed == nil {
		n.removed = map[uint32]bool{}
	}
	n.st.Removed = slices.Clone(s.st.Removed)
	from := len(s.st.Papers)
	batch := map[string]int{} // ID → position of its newest version in this batch, -1 if removed
	lookup := func(id string) (int, bool) {
		if i, ok := batch[id]; ok {
			return i, i >= 0
		}
		return s.lookup(id)
	}
	newAuthors := map[string]int32{}
	var removedRefs []themes.Removed
	remove := func(i int) {
		n.removed[uint32(i)] = true
		k, _ := slices.BinarySearch(n.st.Removed, uint32(i))
		n.st.Removed = slices.Insert(n.st.Removed, k, uint32(i))
		if i < from { // absorb has not counted the newer ones yet
			n.live--
		}
		removedRefs = append(removedRefs, themes.Removed{Position: i, Paper: n.st.Papers[i]})
	}
	for k, c := range changes {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if c.Seq > n.st.Seq {
			n.st.Seq = c.Seq
		}
		switch c.Op {
		case models.OpRemove:
			i, ok := lookup(c.ID)
			if !ok {
				return nil, fmt.Errorf("change %d: %w: %q", k, models.ErrNotFound, c.ID)
			}
			remove(i)
			batch[c.ID] = -1
		case models.OpAdd, models.OpPut: // the log that numbered an add checked that it was new
			p := c.Paper
			if p.ID != c.ID {
				return nil, &InvalidArgumentError{Param: "id", Msg: fmt.Sprintf("change %d puts paper %q under id %q", k, p.ID, c.ID)}
			}
			if err := models.ValidateID(p.ID); err != nil {
				return nil, &InvalidArgumentError{Param: "id", Msg: fmt.Sprintf("change %d: %v", k, err)}
			}
			if i, ok := lookup(p.ID); ok {
				remove(i)
			}
			p = withKeywords(p, n.st.Phrases)
			d := n.foldIn(p, newAuthors)
			batch[p.ID] = len(n.st.Papers)
			n.st.Papers = append(n.st.Papers, p)
			n.st.Docs = append(n.st.Docs, d)
		default:
			return nil, &InvalidArgumentError{Param: "op", Msg: fmt.Sprintf("change %d: unknown operation %d", k, c.Op)}
		}
	}
	if n.st.Themes != nil {
		added := make([]themes.Added, 0, len(n.st.Papers)-from)
		for i := from; i < len(n.st.Papers); i++ {
			theme, pt := n.place(i)
			added = append(added, themes.Added{Paper: n.st.Papers[i], Theme: theme, Point: pt})
		}
		var err error
		if n.st.Themes, err = s.st.Themes.Change(removedRefs, added); err != nil {
			return nil, fmt.Errorf("apply: %w", err)
		}
	}

	// Nothing below can fail: publish the new papers to the lineage.
	authors := make([]author, len(newAuthors))
	for key, id := range newAuthors {
		authors[int(id)-len(s.st.Authors)] = author{Key: key, IDF: authorIDF(s.st.Lex.Docs(), 1)}
	}
	n.st.Authors = append(n.st.Authors, authors...)
	n.line.mu.Lock()
	for key, id := range newAuthors {
		n.line.authorID[key] = id
	}
	// A removed paper leaves the index, which versions share, but keeps its
	// ID lookup, which each version checks against its own removals: older
	// versions still find it.
	for _, r := range removedRefs {
		if r.Position < from {
			n.line.index.Delete(uint32(r.Position))
		}
	}
	n.line.mu.Unlock()
	if err := n.absorb(from, true); err != nil {
		return nil, fmt.Errorf("apply: %w", err)
	}
	n.line.gen = n.gen
	return &n, nil
}

// foldIn embeds a paper with the fitted models. Authors the vocabulary does
// not know get new ids, recorded in fresh, as authors of one paper.
func (s *Service) foldIn(p models.Paper, fresh map[string]int32) doc {
	lex := s.st.Lex.Transform(document(p))
	d := doc{Lex: lex, Shared: s.st.Lex.SharedNorm(lex), Dense: s.st.LSA.Transform(s.st.Lex.Shared(lex)),
		Phrases: s.st.Lex.PhraseFeatures(p.Keywords)}
	for _, k := range authorKeys(p.Authors) {
		s.line.mu.RLock()
		id, ok := s.line.authorID[k]
		s.line.mu.RUnlock()
		if !ok {
			if id, ok = fresh[k]; !ok {
				id = int32(len(s.st.Authors) + len(fresh))
				fresh[k] = id
			}
		}
		d.Authors = append(d.Authors, id)
	}
	slices.Sort(d.Authors)
	return d
}

// placeNeighbours is how many nearest papers vote on a new paper's theme.
const placeNeighbours = 10

// place returns the theme and map point of the paper at position i, from
// its nearest live neighbours: the theme with the largest summed cosine
// among them, and the cosine-weighted mean of that theme's neighbours'
// points. A paper with no neighbour (no known word) joins the outlier
// group where there is one, else the largest theme, at the middle.
func (s *Service) place(i int) (int, themes.Point) {
	m := s.st.Themes
	res, _ := s.line.index.Search(s.st.Docs[i].Dense, placeNeighbours, func(k uint32) bool { return s.isLive(k) })
	votes := map[int]float64{}
	for _, r := range res {
		votes[m.Of(int(r.Key))] += max(0, 1-float64(r.Distance))
	}
	best, bestVote := themes.OutlierID, 0.0
	for t, v := range votes {
		if v > bestVote || (v == bestVote && t < best) {
			best, bestVote = t, v
		}
	}
	if bestVote == 0 {
		if _, ok := m.Theme(themes.OutlierID); ok {
			return themes.OutlierID, themes.Point{X: 0.5, Y: 0.5}
		}
		return 0, themes.Point{X: 0.5, Y: 0.5}
	}
	if _, ok := m.Theme(best); !ok { // the outlier group of a model without one
		best = 0
	}
	var pt themes.Point
	var total float64
	layout := m.Layout()
	for _, r := range res {
		if w := max(0, 1-float64(r.Distance)); m.Of(int(r.Key)) == best && w > 0 {
			pt.X += w * layout[r.Key].X
			pt.Y += w * layout[r.Key].Y
			total += w
		}
	}
	if total == 0 {
		return best, themes.Point{X: 0.5, Y: 0.5}
	}
	// A small offset keeps a paper from hiding one it copies exactly.
	jitter := 0.004 * float64(i%7-3)
	return best, themes.Point{X: clamp01(pt.X/total + jitter), Y: clamp01(pt.Y/total - jitter)}
}

func clamp01(v float64) float64 { return math.Max(0, math.Min(1, v)) }

// At returns the service marked as holding its corpus as of change seq of
// the log its papers came from, so that it follows that log from there: for
// a service just built from a store's papers.
func (s *Service) At(seq uint64) *Service {
	n := *s
	n.st.Seq = seq
	return &n
}
