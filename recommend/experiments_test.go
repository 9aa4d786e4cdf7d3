//go:build relevance_experiments

package recommend

// The experiments behind docs/relevance.md ("Issue 8, part 4"): every
// variant re-scores every paper of the bundled listing against the query
// papers of both judged dev sets. Built only with the relevance_experiments
// tag, so none of it is part of the package; the embed accessors it needs
// live in embed/experiments.go under the same tag.

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/paperrec/paperrec/data"
	"github.com/paperrec/paperrec/embed"
	"github.com/paperrec/paperrec/eval"
)

// TestRelevanceExperiments reruns every variant of docs/relevance.md
// ("Issue 8, part 4") on both judged dev sets and prints one table row per
// variant: nDCG@10, P@10 and judged@10 on dev and dev2. Each variant
// re-scores every paper against every query paper, so the whole corpus is
// ranked, not only the index's candidates (the same ranking at 400
// candidates over 574 papers).
//
//	PAPERREC_EXPERIMENTS=1 go test -tags relevance_experiments ./recommend -run TestRelevanceExperiments -v -timeout 30m
func TestRelevanceExperiments(t *testing.T) {
	if os.Getenv("PAPERREC_EXPERIMENTS") == "" {
		t.Skip("set PAPERREC_EXPERIMENTS=1")
	}
	e := newExpEnv(t, bundled(t))
	fmt.Println("| variant | dev nDCG@10 | dev P@10 | dev judged@10 | dev2 nDCG@10 | dev2 P@10 | dev2 judged@10 |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|")
	e.report("production", prodScore(e.s))
	base := e.vectors(wopt{})
	e.report("harness re-implementation (check)", e.fused(cosOf(base), 0.1, 0.05))
	for _, sec := range []func(*expEnv){expWeights, expFields, expLatent, expIssue, expNeighbours, expReport, expExamples} {
		sec(e)
	}
}

// expExamples prints where the issue's two examples land under a few
// variants: the rank of the off-topic paper each query listed high, and the
// best rank of the papers it missed.
func expExamples(e *expEnv) {
	const (
		pareto   = "the-pareto-frontier-of-resilient-jet-tagging"
		clusters = "pareto-optimal-clustering-with-the-primal-deterministic-information-bottleneck"
		quanta   = "quanta-efficient-high-rank-fine-tuning-of-llms-with-quantum-informed-tensor"
	)
	quarkGluon := []string{"moments-of-clarity-streamlining-latent-spaces-in-machine-learning-using-moment",
		"disentangling-quarks-and-gluons-with-cms-open-data", "power-counting-energy-flow-polynomials"}
	rankOf := func(score pairScore, q string, ids ...string) int {
		qi, _ := e.s.lookup(q)
		best := len(e.s.st.Papers)
		for _, id := range ids {
			di, _ := e.s.lookup(id)
			r := 1
			v := score(qi, di)
			for j := range e.s.st.Papers {
				if j != qi && j != di && score(qi, j) > v {
					r++
				}
			}
			best = min(best, r)
		}
		return best
	}
	base := e.vectors(wopt{})
	prof := e.authorProfiles()
	fmt.Println("\n| variant | Pareto jet tagging: rank of the Pareto clustering paper | best rank of a quark/gluon tagging paper | Naturalness and Fisher Information: rank of QuanTA |")
	fmt.Println("|---|---:|---:|---:|")
	for _, v := range []struct {
		name  string
		score pairScore
	}{
		{"production", prodScore(e.s)},
		{"used the same way (phrase-bigrams), floor 0.5", e.fused(e.sameWay(base, "phrase-bigrams", 0.5), 0.1, 0.05)},
		{"leave-word-out latent fit, floor 0.5", e.fused(e.looFit(base, e.newLoo(), 1, 0.5, 0), 0.1, 0.05)},
		{"concept carrying > 40%: penalty", e.fused(e.carried(base, 0.4, 1), 0.1, 0.05)},
		{"PRF top 5", e.prfScorer(5, 0.1, true)},
		{"authors' other papers, weight 0.2", func(qi, di int) float64 {
			return (dotMap(base[qi], base[di]) + 0.1*e.latent(qi, di) + 0.05*e.author(qi, di) + 0.2*prof(qi, di)) / 1.35
		}},
	} {
		fmt.Printf("| %s | %d | %d | %d |\n", v.name, rankOf(v.score, pareto, clusters), rankOf(v.score, pareto, quarkGluon...), rankOf(v.score, fisherID, quanta))
	}
}

func cosOf(v []map[uint32]float64) func(qi, di int) float64 {
	return func(qi, di int) float64 { return dotMap(v[qi], v[di]) }
}

func section(name string) { fmt.Printf("| **%s** | | | | | | |\n", name) }

// expWeights: signal weights and feature kinds.
func expWeights(e *expEnv) {
	section("signal weights")
	base := e.vectors(wopt{})
	for _, wl := range []float64{0, 0.2, 0.5} {
		for _, wa := range []float64{0, 0.05} {
			e.report(fmt.Sprintf("latent %.2f, author %.2f", wl, wa), e.fused(cosOf(base), wl, wa))
		}
	}
	section("feature kinds (rebuilt with New)")
	for _, bw := range []float64{0.25, 0.6, 0.75, 0.9, 1} {
		cfg := Config{SkipThemes: true}
		cfg.TFIDF.BigramWeight = bw
		e.withConfig(cfg).report(fmt.Sprintf("bigram weight %.2f", bw), nil)
	}
	for _, pw := range []float64{0.5, 1.5, 2} {
		v := e.vectors(wopt{kw: map[embed.FeatureKind]float64{embed.Phrase: pw}})
		e.report(fmt.Sprintf("keyphrase feature weight %.1f", pw), e.fused(cosOf(v), 0.1, 0.05))
	}
}

// expFields: field weights and separate-field similarities.
func expFields(e *expEnv) {
	section("fields")
	for _, wt := range []float64{1, 3} {
		for _, wk := range []float64{0.5, 1, 1.5} {
			e.report(fmt.Sprintf("title %.0f, keyphrase line %.1f", wt, wk), e.fused(cosOf(e.vectors(wopt{tfs: e.combine(wt, 1, wk)})), 0.1, 0.05))
		}
	}
	vk := e.vectors(wopt{tfs: e.tfK})
	vta := e.vectors(wopt{tfs: e.combine(2, 1, 0)})
	e.report("keyphrase line alone", cosOf(vk))
	e.report("title + abstract alone", cosOf(vta))
	e.report("cos(title+abstract) + 0.25 cos(keyphrase line)", e.fused(func(qi, di int) float64 {
		return (dotMap(vta[qi], vta[di]) + 0.25*dotMap(vk[qi], vk[di])) / 1.25
	}, 0.1, 0.05))
}

