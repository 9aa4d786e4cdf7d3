package recommend

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/paperrec/paperrec/models"
)

// Filter narrows results. The zero value accepts every paper.
type Filter struct {
	// Categories accepts papers in any of these areas (all when empty).
	Categories []models.Category
	// From and To bound the publication date, inclusive; a zero bound is open.
	// A paper without a date passes only when both bounds are open.
	From, To models.Date
	// Exclude names papers never to return.
	Exclude []string
}

// acceptFunc compiles a filter into a predicate over corpus positions.
// Unknown excluded IDs are ignored: excluding nothing is not an error.
func (s *Service) acceptFunc(f Filter) (func(uint32) bool, error) {
	if !f.From.IsZero() && !f.To.IsZero() && f.From.CompareAtPrecision(f.To) > 0 {
		return nil, &InvalidArgumentError{Param: "from", Msg: fmt.Sprintf("%s is after to=%s", f.From, f.To)}
	}
	cats := map[models.Category]bool{}
	for _, c := range f.Categories {
		if !s.categories[c] {
			var names []string
			for _, k := range s.Categories() {
				names = append(names, strconv.Quote(string(k)))
			}
			return nil, &InvalidArgumentError{Param: "category", Msg: fmt.Sprintf("unknown category %q: want one of %s", c, strings.Join(names, ", "))}
		}
		cats[c] = true
	}
	excluded := map[uint32]bool{}
	for _, id := range f.Exclude {
		if i, ok := s.lookup(id); ok {
			excluded[uint32(i)] = true
		}
	}
	return func(key uint32) bool {
		if !s.isLive(key) {
			return false
		}
		p := &s.st.Papers[key]
		if excluded[key] || (len(cats) > 0 && !cats[p.Category]) {
			return false
		}
		if f.From.IsZero() && f.To.IsZero() {
			return true
		}
		if p.Date.IsZero() {
			return false
		}
		if !f.From.IsZero() && p.Date.Compare(f.From) < 0 {
			return false
		}
		return f.To.IsZero() || !after(p.Date, f.To)
	}, nil
}

// after reports whether d falls after the bound to, where a bound at
// year or month precision includes the whole year or month.
func after(d, to models.Date) bool {
	switch {
	case to.Month == 0:
		return d.Year > to.Year
	case to.Day == 0:
		return d.Year > to.Year || (d.Year == to.Year && d.Month > to.Month)
	}
	return d.Compare(to) > 0
}
