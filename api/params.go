package api

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/paperrec/paperrec/models"
	"github.com/paperrec/paperrec/recommend"
)

// intParam reads an integer query parameter, def when absent.
func intParam(c *gin.Context, name string, def int) (int, error) {
	v, ok := c.GetQuery(name)
	if !ok || v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return 0, &paramError{name, fmt.Sprintf("%q is not an integer", v)}
	}
	return n, nil
}

// floatParam reads a number query parameter, def when absent.
func floatParam(c *gin.Context, name string, def float64) (float64, error) {
	v, ok := c.GetQuery(name)
	if !ok || v == "" {
		return def, nil
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil {
		return 0, &paramError{name, fmt.Sprintf("%q is not a number", v)}
	}
	return f, nil
}

// dateParam reads a date query parameter: YYYY, YYYY-MM or YYYY-MM-DD.
func dateParam(c *gin.Context, name string) (models.Date, error) {
	v := c.Query(name)
	d, err := models.ParseDate(v)
	if err != nil {
		return models.Date{}, &paramError{name, err.Error()}
	}
	return d, nil
}

// filterParams reads category (repeatable or comma-separated), from, to and
// exclude (repeatable or comma-separated IDs).
func (s *Server) filterParams(c *gin.Context) (recommend.Filter, error) {
	var f recommend.Filter
	for _, v := range c.QueryArray("category") {
		for name := range strings.SplitSeq(v, ",") {
			name = strings.TrimSpace(name)
			if name == "" {
				continue
			}
			cat, ok := s.categories[strings.ToLower(name)]
			if !ok {
				return f, &paramError{"category", fmt.Sprintf("unknown category %q: want one of %s", name, s.categoryList)}
			}
			f.Categories = append(f.Categories, cat)
		}
	}
	var err error
	if f.From, err = dateParam(c, "from"); err != nil {
		return f, err
	}
	if f.To, err = dateParam(c, "to"); err != nil {
		return f, err
	}
	for _, v := range c.QueryArray("exclude") {
		for id := range strings.SplitSeq(v, ",") {
			if id = strings.TrimSpace(id); id != "" {
				f.Exclude = append(f.Exclude, id)
			}
		}
	}
	return f, nil
}

// optionParams reads k, diversity and the filter.
func (s *Server) optionParams(c *gin.Context) (recommend.Options, error) {
	var o recommend.Options
	var err error
	if o.K, err = intParam(c, "k", recommend.DefaultK); err != nil {
		return o, err
	}
	if o.K < 1 || o.K > s.svc.MaxK() {
		return o, &paramError{"k", fmt.Sprintf("%d is out of range: must be between 1 and %d", o.K, s.svc.MaxK())}
	}
	if o.Diversity, err = floatParam(c, "diversity", 0); err != nil {
		return o, err
	}
	o.Filter, err = s.filterParams(c)
	return o, err
}
