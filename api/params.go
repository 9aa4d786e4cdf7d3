package api

import (
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/paperrec/paperrec/models"
	"github.com/paperrec/paperrec/recommend"
)

// maxQueryStringBytes bounds a query string: room for the longest search
// text (maxQueryBytes) percent-encoded, and the other parameters.
const maxQueryStringBytes = 4*maxQueryBytes + 2048

// repeatable are the parameters that may be given more than once.
var repeatable = []string{"category", "exclude"}

// querySpec is what a /v1 route reads of its query string.
type querySpec struct {
	// names are the parameters the route reads; any other is a 400.
	names []string
	// expensive routes always count as expensive for admission.
	expensive bool
	// cached answers (GET) are kept per engine version and query, and sent
	// again without computing (Config.AnswerCache).
	cached bool
	// body, when set, is the largest request body: it is read whole before
	// the request is admitted (see Server.route).
	body int64
	// trusted routes are called with the API token, checked before the
	// body is read: their bodies do not count against the public bound.
	trusted bool
}

// check reads the query string strictly: a malformed one, an unknown
// parameter, invalid UTF-8 or a parameter repeated with different values
// (but category and exclude) is a 400 that names it. It returns the values.
func (q querySpec) check(c *gin.Context) (url.Values, error) {
	raw := c.Request.URL.RawQuery
	if len(raw) > maxQueryStringBytes {
		return nil, errQueryTooLong
	}
	vals, err := url.ParseQuery(raw)
	if err != nil {
		return nil, &paramError{"query", "malformed query string: " + err.Error()}
	}
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	slices.Sort(keys) // report the same parameter first every time
	for _, k := range keys {
		if !utf8.ValidString(k) {
			return nil, &paramError{strings.ToValidUTF8(k, "\uFFFD"), "the parameter name is not valid UTF-8"}
		}
		if !slices.Contains(q.names, k) {
			return nil, &paramError{k, unknownParam(k, q.names)}
		}
		vs := vals[k]
		for _, v := range vs {
			if !utf8.ValidString(v) {
				return nil, &paramError{k, "the value is not valid UTF-8"}
			}
		}
		if len(vs) > 1 && !slices.Contains(repeatable, k) && slices.ContainsFunc(vs[1:], func(v string) bool { return v != vs[0] }) {
			return nil, &paramError{k, fmt.Sprintf("given %d times with different values: give it once", len(vs))}
		}
	}
	return vals, nil
}

// unknownParam says that k is not a parameter of the route, and which are.
func unknownParam(k string, names []string) string {
	for _, n := range names {
		if strings.EqualFold(n, k) {
			return fmt.Sprintf("unknown parameter %q: did you mean %q? (names are case-sensitive)", k, n)
		}
	}
	if len(names) == 0 {
		return fmt.Sprintf("unknown parameter %q: this route takes none", k)
	}
	return fmt.Sprintf("unknown parameter %q: this route takes %s", k, strings.Join(names, ", "))
}

// checkJSONBody refuses a body that is not JSON: a Content-Type other than
// application/json (absent is taken as JSON), or any Content-Encoding.
func checkJSONBody(r *http.Request) error {
	if ce := r.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		return errMediaType
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return errMediaType
	}
	return nil
}

// readBody reads a request body of at most limit bytes: a longer one is
// errTooLarge (413) with the limit, one that did not arrive within its
// read deadline errBodySlow (408), one that cannot be read (a malformed
// chunk, a connection cut mid-body) a 400 naming the body, and one whose
// client has gone the request's context error (logged 499).
func readBody(c *gin.Context, limit int64) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, limit))
	if err == nil {
		return body, nil
	}
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, &bodyTooLargeError{limit}
	case errors.Is(err, os.ErrDeadlineExceeded):
		return nil, errBodySlow // the client's doing: 408, not the server's 503
	case c.Request.Context().Err() != nil:
		return nil, c.Request.Context().Err()
	}
	return nil, &paramError{"body", "could not be read: " + err.Error()}
}

// expensive reports whether a query asks for more than a plain lookup: k
// above the default or any diversity. Unreadable values count as cheap:
// the handler answers 400 before any work.
func expensive(q url.Values) bool {
	if k, err := strconv.Atoi(strings.TrimSpace(q.Get("k"))); err == nil && k > recommend.DefaultK {
		return true
	}
	d, err := strconv.ParseFloat(strings.TrimSpace(q.Get("diversity")), 64)
	return err == nil && d != 0
}

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

// floatParam reads a finite number query parameter, def when absent.
func floatParam(c *gin.Context, name string, def float64) (float64, error) {
	v, ok := c.GetQuery(name)
	if !ok || v == "" {
		return def, nil
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, &paramError{name, fmt.Sprintf("%q is not a finite number", v)}
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
			// The engine knows its areas, matched without regard to case;
			// an unknown one it refuses, naming those it knows.
			cat, ok := s.svc.Category(name)
			if !ok {
				cat = models.Category(name)
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
