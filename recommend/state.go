package recommend

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"runtime"
	"slices"
	"sync"

	"github.com/paperrec/paperrec/embed"
	"github.com/paperrec/paperrec/models"
	"github.com/paperrec/paperrec/themes"
	"github.com/paperrec/paperrec/vectorindex"
)

// state is a fitted engine as plain data: the text models fitted on a
// corpus, every paper with its vectors by position, the author vocabulary,
// the themes, and the positions removed since the fit. Fitting a corpus
// makes one (fit), a snapshot stores one, and every change extends one;
// assemble turns any state into a Service, and absorb is the one place
// where a paper's derived data (its id, author weights, index entry) is
// made, for the papers of a fit, of a snapshot and of a change alike.
//
// Positions only grow: a changed paper is removed at its old position and
// added at a new one, and a refit renumbers. So the slices of an older
// state are prefixes of a newer one's, which lets versions share them.
type state struct {
	Config  Config
	Phrases *embed.Phrases
	Lex     *embed.TFIDF
	LSA     *embed.LSA
	// Authors is the author vocabulary by id.
	Authors []author
	Papers  []models.Paper
	Docs    []doc
	// Removed lists the positions removed since the fit, ascending.
	Removed []uint32
	// Themes is nil when built with SkipThemes.
	Themes *themes.Model
	// Seq is the number of the last change applied (0 for a fresh fit).
	Seq   uint64
	Stats BuildStats
}

// doc is everything scored about one paper.
type doc struct {
	Lex embed.Sparse
	// Shared is the norm of Lex over features other papers can share
	// (see embed.TFIDF.SharedNorm).
	Shared  float64
	Dense   []float32
	Phrases []uint32 // phrase features of the paper's own keyphrases, sorted
	Authors []int32  // author ids, sorted
}

// author is one author key ("lastname initial") and its rarity weight,
// ln((N+1)/(papers+1)) + 1 over the fitted corpus.
type author struct {
	Key string
	IDF float64
}

// lineage is what every version of an engine descending from one state
// shares: lookups from paper ID and author key, which only grow, and the
// index, which a removed paper leaves. A version checks what it finds
// against its own extent and removals. Safe for concurrent use.
type lineage struct {
	// writer serialises Apply; gen numbers the newest version.
	writer sync.Mutex
	gen    uint64

	mu       sync.RWMutex
	ids      map[string]uint32 // paper ID → position of its newest version
	authorID map[string]int32
	index    Index
	// scratch holds dense copies of query vectors (see attach).
	scratch sync.Pool
}

// assemble turns a state into a Service: it checks the state, builds the
// index (or takes the one given, which must hold the state's live papers)
// and absorbs every paper.
func assemble(st state, index Index) (*Service, error) {
	cfg, err := st.Config.withDefaults()
	if err != nil {
		return nil, err
	}
	st.Config = cfg
	if err := st.check(); err != nil {
		return nil, err
	}
	st.Lex.SetAnalyzer(cfg.TFIDF.Analyzer)
	s := &Service{cfg: cfg, st: st, categories: map[models.Category]bool{}, line: &lineage{
		ids:      make(map[string]uint32, len(st.Papers)),
		authorID: make(map[string]int32, len(st.Authors)),
	}}
	for id, a := range st.Authors {
		s.line.authorID[a.Key] = int32(id)
	}
	s.removed = make(map[uint32]bool, len(st.Removed))
	for _, p := range st.Removed {
		s.removed[p] = true
	}
	fill := index == nil
	if fill {
		switch cfg.Index {
		case IndexExact:
			index = vectorindex.NewExact(st.LSA.Dims())
		case IndexHNSW:
			index = vectorindex.NewHNSW(st.LSA.Dims(), cfg.HNSW)
		default:
			return nil, &InvalidArgumentError{Param: "index", Msg: fmt.Sprintf("unknown index %q: want exact or hnsw", cfg.Index)}
		}
	}
	s.line.index = index
	if err := s.absorb(0, fill); err != nil {
		return nil, err
	}
	if n := s.line.index.Len(); n != s.live {
		return nil, fmt.Errorf("index holds %d papers, not %d", n, s.live)
	}
	return s, nil
}