// expLatent: LSA weighting by dimension and broad-topic LSA.
func expLatent(e *expEnv) {
	section("latent")
	base := e.vectors(wopt{})
	for _, p := range []float64{0.5, 1.25, 1.5} {
		lat := e.lsaPow(p)
		e.report(fmt.Sprintf("LSA with Σ^%.2f, alone", p), lat)
		for _, wl := range []float64{0.1, 0.3} {
			e.report(fmt.Sprintf("LSA with Σ^%.2f, weight %.1f", p, wl), func(qi, di int) float64 {
				return (dotMap(base[qi], base[di]) + wl*lat(qi, di) + 0.05*e.author(qi, di)) / (1.05 + wl)
			})
		}
	}
	shared := make([]embed.Sparse, len(e.s.st.Docs))
	for i := range e.s.st.Docs {
		shared[i] = e.s.st.Lex.Shared(e.s.st.Docs[i].Lex)
	}
	prod := prodScore(e.s)
	for _, dims := range []int{16, 32, 64} {
		_, dense, err := embed.FitLSA(shared, e.s.st.Lex.Len(), embed.LSAConfig{Dims: dims})
		if err != nil {
			e.t.Fatal(err)
		}
		c := func(qi, di int) float64 { return dot32(dense[qi], dense[di]) }
		pj, _ := e.s.lookup("the-pareto-frontier-of-resilient-jet-tagging")
		var cs []string
		for _, id := range []string{"pareto-optimal-clustering-with-the-primal-deterministic-information-bottleneck",
			"moments-of-clarity-streamlining-latent-spaces-in-machine-learning-using-moment", "disentangling-quarks-and-gluons-with-cms-open-data"} {
			d, _ := e.s.lookup(id)
			cs = append(cs, fmt.Sprintf("%.2f", c(pj, d)))
		}
		fmt.Printf("LSA-%d cosine of the Pareto jet-tagging paper with the Pareto clustering, Moments of Clarity and quark/gluon CMS papers: %s\n", dims, strings.Join(cs, ", "))
		e.report(fmt.Sprintf("+ 0.2 × broad-topic LSA (%d dims)", dims), func(qi, di int) float64 { return prod(qi, di) + 0.2*math.Max(0, c(qi, di)) })
		e.report(fmt.Sprintf("× gate 1 − max(0, 0.4 − cos) of LSA-%d", dims), func(qi, di int) float64 { return prod(qi, di) * (1 - math.Max(0, 0.4-c(qi, di))) })
	}
}

// expIssue: the issue's hypothesis, that a word used as a term in one paper
// and as ordinary wording in the other should not carry a match, and that
// a single concept should not carry a match on its own.
func expIssue(e *expEnv) {
	section("a shared word used differently / one concept alone")
	base := e.vectors(wopt{})
	for _, g := range []float64{0.5, 1} {
		e.report(fmt.Sprintf("dedup: words inside a shared phrase count once (%.1f)", g), e.fused(e.dedup(base, g), 0.1, 0.05))
	}
	for _, g := range []float64{0.25, 0.5, 1} {
		e.report(fmt.Sprintf("own-keyphrase coverage mismatch, γ %.2f", g), e.fused(e.keyphraseMismatch(base, g), 0.1, 0.05))
	}
	for _, mode := range []string{"phrase-bigrams", "df>=3 bigrams"} {
		for _, fl := range []float64{0.25, 0.5, 0.75} {
			e.report(fmt.Sprintf("used the same way (%s), floor %.2f", mode, fl), e.fused(e.sameWay(base, mode, fl), 0.1, 0.05))
		}
	}
	tv := e.termVecs()
	for _, g := range []float64{0.25, 1} {
		e.report(fmt.Sprintf("latent fit of the word in both papers, (min/max)^%.2f, floor 0.5", g), e.fused(e.contextFit(base, tv, g, 0.5, 0), 0.1, 0.05))
	}
	l := e.newLoo()
	for _, g := range []float64{0.5, 1} {
		e.report(fmt.Sprintf("leave-word-out latent fit, (min/max)^%.1f, floor 0.5", g), e.fused(e.looFit(base, l, g, 0.5, 0), 0.1, 0.05))
	}
	for _, group := range []bool{false, true} {
		for _, d := range []float64{0.25, 0.5} {
			e.report(fmt.Sprintf("largest %s discounted by %.2f", map[bool]string{false: "feature", true: "concept"}[group], d), e.fused(e.discounted(base, d, group, 0), 0.1, 0.05))
		}
	}
	for _, th := range []float64{0.4, 0.6} {
		e.report(fmt.Sprintf("concept carrying > %.0f%% of the match: penalty 1 × excess", th*100), e.fused(e.carried(base, th, 1), 0.1, 0.05))
	}
	h := e.areaEntropy(1)
	shared := func(f uint32) bool { return e.s.st.Lex.DF(f) >= 2 }
	dom := scaleVecs(base, func(f uint32) float64 { return 1 - h[f] }, shared)
	meth := scaleVecs(base, func(f uint32) float64 { return h[f] }, shared)
	and := func(qi, di int) float64 { return math.Sqrt(dotMap(dom[qi], dom[di]) * dotMap(meth[qi], meth[di])) }
	e.report("subject AND method: lexical + 0.5 √(subject cos × method cos) (area entropy)", e.fused(func(qi, di int) float64 {
		return (dotMap(base[qi], base[di]) + 0.5*and(qi, di)) / 1.5
	}, 0.1, 0.05))
	e.report("term coherence weight (β 0.5)", e.fused(cosOf(e.coherence(base, 1, 0.5)), 0.1, 0.05))
}

// expNeighbours: query-specific context and neighbourhood re-ranking.
func expNeighbours(e *expEnv) {
	section("neighbourhood and authors")
	var prf []cfgRes
	prf = append(prf, cfgRes{"production", e.perQuery(prodScore(e.s))})
	for _, k := range []int{3, 5, 10} {
		e.report(fmt.Sprintf("PRF: + 0.1 × cos(latent centroid of top %d)", k), e.prfScorer(k, 0.1, true))
		for _, beta := range []float64{0.05, 0.1, 0.2} {
			prf = append(prf, cfgRes{fmt.Sprintf("PRF top %d, β %.2f", k, beta), e.perQuery(e.prfScorer(k, beta, true))})
		}
	}
	fmt.Println("PRF grid (top 3/5/10 × β 0.05/0.1/0.2):")
	loqo(prf, 0)
	S, rank := e.fullRanks()
	for _, lam := range []float64{0.005, 0.02} {
		e.report(fmt.Sprintf("reciprocal rank: − %.3f × ln(rank of the query in the candidate's list)", lam), func(qi, di int) float64 {
			return S[qi][di] - lam*math.Log(float64(rank[di][qi]))
		})
	}
	prof := e.authorProfiles()
	base := e.vectors(wopt{})
	for _, w := range []float64{0.05, 0.2} {
		e.report(fmt.Sprintf("authors' other papers (symmetric profile), weight %.2f", w), func(qi, di int) float64 {
			return (dotMap(base[qi], base[di]) + 0.1*e.latent(qi, di) + 0.05*e.author(qi, di) + w*prof(qi, di)) / (1.15 + w)
		})
	}
}

