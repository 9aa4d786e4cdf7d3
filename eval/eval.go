// Package eval scores ranked lists of related papers against graded
// relevance judgments: nDCG@k, precision@k, precision of highly related
// papers, and the share of results that was judged at all.
package eval

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/paperrec/paperrec/models"
)

// Judgment grades one candidate paper for one query paper: 0 not related,
// 1 partly, 2 highly. Papers are named by title.
//
// A plain value.
type Judgment struct {
	Query     string `json:"query"`
	Candidate string `json:"candidate"`
	Grade     int    `json:"grade"`
}

// ParseJudgments reads a JSON list of judgments. file names the source in errors.
func ParseJudgments(r io.Reader, file string) ([]Judgment, error) {
	var js []Judgment
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&js); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	for i, j := range js {
		switch {
		case strings.TrimSpace(j.Query) == "":
			return nil, fmt.Errorf("%s: judgment %d: query: empty", file, i)
		case strings.TrimSpace(j.Candidate) == "":
			return nil, fmt.Errorf("%s: judgment %d: candidate: empty", file, i)
		case j.Grade < 0 || j.Grade > 2:
			return nil, fmt.Errorf("%s: judgment %d: grade: %d is not 0, 1 or 2", file, i, j.Grade)
		}
	}
	return js, nil
}

// Qrels are judgments resolved to paper IDs: query ID → candidate ID → grade.
//
// Read-only once resolved: safe for concurrent reads.
type Qrels map[string]map[string]int

// Resolve maps judgment titles to IDs in a corpus. Titles match
// case-insensitively with white space folded. It returns an error naming
// the first title that no paper has.
func Resolve(js []Judgment, c *models.Corpus) (Qrels, error) {
	byTitle := map[string]string{}
	for _, p := range c.Papers() {
		byTitle[titleKey(p.Title)] = p.ID
	}
	q := Qrels{}
	for i, j := range js {
		qid, ok := byTitle[titleKey(j.Query)]
		if !ok {
			return nil, fmt.Errorf("judgment %d: query %q: no paper has this title", i, j.Query)
		}
		cid, ok := byTitle[titleKey(j.Candidate)]
		if !ok {
			return nil, fmt.Errorf("judgment %d: candidate %q: no paper has this title", i, j.Candidate)
		}
		if q[qid] == nil {
			q[qid] = map[string]int{}
		}
		q[qid][cid] = j.Grade
	}
	return q, nil
}

func titleKey(t string) string { return strings.ToLower(strings.Join(strings.Fields(t), " ")) }

// RelatedFunc returns the IDs of the k papers most related to a paper, best first.
//
// Score calls it from one goroutine.
type RelatedFunc func(ctx context.Context, id string, k int) ([]string, error)

// QueryScore is one query's figures.
//
// A plain value.
type QueryScore struct {
	ID     string  `json:"id"`
	NDCG   float64 `json:"ndcg"`
	P      float64 `json:"p"`       // share of the top k graded >= 1
	PHigh5 float64 `json:"p5_high"` // share of the top 5 graded 2
	Judged float64 `json:"judged"`  // share of the top k that was judged
}

// Report holds the means over queries and each query's figures.
//
// A plain value.
type Report struct {
	K       int          `json:"k"`
	Queries int          `json:"queries"`
	NDCG    float64      `json:"ndcg"`
	P       float64      `json:"p"`
	PHigh5  float64      `json:"p5_high"`
	Judged  float64      `json:"judged"`
	PerQ    []QueryScore `json:"per_query"`
}

// Score ranks each judged query's related papers with related and scores
// them: nDCG@k with gain 2^grade-1 and the ideal ranking taken from all
// judged candidates; P@k counting grade >= 1; P@5 counting grade 2 only;
// and the judged share of the top k. Unjudged results gain nothing.
func Score(ctx context.Context, q Qrels, related RelatedFunc, k int) (Report, error) {
	ids := make([]string, 0, len(q))
	for id := range q {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	rep := Report{K: k, Queries: len(ids)}
	for _, id := range ids {
		got, err := related(ctx, id, k)
		if err != nil {
			return Report{}, fmt.Errorf("related %s: %w", id, err)
		}
		s := scoreQuery(id, got, q[id], k)
		rep.PerQ = append(rep.PerQ, s)
		rep.NDCG += s.NDCG
		rep.P += s.P
		rep.PHigh5 += s.PHigh5
		rep.Judged += s.Judged
	}
	if n := float64(len(ids)); n > 0 {
		rep.NDCG /= n
		rep.P /= n
		rep.PHigh5 /= n
		rep.Judged /= n
	}
	return rep, nil
}

func scoreQuery(id string, got []string, grades map[string]int, k int) QueryScore {
	s := QueryScore{ID: id}
	if len(got) > k {
		got = got[:k]
	}
	dcg := 0.0
	for i, c := range got {
		g, judged := grades[c]
		if judged {
			s.Judged++
		}
		if g >= 1 {
			s.P++
		}
		if g == 2 && i < 5 {
			s.PHigh5++
		}
		dcg += gain(g) / math.Log2(float64(i+2))
	}
	ideal := make([]int, 0, len(grades))
	for _, g := range grades {
		ideal = append(ideal, g)
	}
	slices.SortFunc(ideal, func(a, b int) int { return b - a })
	idcg := 0.0
	for i, g := range ideal[:min(k, len(ideal))] {
		idcg += gain(g) / math.Log2(float64(i+2))
	}
	if idcg > 0 {
		s.NDCG = dcg / idcg
	}
	s.P /= float64(k)
	s.Judged /= float64(k)
	s.PHigh5 /= 5
	return s
}

func gain(grade int) float64 { return math.Exp2(float64(grade)) - 1 }
