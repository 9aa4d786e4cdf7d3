// Package recommend answers the questions paperrec exists for: which papers
// are most like this one and why, which papers match a text, which papers
// suit a reader who liked some and disliked others, and how a given list of
// candidates ranks against a paper. It builds the text models (package
// embed) and the nearest-neighbour index (package vectorindex) over a
// corpus, takes candidates from the index and re-scores them exactly with a
// fusion of lexical, latent, keyphrase, author and area signals.
package recommend

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/paperrec/paperrec/embed"
	"github.com/paperrec/paperrec/models"
	"github.com/paperrec/paperrec/themes"
	"github.com/paperrec/paperrec/vectorindex"
)

// Index is what the service needs of a nearest-neighbour index over unit
// vectors: [vectorindex.Exact] and [vectorindex.HNSW] both fit. It must be
// safe for concurrent use.
type Index interface {
	// AddBatch adds vectors under keys with up to workers goroutines.
	AddBatch(ctx context.Context, keys []uint32, vecs [][]float32, workers int) error
	Delete(key uint32) bool
	Search(query []float32, k int, accept func(key uint32) bool) ([]vectorindex.Result, error)
	// Vector returns the index's own copy of a vector, which stays valid
	// and unchanged: the engine keeps no other.
	Vector(key uint32) ([]float32, bool)
	Len() int
}

// Tokenizer names how text is split into features.
//
// A plain value.
type Tokenizer string

// Tokenizers.
const (
	TokenizerWords     Tokenizer = "words"
	TokenizerWordPiece Tokenizer = "wordpiece"
)

// IndexKind names an index implementation.
//
// A plain value.
type IndexKind string

// Index implementations.
const (
	IndexExact IndexKind = "exact" // brute force: exact, the right choice below ~50,000 papers
	IndexHNSW  IndexKind = "hnsw"  // approximate: for large corpora
)

// Config tunes the service. The zero value is the tuned default.
type Config struct {
	Phrases embed.PhraseConfig
	TFIDF   embed.TFIDFConfig
	// Tokenizer picks the analyzer of the TF-IDF model: TokenizerWords
	// (default: words, plural stemming) or TokenizerWordPiece (BERT
	// subwords, via github.com/sugarme/tokenizer). TFIDF.Analyzer, when
	// set, wins.
	Tokenizer Tokenizer
	// Stemmer picks the word stemmer of TokenizerWords (default plural).
	Stemmer embed.Stemmer
	LSA     embed.LSAConfig
	Weights Weights
	// Themes tunes the research themes built with the service.
	Themes themes.Config
	// SkipThemes builds no themes (for batch ranking, evaluation and export,
	// which do not use them): Themes returns nil, items carry theme -1.
	SkipThemes bool
	// Index picks the candidate index (default exact).
	Index IndexKind
	HNSW  vectorindex.HNSWConfig
	// Candidates is the fewest papers the index proposes for exact
	// re-scoring (default 100); a query for k papers asks for at least
	// CandidatesPerK·k.
	Candidates int
	// MaxK bounds k in every query (default 100).
	MaxK int
	// Progress, when set, is told how a build advances, for a progress
	// bar; calls come from one goroutine at a time. Not part of the
	// engine: snapshots leave it out.
	Progress func(Progress)
}

// Progress is a step of a build: Stage names it ("keyphrases",
// "features", "latent", "index", "themes", and "done" at the end), and
// Done of Total papers are through it (Total 0 for a step that is not
// counted in papers).
//
// A plain value.
type Progress struct {
	Stage       string
	Done, Total int
}

// report tells cfg.Progress, when set.
func (c Config) report(stage string, done, total int) {
	if c.Progress != nil {
		c.Progress(Progress{Stage: stage, Done: done, Total: total})
	}
}