// expReport: ranking quality of each signal inside today's top 20, the
// oracle re-order, fusion weights learned on one set and tested on the
// other, and a leave-one-query-out choice over a small grid.
func expReport(e *expEnv) {
	base := e.vectors(wopt{})
	vk := e.vectors(wopt{tfs: e.tfK})
	vt := e.vectors(wopt{tfs: e.combine(1, 0, 0)})
	va := e.vectors(wopt{tfs: e.combine(0, 1, 0)})
	words := e.vectors(wopt{kw: map[embed.FeatureKind]float64{embed.Bigram: 0, embed.Phrase: 0}})
	bigr := e.vectors(wopt{kw: map[embed.FeatureKind]float64{embed.Word: 0, embed.Phrase: 0}})
	feats := []feat{
		{"lexical", cosOf(base)},
		{"latent", e.latent},
		{"latent Σ^1.5", e.lsaPow(1.5)},
		{"author", e.author},
		{"same area", func(qi, di int) float64 { return b2f(e.s.st.Papers[qi].Category == e.s.st.Papers[di].Category) }},
		{"keyphrase set", func(qi, di int) float64 { return e.s.phraseCosine(e.s.st.Docs[qi].Phrases, e.s.st.Docs[di].Phrases) }},
		{"keyphrase line", cosOf(vk)},
		{"title", cosOf(vt)},
		{"abstract", cosOf(va)},
		{"words only", cosOf(words)},
		{"bigrams only", cosOf(bigr)},
		{"lexical − largest feature", func(qi, di int) float64 {
			var tot, mx float64
			for f, x := range base[qi] {
				if y, ok := base[di][f]; ok {
					tot += x * y
					mx = math.Max(mx, x*y)
				}
			}
			return tot - mx
		}},
	}
	e.cacheFeats(feats)
	fmt.Println("\nPairwise AUC inside today's top 20 (judged pairs of one query, higher grade vs lower):")
	fmt.Println("| signal | dev | dev2 | dev, 2 vs 0–1 | dev2, 2 vs 0–1 | dev, 1–2 vs 0 | dev2, 1–2 vs 0 |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|")
	for _, f := range append([]feat{{"production", prodScore(e.s)}}, feats...) {
		fmt.Printf("| %s | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f |\n", f.name, e.pairAUC(0, 20, f), e.pairAUC(1, 20, f),
			e.gradeAUC(0, 20, f, 2, 1), e.gradeAUC(1, 20, f, 2, 1), e.gradeAUC(0, 20, f, 1, 0), e.gradeAUC(1, 20, f, 1, 0))
	}
	fmt.Println()
	e.oracle()
	for tr := range 2 {
		w := fitPairwise(e.rankPairs(tr, 30, feats), len(feats), 0.01, 20)
		fmt.Printf("weights learned on %s: %.3f\n", e.names[tr], w)
		e.report(fmt.Sprintf("fusion weights learned on %s (pairwise logistic, 12 signals)", e.names[tr]), linear(feats, w))
	}
	restricted := []feat{feats[0], feats[1], feats[2], feats[3], feats[5], feats[4]}
	for tr := range 2 {
		w := fitPairwise(e.rankPairs(tr, 30, restricted), len(restricted), 0.03, 20)
		fmt.Printf("restricted weights learned on %s (lexical, latent, latent Σ^1.5, author, keyphrase set, same area): %.3f\n", e.names[tr], w)
		e.report(fmt.Sprintf("fusion of the engine's own signals, weights learned on %s", e.names[tr]), linear(restricted, w))
	}
	var rs []cfgRes
	for _, bw := range []float64{0.5, 0.6, 0.75} {
		cfg := Config{SkipThemes: true}
		cfg.TFIDF.BigramWeight = bw
		e2 := e.withConfig(cfg)
		b2 := e2.vectors(wopt{})
		for _, p := range []float64{1, 1.25, 1.5} {
			lat := e2.lsaPow(p)
			for _, wl := range []float64{0.1, 0.2} {
				rs = append(rs, cfgRes{fmt.Sprintf("bigram %.2f, Σ^%.2f, latent %.1f", bw, p, wl), e2.perQuery(func(qi, di int) float64 {
					return (dotMap(b2[qi], b2[di]) + wl*lat(qi, di) + 0.05*e2.author(qi, di)) / (1.05 + wl)
				})})
			}
		}
	}
	loqo(rs, 0)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

type expEnv struct {
	t             *testing.T
	s             *Service
	qrels         []eval.Qrels
	names         []string
	tf            []map[uint32]float64
	tfT, tfA, tfK []map[uint32]float64 // per field (title unweighted)
	parts         [][]uint32           // word parts of a feature (nil for words)
}

func newExpEnv(t *testing.T, s *Service) *expEnv {
	e := &expEnv{t: t, s: s, names: []string{"dev", "dev2"}}
	for _, j := range [][]byte{data.DevJudgments, data.Dev2Judgments} {
		js, err := eval.ParseJudgments(bytes.NewReader(j), "x")
		if err != nil {
			t.Fatal(err)
		}
		q, err := eval.Resolve(js, s.Corpus())
		if err != nil {
			t.Fatal(err)
		}
		e.qrels = append(e.qrels, q)
	}
	for _, p := range s.st.Papers {
		e.tf = append(e.tf, s.st.Lex.Frequencies(document(p)))
		tt := s.st.Lex.Frequencies(embed.Document{Title: p.Title})
		for k := range tt {
			tt[k] /= DefaultTitleWeight
		}
		e.tfT = append(e.tfT, tt)
		e.tfA = append(e.tfA, s.st.Lex.Frequencies(embed.Document{Abstract: p.Abstract}))
		e.tfK = append(e.tfK, s.st.Lex.Frequencies(embed.Document{Keywords: p.Keywords}))
	}
	e.parts = make([][]uint32, s.st.Lex.Len())
	for i := range e.parts {
		key := s.st.Lex.Key(uint32(i))
		key = strings.TrimPrefix(key, embed.PhrasePrefix)
		f := strings.Fields(key)
		if len(f) < 2 {
			continue
		}
		for _, w := range f {
			if id, ok := s.st.Lex.Lookup(w); ok {
				e.parts[i] = append(e.parts[i], id)
			}
		}
	}
	return e
}

type pairScore func(qi, di int) float64

type result struct {
	ndcg, p, ph, judged []float64
	perQ                [][]eval.QueryScore
}

func (e *expEnv) eval(score pairScore) result {
	var r result
	for _, q := range e.qrels {
		rel := func(ctx context.Context, id string, k int) ([]string, error) {
			qi, _ := e.s.lookup(id)
			type sc struct {
				i int
				v float64
			}
			var all []sc
			for di := range e.s.st.Papers {
				if di != qi {
					all = append(all, sc{di, score(qi, di)})
				}
			}
			slices.SortFunc(all, func(a, b sc) int {
				if c := cmp.Compare(b.v, a.v); c != 0 {
					return c
				}
				return cmp.Compare(a.i, b.i)
			})
			out := []string{}
			for _, a := range all[:k] {
				out = append(out, e.s.st.Papers[a.i].ID)
			}
			return out, nil
		}
		rep, _ := eval.Score(context.Background(), q, rel, 10)
		r.ndcg = append(r.ndcg, rep.NDCG)
		r.p = append(r.p, rep.P)
		r.ph = append(r.ph, rep.PHigh5)
		r.judged = append(r.judged, rep.Judged)
		r.perQ = append(r.perQ, rep.PerQ)
	}
	return r
}

func (e *expEnv) report(name string, score pairScore) result {
	if score == nil {
		score = prodScore(e.s)
	}
	r := e.eval(score)
	fmt.Printf("| %s | %.4f | %.3f | %.3f | %.4f | %.3f | %.3f |\n", name, r.ndcg[0], r.p[0], r.judged[0], r.ndcg[1], r.p[1], r.judged[1])
	return r
}

// weighting options for re-weighted lexical vectors.
type wopt struct {
	tfs    []map[uint32]float64
	kw     map[embed.FeatureKind]float64
	tfMod  func(di int, f uint32, tf float64) float64
	idfPow float64
}

func (e *expEnv) vectors(o wopt) []map[uint32]float64 {
	src := e.tf
	if o.tfs != nil {
		src = o.tfs
	}
	out := make([]map[uint32]float64, len(src))
	for di, tf := range src {
		v := map[uint32]float64{}
		var norm float64
		for f, t := range tf {
			if o.tfMod != nil {
				t = o.tfMod(di, f, t)
			}
			if t <= 0 {
				continue
			}
			if t > 1 {
				t = 1 + math.Log(t)
			}
			_, kind := e.s.st.Lex.Feature(f)
			kw := e.s.st.Lex.KindWeight(kind)
			if o.kw != nil {
				if x, ok := o.kw[kind]; ok {
					kw = x
				}
			}
			idf := e.s.st.Lex.IDF(f)
			if o.idfPow != 0 {
				idf = math.Pow(idf, o.idfPow)
			}
			w := kw * t * idf
			if w == 0 {
				continue
			}
			v[f] = w
			if e.s.st.Lex.DF(f) >= 2 {
				norm += w * w
			}
		}
		norm = math.Sqrt(norm)
		for f := range v {
			v[f] /= norm
		}
		out[di] = v
	}
	return out
}

func dotMap(a, b map[uint32]float64) float64 {
	if len(a) > len(b) {
		a, b = b, a
	}
	var s float64
	for f, x := range a {
		if y, ok := b[f]; ok {
			s += x * y
		}
	}
	return s
}

func (e *expEnv) latent(qi, di int) float64 {
	return max(0, dot32(e.s.st.Docs[qi].Dense, e.s.st.Docs[di].Dense))
}

func (e *expEnv) author(qi, di int) float64 {
	q := e.s.paperQuery(qi)
	return e.s.authorCosine(&q, &e.s.st.Docs[di], e.s.norms[di])
}

func (e *expEnv) fused(lex func(qi, di int) float64, wl, wa float64) pairScore {
	return func(qi, di int) float64 {
		return (lex(qi, di) + wl*e.latent(qi, di) + wa*e.author(qi, di)) / (1 + wl + wa)
	}
}

func (e *expEnv) combine(wt, wa, wk float64) []map[uint32]float64 {
	out := make([]map[uint32]float64, len(e.tf))
	for i := range out {
		m := map[uint32]float64{}
		for f, v := range e.tfT[i] {
			m[f] += wt * v
		}
		for f, v := range e.tfA[i] {
			m[f] += wa * v
		}
		for f, v := range e.tfK[i] {
			m[f] += wk * v
		}
		out[i] = m
	}
	return out
}

func (e *expEnv) lsaPow(p float64) func(qi, di int) float64 {
	sig := e.s.st.LSA.SingularValues()
	dense := make([][]float64, len(e.tf))
	for i := range dense {
		v := make([]float64, len(sig))
		var n float64
		for c := range v {
			v[c] = float64(e.s.st.Docs[i].Dense[c]) * math.Pow(sig[c], p-1)
			n += v[c] * v[c]
		}
		n = math.Sqrt(n)
		for c := range v {
			v[c] /= n
		}
		dense[i] = v
	}
	return func(qi, di int) float64 {
		var s float64
		for c := range dense[qi] {
			s += dense[qi][c] * dense[di][c]
		}
		return max(0, s)
	}
}

// concept returns for every feature a concept id: multiword features and
// their words are merged (union-find) within the pair.
func (e *expEnv) wordsOf(f uint32) []string {
	return strings.Fields(strings.TrimPrefix(e.s.st.Lex.Key(f), embed.PhrasePrefix))
}

// discounted lexical: shared contributions grouped into concepts (a
// multiword feature with the shared words inside it); the largest concept's
// contribution is discounted by delta.
func (e *expEnv) discounted(base []map[uint32]float64, delta float64, group bool, soft float64) func(qi, di int) float64 {
	return func(qi, di int) float64 {
		q, d := base[qi], base[di]
		type sh struct {
			f uint32
			c float64
		}
		var shared []sh
		var tot float64
		for f, x := range q {
			if y, ok := d[f]; ok {
				shared = append(shared, sh{f, x * y})
				tot += x * y
			}
		}
		if tot == 0 {
			return 0
		}
		var concepts map[string]float64
		if group {
			// union-find over words
			parent := map[string]string{}
			var find func(string) string
			find = func(x string) string {
				if p, ok := parent[x]; ok && p != x {
					r := find(p)
					parent[x] = r
					return r
				}
				parent[x] = x
				return x
			}
			for _, s := range shared {
				w := e.wordsOf(s.f)
				for _, x := range w[1:] {
					parent[find(x)] = find(w[0])
				}
			}
			concepts = map[string]float64{}
			for _, s := range shared {
				concepts[find(e.wordsOf(s.f)[0])] += s.c
			}
		} else {
			concepts = map[string]float64{}
			for _, s := range shared {
				concepts[e.s.st.Lex.Key(s.f)] += s.c
			}
		}
		var mx float64
		for _, c := range concepts {
			mx = math.Max(mx, c)
		}
		return tot - delta*mx
	}
}

// termVecs returns each feature's unit LSA vector.
func (e *expEnv) termVecs() [][]float32 {
	out := make([][]float32, e.s.st.Lex.Len())
	for f := range out {
		out[f] = e.s.st.LSA.Transform(embed.Sparse{Idx: []uint32{uint32(f)}, Val: []float32{1}})
	}
	return out
}

func cos32(a, b []float32) float64 {
	var s, na, nb float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return s / math.Sqrt(na*nb)
}

// contextFit weighs each shared feature by how equally well it fits both
// papers' latent topics: (min/max of the two cosines)^gamma.
func (e *expEnv) contextFit(base []map[uint32]float64, tv [][]float32, gamma, floor float64, mode int) func(qi, di int) float64 {
	fit := make([]map[uint32]float64, len(base))
	for i, v := range base {
		fit[i] = map[uint32]float64{}
		for f := range v {
			fit[i][f] = math.Max(0, cos32(tv[f], e.s.st.Docs[i].Dense))
		}
	}
	return func(qi, di int) float64 {
		var s float64
		for f, x := range base[qi] {
			if y, ok := base[di][f]; ok {
				a, b := fit[qi][f], fit[di][f]
				var r float64
				switch mode {
				case 0:
					if max(a, b) > 0 {
						r = math.Min(a, b) / math.Max(a, b)
					}
				case 1:
					r = math.Sqrt(a * b)
				}
				fac := floor + (1-floor)*math.Pow(r, gamma)
				s += x * y * fac
			}
		}
		return s
	}
}

// conceptShares returns the shared contributions grouped into concepts (a
// multiword feature merged with the shared words and bigrams inside it) and
// their total.
func (e *expEnv) conceptShares(q, d map[uint32]float64) (map[string]float64, float64) {
	type sh struct {
		f uint32
		c float64
	}
	var shared []sh
	var tot float64
	for f, x := range q {
		if y, ok := d[f]; ok {
			shared = append(shared, sh{f, x * y})
			tot += x * y
		}
	}
	parent := map[string]string{}
	var find func(string) string
	find = func(x string) string {
		if p, ok := parent[x]; ok && p != x {
			r := find(p)
			parent[x] = r
			return r
		}
		parent[x] = x
		return x
	}
	for _, s := range shared {
		w := e.wordsOf(s.f)
		for _, x := range w[1:] {
			parent[find(x)] = find(w[0])
		}
	}
	concepts := map[string]float64{}
	for _, s := range shared {
		concepts[find(e.wordsOf(s.f)[0])] += s.c
	}
	return concepts, tot
}

func (e *expEnv) carried(base []map[uint32]float64, theta, delta float64) func(qi, di int) float64 {
	return func(qi, di int) float64 {
		cs, tot := e.conceptShares(base[qi], base[di])
		if tot == 0 {
			return 0
		}
		var mx float64
		for _, c := range cs {
			mx = math.Max(mx, c)
		}
		share := mx / tot
		return tot * (1 - delta*math.Max(0, share-theta))
	}
}

type pairData struct {
	hi, lo []float64
	q      string
	wgt    float64
}

// rankPairs collects feature differences of judged candidate pairs within
// the production top-n of each query of qrels set w.
func (e *expEnv) rankPairs(w, n int, feats []feat) []pairData {
	prod := func(qi, di int) float64 { q := e.s.paperQuery(qi); return e.s.score(&q, di) }
	var out []pairData
	for qid, grades := range e.qrels[w] {
		qi, _ := e.s.lookup(qid)
		type c struct {
			i int
			v float64
		}
		var all []c
		for di := range e.s.st.Papers {
			if di != qi {
				all = append(all, c{di, prod(qi, di)})
			}
		}
		slices.SortFunc(all, func(a, b c) int { return cmp.Compare(b.v, a.v) })
		var xs [][]float64
		var gs []int
		for _, a := range all[:n] {
			g, ok := grades[e.s.st.Papers[a.i].ID]
			if !ok {
				g = 0
			}
			x := make([]float64, len(feats))
			for k, f := range feats {
				x[k] = f.f(qi, a.i)
			}
			xs = append(xs, x)
			gs = append(gs, g)
		}
		for a := range xs {
			for b := range xs {
				if gs[a] > gs[b] {
					out = append(out, pairData{xs[a], xs[b], qid, math.Exp2(float64(gs[a])) - math.Exp2(float64(gs[b]))})
				}
			}
		}
	}
	return out
}

// fitPairwise fits nonnegative weights by projected gradient descent on the
// weighted pairwise logistic loss with L2 penalty lambda; weight 0 is fixed to 1
// (lexical) to fix the scale.
func fitPairwise(pairs []pairData, nf int, lambda, scale float64) []float64 {
	w := make([]float64, nf)
	w[0] = 1
	lr := 0.5
	for it := 0; it < 3000; it++ {
		g := make([]float64, nf)
		var tw float64
		for _, p := range pairs {
			var m float64
			for k := range w {
				m += w[k] * (p.hi[k] - p.lo[k])
			}
			s := 1 / (1 + math.Exp(scale*m))
			for k := range w {
				g[k] -= p.wgt * s * scale * (p.hi[k] - p.lo[k])
			}
			tw += p.wgt
		}
		for k := 1; k < nf; k++ {
			g[k] = g[k]/tw + lambda*w[k]
			w[k] = math.Max(0, w[k]-lr*g[k])
		}
	}
	return w
}

func linear(feats []feat, w []float64) pairScore {
	return func(qi, di int) float64 {
		var s float64
		for k, f := range feats {
			if w[k] != 0 {
				s += w[k] * f.f(qi, di)
			}
		}
		return s
	}
}

func (e *expEnv) learnFusion(feats []feat, n int, lambda, scale float64) {
	names := []string{}
	for _, f := range feats {
		names = append(names, f.name)
	}
	fmt.Printf("features: %s\n", strings.Join(names, ", "))
	for tr := range 2 {
		pairs := e.rankPairs(tr, n, feats)
		w := fitPairwise(pairs, len(feats), lambda, scale)
		fmt.Printf("train %s: w=%.3f\n", e.names[tr], w)
		e.report(fmt.Sprintf("  learned on %s (λ%.3g)", e.names[tr], lambda), linear(feats, w))
	}
	pairs := append(e.rankPairs(0, n, feats), e.rankPairs(1, n, feats)...)
	w := fitPairwise(pairs, len(feats), lambda, scale)
	fmt.Printf("train both: w=%.3f\n", w)
	e.report(fmt.Sprintf("  learned on both (λ%.3g) in-sample", lambda), linear(feats, w))
}

type feat struct {
	name string
	f    func(qi, di int) float64
}

func (e *expEnv) show(id string, k int, score pairScore, label string) {
	qi, _ := e.s.lookup(id)
	type c struct {
		i int
		v float64
	}
	var all []c
	for di := range e.s.st.Papers {
		if di != qi {
			all = append(all, c{di, score(qi, di)})
		}
	}
	slices.SortFunc(all, func(a, b c) int { return cmp.Compare(b.v, a.v) })
	fmt.Printf("--- %s: %s\n", label, e.s.st.Papers[qi].Title)
	for r, a := range all[:k] {
		fmt.Printf("%2d %.3f lex%.3f lat%.2f %.80s\n", r+1, a.v, e.s.lexical(ptr(e.s.paperQuery(qi)), &e.s.st.Docs[a.i]), e.latent(qi, a.i), e.s.st.Papers[a.i].Title)
	}
}

func ptr[T any](v T) *T { return &v }

func (e *expEnv) withConfig(cfg Config) *expEnv {
	s, err := New(context.Background(), e.s.Corpus(), cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	return newExpEnv(e.t, s)
}

func prodScore(s *Service) pairScore {
	return func(qi, di int) float64 { q := s.paperQuery(qi); return s.score(&q, di) }
}

type looCtx struct {
	raw   [][]float64 // unnormalized doc projections
	x     []map[uint32]float64
	term  map[uint32][]float64
	cache []map[uint32]float64
	e     *expEnv
}

func (e *expEnv) newLoo() *looCtx {
	l := &looCtx{e: e, term: map[uint32][]float64{}}
	for i := range e.s.st.Docs {
		sh := e.s.st.Lex.Shared(e.s.st.Docs[i].Lex)
		l.raw = append(l.raw, e.s.st.LSA.TransformRaw(sh))
		m := map[uint32]float64{}
		for j, f := range sh.Idx {
			m[f] = float64(sh.Val[j])
		}
		l.x = append(l.x, m)
		l.cache = append(l.cache, map[uint32]float64{})
	}
	return l
}

func (l *looCtx) termVec(f uint32) []float64 {
	if v, ok := l.term[f]; ok {
		return v
	}
	v := l.e.s.st.LSA.TransformRaw(embed.Sparse{Idx: []uint32{f}, Val: []float32{1}})
	l.term[f] = v
	return v
}

// fit is the cosine of feature f's latent vector with document i's latent
// vector leaving f out.
func (l *looCtx) fit(i int, f uint32) float64 {
	if v, ok := l.cache[i][f]; ok {
		return v
	}
	t := l.termVec(f)
	xf := l.x[i][f]
	var s, nt, nc float64
	for c := range t {
		ctx := l.raw[i][c] - xf*t[c]
		s += t[c] * ctx
		nt += t[c] * t[c]
		nc += ctx * ctx
	}
	v := 0.0
	if nt > 0 && nc > 0 {
		v = s / math.Sqrt(nt*nc)
	}
	l.cache[i][f] = v
	return v
}

func (e *expEnv) looFit(base []map[uint32]float64, l *looCtx, gamma, floor float64, mode int) func(qi, di int) float64 {
	return func(qi, di int) float64 {
		var s float64
		for f, x := range base[qi] {
			if y, ok := base[di][f]; ok {
				a, b := math.Max(0, l.fit(qi, f)), math.Max(0, l.fit(di, f))
				var r float64
				switch mode {
				case 0:
					if max(a, b) > 0 {
						r = math.Min(a, b) / math.Max(a, b)
					}
				case 1:
					r = math.Min(1, math.Min(a, b)/0.3)
				case 2:
					r = math.Min(1, math.Sqrt(a*b)/0.3)
				}
				s += x * y * (floor + (1-floor)*math.Pow(r, gamma))
			}
		}
		return s
	}
}

func (e *expEnv) areaOf() ([]int, []float64) {
	areas := map[string]int{}
	var areaOf []int
	for _, p := range e.s.st.Papers {
		a, ok := areas[string(p.Category)]
		if !ok {
			a = len(areas)
			areas[string(p.Category)] = a
		}
		areaOf = append(areaOf, a)
	}
	size := make([]float64, len(areas))
	for _, a := range areaOf {
		size[a]++
	}
	return areaOf, size
}

func (e *expEnv) areaEntropy(alpha float64) []float64 {
	areaOf, size := e.areaOf()
	na := len(size)
	df := make([][]float64, e.s.st.Lex.Len())
	for i := range df {
		df[i] = make([]float64, na)
	}
	for di, tf := range e.tf {
		for f := range tf {
			df[f][areaOf[di]]++
		}
	}
	h := make([]float64, len(df))
	for f := range df {
		var z float64
		p := make([]float64, na)
		for a := range p {
			p[a] = (df[f][a] + alpha*size[a]/float64(len(e.tf))) / size[a]
			z += p[a]
		}
		var H float64
		for a := range p {
			x := p[a] / z
			if x > 0 {
				H -= x * math.Log(x)
			}
		}
		h[f] = H / math.Log(float64(na))
	}
	return h
}

func scaleVecs(base []map[uint32]float64, s func(f uint32) float64, sharedOnly func(f uint32) bool) []map[uint32]float64 {
	out := make([]map[uint32]float64, len(base))
	for i, v := range base {
		m := map[uint32]float64{}
		var n float64
		for f, x := range v {
			y := x * s(f)
			m[f] = y
			if sharedOnly(f) {
				n += y * y
			}
		}
		n = math.Sqrt(n)
		if n > 0 {
			for f := range m {
				m[f] /= n
			}
		}
		out[i] = m
	}
	return out
}

// prfScorer: production score plus beta * max(0, cos(latent centroid of the
// score-weighted top-k, candidate)).
func (e *expEnv) prfScorer(k int, beta float64, weighted bool) pairScore {
	n := len(e.s.st.Papers)
	prod := prodScore(e.s)
	S := make([][]float64, n)
	dims := len(e.s.st.Docs[0].Dense)
	cent := make([][]float64, n)
	for i := range S {
		S[i] = make([]float64, n)
		idx := make([]int, 0, n-1)
		for j := range n {
			if j != i {
				S[i][j] = prod(i, j)
				idx = append(idx, j)
			}
		}
		slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(S[i][b], S[i][a]) })
		c := make([]float64, dims)
		for _, j := range idx[:k] {
			w := 1.0
			if weighted {
				w = S[i][j]
			}
			for d := range c {
				c[d] += w * float64(e.s.st.Docs[j].Dense[d])
			}
		}
		var nn float64
		for _, x := range c {
			nn += x * x
		}
		nn = math.Sqrt(nn)
		for d := range c {
			c[d] /= nn
		}
		cent[i] = c
	}
	return func(qi, di int) float64 {
		var s float64
		for d := range cent[qi] {
			s += cent[qi][d] * float64(e.s.st.Docs[di].Dense[d])
		}
		return S[qi][di] + beta*math.Max(0, s)
	}
}