// absorb makes the derived data of the papers at positions from..end:
// their author norms, ID lookups and, when fill is set, index entries; the
// live papers' dense vectors then point to the index's copies.
func (s *Service) absorb(from int, fill bool) error {
	s.norms = slices.Grow(s.norms, len(s.st.Docs)-from)
	s.line.mu.Lock()
	defer s.line.mu.Unlock()
	ownCategories := from == 0
	var keys []uint32 // the live papers absorbed
	for i := from; i < len(s.st.Docs); i++ {
		d := &s.st.Docs[i]
		var norm float64
		for _, a := range d.Authors {
			norm += s.st.Authors[a].IDF * s.st.Authors[a].IDF
		}
		s.norms = append(s.norms, math.Sqrt(norm))
		if s.removed[uint32(i)] {
			continue
		}
		if c := s.st.Papers[i].Category; c != "" && !s.categories[c] {
			if !ownCategories { // a new area in a change: this version's own set
				s.categories, ownCategories = maps.Clone(s.categories), true
			}
			s.categories[c] = true
		}
		id := s.st.Papers[i].ID
		if j, dup := s.line.ids[id]; dup && int(j) < i && !s.removed[j] {
			return fmt.Errorf("%w: duplicate id %q at positions %d and %d", errMalformed, id, j, i)
		}
		s.live++
		s.line.ids[id] = uint32(i)
		keys = append(keys, uint32(i))
	}
	// The index keeps the one copy of each dense vector: papers read it
	// there once it holds them, a batch at a time, so that the vectors
	// handed over are garbage before the next batch and a large corpus is
	// not held twice.
	if fill && len(keys) > 0 {
		s.cfg.report("index", 0, len(keys))
	}
	for lo := 0; lo < len(keys); lo += indexBatch {
		batch := keys[lo:min(lo+indexBatch, len(keys))]
		if fill {
			vecs := make([][]float32, len(batch))
			for k, i := range batch {
				vecs[k] = s.st.Docs[i].Dense
			}
			if err := s.line.index.AddBatch(context.Background(), batch, vecs, runtime.GOMAXPROCS(0)); err != nil {
				return fmt.Errorf("index: %w", err)
			}
			s.cfg.report("index", lo+len(batch), len(keys))
		}
		for _, i := range batch {
			v, ok := s.line.index.Vector(i)
			if !ok {
				return fmt.Errorf("%w: paper %d is not in the index", errMalformed, i)
			}
			s.st.Docs[i].Dense = v
		}
	}
	return nil
}

// indexBatch is how many papers absorb adds to the index at once.
const indexBatch = 1 << 16

// errMalformed wraps what makes a state unusable.
var errMalformed = errors.New("malformed engine state")

// check validates a state before it is assembled: every count and range a
// Service relies on, so that a damaged snapshot is refused rather than
// served.
func (st *state) check() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", errMalformed, fmt.Sprintf(format, args...))
	}
	switch {
	case st.Lex == nil || st.LSA == nil || st.Phrases == nil:
		return bad("missing models")
	case len(st.Docs) != len(st.Papers):
		return bad("%d papers but %d vectors", len(st.Papers), len(st.Docs))
	case st.Themes != nil && len(st.Themes.Layout()) != len(st.Papers):
		return bad("themes cover %d papers, not %d", len(st.Themes.Layout()), len(st.Papers))
	}
	for i, p := range st.Removed {
		if int(p) >= len(st.Papers) || (i > 0 && p <= st.Removed[i-1]) {
			return bad("removed positions not ascending within %d papers", len(st.Papers))
		}
	}
	for i, d := range st.Docs {
		// A snapshot's papers have no dense vectors: the index holds them.
		if (d.Dense != nil && len(d.Dense) != st.LSA.Dims()) || len(d.Lex.Idx) != len(d.Lex.Val) {
			return bad("paper %d: malformed vectors", i)
		}
		for _, f := range d.Lex.Idx {
			if int(f) >= st.Lex.Len() {
				return bad("paper %d: feature %d out of range", i, f)
			}
		}
		for _, f := range d.Phrases {
			if int(f) >= st.Lex.Len() {
				return bad("paper %d: phrase feature %d out of range", i, f)
			}
		}
		for _, a := range d.Authors {
			if a < 0 || int(a) >= len(st.Authors) {
				return bad("paper %d: author %d out of range", i, a)
			}
		}
		if err := models.ValidateID(st.Papers[i].ID); err != nil {
			return bad("paper %d: %v", i, err)
		}
	}
	return nil
}

// authorVocabulary gives every author key of the papers an id, in key
// order, and its rarity weight.
func authorVocabulary(papers []models.Paper) []author {
	df := map[string]int{}
	for _, p := range papers {
		for _, a := range authorKeys(p.Authors) {
			df[a]++
		}
	}
	out := make([]author, 0, len(df))
	for a, n := range df {
		out = append(out, author{Key: a, IDF: authorIDF(len(papers), n)})
	}
	slices.SortFunc(out, func(a, b author) int { return cmp.Compare(a.Key, b.Key) })
	return out
}

// authorIDF weighs an author of n of a corpus's papers.
func authorIDF(papers, n int) float64 {
	return math.Log(float64(papers+1)/float64(n+1)) + 1
}
