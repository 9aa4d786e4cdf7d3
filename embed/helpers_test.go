package embed

import (
	"bytes"
	"math"
	"os"
	"strconv"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/paperrec/paperrec/data"
	"github.com/paperrec/paperrec/models"
)

// bundled is the bundled listing, parsed once.
var bundled = sync.OnceValues(func() ([]models.Paper, error) {
	res, err := models.ParseListing(bytes.NewReader(data.Listing), data.ListingName, models.ParseOptions{})
	return res.Papers, err
})

// bundledPapers returns the papers of the bundled listing.
func bundledPapers(tb testing.TB) []models.Paper {
	tb.Helper()
	papers, err := bundled()
	if err != nil {
		tb.Fatalf("parse bundled listing: %v", err)
	}
	if len(papers) < 500 {
		tb.Fatalf("bundled listing has %d papers, want 574", len(papers))
	}
	return papers
}

// bundledLines returns the non-empty keyphrase lines of the bundled listing, in order.
func bundledLines(tb testing.TB) []string {
	tb.Helper()
	var lines []string
	for _, p := range bundledPapers(tb) {
		if p.KeywordLine != "" {
			lines = append(lines, p.KeywordLine)
		}
	}
	return lines
}

// bundledPhraseDocs returns the keyphrase lines of the bundled papers with
// their titles and abstracts, in order.
func bundledPhraseDocs(papers []models.Paper) []PhraseDoc {
	docs := make([]PhraseDoc, len(papers))
	for i, p := range papers {
		docs[i] = PhraseDoc{Line: p.KeywordLine, Title: p.Title, Abstract: p.Abstract}
	}
	return docs
}

// bundledPhrases is LearnPhrases over the bundled papers with the default
// configuration, learned once.
var bundledPhrases = sync.OnceValue(func() *Phrases {
	papers, err := bundled()
	if err != nil {
		return nil
	}
	return LearnPhrases(bundledPhraseDocs(papers), PhraseConfig{})
})

// bundledDocs returns the bundled papers as documents, keyphrase lines
// segmented with the phrases learned from the corpus (as recommend does).
func bundledDocs(tb testing.TB) []Document {
	tb.Helper()
	papers := bundledPapers(tb)
	ph := bundledPhrases()
	docs := make([]Document, len(papers))
	for i, p := range papers {
		docs[i] = Document{Title: p.Title, Abstract: p.Abstract, Keywords: ph.SegmentDoc(PhraseDoc{Line: p.KeywordLine, Title: p.Title, Abstract: p.Abstract})}
	}
	return docs
}

// approx compares floats within an absolute tolerance.
func approx(tol float64) cmp.Option {
	return cmp.Comparer(func(a, b float64) bool { return math.Abs(a-b) <= tol })
}

// approx32 compares float32s within an absolute tolerance.
func approx32(tol float64) cmp.Option {
	return cmp.Comparer(func(a, b float32) bool { return math.Abs(float64(a)-float64(b)) <= tol })
}

// norm32 returns the Euclidean norm of a dense vector.
func norm32(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

// terms returns the Term of each token.
func terms(toks []Token) []string {
	out := make([]string, len(toks))
	for i, t := range toks {
		out[i] = t.Term
	}
	return out
}

// bug skips a test that documents a known bug of the package, with "BUG: "
// and the description; set EMBED_BUGS=1 to run such tests and watch them fail.
func bug(t *testing.T, desc string) {
	t.Helper()
	if os.Getenv("EMBED_BUGS") == "" {
		t.Skip("BUG: " + desc)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
