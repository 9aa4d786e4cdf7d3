package models

import (
	"errors"
	"fmt"
)

// ErrNotFound is returned when no paper has the requested ID.
var ErrNotFound = errors.New("paper not found")

// ParseError is a malformed record: where it is and what is wrong.
//
// A plain value.
type ParseError struct {
	File  string // the source's name, as given to the parser
	Line  int    // 1-based line of the offending text
	Field string // the field at fault ("title", "date", ...), or "" for the record as a whole
	Msg   string
}

// Error renders "FILE:LINE: field: what is wrong".
func (e *ParseError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Field, e.Msg)
}
