package models

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ParseOptions control the parsers. The zero value stops at the first
// malformed record.
type ParseOptions struct {
	// SkipInvalid loads every good record and reports each malformed one in
	// [ParseResult.Skipped], instead of stopping at the first.
	SkipInvalid bool
}

// ParseResult is what a parser loaded.
//
// A plain value, owned by the caller.
type ParseResult struct {
	Papers []Paper
	// Skipped holds one error per record left out under SkipInvalid, in file order.
	Skipped []*ParseError
	// Warnings hold what a load under SkipInvalid let pass but should not
	// go unsaid: a listing header that declares another count of papers
	// than were loaded (a file cut short).
	Warnings []*ParseError
}

// maxLineBytes bounds one line of input; a longer line is an error, not an
// out-of-memory.
const maxLineBytes = 4 << 20

var (
	// recordHeader matches "<Category> <Mon> <D>, <YYYY>", the start of a
	// listing record. The category part is checked against ListingCategories
	// separately so that an unknown area is reported, not read as text.
	recordHeader = regexp.MustCompile(`^([A-Z][A-Za-z]*(?: [A-Za-z][A-Za-z]*){0,4}) ([A-Z][a-z]{2}) ([0-9]{1,2}), ([0-9]{4})$`)
	// countHeader matches the page header "574 papers 150 Theoretical Physics ...".
	countHeader = regexp.MustCompile(`^([0-9]+) papers?\b`)
)

// sectionMarkers are lines of the page that are not part of any record.
var sectionMarkers = map[string]bool{"Latest": true, "All Posts": true}

var months = map[string]bool{"Jan": true, "Feb": true, "Mar": true, "Apr": true, "May": true, "Jun": true,
	"Jul": true, "Aug": true, "Sep": true, "Oct": true, "Nov": true, "Dec": true}

// listingLine is one non-blank line of a record with its line number.
type listingLine struct {
	n    int
	text string
}

// listingRecord is a record as read, before validation.
type listingRecord struct {
	line     int
	category string
	date     string
	body     []listingLine
}

// ParseListing reads the institute's listing: a page header, then records
// that each start with a line "<Category> <Mon> <D>, <YYYY>" followed by
// non-blank lines holding the title, the authors ("A, B, C et al."), the
// abstract and, except in rare records, the keyphrase line. The section
// markers "Latest" and "All Posts" are skipped. When the header declares a
// count ("574 papers"), a full load must find exactly that many records.
//
// Papers get slug IDs (see [AssignIDs]); KeywordLine holds the raw keyphrase
// line. file names the source in errors, which are *[ParseError] values
// ("FILE:LINE: field: what is wrong") unless reading itself failed.
func ParseListing(r io.Reader, file string, opt ParseOptions) (ParseResult, error) {
	var (
		res       ParseResult
		cur       *listingRecord
		declared  = -1
		declLine  int
		titleLine = map[string]int{}
		n         int
	)
	flush := func() error {
		if cur == nil {
			return nil
		}
		rec := cur
		cur = nil
		if len(rec.body) > 4 && opt.SkipInvalid {
			// Text after the keyphrase line is most likely a record whose
			// header is malformed: report it and keep the good record before it.
			res.Skipped = append(res.Skipped, &ParseError{File: file, Line: rec.body[4].n,
				Msg: fmt.Sprintf("%d unexpected lines after the keyphrase line of the record at line %d (a record header missing or malformed?)", len(rec.body)-4, rec.line)})
			rec.body = rec.body[:4]
		}
		p, perr := rec.paper(file)
		if perr == nil {
			key := strings.ToLower(p.Title)
			if first, dup := titleLine[key]; dup {
				perr = &ParseError{File: file, Line: rec.line, Field: "title",
					Msg: fmt.Sprintf("duplicate of the record at line %d", first)}
			} else {
				titleLine[key] = rec.line
			}
		}
		if perr != nil {
			if !opt.SkipInvalid {
				return perr
			}
			res.Skipped = append(res.Skipped, perr)
			return nil
		}
		res.Papers = append(res.Papers, p)
		return nil
	}
	// fail reports a problem outside a well-formed record: fatal, or under
	// SkipInvalid recorded while the surrounding record is dropped.
	fail := func(perr *ParseError) error {
		if !opt.SkipInvalid {
			return perr
		}
		res.Skipped = append(res.Skipped, perr)
		return nil
	}

	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLineBytes)
	for sc.Scan() {
		n++
		raw := sc.Text()
		if n == 1 {
			raw = strings.TrimPrefix(raw, "\ufeff")
		}
		if !utf8.ValidString(raw) {
			perr := &ParseError{File: file, Line: n, Msg: "invalid UTF-8"}
			if cur != nil {
				perr.Line = cur.line
				perr.Msg = fmt.Sprintf("invalid UTF-8 at line %d", n)
				cur = nil
			}
			if err := fail(perr); err != nil {
				return res, err
			}
			continue
		}
		line := strings.TrimSpace(raw)
		switch {
		case line == "":
			continue
		case sectionMarkers[line]:
			if err := flush(); err != nil {
				return res, err
			}
			continue
		}
		if m := recordHeader.FindStringSubmatch(line); m != nil && months[m[2]] {
			if err := flush(); err != nil {
				return res, err
			}
			cur = &listingRecord{line: n, category: m[1], date: m[2] + " " + m[3] + ", " + m[4]}
			continue
		}
		if cur == nil {
			// Page header: remember a declared count, ignore the rest.
			if m := countHeader.FindStringSubmatch(line); m != nil && declared < 0 {
				declared, _ = strconv.Atoi(m[1])
				declLine = n
			}
			continue
		}
		cur.body = append(cur.body, listingLine{n: n, text: line})
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return res, &ParseError{File: file, Line: n + 1, Msg: fmt.Sprintf("line longer than %d bytes", maxLineBytes)}
		}
		return res, fmt.Errorf("read %s: %w", file, err)
	}
	if err := flush(); err != nil {
		return res, err
	}
	if declared >= 0 && declared != len(res.Papers) {
		if !opt.SkipInvalid {
			return res, &ParseError{File: file, Line: declLine,
				Msg: fmt.Sprintf("header declares %d papers, found %d records", declared, len(res.Papers))}
		}
		res.Warnings = append(res.Warnings, &ParseError{File: file, Line: declLine,
			Msg: fmt.Sprintf("header declares %d papers, loaded %d (%d records skipped)", declared, len(res.Papers), len(res.Skipped))})
	}
	AssignIDs(res.Papers)
	return res, nil
}

