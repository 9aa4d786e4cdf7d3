package eval

import (
	"bytes"
	"context"
	"math"
	"strings"
	"testing"

	"github.com/paperrec/paperrec/data"
	"github.com/paperrec/paperrec/models"
)

func TestScoreQuery(t *testing.T) {
	grades := map[string]int{"a": 2, "b": 1, "c": 1, "d": 0}
	// Ideal: a(3), b(1), c(1), d(0): IDCG@3 = 3/log2(2) + 1/log2(3) + 1/log2(4) = 3 + 0.63093 + 0.5.
	idcg3 := 3 + 1/math.Log2(3) + 0.5
	tests := []struct {
		name          string
		got           []string
		k             int
		ndcg, p, high float64
		judged        float64
		reason        string
	}{
		{name: "ideal", got: []string{"a", "b", "c"}, k: 3, ndcg: 1, p: 1, high: 0.2, judged: 1},
		{name: "reversed", got: []string{"c", "b", "a"}, k: 3, ndcg: (1 + 1/math.Log2(3) + 3*0.5) / idcg3, p: 1, high: 0.2, judged: 1},
		{name: "unjudged gains nothing", got: []string{"x", "a", "d"}, k: 3, ndcg: (3 / math.Log2(3)) / idcg3, p: 1.0 / 3, high: 0.2, judged: 2.0 / 3,
			reason: "an unjudged paper counts as grade 0 and lowers the judged share"},
		{name: "short list", got: []string{"a"}, k: 3, ndcg: 3 / idcg3, p: 1.0 / 3, high: 0.2, judged: 1.0 / 3,
			reason: "P@k divides by k, not by the number returned"},
		{name: "highly related outside the top 5", got: []string{"d", "x", "y", "z", "w", "a"}, k: 10, high: 0,
			ndcg: (3 / math.Log2(7)) / (3 + 1/math.Log2(3) + 0.5), p: 0.1, judged: 0.2},
		{name: "nothing", got: nil, k: 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := scoreQuery("q", tt.got, grades, tt.k)
			for _, c := range []struct {
				what      string
				got, want float64
			}{{"nDCG", s.NDCG, tt.ndcg}, {"P", s.P, tt.p}, {"P5 high", s.PHigh5, tt.high}, {"judged", s.Judged, tt.judged}} {
				if math.Abs(c.got-c.want) > 1e-9 {
					t.Errorf("%s = %.6f, want %.6f", c.what, c.got, c.want)
				}
			}
		})
	}
}

func TestParseJudgments(t *testing.T) {
	js, err := ParseJudgments(bytes.NewReader(data.DevJudgments), "dev")
	if err != nil {
		t.Fatal(err)
	}
	if len(js) != 550 {
		t.Errorf("%d judgments, want 550", len(js))
	}
	bad := []struct{ name, in, want string }{
		{"not a list", `{"query":"a"}`, "f.json: json: cannot unmarshal object"},
		{"grade 3", `[{"query":"a","candidate":"b","grade":3}]`, "f.json: judgment 0: grade: 3 is not 0, 1 or 2"},
		{"empty candidate", `[{"query":"a","candidate":" ","grade":1}]`, "f.json: judgment 0: candidate: empty"},
		{"unknown field", `[{"query":"a","candidate":"b","grade":1,"score":2}]`, `unknown field "score"`},
	}
	for _, tt := range bad {
		_, err := ParseJudgments(strings.NewReader(tt.in), "f.json")
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestResolveAndScore(t *testing.T) {
	c, err := models.NewCorpus([]models.Paper{{ID: "q", Title: "Query  Paper"}, {ID: "a", Title: "A"}, {ID: "b", Title: "B"}})
	if err != nil {
		t.Fatal(err)
	}
	js := []Judgment{{Query: "query paper", Candidate: "A", Grade: 2}, {Query: "Query Paper", Candidate: "B", Grade: 0}}
	q, err := Resolve(js, c)
	if err != nil {
		t.Fatal(err)
	}
	if q["q"]["a"] != 2 || q["q"]["b"] != 0 {
		t.Errorf("qrels %v", q)
	}
	rep, err := Score(context.Background(), q, func(_ context.Context, id string, k int) ([]string, error) {
		return []string{"b", "a"}, nil
	}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if want := 1 / math.Log2(3); rep.Queries != 1 || math.Abs(rep.NDCG-want) > 1e-9 {
		t.Errorf("report %+v, want nDCG %.4f", rep, want)
	}
	if _, err := Resolve([]Judgment{{Query: "Missing", Candidate: "A"}}, c); err == nil || !strings.Contains(err.Error(), `query "Missing": no paper has this title`) {
		t.Errorf("unknown title: %v", err)
	}
}
