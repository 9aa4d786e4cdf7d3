package recommend

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/paperrec/paperrec/embed"
	"github.com/paperrec/paperrec/models"
)

// Options shape a query's answer. The zero value asks for DefaultK results.
type Options struct {
	// K is how many papers to return (default 10, at most MaxK).
	K      int
	Filter Filter
	// Diversity in [0, 1] re-ranks by maximal marginal relevance: 0 is pure
	// relevance, 1 mostly novelty with respect to the papers already chosen.
	Diversity float64
}

// Item is one answer: a paper, its score in [0, 1], why it was chosen and
// the research theme it belongs to.
//
// A value: copies share slices that nothing modifies, so it is safe for concurrent reads.
type Item struct {
	Paper models.Paper
	Score float64
	Why   Why
	Theme int
}

func (s *Service) checkOptions(o *Options) error {
	if o.K == 0 {
		o.K = DefaultK
	}
	return o.Check(s.cfg.MaxK)
}

// Check reports an InvalidArgumentError for options out of range for a
// service whose largest k is maxK (0 means DefaultMaxK): the one check of
// k and diversity, which the API and the CLI call before any work. (The
// queries take a zero K for DefaultK before they check.)
func (o Options) Check(maxK int) error {
	if maxK <= 0 {
		maxK = DefaultMaxK
	}
	if o.K < 1 || o.K > maxK {
		return &InvalidArgumentError{Param: "k", Msg: fmt.Sprintf("%d is out of range: must be between 1 and %d", o.K, maxK)}
	}
	if !(o.Diversity >= 0 && o.Diversity <= 1) { // NaN fails both
		return &InvalidArgumentError{Param: "diversity", Msg: fmt.Sprintf("%v is out of range: must be between 0 and 1", o.Diversity)}
	}
	return nil
}

// Related returns the papers most like the paper id, best first, never the
// paper itself. Candidates come from the index and are re-scored exactly;
// a second stage re-orders the best of them by how well each agrees with
// the paper's neighbourhood (see secondStage). Recommend with one liked
// paper and none disliked answers the same.
func (s *Service) Related(ctx context.Context, id string, o Options) ([]Item, error) {
	if err := s.checkOptions(&o); err != nil {
		return nil, err
	}
	i, ok := s.lookup(id)
	if !ok {
		return nil, fmt.Errorf("%w: %q", models.ErrNotFound, id)
	}
	o.Filter.Exclude = append(slices.Clip(o.Filter.Exclude), id)
	q := s.paperQuery(i)
	return s.answer(ctx, []*query{&q}, nil, q.dense, true, o)
}

// Search returns the papers that best match free text, best first. Text
// that shares no feature with the corpus matches nothing.
func (s *Service) Search(ctx context.Context, text string, o Options) ([]Item, error) {
	if err := s.checkOptions(&o); err != nil {
		return nil, err
	}
	q := s.textQuery(text)
	if q.lex.Len() == 0 {
		// Nothing matches, but a filter that cannot be read is still an
		// error, whatever the text.
		if _, err := s.acceptFunc(o.Filter); err != nil {
			return nil, err
		}
		return []Item{}, nil
	}
	return s.answer(ctx, []*query{&q}, nil, q.dense, true, o)
}

// textQuery represents free text as a query: the text is read as an
// abstract, and the corpus's keyphrases found in it as its keyphrases, so
// that "equivariant neural networks" matches papers listing that phrase.
func (s *Service) textQuery(text string) query {
	keywords := s.st.Phrases.Find(text)
	lex := s.st.Lex.Transform(embed.Document{Abstract: text, Keywords: keywords})
	return query{lex: lex, shared: 1, dense: s.st.LSA.Transform(lex), phrases: s.st.Lex.PhraseFeatures(keywords), free: true, self: -1}
}

// negativeWeight is how much the closest disliked paper takes off a score
// in Recommend, as in Rocchio's feedback (γ = 0.5).
const negativeWeight = 0.5

