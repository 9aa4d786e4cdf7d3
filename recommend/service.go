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
	"math"
	"slices"
	"strings"
	"sync"
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
	Add(key uint32, vec []float32) error
	Delete(key uint32) bool
	Search(query []float32, k int, accept func(key uint32) bool) ([]vectorindex.Result, error)
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
	// Candidates is how many papers the index proposes for exact
	// re-scoring (default 400).
	Candidates int
	// MaxK bounds k in every query (default 100).
	MaxK int
}

// Defaults for Config.
const (
	DefaultK          = 10
	DefaultMaxK       = 100
	DefaultCandidates = 400
	// DefaultTitleWeight weighs title words against abstract words.
	DefaultTitleWeight = 2
	// DefaultLSADims is the dense vectors' dimension.
	DefaultLSADims = 256
)

func (c Config) withDefaults() (Config, error) {
	if c.TFIDF.Analyzer == nil {
		switch c.Tokenizer {
		case "", TokenizerWords:
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

// Service answers related-paper questions over one corpus. It is built once
// by [New] and is safe for concurrent use.
type Service struct {
	cfg     Config
	corpus  *models.Corpus
	papers  []models.Paper // corpus papers with recovered keyphrases
	phrases *embed.Phrases
	lex     *embed.TFIDF
	lsa     *embed.LSA
	index   Index
	themes  *themes.Model
	docs    []docVectors
	// Authors have ids in the order of their keys ("lastname initial");
	// authorIDF weighs one by rarity: ln((N+1)/(papers+1)) + 1.
	authorKeys []string
	authorID   map[string]int32
	authorIDF  []float64
	// scratch holds dense copies of query vectors (see attach).
	scratch sync.Pool
	stats   BuildStats
}

// docVectors is everything scored about one paper.
type docVectors struct {
	lex embed.Sparse
	// shared is the norm of lex over features other papers can share
	// (see embed.TFIDF.SharedNorm).
	shared     float64
	dense      []float32
	phrases    []uint32 // phrase features of the paper's own keyphrases, sorted
	authors    []int32  // author ids, sorted
	authorNorm float64  // sqrt of the sum of their squared weights
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

// New builds the service over a corpus: it recovers keyphrases from the
// keyphrase lines, fits the TF-IDF and LSA models and fills the index.
func New(ctx context.Context, corpus *models.Corpus, cfg Config) (*Service, error) {
	start := time.Now()
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if corpus.Len() == 0 {
		return nil, fmt.Errorf("build: %w", embed.ErrEmptyCorpus)
	}
	s := &Service{cfg: cfg, corpus: corpus}

	// Keyphrases: segment undelimited lines with phrases learned corpus-wide
	// and each paper's own title and abstract; the phrases are what readers
	// see (keywords, chips, theme terms) and what the models read.
	var lines []embed.PhraseDoc
	for _, p := range corpus.Papers() {
		if p.KeywordLine != "" {
			lines = append(lines, phraseDoc(p))
		}
	}
	s.phrases = embed.LearnPhrases(lines, cfg.Phrases)
	s.papers = slices.Clone(corpus.Papers())
	for i, p := range s.papers {
		if len(p.Keywords) == 0 && p.KeywordLine != "" {
			s.papers[i].Keywords = s.phrases.SegmentDoc(phraseDoc(p))
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	docs := make([]embed.Document, len(s.papers))
	for i, p := range s.papers {
		docs[i] = document(p)
	}
	var lexVecs []embed.Sparse
	s.lex, lexVecs = embed.FitTFIDF(docs, cfg.TFIDF)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// LSA sees only the features papers share: a feature of one paper is
	// noise to the decomposition.
	shared := make([]embed.Sparse, len(lexVecs))
	for i, v := range lexVecs {
		shared[i] = s.lex.Shared(v)
	}
	lsa, dense, err := embed.FitLSA(shared, s.lex.Len(), cfg.LSA)
	if err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	s.lsa = lsa

	switch cfg.Index {
	case IndexExact:
		s.index = vectorindex.NewExact(lsa.Dims())
	case IndexHNSW:
		s.index = vectorindex.NewHNSW(lsa.Dims(), cfg.HNSW)
	default:
		return nil, &InvalidArgumentError{Param: "index", Msg: fmt.Sprintf("unknown index %q: want exact or hnsw", cfg.Index)}
	}
	s.docs = make([]docVectors, len(s.papers))
	s.indexAuthors()
	for i, p := range s.papers {
		s.docs[i] = docVectors{
			lex:     lexVecs[i],
			shared:  s.lex.SharedNorm(lexVecs[i]),
			dense:   dense[i],
			phrases: s.lex.PhraseFeatures(p.Keywords),
		}
		s.docs[i].authors, s.docs[i].authorNorm = s.authorsOf(p.Authors)
		if err := s.index.Add(uint32(i), dense[i]); err != nil {
			return nil, fmt.Errorf("build: index paper %s: %w", p.ID, err)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	themeCount := 0
	if !cfg.SkipThemes {
		s.themes, err = themes.Build(ctx, themes.Input{Papers: s.papers, Vectors: dense, Similarity: s.Similarity}, cfg.Themes)
		if err != nil {
			return nil, fmt.Errorf("build themes: %w", err)
		}
		themeCount = len(s.themes.Themes())
	}
	s.stats = BuildStats{Themes: themeCount, Papers: len(s.papers), Features: s.lex.Len(), Phrases: s.phrases.Len(),
		Dims: lsa.Dims(), Index: cfg.Index, Duration: time.Since(start)}
	return s, nil
}

func phraseDoc(p models.Paper) embed.PhraseDoc {
	return embed.PhraseDoc{Line: p.KeywordLine, Title: p.Title, Abstract: p.Abstract}
}

// document returns a paper's text fields for the text models.
func document(p models.Paper) embed.Document {
	return embed.Document{Title: p.Title, Abstract: p.Abstract, Keywords: p.Keywords}
}

// indexAuthors gives every author key of the corpus an id, in key order,
// and its rarity weight.
func (s *Service) indexAuthors() {
	df := map[string]int{}
	for _, p := range s.papers {
		for _, a := range authorKeys(p.Authors) {
			df[a]++
		}
	}
	s.authorKeys = make([]string, 0, len(df))
	for a := range df {
		s.authorKeys = append(s.authorKeys, a)
	}
	slices.Sort(s.authorKeys)
	s.authorID = make(map[string]int32, len(df))
	s.authorIDF = make([]float64, len(df))
	for id, a := range s.authorKeys {
		s.authorID[a] = int32(id)
		s.authorIDF[id] = math.Log(float64(len(s.papers)+1)/float64(df[a]+1)) + 1
	}
}

// authorsOf returns the sorted ids of the known authors among names and
// the norm of their weights.
func (s *Service) authorsOf(names []string) ([]int32, float64) {
	var ids []int32
	var norm float64
	for _, k := range authorKeys(names) {
		if id, ok := s.authorID[k]; ok {
			ids = append(ids, id)
			norm += s.authorIDF[id] * s.authorIDF[id]
		}
	}
	slices.Sort(ids)
	return ids, math.Sqrt(norm)
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
func (s *Service) Themes() *themes.Model { return s.themes }

// Theme returns one theme by id, or an error wrapping [ErrThemeNotFound].
func (s *Service) Theme(id int) (themes.Theme, error) {
	if s.themes == nil {
		return themes.Theme{}, fmt.Errorf("%w: %d (themes were not built)", ErrThemeNotFound, id)
	}
	t, ok := s.themes.Theme(id)
	if !ok {
		return themes.Theme{}, fmt.Errorf("%w: %d", ErrThemeNotFound, id)
	}
	return t, nil
}

// ThemeOf returns the theme id of a paper ([themes.OutlierID] for the
// outlier group).
func (s *Service) ThemeOf(id string) (int, error) {
	i, ok := s.corpus.Index(id)
	if !ok {
		return 0, fmt.Errorf("%w: %q", models.ErrNotFound, id)
	}
	return s.themeOf(i), nil
}

// themeOf returns paper i's theme id, -1 when themes were skipped.
func (s *Service) themeOf(i int) int {
	if s.themes == nil {
		return themes.OutlierID
	}
	return s.themes.Of(i)
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
	if s.themes == nil {
		return nil
	}
	pts := s.themes.Layout()
	out := make([]MapPoint, len(pts))
	for i, p := range pts {
		out[i] = MapPoint{ID: s.papers[i].ID, X: p.X, Y: p.Y, Theme: s.themes.Of(i)}
	}
	return out
}

// Stats returns what building the service took.
func (s *Service) Stats() BuildStats { return s.stats }

// Len returns the number of papers.
func (s *Service) Len() int { return len(s.papers) }

// Paper returns a paper by ID, keyphrases recovered, or an error wrapping
// [models.ErrNotFound].
func (s *Service) Paper(id string) (models.Paper, error) {
	i, ok := s.corpus.Index(id)
	if !ok {
		return models.Paper{}, fmt.Errorf("%w: %q", models.ErrNotFound, id)
	}
	return s.papers[i], nil
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
	for i, p := range s.papers {
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

// Corpus returns the corpus the service was built on.
func (s *Service) Corpus() *models.Corpus { return s.corpus }

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

// Vectors returns every paper's dense unit vector (LSA), in corpus order.
// The slices are shared: read only.
func (s *Service) Vectors() [][]float32 {
	out := make([][]float32, len(s.docs))
	for i := range s.docs {
		out[i] = s.docs[i].dense
	}
	return out
}

// Similarity returns the fused score of paper j as related to paper i, in
// [0, 1]: what Related ranks by. It is close to symmetric but not exactly.
func (s *Service) Similarity(i, j int) float64 {
	q := s.paperQuery(i)
	return s.score(&q, j)
}

// AllPapers returns every paper in corpus order, keyphrases recovered. The
// slice is shared: read only.
func (s *Service) AllPapers() []models.Paper { return s.papers }

// MaxK returns the largest k a query may ask for.
func (s *Service) MaxK() int { return s.cfg.MaxK }