// Defaults for Config.
const (
	DefaultK    = 10
	DefaultMaxK = 100
	// DefaultCandidates and CandidatesPerK size the candidates of a query:
	// max(100, 10·k). On the bundled corpus the fused top 10 of all 574
	// papers is found whole from the 100 nearest in the latent space
	// (overlap@10 1.0000; 0.9986 from 40), docs/performance.md.
	DefaultCandidates = 100
	CandidatesPerK    = 10
	// DefaultTitleWeight weighs title words against abstract words.
	DefaultTitleWeight = 2
	// DefaultLSADims is the dense vectors' dimension.
	DefaultLSADims = 256
)

func (c Config) withDefaults() (Config, error) {
	if c.Tokenizer == "" {
		c.Tokenizer = TokenizerWords
	}
	if c.TFIDF.Analyzer == nil {
		switch c.Tokenizer {
		case TokenizerWords:
			c.TFIDF.Analyzer = c.Stemmer.Analyze
		case TokenizerWordPiece:
			wp, err := embed.NewWordPiece()
			if err != nil {
				return c, err
			}
			c.TFIDF.Analyzer = wp.Analyze
		default:
			return c, &InvalidArgumentError{Param: "tokenizer", Msg: fmt.Sprintf("unknown tokenizer %q: want words or wordpiece", c.Tokenizer)}
		}
	}
	if c.Index == "" {
		c.Index = IndexExact
	}
	if c.Candidates <= 0 {
		c.Candidates = DefaultCandidates
	}
	if c.MaxK <= 0 {
		c.MaxK = DefaultMaxK
	}
	c.Weights = c.Weights.withDefaults()
	if c.TFIDF.TitleWeight == 0 {
		// Titles count double, as BM25F setups usually weigh them
		// (measured: +0.004 to +0.010 nDCG@10 on the dev judgments).
		c.TFIDF.TitleWeight = DefaultTitleWeight
	}
	if c.LSA.Dims == 0 {
		c.LSA.Dims = DefaultLSADims
	}
	return c, nil
}

// Service answers related-paper questions over one version of a corpus.
// It is built by [New], loaded by [ReadSnapshot] or made from another by
// [Service.Apply], and never changes once made: a request that starts on
// one version answers wholly from it. It is safe for concurrent use.
type Service struct {
	cfg Config
	st  state
	// norms are the author-weight norms by position.
	norms []float64
	// removed holds st.Removed for lookups; live counts the other papers.
	removed map[uint32]bool
	live    int
	line    *lineage
	// gen numbers this version in its lineage.
	gen uint64
	// categories are the areas of this version's papers; replaced, never
	// changed, when a change brings a new one.
	categories map[models.Category]bool
}

// BuildStats says what building the service took.
//
// A plain value.
type BuildStats struct {
	Papers   int           `json:"papers"`
	Features int           `json:"features"`
	Phrases  int           `json:"phrases"`
	Dims     int           `json:"dims"`
	Themes   int           `json:"themes"`
	Index    IndexKind     `json:"index"`
	Duration time.Duration `json:"duration_ns"`
}

// New builds the service over a corpus: it fits the text models, fills the
// index and, unless cfg.SkipThemes, finds the research themes.
func New(ctx context.Context, corpus *models.Corpus, cfg Config) (*Service, error) {
	start := time.Now()
	st, err := fit(ctx, corpus.Papers(), cfg)
	if err != nil {
		return nil, err
	}
	s, err := assemble(st, nil)
	if err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !s.cfg.SkipThemes {
		dense := make([][]float32, len(s.st.Docs))
		for i := range s.st.Docs {
			dense[i] = s.st.Docs[i].Dense
		}
		s.cfg.report("themes", 0, 0)
		s.st.Themes, err = themes.Build(ctx, themes.Input{Papers: s.st.Papers, Vectors: dense, Similarity: s.Similarity}, s.cfg.Themes)
		if err != nil {
			return nil, fmt.Errorf("build themes: %w", err)
		}
		s.st.Stats.Themes = len(s.st.Themes.Themes())
	}
	s.st.Stats.Duration = time.Since(start)
	s.cfg.report("done", len(s.st.Papers), len(s.st.Papers))
	return s, nil
}

