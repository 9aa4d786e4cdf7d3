package models

import (
	"bytes"
	"errors"
	"os"
	"testing"
)

// checkResult holds the invariants every parse must keep, whatever the input.
func checkResult(t *testing.T, res ParseResult, err error) {
	t.Helper()
	var perr *ParseError
	if err != nil && !errors.As(err, &perr) {
		t.Fatalf("error is not a *ParseError: %v", err)
	}
	if perr != nil && perr.Line < 1 {
		t.Fatalf("error without a line: %v", perr)
	}
	for _, s := range res.Skipped {
		if s.Line < 1 {
			t.Fatalf("skipped record without a line: %v", s)
		}
	}
	if err != nil {
		return
	}
	if _, cerr := NewCorpus(res.Papers); cerr != nil {
		t.Fatalf("parsed papers do not make a corpus: %v", cerr)
	}
	for _, p := range res.Papers {
		if p.Title == "" || p.Abstract == "" {
			t.Fatalf("paper without title or abstract: %+v", p)
		}
	}
}

func FuzzParseListing(f *testing.F) {
	sample, _ := os.ReadFile("testdata/sample.txt")
	f.Add(sample)
	f.Add([]byte(listing(goodRecord, goodRecord)))
	f.Add([]byte("3 papers\n" + goodRecord))
	f.Add([]byte("Astrophysics Jan 2, 2025\nT\nA\n\xffB\nC\nD\nE"))
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, skip := range []bool{false, true} {
			res, err := ParseListing(bytes.NewReader(in), "f", ParseOptions{SkipInvalid: skip})
			checkResult(t, res, err)
			if skip && err != nil {
				t.Fatalf("SkipInvalid returned %v", err)
			}
		}
	})
}

func FuzzParseJSONL(f *testing.F) {
	f.Add([]byte(`{"id":"a","title":"T","abstract":"A","authors":["x"],"keywords":"k l","date":"2024"}`))
	f.Add([]byte("{\"id\":\"a\",\"title\":\"T\",\"abstract\":\"A\"}\n{\"id\":\"a\",\"title\":\"T\",\"abstract\":\"A\"}"))
	f.Add([]byte(`{"id":"a","title":"T","abstract":"A","authors":"x and y; z","category":null,"date":null}`))
	f.Add([]byte(`[{"id":1}]`))
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, skip := range []bool{false, true} {
			res, err := ParseJSONL(bytes.NewReader(in), "f", ParseOptions{SkipInvalid: skip})
			checkResult(t, res, err)
			if skip && err != nil {
				t.Fatalf("SkipInvalid returned %v", err)
			}
		}
	})
}