type cfgRes struct {
	name string
	per  [2][]float64
}

func (e *expEnv) perQuery(score pairScore) [2][]float64 {
	r := e.eval(score)
	var out [2][]float64
	for w := range 2 {
		for _, q := range r.perQ[w] {
			out[w] = append(out[w], q.NDCG)
		}
	}
	return out
}

func mean(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

func loqo(rs []cfgRes, baseline int) {
	var all [][]float64
	for _, r := range rs {
		all = append(all, append(append([]float64{}, r.per[0]...), r.per[1]...))
	}
	nq := len(all[0])
	nd := len(rs[0].per[0])
	var out, base []float64
	picks := map[string]int{}
	for h := range nq {
		best, bv := 0, -1.0
		for c := range all {
			var s float64
			for q := range nq {
				if q != h {
					s += all[c][q]
				}
			}
			if s > bv {
				best, bv = c, s
			}
		}
		picks[rs[best].name]++
		out = append(out, all[best][h])
		base = append(base, all[baseline][h])
	}
	fmt.Printf("LOQO: held-out mean %.4f (dev %.4f, dev2 %.4f) vs baseline %.4f (dev %.4f, dev2 %.4f); picks %v\n",
		mean(out), mean(out[:nd]), mean(out[nd:]), mean(base), mean(base[:nd]), mean(base[nd:]), picks)
	for tr := range 2 {
		best, bv := 0, -1.0
		for c, r := range rs {
			if m := mean(r.per[tr]); m > bv {
				best, bv = c, m
			}
		}
		fmt.Printf("chosen on set %d (%s, %.4f) -> other set %.4f (baseline %.4f)\n", tr, rs[best].name, bv, mean(rs[best].per[1-tr]), mean(rs[baseline].per[1-tr]))
	}
}

// subParts returns a multiword feature's words and, for longer phrases and
// keyphrases, its adjacent-word bigrams.
func (e *expEnv) subParts(f uint32) []uint32 {
	key := e.s.st.Lex.Key(f)
	w := e.wordsOf(f)
	if len(w) < 2 {
		return nil
	}
	var out []uint32
	for i, x := range w {
		if id, ok := e.s.st.Lex.Lookup(x); ok {
			out = append(out, id)
		}
		if i > 0 && (len(w) > 2 || strings.HasPrefix(key, embed.PhrasePrefix)) {
			if id, ok := e.s.st.Lex.Lookup(w[i-1] + " " + x); ok {
				out = append(out, id)
			}
		}
	}
	return out
}

// dedup reduces a shared word's (or bigram's) contribution by the share of
// its occurrences that a shared longer feature covers in both papers.
func (e *expEnv) dedup(base []map[uint32]float64, gamma float64) func(qi, di int) float64 {
	sub := make([][]uint32, e.s.st.Lex.Len())
	for f := range sub {
		sub[f] = e.subParts(uint32(f))
	}
	return func(qi, di int) float64 {
		q, d := base[qi], base[di]
		tq, td := e.tf[qi], e.tf[di]
		red := map[uint32]float64{}
		for f := range q {
			if _, ok := d[f]; !ok || sub[f] == nil {
				continue
			}
			for _, p := range sub[f] {
				_, okq := q[p]
				_, okd := d[p]
				if !okq || !okd {
					continue
				}
				red[p] = math.Max(red[p], math.Min(math.Min(1, tq[f]/tq[p]), math.Min(1, td[f]/td[p])))
			}
		}
		var s float64
		for f, x := range q {
			if y, ok := d[f]; ok {
				s += x * y * (1 - gamma*red[f])
			}
		}
		return s
	}
}

// keyphraseMismatch weighs a shared word by 1 − γ·|coverage in q − coverage
// in d|, coverage being the share of the word's occurrences inside the
// paper's own keyphrases.
func (e *expEnv) keyphraseMismatch(base []map[uint32]float64, gamma float64) func(qi, di int) float64 {
	cov := make([]map[uint32]float64, len(e.tf))
	for di, tf := range e.tf {
		cov[di] = map[uint32]float64{}
		for f := range tf {
			if !strings.HasPrefix(e.s.st.Lex.Key(f), embed.PhrasePrefix) {
				continue
			}
			w := e.wordsOf(f)
			occ := math.Inf(1)
			for i := 1; i < len(w); i++ {
				if id, ok := e.s.st.Lex.Lookup(w[i-1] + " " + w[i]); ok {
					occ = math.Min(occ, tf[id])
				} else {
					occ = 0
				}
			}
			if math.IsInf(occ, 1) {
				continue
			}
			for _, x := range w {
				if id, ok := e.s.st.Lex.Lookup(x); ok && tf[id] > 0 {
					cov[di][id] = math.Max(cov[di][id], math.Min(1, occ/tf[id]))
				}
			}
		}
	}
	return func(qi, di int) float64 {
		var s float64
		for f, x := range base[qi] {
			if y, ok := base[di][f]; ok {
				fac := 1.0
				if len(e.wordsOf(f)) == 1 {
					fac = 1 - gamma*math.Abs(cov[qi][f]-cov[di][f])
				}
				s += x * y * fac
			}
		}
		return s
	}
}

// sameWay weighs a shared word by the overlap of its usage in the two
// papers: the shares of its occurrences inside each collocation ("fine
// tuning") and outside any (plain), compared by histogram intersection.
func (e *expEnv) sameWay(base []map[uint32]float64, mode string, floor float64) func(qi, di int) float64 {
	grade := map[uint32]bool{}
	for f := range e.s.st.Lex.Len() {
		key := e.s.st.Lex.Key(uint32(f))
		switch mode {
		case "phrase-bigrams":
			if strings.HasPrefix(key, embed.PhrasePrefix) {
				w := e.wordsOf(uint32(f))
				for i := 1; i < len(w); i++ {
					if id, ok := e.s.st.Lex.Lookup(w[i-1] + " " + w[i]); ok {
						grade[id] = true
					}
				}
			}
		case "df>=3 bigrams":
			if !strings.HasPrefix(key, embed.PhrasePrefix) && strings.Contains(key, " ") && e.s.st.Lex.DF(uint32(f)) >= 3 {
				grade[uint32(f)] = true
			}
		}
	}
	const plain = math.MaxUint32
	usage := make([]map[uint32]map[uint32]float64, len(e.tf))
	for di, tf := range e.tf {
		u := map[uint32]map[uint32]float64{}
		for f, t := range tf {
			if !grade[f] {
				continue
			}
			for _, w := range strings.Fields(e.s.st.Lex.Key(f)) {
				if id, ok := e.s.st.Lex.Lookup(w); ok {
					if u[id] == nil {
						u[id] = map[uint32]float64{}
					}
					u[id][f] += t
				}
			}
		}
		for w, m := range u {
			var in float64
			for _, v := range m {
				in += v
			}
			tot := math.Max(tf[w], in)
			for c := range m {
				m[c] /= tot
			}
			m[plain] = 1 - in/tot
		}
		usage[di] = u
	}
	get := func(m map[uint32]float64, c uint32) float64 {
		if m == nil {
			return b2f(c == plain)
		}
		return m[c]
	}
	sim := func(qi, di int, w uint32) float64 {
		a, b := usage[qi][w], usage[di][w]
		keys := map[uint32]bool{plain: true}
		for c := range a {
			keys[c] = true
		}
		for c := range b {
			keys[c] = true
		}
		var s float64
		for c := range keys {
			s += math.Min(get(a, c), get(b, c))
		}
		return s
	}
	return func(qi, di int) float64 {
		var s float64
		for f, x := range base[qi] {
			if y, ok := base[di][f]; ok {
				fac := 1.0
				if len(e.wordsOf(f)) == 1 {
					fac = floor + (1-floor)*sim(qi, di, f)
				}
				s += x * y * fac
			}
		}
		return s
	}
}

// coherence reweighs each feature by how similar (lexically, leaving the
// feature out) the papers holding it are, relative to random pairs.
func (e *expEnv) coherence(base []map[uint32]float64, k, beta float64) []map[uint32]float64 {
	n := len(base)
	rng := rand.New(rand.NewPCG(1, 2))
	var mu float64
	for range 5000 {
		i, j := rng.IntN(n), rng.IntN(n)
		if i != j {
			mu += dotMap(base[i], base[j])
		}
	}
	mu /= 5000
	post := map[uint32][]int{}
	for di, v := range base {
		for f := range v {
			if e.s.st.Lex.DF(f) >= 2 {
				post[f] = append(post[f], di)
			}
		}
	}
	w := map[uint32]float64{}
	for f, docs := range post {
		ds := docs
		if len(ds) > 40 {
			ds = make([]int, 40)
			for i := range ds {
				ds[i] = docs[rng.IntN(len(docs))]
			}
		}
		var s, c float64
		for a := range ds {
			for b := a + 1; b < len(ds); b++ {
				if ds[a] != ds[b] {
					s += dotMap(base[ds[a]], base[ds[b]]) - base[ds[a]][f]*base[ds[b]][f]
					c++
				}
			}
		}
		w[f] = math.Pow((s+k*mu)/(c+k)/mu, beta)
	}
	return scaleVecs(base, func(f uint32) float64 {
		if x, ok := w[f]; ok {
			return x
		}
		return 1
	}, func(f uint32) bool { return e.s.st.Lex.DF(f) >= 2 })
}

// fullRanks returns every paper's production score against every other and
// the rank of each paper in each list (1 best).
func (e *expEnv) fullRanks() ([][]float64, [][]int) {
	n := len(e.s.st.Papers)
	prod := prodScore(e.s)
	S := make([][]float64, n)
	rank := make([][]int, n)
	for i := range S {
		S[i] = make([]float64, n)
		idx := make([]int, 0, n)
		for j := range n {
			if j != i {
				S[i][j] = prod(i, j)
			} else {
				S[i][j] = math.Inf(-1)
			}
			idx = append(idx, j)
		}
		slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(S[i][b], S[i][a]) })
		rank[i] = make([]int, n)
		for r, j := range idx {
			rank[i][j] = r + 1
		}
	}
	return S, rank
}