// Recommend returns papers for a reader who liked the positive papers and
// disliked the negative ones, like Semantic Scholar's and Qdrant's
// recommendation APIs: a paper scores the mean of its scores against the
// positives, less half its best score against a negative. Neither list's
// papers are returned.
func (s *Service) Recommend(ctx context.Context, positive, negative []string, o Options) ([]Item, error) {
	if err := s.checkOptions(&o); err != nil {
		return nil, err
	}
	if len(positive) == 0 {
		return nil, &InvalidArgumentError{Param: "positive", Msg: "name at least one paper"}
	}
	const maxExamples = 100
	if len(positive)+len(negative) > maxExamples {
		return nil, &InvalidArgumentError{Param: "positive", Msg: fmt.Sprintf("at most %d papers in positive and negative together", maxExamples)}
	}
	pos, err := s.queries(positive)
	if err != nil {
		return nil, err
	}
	neg, err := s.queries(negative)
	if err != nil {
		return nil, err
	}
	o.Filter.Exclude = append(append(slices.Clip(o.Filter.Exclude), positive...), negative...)
	// Candidates around the Rocchio centroid: mean of positives less half
	// the mean of negatives.
	centroid := make([]float32, s.st.LSA.Dims())
	for _, q := range pos {
		for c, v := range q.dense {
			centroid[c] += v / float32(len(pos))
		}
	}
	for _, q := range neg {
		for c, v := range q.dense {
			centroid[c] -= negativeWeight * v / float32(len(neg))
		}
	}
	return s.answer(ctx, pos, neg, centroid, false, o)
}

func (s *Service) queries(ids []string) ([]*query, error) {
	out := make([]*query, 0, len(ids))
	for _, id := range ids {
		i, ok := s.lookup(id)
		if !ok {
			return nil, fmt.Errorf("%w: %q", models.ErrNotFound, id)
		}
		q := s.paperQuery(i)
		out = append(out, &q)
	}
	return out, nil
}

// scored is a candidate with its score and the positive that explains it.
type scored struct {
	i     int
	score float64
	best  int // index into the positives of the one it scores highest against
	// second holds the signals of Related's second stage, nil for a
	// candidate it did not re-score.
	second *signals
}

// answer scores index candidates near probe against the queries, applies
// diversity and returns the top k with explanations. ownProbe says that the
// probe is the one positive query's own vector, so that the index's
// distance is its latent cosine.
func (s *Service) answer(ctx context.Context, pos, neg []*query, probe []float32, ownProbe bool, o Options) ([]Item, error) {
	accept, err := s.acceptFunc(o.Filter)
	if err != nil {
		return nil, err
	}
	res, err := s.line.index.Search(probe, max(s.cfg.Candidates, CandidatesPerK*o.K), accept)
	if err != nil {
		return nil, fmt.Errorf("search index: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, q := range append(slices.Clip(pos), neg...) {
		defer s.attach(q)()
	}
	cands := make([]scored, 0, len(res))
	for n, r := range res {
		if n%cancelEvery == cancelEvery-1 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		i := int(r.Key)
		c := scored{i: i}
		bestScore := -1.0
		for p, q := range pos {
			var v float64
			if ownProbe {
				v, _ = s.fuse(q, s.signalsWith(q, i, 1-float64(r.Distance)))
			} else {
				v = s.score(q, i)
			}
			c.score += v / float64(len(pos))
			if v > bestScore {
				bestScore, c.best = v, p
			}
		}
		worst := 0.0
		for _, q := range neg {
			worst = max(worst, s.score(q, i))
		}
		c.score = max(0, c.score-negativeWeight*worst)
		if pos[0].free && c.score == 0 {
			continue
		}
		cands = append(cands, c)
	}
	slices.SortFunc(cands, func(a, b scored) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return cmp.Compare(a.i, b.i)
	})
	if len(pos) == 1 && len(neg) == 0 && !pos[0].free && s.cfg.Weights.used().Neighbourhood > 0 {
		// A paper's related papers (or the papers recommended for one
		// liked paper): the second stage.
		near, err := s.neighbours(pos[0], cands, o.Filter)
		if err != nil {
			return nil, err
		}
		depth := max(secondStageDepth, o.K)
		if o.Diversity > 0 {
			depth = max(depth, mmrPool(o.K))
		}
		s.secondStage(pos[0], cands, depth, s.newNeighbourhood(near))
	}
	if o.Diversity > 0 {
		if cands, err = s.diversify(ctx, cands, o.K, o.Diversity); err != nil {
			return nil, err
		}
	}
	cands = cands[:min(o.K, len(cands))]
	items := make([]Item, len(cands))
	for n, c := range cands {
		items[n] = Item{Paper: s.st.Papers[c.i], Score: round(c.score), Why: s.explain(pos[c.best], c.i, c.second), Theme: s.themeOf(c.i)}
	}
	return items, nil
}

