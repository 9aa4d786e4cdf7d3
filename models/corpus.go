package models

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxIDLen bounds a paper ID from a JSON Lines corpus.
const maxIDLen = 256

// Corpus is an immutable set of papers indexed by ID. Safe for concurrent use.
type Corpus struct {
	papers []Paper
	byID   map[string]int
}

// NewCorpus indexes papers by ID. Every paper needs a valid, unique ID (see
// [ValidateID] and [AssignIDs]). The corpus keeps the slice: callers must not
// modify it afterwards.
func NewCorpus(papers []Paper) (*Corpus, error) {
	byID := make(map[string]int, len(papers))
	for i, p := range papers {
		if err := ValidateID(p.ID); err != nil {
			return nil, fmt.Errorf("paper %d (%q): %w", i, p.Title, err)
		}
		if j, dup := byID[p.ID]; dup {
			return nil, fmt.Errorf("duplicate id %q: papers %d and %d", p.ID, j, i)
		}
		byID[p.ID] = i
	}
	return &Corpus{papers: papers, byID: byID}, nil
}

// Len returns the number of papers.
func (c *Corpus) Len() int { return len(c.papers) }

// Papers returns the papers in corpus order. The slice is shared: read only.
func (c *Corpus) Papers() []Paper { return c.papers }

// At returns the i-th paper in corpus order.
func (c *Corpus) At(i int) Paper { return c.papers[i] }

// Index returns the position of the paper with this ID.
func (c *Corpus) Index(id string) (int, bool) {
	i, ok := c.byID[id]
	return i, ok
}

// Paper returns the paper with this ID, or an error wrapping [ErrNotFound].
func (c *Corpus) Paper(id string) (Paper, error) {
	i, ok := c.byID[id]
	if !ok {
		return Paper{}, fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	return c.papers[i], nil
}

// ValidateID checks that an ID can name a paper in a URL path segment once
// escaped: non-empty, valid UTF-8, at most 256 bytes, no white space or
// control characters.
func ValidateID(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("empty id")
	case len(id) > maxIDLen:
		return fmt.Errorf("id longer than %d bytes", maxIDLen)
	case !utf8.ValidString(id):
		return fmt.Errorf("id is not valid UTF-8")
	case strings.IndexFunc(id, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		return fmt.Errorf("id %q holds white space or a control character", id)
	}
	return nil
}
