package models

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/paperrec/paperrec/internal/golden"
)

func TestParseListingSampleGolden(t *testing.T) {
	f, err := os.Open("testdata/sample.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := ParseListing(f, "sample.txt", ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.MarshalIndent(res.Papers, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "sample.golden.json", append(got, '\n'))
}

// TestParseBundledListing loads the real listing: all 574 papers, none twice,
// the header's counts per area, and IDs pinned by a golden file so that a
// change that renames papers (and breaks every link to them) is seen.
func TestParseBundledListing(t *testing.T) {
	f, err := os.Open("../data/iaifi-listing.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := ParseListing(f, "iaifi-listing.txt", ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Papers) != 574 {
		t.Fatalf("loaded %d papers, want 574", len(res.Papers))
	}
	counts := map[Category]int{}
	var ids bytes.Buffer
	noKeywords := 0
	for _, p := range res.Papers {
		counts[p.Category]++
		ids.WriteString(p.ID + "\n")
		if p.KeywordLine == "" {
			noKeywords++
		}
		if p.Title == "" || p.Abstract == "" || len(p.Authors) == 0 || p.Date.IsZero() {
			t.Errorf("line %d: incomplete paper %+v", p.Line, p)
		}
	}
	want := map[Category]int{TheoreticalPhysics: 150, ExperimentalPhysics: 70, FoundationalAI: 202, Astrophysics: 152}
	if diff := cmp.Diff(want, counts); diff != "" {
		t.Errorf("papers per category (-want +got):\n%s", diff)
	}
	if noKeywords != 1 {
		t.Errorf("%d papers without a keyphrase line, want 1", noKeywords)
	}
	if _, err := NewCorpus(res.Papers); err != nil {
		t.Errorf("NewCorpus: %v", err)
	}
	golden.Check(t, "listing-ids.golden", ids.Bytes())
}

// record builds a listing with one header and the given records.
func listing(records ...string) string {
	return "Header\n\n" + strings.Join(records, "\n\n") + "\n"
}

const goodRecord = "Astrophysics Jan 2, 2025\n\nA Title\n\nA. Author, B. Author et al.\n\nAn abstract.\n\nkey phrase"

func TestParseListingErrors(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		want    string
		reason  string
		skipped int // papers kept under SkipInvalid
	}{
		{
			name:    "unknown category",
			input:   listing(goodRecord, "Quantum Biology Jan 2, 2025\n\nT\n\nA\n\nAbs."),
			want:    `x.txt:13: category: unknown category "Quantum Biology": want one of "Theoretical Physics", "Experimental Physics", "Foundational AI", "Astrophysics"`,
			skipped: 1,
		},
		{
			name:    "impossible date",
			input:   listing("Astrophysics Feb 30, 2025\n\nT\n\nA\n\nAbs.", goodRecord),
			want:    `x.txt:3: date: invalid date "Feb 30, 2025": want YYYY-MM-DD, YYYY-MM or YYYY`,
			skipped: 1,
		},
		{
			name:    "missing abstract",
			input:   listing("Astrophysics Jan 2, 2025\n\nT\n\nA. Author"),
			want:    "x.txt:7: abstract: missing after the authors",
			skipped: 0,
		},
		{
			name:    "missing authors",
			input:   listing("Astrophysics Jan 2, 2025\n\nT"),
			want:    "x.txt:5: authors: missing after the title",
			skipped: 0,
		},
		{
			name:    "empty record",
			input:   listing("Astrophysics Jan 2, 2025", goodRecord),
			want:    "x.txt:3: title: record has no title, authors or abstract",
			skipped: 1,
		},
		{
			name:    "abstract where the authors belong",
			input:   listing("Astrophysics Jan 2, 2025\n\nT\n\nWe study the formation of galaxies in a large simulation of the universe.\n\nkey phrase"),
			want:    `x.txt:7: authors: "We study the formation of galaxies in a …" does not look like a name (13 words): is the authors line missing?`,
			reason:  "a record that lost its authors line would otherwise load the abstract as authors",
			skipped: 0,
		},
		{
			name:    "malformed header swallowed into the previous record",
			input:   listing(goodRecord, "Astrophysics January 2025\n\nT2\n\nB. Author\n\nAbs."),
			want:    "x.txt:13: unexpected text after the keyphrase line (a record header missing or malformed?)",
			reason:  "under SkipInvalid the good record before the broken header is kept",
			skipped: 1,
		},
		{
			name:    "duplicate title",
			input:   listing(goodRecord, goodRecord),
			want:    "x.txt:13: title: duplicate of the record at line 3",
			skipped: 1,
		},
		{
			name:    "header count mismatch",
			input:   "2 papers 2 Astrophysics\n\n" + goodRecord + "\n",
			want:    "x.txt:1: header declares 2 papers, found 1 records",
			reason:  "a record lost without any other symptom is still caught",
			skipped: 1,
		},
		{
			name:    "invalid UTF-8",
			input:   listing(goodRecord, "Astrophysics Jan 3, 2025\n\nT\xff\n\nA\n\nAbs."),
			want:    "x.txt:13: invalid UTF-8 at line 15",
			skipped: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseListing(strings.NewReader(tt.input), "x.txt", ParseOptions{})
			var perr *ParseError
			if !errors.As(err, &perr) {
				t.Fatalf("err = %v, want a *ParseError", err)
			}
			if err.Error() != tt.want {
				t.Errorf("err =\n  %s\nwant\n  %s", err, tt.want)
			}
			res, err := ParseListing(strings.NewReader(tt.input), "x.txt", ParseOptions{SkipInvalid: true})
			if err != nil {
				t.Fatalf("SkipInvalid: %v", err)
			}
			if len(res.Papers) != tt.skipped {
				t.Errorf("SkipInvalid kept %d papers, want %d", len(res.Papers), tt.skipped)
			}
			if tt.name != "header count mismatch" && len(res.Skipped) == 0 {
				t.Errorf("SkipInvalid reported nothing skipped")
			}
		})
	}
}