// fit fits the text models on papers and computes every paper's vectors:
// a state without themes.
func fit(ctx context.Context, papers []models.Paper, cfg Config) (state, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return state{}, err
	}
	if len(papers) == 0 {
		return state{}, fmt.Errorf("build: %w", embed.ErrEmptyCorpus)
	}
	st := state{Config: cfg}
	// Keyphrases: segment undelimited lines with phrases learned corpus-wide
	// and each paper's own title and abstract; the phrases are what readers
	// see (keywords, chips, theme terms) and what the models read.
	var lines []embed.PhraseDoc
	for _, p := range papers {
		if p.KeywordLine != "" {
			lines = append(lines, phraseDoc(p))
		}
	}
	cfg.report("keyphrases", 0, len(papers))
	st.Phrases = embed.LearnPhrases(lines, cfg.Phrases)
	st.Papers = slices.Clone(papers)
	for i := range st.Papers {
		st.Papers[i] = withKeywords(st.Papers[i], st.Phrases)
	}
	if err := ctx.Err(); err != nil {
		return state{}, err
	}
	docs := make([]embed.Document, len(st.Papers))
	for i, p := range st.Papers {
		docs[i] = document(p)
	}
	cfg.report("keyphrases", len(papers), len(papers))
	var lexVecs []embed.Sparse
	tcfg := cfg.TFIDF
	tcfg.Progress = func(done int) { cfg.report("features", done, len(docs)) }
	st.Lex, lexVecs = embed.FitTFIDF(docs, tcfg)
	if err := ctx.Err(); err != nil {
		return state{}, err
	}
	// LSA sees only the features papers share: a feature of one paper is
	// noise to the decomposition.
	var dense [][]float32
	cfg.report("latent", 0, 0)
	lcfg := cfg.LSA
	lcfg.View = st.Lex.Shared
	st.LSA, dense, err = embed.FitLSA(lexVecs, st.Lex.Len(), lcfg)
	if err != nil {
		return state{}, fmt.Errorf("build: %w", err)
	}
	st.Authors = authorVocabulary(st.Papers)
	authorID := make(map[string]int32, len(st.Authors))
	for id, a := range st.Authors {
		authorID[a.Key] = int32(id)
	}
	st.Docs = make([]doc, len(st.Papers))
	for i, p := range st.Papers {
		st.Docs[i] = doc{Lex: lexVecs[i], Shared: st.Lex.SharedNorm(lexVecs[i]), Dense: dense[i],
			Phrases: st.Lex.PhraseFeatures(p.Keywords), Authors: authorIDs(p.Authors, authorID)}
	}
	st.Stats = BuildStats{Papers: len(st.Papers), Features: st.Lex.Len(), Phrases: st.Phrases.Len(),
		Dims: st.LSA.Dims(), Index: cfg.Index}
	return st, nil
}

// withKeywords fills in a paper's keyphrases from its keyphrase line when
// the corpus did not list them.
func withKeywords(p models.Paper, ph *embed.Phrases) models.Paper {
	if len(p.Keywords) == 0 && p.KeywordLine != "" {
		p.Keywords = ph.SegmentDoc(phraseDoc(p))
	}
	return p
}

func phraseDoc(p models.Paper) embed.PhraseDoc {
	return embed.PhraseDoc{Line: p.KeywordLine, Title: p.Title, Abstract: p.Abstract}
}

// document returns a paper's text fields for the text models.
func document(p models.Paper) embed.Document {
	return embed.Document{Title: p.Title, Abstract: p.Abstract, Keywords: p.Keywords}
}