// authorProfiles returns the symmetric similarity of a paper to the latent
// profile of the other's authors' other papers (authors weighted by rarity).
func (e *expEnv) authorProfiles() func(qi, di int) float64 {
	s := e.s
	n := len(s.st.Papers)
	byAuthor := map[int32][]int{}
	for i := range s.st.Docs {
		for _, a := range s.st.Docs[i].Authors {
			byAuthor[a] = append(byAuthor[a], i)
		}
	}
	dims := len(s.st.Docs[0].Dense)
	prof := make([][]float64, n)
	for i := range s.st.Docs {
		p := make([]float64, dims)
		for _, a := range s.st.Docs[i].Authors {
			others := len(byAuthor[a]) - 1
			if others == 0 {
				continue
			}
			w := s.st.Authors[a].IDF / float64(others)
			for _, j := range byAuthor[a] {
				if j != i {
					for c := range p {
						p[c] += w * float64(s.st.Docs[j].Dense[c])
					}
				}
			}
		}
		var nn float64
		for _, x := range p {
			nn += x * x
		}
		if nn > 0 {
			nn = math.Sqrt(nn)
			for c := range p {
				p[c] /= nn
			}
		}
		prof[i] = p
	}
	cos := func(p []float64, d []float32) float64 {
		var t float64
		for c := range p {
			t += p[c] * float64(d[c])
		}
		return math.Max(0, t)
	}
	return func(qi, di int) float64 {
		return (cos(prof[qi], s.st.Docs[di].Dense) + cos(prof[di], s.st.Docs[qi].Dense)) / 2
	}
}

