package recommend

import (
	"cmp"
	"math"
	"slices"

	"github.com/paperrec/paperrec/embed"
	"github.com/paperrec/paperrec/models"
)

// Weights weigh the signals fused into a score. Zero values mean the
// defaults; a negative weight turns a signal off. Scores are the weighted
// mean of the signals that apply (free text has no authors or area), so they
// lie in [0, 1]. The defaults were measured on the dev judgments
// (docs/relevance.md): lexical 1, latent 0.1, author 0.05; keyphrase-set
// overlap and same area are off by default (they lowered nDCG), though
// explanations still report them. Neighbourhood (0.1) applies only in the
// second stage of [Service.Related].
type Weights struct {
	// Lexical: cosine of TF-IDF vectors over words, bigrams and keyphrases.
	Lexical float64
	// Latent: cosine of LSA vectors, negative values clipped to 0.
	Latent float64
	// Keyphrase: IDF-weighted cosine of the recovered keyphrase sets.
	Keyphrase float64
	// Author: cosine of the author sets.
	Author float64
	// Category: 1 for the same area.
	Category float64
	// Neighbourhood: how well a paper's broad topic agrees with that of
	// the query paper's nearest papers (see neighbourhoodSignal). It
	// re-orders the first stage's best papers in Related.
	Neighbourhood float64
}

// withDefaults fills in the zero weights. A negative weight stays
// negative, so that filling in again (a state re-assembled after a change
// or from a snapshot) keeps it off; use weights the scores use.
func (w Weights) withDefaults() Weights {
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	def(&w.Lexical, 1)
	def(&w.Latent, 0.1)
	def(&w.Keyphrase, 0)
	def(&w.Author, 0.05)
	def(&w.Category, 0)
	def(&w.Neighbourhood, 0.1)
	return w
}

// used returns the weights the scores use: a negative weight is 0.
func (w Weights) used() Weights {
	for _, v := range []*float64{&w.Lexical, &w.Latent, &w.Keyphrase, &w.Author, &w.Category, &w.Neighbourhood} {
		*v = max(0, *v)
	}
	return w
}

// query is what a paper, a text or a set of papers is scored as.
type query struct {
	lex embed.Sparse
	// shared is the norm of lex over shareable features for a paper, 1 for
	// free text (whose words may match a paper's unique ones).
	shared     float64
	dense      []float32
	phrases    []uint32
	authors    []int32
	authorNorm float64
	// scatter, when attached, holds lex densely for fast dot products.
	scatter  []float32
	category models.Category
	// free is set for free text: no authors or area to compare.
	free bool
	// self is the paper's position (for a paper's own query).
	self int
}

func (s *Service) paperQuery(i int) query {
	d := &s.st.Docs[i]
	return query{lex: d.Lex, shared: d.Shared, dense: d.Dense, phrases: d.Phrases, authors: d.Authors,
		authorNorm: s.norms[i], category: s.st.Papers[i].Category, self: i}
}

// attach scatters q's TF-IDF vector into a pooled dense array, so that
// scoring many candidates costs one multiply-add per candidate feature
// instead of a merge of two sparse lists. Call the returned func when done.
func (s *Service) attach(q *query) (release func()) {
	p, _ := s.line.scratch.Get().(*[]float32)
	if p == nil || len(*p) != s.st.Lex.Len() {
		buf := make([]float32, s.st.Lex.Len())
		p = &buf
	}
	buf := *p
	for j, f := range q.lex.Idx {
		buf[f] = q.lex.Val[j]
	}
	q.scatter = buf
	return func() {
		for _, f := range q.lex.Idx {
			buf[f] = 0
		}
		q.scatter = nil
		s.line.scratch.Put(p)
	}
}

// signals are the raw similarities of a query and a paper, each in [0, 1].
// The neighbourhood signal is known only in Related's second stage, which
// sets second.
type signals struct {
	lexical, latent, keyphrase, author, category, neighbourhood float64
	second                                                      bool
}

func (s *Service) signals(q *query, i int) signals {
	return s.signalsWith(q, i, dot32(q.dense, s.st.Docs[i].Dense))
}

// signalsWith is signals with the latent cosine already known (the index
// returns it as 1 − distance when q's own vector was the probe).
func (s *Service) signalsWith(q *query, i int, cosine float64) signals {
	d := &s.st.Docs[i]
	sg := signals{
		lexical:   s.lexical(q, d),
		latent:    max(0, cosine),
		keyphrase: s.phraseCosine(q.phrases, d.Phrases),
	}
	if !q.free {
		sg.author = s.authorCosine(q, d, s.norms[i])
		if q.category != "" && q.category == s.st.Papers[i].Category {
			sg.category = 1
		}
	}
	return sg
}

