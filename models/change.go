package models

import (
	"errors"
	"fmt"
	"time"
)

// ErrExists is returned when a paper to add has the ID of one already there.
var ErrExists = errors.New("paper already exists")

// Op is what a [Change] does to a corpus.
//
// A plain value.
type Op uint8

// Operations.
const (
	// OpAdd adds a paper whose ID is new.
	OpAdd Op = iota + 1
	// OpPut adds a paper, or replaces the paper with its ID.
	OpPut
	// OpRemove removes the paper with the ID.
	OpRemove
)

// String names the operation as logs and change tables spell it.
func (o Op) String() string {
	switch o {
	case OpAdd:
		return "add"
	case OpPut:
		return "put"
	case OpRemove:
		return "remove"
	}
	return fmt.Sprintf("Op(%d)", uint8(o))
}

// ParseOp reads the name [Op.String] gives.
func ParseOp(s string) (Op, error) {
	for _, o := range []Op{OpAdd, OpPut, OpRemove} {
		if s == o.String() {
			return o, nil
		}
	}
	return 0, fmt.Errorf("unknown operation %q: want add, put or remove", s)
}

// Change is one edit of a live corpus, as a change log records it.
//
// A plain value.
type Change struct {
	// Seq numbers the change in the log that holds it, from 1; 0 before a
	// log has numbered it.
	Seq uint64
	Op  Op
	// ID names the paper; for OpAdd and OpPut it is Paper.ID.
	ID    string
	Paper Paper
	// Time is when the log took the change.
	Time time.Time
}

// Check reports what makes a change malformed, as a *ParseError whose
// Field names the part at fault.
func (c Change) Check() error {
	bad := func(field, format string, args ...any) error {
		return &ParseError{File: "change", Line: 1, Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	switch c.Op {
	case OpAdd, OpPut:
		if c.Paper.ID != c.ID {
			return bad("id", "the change names %q but its paper is %q", c.ID, c.Paper.ID)
		}
		if c.Paper.Title == "" {
			return bad("title", "empty (required)")
		}
	case OpRemove:
	default:
		return bad("op", "unknown operation %d", c.Op)
	}
	if err := ValidateID(c.ID); err != nil {
		return bad("id", "%v", err)
	}
	return nil
}

// ChangeError is the change of a batch that could not be made; nothing of
// the batch was. Errors.Is sees through it to [ErrExists], [ErrNotFound] or
// a *ParseError.
//
// A plain value.
type ChangeError struct {
	// Index is the change's place in its batch, from 0.
	Index int
	ID    string
	Err   error
}

func (e *ChangeError) Error() string {
	return fmt.Sprintf("change %d (%s): %v", e.Index, e.ID, e.Err)
}

func (e *ChangeError) Unwrap() error { return e.Err }
