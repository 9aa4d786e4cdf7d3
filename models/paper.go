// Package models holds paperrec's domain: papers, their categories and dates,
// the corpus that indexes them by ID, and the parsers that read a corpus from
// the institute's listing format or from JSON Lines.
//
// It imports only the standard library; every other package builds on it.
package models

import (
	"strings"
)

// Category is a paper's research area, such as "Astrophysics". The
// institute's listing uses the four [ListingCategories]; a JSON Lines corpus
// may use any string, or none.
//
// A plain value.
type Category string

// The four areas of the institute's listing.
const (
	TheoreticalPhysics  Category = "Theoretical Physics"
	ExperimentalPhysics Category = "Experimental Physics"
	FoundationalAI      Category = "Foundational AI"
	Astrophysics        Category = "Astrophysics"
)

// ListingCategories are the areas a listing record may name, in the order the
// listing's header counts them.
var ListingCategories = []Category{TheoreticalPhysics, ExperimentalPhysics, FoundationalAI, Astrophysics}

// Paper is one research paper. A Paper is a value: copies share the Authors and
// Keywords slices, which no package modifies after the corpus is built.
type Paper struct {
	// ID is stable, unique within its corpus and URL-safe for listing corpora
	// (a slug of the title). JSON Lines corpora bring their own IDs.
	ID    string `json:"id"`
	Title string `json:"title"`
	// Authors as listed. The listing keeps at most three names and marks a cut
	// list with "et al.", recorded in AuthorsTruncated.
	Authors          []string `json:"authors"`
	AuthorsTruncated bool     `json:"authors_truncated,omitempty"`
	Category         Category `json:"category,omitempty"`
	Date             Date     `json:"date,omitzero"`
	Abstract         string   `json:"abstract,omitempty"`
	// Keywords are the paper's keyphrases. A listing's keyphrase line has no
	// delimiters, so the parser keeps it whole in KeywordLine and Keywords
	// stays empty until a segmenter (see package embed) recovers the phrases.
	Keywords    []string `json:"keywords,omitempty"`
	KeywordLine string   `json:"keyword_line,omitempty"`
	// Line is where the record starts in its source file (1-based), for messages.
	Line int `json:"-"`
}

// Year returns the publication year, or 0 when the date is unknown.
func (p Paper) Year() int { return p.Date.Year }

// KeywordText returns the keyphrases as one string for text analysis: the
// segmented Keywords joined by "; " when present, else the raw KeywordLine.
func (p Paper) KeywordText() string {
	if len(p.Keywords) > 0 {
		return strings.Join(p.Keywords, "; ")
	}
	return p.KeywordLine
}