func TestParseListingSkipInvalidReportsEachRecord(t *testing.T) {
	in := listing(goodRecord,
		"Quantum Biology Jan 2, 2025\n\nT\n\nA\n\nAbs.",
		strings.Replace(goodRecord, "A Title", "Another Title", 1),
		"Astrophysics Jan 2, 2025\n\nT3")
	res, err := ParseListing(strings.NewReader(in), "x.txt", ParseOptions{SkipInvalid: true})
	if err != nil {
		t.Fatal(err)
	}
	var titles []string
	for _, p := range res.Papers {
		titles = append(titles, p.Title)
	}
	if diff := cmp.Diff([]string{"A Title", "Another Title"}, titles); diff != "" {
		t.Errorf("kept (-want +got):\n%s", diff)
	}
	var lines []int
	for _, e := range res.Skipped {
		lines = append(lines, e.Line)
	}
	if diff := cmp.Diff([]int{13, 33}, lines); diff != "" {
		t.Errorf("skipped lines (-want +got):\n%s", diff)
	}
}

func TestParseJSONL(t *testing.T) {
	in := `{"id":"p1","title":"One","abstract":"First.","authors":["A","B"],"category":"Astrophysics","date":"2024-05-01","keywords":["dark matter","lensing"]}

{"id":"p/2","title":"Two","abstract":"Second.","authors":"C, D and E","date":"2023","keywords":"galaxy formation; cosmology","extra":1}
{"id":"p3","title":"Three","abstract":"Third.","keywords":"neural networks symmetry preservation"}
`
	res, err := ParseJSONL(strings.NewReader(in), "c.jsonl", ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []Paper{
		{ID: "p1", Title: "One", Abstract: "First.", Authors: []string{"A", "B"}, Category: Astrophysics,
			Date: Date{2024, 5, 1}, Keywords: []string{"dark matter", "lensing"}, Line: 1},
		{ID: "p/2", Title: "Two", Abstract: "Second.", Authors: []string{"C", "D", "E"},
			Date: Date{Year: 2023}, Keywords: []string{"galaxy formation", "cosmology"}, Line: 3},
		{ID: "p3", Title: "Three", Abstract: "Third.", KeywordLine: "neural networks symmetry preservation", Line: 4},
	}
	if diff := cmp.Diff(want, res.Papers); diff != "" {
		t.Errorf("papers (-want +got):\n%s", diff)
	}
}

func TestParseJSONLErrors(t *testing.T) {
	tests := []struct {
		name, line, want string
	}{
		{"missing id", `{"title":"T","abstract":"A"}`, "c.jsonl:2: id: missing (required)"},
		{"empty title", `{"id":"x","title":" ","abstract":"A"}`, "c.jsonl:2: title: empty (required)"},
		{"missing abstract", `{"id":"x","title":"T"}`, "c.jsonl:2: abstract: missing (required)"},
		{"title not a string", `{"id":"x","title":7,"abstract":"A"}`, "c.jsonl:2: title: want a string, got number"},
		{"bad date", `{"id":"x","title":"T","abstract":"A","date":"yesterday"}`, `c.jsonl:2: date: invalid date "yesterday": want YYYY-MM-DD, YYYY-MM or YYYY`},
		{"authors object", `{"id":"x","title":"T","abstract":"A","authors":{"a":1}}`, `c.jsonl:2: authors: want a string or a list of strings, got {"a":1}`},
		{"id with space", `{"id":"a b","title":"T","abstract":"A"}`, `c.jsonl:2: id: id "a b" holds white space or a control character`},
		{"duplicate id", `{"id":"ok","title":"T","abstract":"A"}`, `c.jsonl:2: id: duplicate id "ok" (first at line 1)`},
		{"not an object", `[1,2]`, "c.jsonl:2: want a JSON object, got array"},
		{"syntax", `{"id":"x",`, "c.jsonl:2: invalid JSON at byte 10: unexpected end of JSON input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := `{"id":"ok","title":"Good","abstract":"Fine."}` + "\n" + tt.line + "\n" + `{"id":"ok2","title":"Good 2","abstract":"Fine."}` + "\n"
			_, err := ParseJSONL(strings.NewReader(in), "c.jsonl", ParseOptions{})
			if err == nil || err.Error() != tt.want {
				t.Errorf("err =\n  %v\nwant\n  %s", err, tt.want)
			}
			res, err := ParseJSONL(strings.NewReader(in), "c.jsonl", ParseOptions{SkipInvalid: true})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Papers) != 2 || len(res.Skipped) != 1 || res.Skipped[0].Line != 2 {
				t.Errorf("SkipInvalid: kept %d, skipped %v; want 2 kept and line 2 skipped", len(res.Papers), res.Skipped)
			}
		})
	}
}