// paper validates a record and builds its Paper.
func (rec *listingRecord) paper(file string) (Paper, *ParseError) {
	errAt := func(line int, field, format string, args ...any) *ParseError {
		return &ParseError{File: file, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	cat := Category(rec.category)
	known := false
	for _, c := range ListingCategories {
		known = known || c == cat
	}
	if !known {
		return Paper{}, errAt(rec.line, "category", "unknown category %q: want one of %s", rec.category, categoryList())
	}
	date, err := ParseDate(rec.date)
	if err != nil {
		return Paper{}, errAt(rec.line, "date", "%v", err)
	}
	switch b := rec.body; {
	case len(b) == 0:
		return Paper{}, errAt(rec.line, "title", "record has no title, authors or abstract")
	case len(b) == 1:
		return Paper{}, errAt(b[0].n, "authors", "missing after the title")
	case len(b) == 2:
		return Paper{}, errAt(b[1].n, "abstract", "missing after the authors")
	case len(b) > 4:
		return Paper{}, errAt(b[4].n, "", "unexpected text after the keyphrase line (a record header missing or malformed?)")
	}
	p := Paper{Title: rec.body[0].text, Category: cat, Date: date, Abstract: rec.body[2].text, Line: rec.line}
	if len(rec.body) == 4 {
		p.KeywordLine = rec.body[3].text
	}
	authors, truncated, msg := parseAuthors(rec.body[1].text)
	if msg != "" {
		return Paper{}, errAt(rec.body[1].n, "authors", "%s", msg)
	}
	p.Authors, p.AuthorsTruncated = authors, truncated
	return p, nil
}

// maxNameWords bounds one author name: a longer "name" means the authors
// line is missing and an abstract stands in its place.
const maxNameWords = 8

// parseAuthors splits "A, B, C et al." into names and whether the list was
// cut. It returns a message when the line does not look like names.
func parseAuthors(line string) (names []string, truncated bool, msg string) {
	line, truncated = strings.CutSuffix(line, "et al.")
	if !truncated {
		line, truncated = strings.CutSuffix(line, "et al")
	}
	line = strings.TrimRight(strings.TrimSpace(line), ",")
	for part := range strings.SplitSeq(line, ",") {
		name := strings.TrimSpace(part)
		if name == "" {
			continue
		}
		if words := len(strings.Fields(name)); words > maxNameWords {
			return nil, false, fmt.Sprintf("%q does not look like a name (%d words): is the authors line missing?", clip(name, 40), words)
		}
		names = append(names, name)
	}
	if len(names) == 0 {
		return nil, false, "no names"
	}
	return names, truncated, ""
}

func categoryList() string {
	s := make([]string, len(ListingCategories))
	for i, c := range ListingCategories {
		s[i] = strconv.Quote(string(c))
	}
	return strings.Join(s, ", ")
}

// clip shortens s to at most n runes for messages.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}