// lexical is the cosine of q and d's TF-IDF vectors. Between two papers it
// is taken over the features both could share (df >= 2), which their
// shared norms measure; free text is compared with the whole vector.
func (s *Service) lexical(q *query, d *doc) float64 {
	var dot float64
	if q.scatter != nil {
		var sum float32
		for j, f := range d.Lex.Idx {
			sum += q.scatter[f] * d.Lex.Val[j]
		}
		dot = float64(sum)
	} else {
		dot = q.lex.Dot(d.Lex)
	}
	if dot == 0 {
		return 0
	}
	norm := q.shared
	if !q.free {
		norm *= d.Shared
	}
	return min(1, dot/norm)
}

// fuse returns the weighted mean of the signals that apply, and each
// signal's contribution to it.
func (s *Service) fuse(q *query, sg signals) (float64, Signals) {
	w := s.cfg.Weights.used()
	total := w.Lexical + w.Latent + w.Keyphrase
	if !q.free {
		total += w.Author + w.Category
	}
	if sg.second {
		total += w.Neighbourhood
	}
	if total == 0 {
		return 0, Signals{}
	}
	c := Signals{
		Lexical:   w.Lexical * sg.lexical / total,
		Latent:    w.Latent * sg.latent / total,
		Keyphrase: w.Keyphrase * sg.keyphrase / total,
	}
	if !q.free {
		c.Author = w.Author * sg.author / total
		c.Category = w.Category * sg.category / total
	}
	if sg.second {
		c.Neighbourhood = w.Neighbourhood * sg.neighbourhood / total
	}
	score := c.Lexical + c.Latent + c.Keyphrase + c.Author + c.Category + c.Neighbourhood
	return min(1, max(0, score)), c
}

// score returns the fused score of paper i for q.
func (s *Service) score(q *query, i int) float64 {
	v, _ := s.fuse(q, s.signals(q, i))
	return v
}

// phraseCosine is the cosine of two keyphrase sets with each phrase
// weighted by its IDF, so that sharing a rare phrase counts for more.
func (s *Service) phraseCosine(a, b []uint32) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	var na, nb float64
	for _, f := range a {
		v := s.st.Lex.IDF(f)
		na += v * v
	}
	for _, f := range b {
		v := s.st.Lex.IDF(f)
		nb += v * v
	}
	dot := sharedWeight(a, b, func(f uint32) float64 { v := s.st.Lex.IDF(f); return v * v })
	return dot / math.Sqrt(na*nb)
}

// sharedWeight sums w over the elements two sorted sets share.
func sharedWeight[T uint32 | int32](a, b []T, w func(T) float64) float64 {
	var sum float64
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] < b[j]:
			i++
		case a[i] > b[j]:
			j++
		default:
			sum += w(a[i])
			i++
			j++
		}
	}
	return sum
}

// authorCosine is the cosine of two author sets with each author weighted
// by rarity, so that sharing a student counts for more than sharing the
// head of a large group.
func (s *Service) authorCosine(q *query, d *doc, norm float64) float64 {
	if q.authorNorm == 0 || norm == 0 {
		return 0
	}
	dot := sharedWeight(q.authors, d.Authors, func(a int32) float64 { w := s.st.Authors[a].IDF; return w * w })
	return dot / (q.authorNorm * norm)
}

func dot32(a, b []float32) float64 {
	var s float32
	for i := range a {
		s += a[i] * b[i]
	}
	return float64(s)
}

// Signals are each signal's contribution to a score; they sum to it.
// Neighbourhood is non-zero only for the papers Related's second stage
// re-ordered.
//
// A plain value.
type Signals struct {
	Lexical       float64 `json:"lexical"`
	Latent        float64 `json:"latent"`
	Keyphrase     float64 `json:"keyphrase"`
	Author        float64 `json:"author"`
	Category      float64 `json:"category"`
	Neighbourhood float64 `json:"neighbourhood"`
}

// Term is a shared word, bigram or keyphrase and its share of the score.
//
// A plain value.
type Term struct {
	Term  string  `json:"term"`
	Kind  string  `json:"kind"` // "word", "bigram" or "keyphrase"
	Share float64 `json:"share"`
}

// Why explains a score: like Elasticsearch's explain, the parts that made it.
//
// A value: safe for concurrent reads.
type Why struct {
	// Terms are the shared features that carried the lexical signal, with
	// their share of the whole score, largest first.
	Terms []Term `json:"terms"`
	// Keyphrases both papers list.
	Keyphrases []string `json:"keyphrases"`
	// Authors both papers list (as the candidate spells them).
	Authors      []string `json:"authors"`
	SameCategory bool     `json:"same_category"`
	Signals      Signals  `json:"signals"`
}