func TestParseSniffsFormat(t *testing.T) {
	res, err := Parse(strings.NewReader("\n  {\"id\":\"a\",\"title\":\"T\",\"abstract\":\"A\"}\n"), "c", ParseOptions{})
	if err != nil || len(res.Papers) != 1 || res.Papers[0].ID != "a" {
		t.Errorf("JSON Lines: %v, %+v", err, res.Papers)
	}
	res, err = Parse(strings.NewReader(listing(goodRecord)), "c", ParseOptions{})
	if err != nil || len(res.Papers) != 1 || res.Papers[0].ID != "a-title" {
		t.Errorf("listing: %v, %+v", err, res.Papers)
	}
}

func TestSlug(t *testing.T) {
	tests := []struct{ title, want string }{
		{"Naturalness and Fisher Information", "naturalness-and-fisher-information"},
		{"Schrödinger's Λ-CDM: a $\\mathcal{F}_{ij}$ test", "schrodingers-lambda-cdm-a-mathcal-f-ij-test"},
		{"E(3)-equivariant   networks!!", "e-3-equivariant-networks"},
		{"", "paper"},
		{"$$$", "paper"},
		{strings.Repeat("word ", 30), "word-word-word-word-word-word-word-word-word-word-word-word-word-word-word-word"},
	}
	for _, tt := range tests {
		if got := Slug(tt.title); got != tt.want {
			t.Errorf("Slug(%q) = %q, want %q", tt.title, got, tt.want)
		}
		if err := ValidateID(Slug(tt.title)); err != nil {
			t.Errorf("Slug(%q) is not a valid ID: %v", tt.title, err)
		}
	}
}

func TestAssignIDsCollisions(t *testing.T) {
	papers := []Paper{{Title: "Same"}, {Title: "same!"}, {ID: "same-2", Title: "Other"}, {Title: "Same"}}
	AssignIDs(papers)
	var got []string
	for _, p := range papers {
		got = append(got, p.ID)
	}
	if diff := cmp.Diff([]string{"same", "same-3", "same-2", "same-4"}, got); diff != "" {
		t.Errorf("IDs (-want +got):\n%s", diff)
	}
}