// authorIDs returns the sorted ids of the known authors among names.
func authorIDs(names []string, ids map[string]int32) []int32 {
	var out []int32
	for _, k := range authorKeys(names) {
		if id, ok := ids[k]; ok {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// authorKeys normalises names to "lastname initial" so that "J. Halverson"
// and "James Halverson" match.
func authorKeys(names []string) []string {
	var out []string
	for _, n := range names {
		f := strings.Fields(strings.ToLower(embed.Normalize(n)))
		if len(f) == 0 {
			continue
		}
		key := f[len(f)-1]
		if len(f) > 1 {
			key += " " + f[0][:1]
		}
		out = append(out, key)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Themes returns the corpus's research themes, nil when built with
// SkipThemes.
func (s *Service) Themes() *themes.Model { return s.st.Themes }

// Theme returns one theme by id, or an error wrapping [ErrThemeNotFound].
func (s *Service) Theme(id int) (themes.Theme, error) {
	if s.st.Themes == nil {
		return themes.Theme{}, fmt.Errorf("%w: %d (themes were not built)", ErrThemeNotFound, id)
	}
	t, ok := s.st.Themes.Theme(id)
	if !ok {
		return themes.Theme{}, fmt.Errorf("%w: %d", ErrThemeNotFound, id)
	}
	return t, nil
}

// ThemeOf returns the theme id of a paper ([themes.OutlierID] for the
// outlier group).
func (s *Service) ThemeOf(id string) (int, error) {
	i, ok := s.lookup(id)
	if !ok {
		return 0, fmt.Errorf("%w: %q", models.ErrNotFound, id)
	}
	return s.themeOf(i), nil
}

// themeOf returns the theme id of the paper at position i, -1 when themes
// were skipped.
func (s *Service) themeOf(i int) int {
	if s.st.Themes == nil {
		return themes.OutlierID
	}
	return s.st.Themes.Of(i)
}

// lookup returns the position of the paper with this ID in this version.
func (s *Service) lookup(id string) (int, bool) {
	s.line.mu.RLock()
	i, ok := s.line.ids[id]
	s.line.mu.RUnlock()
	if !ok || int(i) >= len(s.st.Papers) || s.removed[i] || s.st.Papers[i].ID != id {
		return 0, false
	}
	return int(i), true
}

// isLive reports whether position i holds a paper of this version.
func (s *Service) isLive(i uint32) bool {
	return int(i) < len(s.st.Papers) && !s.removed[i]
}

// MapPoint is a paper's place on the landscape map.
//
// A plain value.
type MapPoint struct {
	ID    string  `json:"id"`
	X     float64 `json:"x"`
	Y     float64 `json:"y"`
	Theme int     `json:"cluster"`
}

// Map returns every paper's position on the 2-D landscape map, in [0, 1]²,
// computed from the embeddings at build time (deterministic); nil when
// themes were skipped.
func (s *Service) Map() []MapPoint {
	if s.st.Themes == nil {
		return nil
	}
	pts := s.st.Themes.Layout()
	out := make([]MapPoint, 0, s.live)
	for i, p := range pts[:len(s.st.Papers)] {
		if !s.removed[uint32(i)] {
			out = append(out, MapPoint{ID: s.st.Papers[i].ID, X: p.X, Y: p.Y, Theme: s.st.Themes.Of(i)})
		}
	}
	return out
}

// Stats returns what building the service took.
func (s *Service) Stats() BuildStats {
	st := s.st.Stats
	st.Papers = s.live
	return st
}

// Seq returns the number of the last change applied to this version (0 for
// a fresh build).
func (s *Service) Seq() uint64 { return s.st.Seq }

// Len returns the number of papers.
func (s *Service) Len() int { return s.live }

// Paper returns a paper by ID, keyphrases recovered, or an error wrapping
// [models.ErrNotFound].
func (s *Service) Paper(id string) (models.Paper, error) {
	i, ok := s.lookup(id)
	if !ok {
		return models.Paper{}, fmt.Errorf("%w: %q", models.ErrNotFound, id)
	}
	return s.st.Papers[i], nil
}

// Papers returns one page of the papers that pass the filter, in corpus
// order, and how many pass in all.
func (s *Service) Papers(f Filter, offset, limit int) ([]models.Paper, int, error) {
	if offset < 0 {
		return nil, 0, &InvalidArgumentError{Param: "offset", Msg: "must be >= 0"}
	}
	if limit < 1 || limit > s.cfg.MaxK*10 {
		return nil, 0, &InvalidArgumentError{Param: "limit", Msg: fmt.Sprintf("must be between 1 and %d", s.cfg.MaxK*10)}
	}
	accept, err := s.acceptFunc(f)
	if err != nil {
		return nil, 0, err
	}
	var page []models.Paper
	total := 0
	for i, p := range s.st.Papers {
		if !accept(uint32(i)) {
			continue
		}
		if total >= offset && len(page) < limit {
			page = append(page, p)
		}
		total++
	}
	return page, total, nil
}

// Corpus returns the papers of this version as a corpus.
func (s *Service) Corpus() *models.Corpus {
	c, err := models.NewCorpus(s.AllPapers())
	if err != nil {
		panic(fmt.Sprintf("recommend: papers of one version are not a corpus: %v", err)) // IDs are unique by construction
	}
	return c
}

// RelatedIDs returns the IDs of the k papers most related to id, best
// first: the shape package eval scores.
func (s *Service) RelatedIDs(ctx context.Context, id string, k int) ([]string, error) {
	items, err := s.Related(ctx, id, Options{K: k})
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.Paper.ID
	}
	return ids, nil
}

// Similarity returns the fused score of the paper at position j as related
// to the one at position i, in [0, 1]: what Related ranks by. It is close
// to symmetric but not exactly. Positions are corpus order in a service
// that [New] built.
func (s *Service) Similarity(i, j int) float64 {
	q := s.paperQuery(i)
	return s.score(&q, j)
}

// Vectors returns every paper's dense unit vector (LSA) in position order,
// as [Service.Similarity] numbers them. The slices are shared: read only.
func (s *Service) Vectors() [][]float32 {
	out := make([][]float32, len(s.st.Docs))
	for i := range s.st.Docs {
		out[i] = s.st.Docs[i].Dense
	}
	return out
}

// AllPapers returns every paper of this version in position order (corpus
// order for a service that [New] built), keyphrases recovered. Read only.
func (s *Service) AllPapers() []models.Paper {
	if len(s.removed) == 0 {
		return s.st.Papers
	}
	out := make([]models.Paper, 0, s.live)
	for i, p := range s.st.Papers {
		if !s.removed[uint32(i)] {
			out = append(out, p)
		}
	}
	return out
}

// Category returns the area of this version's papers that name stands
// for, matched without regard to case.
func (s *Service) Category(name string) (models.Category, bool) {
	name = strings.TrimSpace(name)
	for c := range s.categories {
		if strings.EqualFold(string(c), name) {
			return c, true
		}
	}
	return "", false
}

// Categories returns the areas of this version's papers, sorted.
func (s *Service) Categories() []models.Category {
	out := slices.Collect(maps.Keys(s.categories))
	slices.Sort(out)
	return out
}

// MaxK returns the largest k a query may ask for.
func (s *Service) MaxK() int { return s.cfg.MaxK }

// BuiltWith reports whether s was built with the settings of cfg (its zero
// fields meaning the defaults), so that a saved engine is reused only by a
// server configured the same way.
func (s *Service) BuiltWith(cfg Config) bool {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return false
	}
	mine := s.cfg
	cfg.TFIDF.Analyzer, mine.TFIDF.Analyzer = nil, nil
	cfg.Progress, mine.Progress = nil, nil
	return reflect.DeepEqual(cfg, mine)
}

// Neighbours returns the k papers whose dense vectors are nearest to vec,
// by position (see [Service.Vectors]), from the index the service answers
// with: for benchmarks and tools that measure it.
func (s *Service) Neighbours(vec []float32, k int) ([]vectorindex.Result, error) {
	return s.line.index.Search(vec, k, func(key uint32) bool { return s.isLive(key) })
}