// Related's second stage. The fused score is a good judge of which papers
// are related at all but a weaker one of their order: it ranks a paper that
// shares a rare word with the query (a "Pareto frontier" of clustering for
// one of jet tagging) with papers on the query's subject. The first stage
// picks the query's best secondStageDepth papers by the fused score; the
// second re-scores them with one more signal, the neighbourhood: the cosine
// of a paper's broad topic with the centroid of the broad topics of the
// query's best neighbourhoodSize first-stage papers (itself left out). A
// paper on the subject of the query's neighbourhood gains; one that matched
// on a word from another field does not. The re-scored papers are ordered
// by their new score, which is the weighted mean of all the signals, so
// Why.Signals still sums to it; only these papers can be returned (for k
// above the depth, the depth is k), so the second stage re-orders answers
// and never brings in one the first stage ranked lower.
// docs/relevance.md ("The cascade") has the measurements.
const (
	// secondStageDepth is how many first-stage papers the second stage
	// re-orders (at least k): the depth to which the judged sets were
	// pooled.
	secondStageDepth = 20
	// neighbourhoodSize is how many of the query's best first-stage
	// papers make its neighbourhood.
	neighbourhoodSize = 10
	// topicDims is how many leading LSA components (the largest singular
	// values) make a paper's broad topic.
	topicDims = 32
)

// neighbourhood holds the broad topics of a paper query's best first-stage
// papers, from which the second stage's signal is taken. It belongs to one
// request: not safe for concurrent use.
type neighbourhood struct {
	dims int
	// near are the positions of the best neighbourhoodSize papers and the
	// next one, best first; topics holds their broad topics in turn.
	near   []int
	topics []float64
	// sum is the sum of the first neighbourhoodSize topics.
	sum             []float64
	topic, centroid []float64 // scratch
}

func (s *Service) newNeighbourhood(near []int) *neighbourhood {
	dims := min(topicDims, s.st.LSA.Dims())
	nb := &neighbourhood{dims: dims, near: near, topics: make([]float64, len(near)*dims),
		sum: make([]float64, dims), topic: make([]float64, dims), centroid: make([]float64, dims)}
	for k, i := range near {
		t := nb.topics[k*dims : (k+1)*dims]
		s.broadTopic(i, t)
		if k < neighbourhoodSize {
			for c, v := range t {
				nb.sum[c] += v
			}
		}
	}
	return nb
}

// broadTopic writes paper i's broad topic into t: the leading len(t)
// components of its LSA vector, as a unit vector.
func (s *Service) broadTopic(i int, t []float64) {
	var norm float64
	for c, v := range s.st.Docs[i].Dense[:len(t)] {
		t[c] = float64(v)
		norm += t[c] * t[c]
	}
	if norm > 0 {
		norm = math.Sqrt(norm)
		for c := range t {
			t[c] /= norm
		}
	}
}

// signal is the neighbourhood signal of paper i: the cosine, clipped at 0,
// of its broad topic with the centroid of the neighbourhood's, itself left
// out (the next best paper takes its place).
func (nb *neighbourhood) signal(s *Service, i int) float64 {
	s.broadTopic(i, nb.topic)
	copy(nb.centroid, nb.sum)
	if k := slices.Index(nb.near, i); k >= 0 && k < neighbourhoodSize {
		for c := range nb.centroid {
			nb.centroid[c] -= nb.topics[k*nb.dims+c]
		}
		if len(nb.near) > neighbourhoodSize {
			for c := range nb.centroid {
				nb.centroid[c] += nb.topics[neighbourhoodSize*nb.dims+c]
			}
		}
	}
	var dot, norm float64
	for c, v := range nb.topic {
		dot += v * nb.centroid[c]
		norm += nb.centroid[c] * nb.centroid[c]
	}
	if norm == 0 {
		return 0
	}
	return max(0, dot/math.Sqrt(norm))
}

// neighbours returns the positions of the paper query q's best
// neighbourhoodSize+1 papers by the fused score, whatever the filter: the
// sorted first-stage candidates when the filter excluded only the paper
// itself, a search of their own otherwise (so that a paper's score does
// not depend on the filter of the list it is shown in).
func (s *Service) neighbours(q *query, cands []scored, f Filter) ([]int, error) {
	own := len(f.Categories) == 0 && f.From.IsZero() && f.To.IsZero()
	for _, id := range f.Exclude {
		if i, ok := s.lookup(id); ok && i != q.self {
			own = false
		}
	}
	if own {
		near := make([]int, 0, neighbourhoodSize+1)
		for _, c := range cands[:min(len(cands), neighbourhoodSize+1)] {
			near = append(near, c.i)
		}
		return near, nil
	}
	return s.nearest(q, neighbourhoodSize+1)
}

// nearest returns the positions of the paper query q's best n live papers
// by the fused score, best first, from the index's candidates; q must be
// attached.
func (s *Service) nearest(q *query, n int) ([]int, error) {
	self := uint32(q.self)
	res, err := s.line.index.Search(q.dense, max(s.cfg.Candidates, n), func(key uint32) bool { return key != self && s.isLive(key) })
	if err != nil {
		return nil, fmt.Errorf("search index: %w", err)
	}
	cands := make([]scored, len(res))
	for k, r := range res {
		cands[k].i = int(r.Key)
		cands[k].score, _ = s.fuse(q, s.signalsWith(q, int(r.Key), 1-float64(r.Distance)))
	}
	slices.SortFunc(cands, func(a, b scored) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return cmp.Compare(a.i, b.i)
	})
	near := make([]int, 0, n)
	for _, c := range cands[:min(n, len(cands))] {
		near = append(near, c.i)
	}
	return near, nil
}