func TestCorpus(t *testing.T) {
	c, err := NewCorpus([]Paper{{ID: "a", Title: "A"}, {ID: "b", Title: "B"}})
	if err != nil {
		t.Fatal(err)
	}
	if p, err := c.Paper("b"); err != nil || p.Title != "B" {
		t.Errorf("Paper(b) = %+v, %v", p, err)
	}
	if _, err := c.Paper("zz"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Paper(zz) err = %v, want ErrNotFound", err)
	}
	if _, err := NewCorpus([]Paper{{ID: "a"}, {ID: "a"}}); err == nil {
		t.Error("duplicate IDs accepted")
	}
	if _, err := NewCorpus([]Paper{{ID: ""}}); err == nil {
		t.Error("empty ID accepted")
	}
}

func TestDate(t *testing.T) {
	tests := []struct {
		in   string
		want Date
		json string
	}{
		{"2026-03-02", Date{2026, 3, 2}, `"2026-03-02"`},
		{"Mar 2, 2026", Date{2026, 3, 2}, `"2026-03-02"`},
		{"2026-03", Date{Year: 2026, Month: 3}, `"2026-03"`},
		{"2026", Date{Year: 2026}, `"2026"`},
		{"2026-03-02T10:00:00Z", Date{2026, 3, 2}, `"2026-03-02"`},
		{"", Date{}, `null`},
	}
	for _, tt := range tests {
		got, err := ParseDate(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseDate(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
		b, _ := json.Marshal(got)
		if string(b) != tt.json {
			t.Errorf("json(%v) = %s, want %s", got, b, tt.json)
		}
		var back Date
		if err := json.Unmarshal(b, &back); err != nil || back != got {
			t.Errorf("round trip %s = %v, %v", b, back, err)
		}
	}
	if (Date{Year: 2025}).Compare(Date{2025, 1, 1}) != -1 || (Date{2025, 2, 1}).Compare(Date{2025, 1, 30}) != 1 {
		t.Error("Compare order wrong")
	}
}

func TestCompareAtPrecision(t *testing.T) {
	tests := []struct {
		name   string
		d, e   Date
		want   int
		reason string
	}{
		{name: "month within its year", d: Date{Year: 2024, Month: 5}, e: Date{Year: 2024}, want: 0,
			reason: "from=2024-05&to=2024 is a valid range: the year bound includes May"},
		{name: "year around a day", d: Date{Year: 2024}, e: Date{2024, 12, 31}, want: 0},
		{name: "day within its month", d: Date{2024, 5, 10}, e: Date{Year: 2024, Month: 5}, want: 0},
		{name: "later month", d: Date{2024, 5, 10}, e: Date{Year: 2024, Month: 4}, want: 1},
		{name: "earlier year", d: Date{Year: 2023, Month: 12}, e: Date{Year: 2024}, want: -1},
		{name: "later year", d: Date{Year: 2025}, e: Date{Year: 2024, Month: 12}, want: 1},
		{name: "days", d: Date{2024, 5, 10}, e: Date{2024, 5, 9}, want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.d.CompareAtPrecision(tt.e); got != tt.want {
				t.Errorf("%v.CompareAtPrecision(%v) = %d, want %d %s", tt.d, tt.e, got, tt.want, tt.reason)
			}
		})
	}
}

// TestParseListingCountWarning checks that a listing cut short loads under
// SkipInvalid with a warning that gives both counts, and fails without it.
func TestParseListingCountWarning(t *testing.T) {
	in := "3 papers\n\n" + goodRecord + "\n\n" + strings.Replace(goodRecord, "A Title", "Another Title", 1) + "\n"
	if _, err := ParseListing(strings.NewReader(in), "x.txt", ParseOptions{}); err == nil || !strings.Contains(err.Error(), "header declares 3 papers, found 2 records") {
		t.Errorf("full load: err = %v", err)
	}
	res, err := ParseListing(strings.NewReader(in), "x.txt", ParseOptions{SkipInvalid: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Papers) != 2 || len(res.Warnings) != 1 || res.Warnings[0].Error() != "x.txt:1: header declares 3 papers, loaded 2 (0 records skipped)" {
		t.Errorf("%d papers, warnings %v", len(res.Papers), res.Warnings)
	}
	whole := strings.Replace(in, "3 papers", "2 papers", 1)
	if res, err := ParseListing(strings.NewReader(whole), "x.txt", ParseOptions{SkipInvalid: true}); err != nil || len(res.Warnings) != 0 {
		t.Errorf("a whole listing: err %v, warnings %v", err, res.Warnings)
	}
}