// cacheFeats memoizes feature values per pair.
func (e *expEnv) cacheFeats(feats []feat) {
	n := len(e.s.st.Papers)
	for k := range feats {
		f := feats[k].f
		cache := make([]float64, n*n)
		for i := range cache {
			cache[i] = math.NaN()
		}
		feats[k].f = func(qi, di int) float64 {
			v := cache[qi*n+di]
			if math.IsNaN(v) {
				v = f(qi, di)
				cache[qi*n+di] = v
			}
			return v
		}
	}
}

// topOf returns the production top n of a query paper.
func (e *expEnv) topOf(qi, n int) []int {
	prod := prodScore(e.s)
	idx := make([]int, 0, len(e.s.st.Papers))
	for j := range e.s.st.Papers {
		if j != qi {
			idx = append(idx, j)
		}
	}
	v := make([]float64, len(e.s.st.Papers))
	for _, j := range idx {
		v[j] = prod(qi, j)
	}
	slices.SortFunc(idx, func(a, b int) int {
		if c := cmp.Compare(v[b], v[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	return idx[:n]
}

// pairAUC: among judged candidates inside the production top n of each
// query, the share of (higher grade, lower grade) pairs the signal orders
// correctly (ties count half).
func (e *expEnv) pairAUC(which, topN int, ft feat) float64 { return e.gradeAUC(which, topN, ft, 1, 1) }

// gradeAUC is pairAUC restricted to pairs of a candidate graded at least
// hi and one graded at most lo (hi > lo).
func (e *expEnv) gradeAUC(which, topN int, ft feat, hi, lo int) float64 {
	var good, total float64
	for qid, grades := range e.qrels[which] {
		qi, _ := e.s.lookup(qid)
		var vs []float64
		var gs []int
		for _, di := range e.topOf(qi, topN) {
			if g, ok := grades[e.s.st.Papers[di].ID]; ok {
				vs = append(vs, ft.f(qi, di))
				gs = append(gs, g)
			}
		}
		for a := range vs {
			for b := range vs {
				if gs[a] > gs[b] && gs[a] >= hi && gs[b] <= lo {
					total++
					if vs[a] > vs[b] {
						good++
					} else if vs[a] == vs[b] {
						good += 0.5
					}
				}
			}
		}
	}
	return good / total
}

// oracle re-orders today's top n by the judged grade: the most any
// re-ranking of those candidates could reach.
func (e *expEnv) oracle() {
	prod := prodScore(e.s)
	for _, n := range []int{10, 20, 40} {
		top := map[[2]int]bool{}
		grade := map[[2]int]int{}
		for w := range 2 {
			for qid, grades := range e.qrels[w] {
				qi, _ := e.s.lookup(qid)
				for _, di := range e.topOf(qi, n) {
					top[[2]int{qi, di}] = true
					grade[[2]int{qi, di}] = grades[e.s.st.Papers[di].ID]
				}
			}
		}
		e.report(fmt.Sprintf("oracle: today's top %d re-ordered by grade", n), func(qi, di int) float64 {
			if top[[2]int{qi, di}] {
				return float64(grade[[2]int{qi, di}]) + prod(qi, di)
			}
			return prod(qi, di) - 10
		})
	}
}