// secondSignals are paper i's signals for the paper query q in the second
// stage: the first stage's and the neighbourhood.
func (s *Service) secondSignals(q *query, i int, nb *neighbourhood) signals {
	sg := s.signals(q, i)
	sg.neighbourhood = nb.signal(s, i)
	sg.second = true
	return sg
}

// secondStage re-scores the best depth of the sorted first-stage
// candidates of the paper query q with the neighbourhood signal and
// re-orders them; the others keep their places after them.
func (s *Service) secondStage(q *query, cands []scored, depth int, nb *neighbourhood) {
	n := min(depth, len(cands))
	second := make([]signals, n)
	for k := range n {
		second[k] = s.secondSignals(q, cands[k].i, nb)
		cands[k].score, _ = s.fuse(q, second[k])
		cands[k].second = &second[k]
	}
	// Ties keep the first stage's order.
	slices.SortStableFunc(cands[:n], func(a, b scored) int { return cmp.Compare(b.score, a.score) })
}

// mmrPool is how many of the best candidates diversify chooses from.
func mmrPool(k int) int { return max(4*k, 40) }

// diversify re-ranks candidates by maximal marginal relevance (Carbonell
// and Goldstein 1998): each step takes the candidate maximising
// (1-λ)·relevance − λ·(highest similarity to one already taken), with
// λ = diversity, from a pool of the best mmrPool(k).
func (s *Service) diversify(ctx context.Context, cands []scored, k int, diversity float64) ([]scored, error) {
	pool := slices.Clone(cands[:min(len(cands), mmrPool(k))])
	chosen := make([]scored, 0, k)
	redundancy := make([]float64, len(pool))
	for len(chosen) < k && len(pool) > 0 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		best, bestVal := 0, -2.0
		for j, c := range pool {
			v := (1-diversity)*c.score - diversity*redundancy[j]
			if v > bestVal {
				best, bestVal = j, v
			}
		}
		pick := pool[best]
		chosen = append(chosen, pick)
		pool = slices.Delete(pool, best, best+1)
		redundancy = slices.Delete(redundancy, best, best+1)
		pq := s.paperQuery(pick.i)
		release := s.attach(&pq)
		for j, c := range pool {
			redundancy[j] = max(redundancy[j], s.score(&pq, c.i))
		}
		release()
	}
	return chosen, nil
}

// cancelEvery is how many candidates are scored between looks at the
// request's context: a few microseconds of work.
const cancelEvery = 64

// Ranked is a candidate's place in a ranking.
//
// A plain value.
type Ranked struct {
	ID    string  `json:"id"`
	Score float64 `json:"score"`
}

// Rank scores every candidate against the paper id and returns them all,
// best first (ties in the given order). Unknown IDs are errors. Each
// candidate gets the score Related shows for it: the second stage's,
// neighbourhood included.
func (s *Service) Rank(ctx context.Context, id string, candidates []string) ([]Ranked, error) {
	i, ok := s.lookup(id)
	if !ok {
		return nil, fmt.Errorf("%w: %q", models.ErrNotFound, id)
	}
	q := s.paperQuery(i)
	defer s.attach(&q)()
	var nb *neighbourhood
	if s.cfg.Weights.used().Neighbourhood > 0 && len(candidates) > 0 {
		near, err := s.nearest(&q, neighbourhoodSize+1)
		if err != nil {
			return nil, err
		}
		nb = s.newNeighbourhood(near)
	}
	out := make([]Ranked, len(candidates))
	for n, c := range candidates {
		j, ok := s.lookup(c)
		if !ok {
			return nil, fmt.Errorf("candidate %d: %w: %q", n, models.ErrNotFound, c)
		}
		sg := s.signals(&q, j)
		if nb != nil {
			sg = s.secondSignals(&q, j, nb)
		}
		score, _ := s.fuse(&q, sg)
		out[n] = Ranked{ID: c, Score: score}
		if n%cancelEvery == cancelEvery-1 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
	}
	// Sort on exact scores, then round for display.
	slices.SortStableFunc(out, func(a, b Ranked) int { return cmp.Compare(b.Score, a.Score) })
	for n := range out {
		out[n].Score = round(out[n].Score)
	}
	return out, nil
}
