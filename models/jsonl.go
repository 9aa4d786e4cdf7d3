package models

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// jsonPaper is one JSON Lines record as written by users.
type jsonPaper struct {
	ID       *string         `json:"id"`
	Title    *string         `json:"title"`
	Abstract *string         `json:"abstract"`
	Authors  json.RawMessage `json:"authors"`
	Category *string         `json:"category"`
	Date     *string         `json:"date"`
	Keywords json.RawMessage `json:"keywords"`
}

// ParseJSONL reads one paper per line: a JSON object with "id", "title" and
// "abstract" (required, non-empty strings) and optionally "authors" (a list
// of names, or one string of names separated by commas, semicolons or
// " and "), "category" (any string), "date" (see [ParseDate]) and
// "keywords" (a list, or a string of phrases separated by commas or
// semicolons; a string without separators is kept whole in KeywordLine).
// Blank lines are skipped; unknown fields are ignored. IDs must be unique
// and pass [ValidateID].
func ParseJSONL(r io.Reader, file string, opt ParseOptions) (ParseResult, error) {
	var res ParseResult
	seen := map[string]int{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLineBytes)
	n := 0
	for sc.Scan() {
		n++
		line := bytes.TrimSpace(sc.Bytes())
		if n == 1 {
			line = bytes.TrimPrefix(line, []byte("\ufeff"))
		}
		if len(line) == 0 {
			continue
		}
		p, perr := decodeJSONPaper(line, file, n)
		if perr == nil {
			if first, dup := seen[p.ID]; dup {
				perr = &ParseError{File: file, Line: n, Field: "id", Msg: fmt.Sprintf("duplicate id %q (first at line %d)", p.ID, first)}
			} else {
				seen[p.ID] = n
			}
		}
		if perr != nil {
			if !opt.SkipInvalid {
				return res, perr
			}
			res.Skipped = append(res.Skipped, perr)
			continue
		}
		res.Papers = append(res.Papers, p)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return res, &ParseError{File: file, Line: n + 1, Msg: fmt.Sprintf("line longer than %d bytes", maxLineBytes)}
		}
		return res, fmt.Errorf("read %s: %w", file, err)
	}
	return res, nil
}

// DecodePaper reads one paper as a JSON Lines record (see [ParseJSONL]),
// validated the same way; a problem is a *ParseError naming file, line and
// field.
func DecodePaper(data []byte, file string, line int) (Paper, error) {
	p, err := decodeJSONPaper(data, file, line)
	if err != nil {
		return Paper{}, err
	}
	return p, nil
}

// decodeJSONPaper decodes and validates one line.
func decodeJSONPaper(line []byte, file string, n int) (Paper, *ParseError) {
	errAt := func(field, format string, args ...any) *ParseError {
		return &ParseError{File: file, Line: n, Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	if !utf8.Valid(line) {
		return Paper{}, errAt("", "invalid UTF-8")
	}
	var jp jsonPaper
	if err := json.Unmarshal(line, &jp); err != nil {
		var te *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
		case errors.As(err, &te) && te.Field != "":
			return Paper{}, errAt(te.Field, "want a %s, got %s", te.Type, te.Value)
		case errors.As(err, &te):
			return Paper{}, errAt("", "want a JSON object, got %s", te.Value)
		case errors.As(err, &se):
			return Paper{}, errAt("", "invalid JSON at byte %d: %v", se.Offset, err)
		}
		return Paper{}, errAt("", "invalid JSON: %v", err)
	}
	var p Paper
	for _, f := range []struct {
		name string
		v    *string
		dst  *string
	}{{"id", jp.ID, &p.ID}, {"title", jp.Title, &p.Title}, {"abstract", jp.Abstract, &p.Abstract}} {
		if f.v == nil {
			return Paper{}, errAt(f.name, "missing (required)")
		}
		*f.dst = strings.TrimSpace(*f.v)
		if *f.dst == "" {
			return Paper{}, errAt(f.name, "empty (required)")
		}
	}
	if err := ValidateID(p.ID); err != nil {
		return Paper{}, errAt("id", "%v", err)
	}
	p.Line = n
	var err error
	if p.Authors, err = stringList(jp.Authors, splitAuthors); err != nil {
		return Paper{}, errAt("authors", "%v", err)
	}
	if p.Keywords, err = stringList(jp.Keywords, splitKeywords); err != nil {
		return Paper{}, errAt("keywords", "%v", err)
	}
	if len(p.Keywords) == 1 && len(jp.Keywords) > 0 && jp.Keywords[0] == '"' && !strings.ContainsAny(p.Keywords[0], ",;") {
		// An undelimited keyphrase string, as in the listing: segment later.
		p.KeywordLine, p.Keywords = p.Keywords[0], nil
	}
	if jp.Category != nil {
		p.Category = Category(strings.TrimSpace(*jp.Category))
	}
	if jp.Date != nil {
		if p.Date, err = ParseDate(*jp.Date); err != nil {
			return Paper{}, errAt("date", "%v", err)
		}
	}
	return p, nil
}

// stringList decodes a list of strings, or one string split by split; null
// and absent give nil. Empty entries are dropped.
func stringList(raw json.RawMessage, split func(string) []string) ([]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var parts []string
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		parts = split(s)
	case '[':
		if err := json.Unmarshal(raw, &parts); err != nil {
			return nil, fmt.Errorf("want a list of strings: %v", err)
		}
	default:
		return nil, fmt.Errorf("want a string or a list of strings, got %s", clip(string(raw), 20))
	}
	out := parts[:0]
	for _, s := range parts {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

func splitAuthors(s string) []string {
	s = strings.ReplaceAll(s, " and ", ",")
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' })
}

func splitKeywords(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' })
}

// Parse reads a corpus in either format: JSON Lines when the first
// non-blank character is '{', the listing format otherwise.
func Parse(r io.Reader, file string, opt ParseOptions) (ParseResult, error) {
	br := bufio.NewReader(r)
	if looksJSONL(br) {
		return ParseJSONL(br, file, opt)
	}
	return ParseListing(br, file, opt)
}

// looksJSONL peeks past leading white space (and a byte-order mark) for a '{'.
func looksJSONL(br *bufio.Reader) bool {
	for size := 64; size <= 4096; size *= 4 {
		b, _ := br.Peek(size)
		t := bytes.TrimLeft(bytes.TrimPrefix(b, []byte("\ufeff")), " \t\r\n")
		if len(t) > 0 {
			return t[0] == '{'
		}
		if len(b) < size {
			return false
		}
	}
	return false
}