// maxWhyTerms bounds the terms in an explanation.
const maxWhyTerms = 8

// explain says why paper i scored what it did for q; second, when set,
// is the paper's signals in Related's second stage.
func (s *Service) explain(q *query, i int, second *signals) Why {
	sg := s.signals(q, i)
	if second != nil {
		sg = *second
	}
	_, contrib := s.fuse(q, sg)
	d := &s.st.Docs[i]
	why := Why{Signals: contrib, SameCategory: sg.category > 0, Terms: []Term{}, Keyphrases: []string{}, Authors: []string{}}
	if dot := q.lex.Dot(d.Lex); dot > 0 {
		for _, c := range s.mergedContributions(q.lex.Contributions(d.Lex)) {
			if len(why.Terms) == maxWhyTerms {
				break
			}
			name, kind := s.st.Lex.Feature(c.Feature)
			why.Terms = append(why.Terms, Term{Term: name, Kind: kindName(kind), Share: round(c.Value / dot * contrib.Lexical)})
		}
	}
	for _, f := range d.Phrases {
		if _, ok := slices.BinarySearch(q.phrases, f); ok {
			name, _ := s.st.Lex.Feature(f)
			why.Keyphrases = append(why.Keyphrases, name)
		}
	}
	if sg.author > 0 {
		for _, name := range s.st.Papers[i].Authors {
			keys := authorKeys([]string{name})
			if len(keys) != 1 {
				continue
			}
			k := slices.IndexFunc(d.Authors, func(id int32) bool { return s.st.Authors[id].Key == keys[0] })
			if k < 0 {
				continue
			}
			if _, shared := slices.BinarySearch(q.authors, d.Authors[k]); shared {
				why.Authors = append(why.Authors, name)
			}
		}
	}
	why.Signals = Signals{round(contrib.Lexical), round(contrib.Latent), round(contrib.Keyphrase), round(contrib.Author), round(contrib.Category), round(contrib.Neighbourhood)}
	return why
}

// mergedContributions shows each shared phrase once: a shared keyphrase
// takes in the shared bigrams and words it is made of, a shared bigram the
// shared words it is made of, so that "fine tuning" carries the share of
// "fine", "tuning" and the bigram instead of appearing as three terms. A
// word inside two shared phrases goes to the one that contributes more;
// longer phrases and keyphrases claim their parts first. The input is
// largest first, and so is the result; the values still sum to the dot
// product.
func (s *Service) mergedContributions(cs []embed.Contribution) []embed.Contribution {
	at := make(map[uint32]int, len(cs)) // feature → position in cs
	for n, c := range cs {
		at[c.Feature] = n
	}
	owner := make([]int, len(cs)) // position of the contribution each one is shown under
	for n := range owner {
		owner[n] = -1
	}
	heads := make([]int, 0, len(cs))
	for n, c := range cs {
		if _, kind := s.st.Lex.Feature(c.Feature); kind != embed.Word {
			heads = append(heads, n)
		}
	}
	// Keyphrases before bigrams, then larger contributions first (cs is
	// sorted, and the sort is stable).
	slices.SortStableFunc(heads, func(a, b int) int {
		_, ka := s.st.Lex.Feature(cs[a].Feature)
		_, kb := s.st.Lex.Feature(cs[b].Feature)
		return cmp.Compare(kb, ka)
	})
	for _, h := range heads {
		if owner[h] >= 0 {
			continue
		}
		owner[h] = h
		for _, p := range s.st.Lex.Parts(cs[h].Feature) {
			if n, ok := at[p]; ok && owner[n] < 0 {
				owner[n] = h
			}
		}
	}
	sum := make([]float64, len(cs))
	for n, c := range cs {
		o := owner[n]
		if o < 0 {
			o = n
		}
		sum[o] += c.Value
	}
	out := make([]embed.Contribution, 0, len(cs))
	for n, c := range cs {
		if owner[n] < 0 || owner[n] == n {
			out = append(out, embed.Contribution{Feature: c.Feature, Value: sum[n]})
		}
	}
	slices.SortStableFunc(out, func(a, b embed.Contribution) int { return cmp.Compare(b.Value, a.Value) })
	return out
}

func kindName(k embed.FeatureKind) string {
	switch k {
	case embed.Bigram:
		return "bigram"
	case embed.Phrase:
		return "keyphrase"
	}
	return "word"
}

// round keeps four decimals, enough for display and stable golden files.
func round(v float64) float64 { return math.Round(v*1e4) / 1e4 }
