package models

import (
	"cmp"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Date is a calendar date with optional precision: Month and Day are 0 when
// the source gave only a year or a year and month. The zero Date means
// unknown. Dates compare by [Date.Compare]; JSON renders "2026-03-02",
// "2026-03" or "2026".
//
// A plain value.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// IsZero reports whether the date is unknown.
func (d Date) IsZero() bool { return d.Year == 0 }

// String renders the date as ISO 8601 at its precision, or "" when unknown.
func (d Date) String() string {
	switch {
	case d.Year == 0:
		return ""
	case d.Month == 0:
		return fmt.Sprintf("%04d", d.Year)
	case d.Day == 0:
		return fmt.Sprintf("%04d-%02d", d.Year, int(d.Month))
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// Compare returns -1, 0 or +1 as d is before, equal to or after e. A missing
// month or day sorts before any given one of the same year or month.
func (d Date) Compare(e Date) int {
	a := [3]int{d.Year, int(d.Month), d.Day}
	b := [3]int{e.Year, int(e.Month), e.Day}
	for i := range a {
		switch {
		case a[i] < b[i]:
			return -1
		case a[i] > b[i]:
			return 1
		}
	}
	return 0
}

// CompareAtPrecision compares d and e at the coarser of their two
// precisions, as bounds of a range: "2024-05" and "2024" are equal (the
// month lies within the year), "2024-05-10" is after "2024-04". A range
// from d to e is empty only when d.CompareAtPrecision(e) > 0.
func (d Date) CompareAtPrecision(e Date) int {
	if d.Month == 0 || e.Month == 0 {
		return cmp.Compare(d.Year, e.Year)
	}
	if d.Day == 0 || e.Day == 0 {
		if c := cmp.Compare(d.Year, e.Year); c != 0 {
			return c
		}
		return cmp.Compare(int(d.Month), int(e.Month))
	}
	return d.Compare(e)
}

// MarshalJSON renders the date as a JSON string, null when unknown.
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(d.String())
}

// UnmarshalJSON accepts what [ParseDate] accepts, and null.
func (d *Date) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*d = Date{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("date must be a string: %w", err)
	}
	v, err := ParseDate(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// ParseDate reads "2026-03-02", "2026-03", "2026", an RFC 3339 timestamp, or
// the listing's "Mar 2, 2026". The empty string is the zero Date.
func ParseDate(s string) (Date, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Date{}, nil
	}
	for _, layout := range []string{"2006-01-02", time.RFC3339, "Jan 2, 2006", "January 2, 2006"} {
		if t, err := time.Parse(layout, s); err == nil {
			return Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}, nil
		}
	}
	if t, err := time.Parse("2006-01", s); err == nil {
		return Date{Year: t.Year(), Month: t.Month()}, nil
	}
	if len(s) == 4 {
		if y, err := strconv.Atoi(s); err == nil && y > 0 {
			return Date{Year: y}, nil
		}
	}
	return Date{}, fmt.Errorf("invalid date %q: want YYYY-MM-DD, YYYY-MM or YYYY", s)
}
