package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/paperrec/paperrec/live"
	"github.com/paperrec/paperrec/models"
	"github.com/paperrec/paperrec/recommend"
)

// Problem is an RFC 9457 problem details object, the one error shape of the API.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
	// Param names the query parameter or body field at fault, for 400s.
	Param string `json:"param,omitempty"`

	retryAfter string // seconds, sent as the Retry-After header
}

// paramError is a request parameter that could not be read.
type paramError struct {
	param, msg string
}

func (e *paramError) Error() string { return fmt.Sprintf("%s: %s", e.param, e.msg) }

var (
	// errTooLarge is a request body over its route's limit (see
	// bodyTooLargeError).
	errTooLarge = errors.New("request body too large")
	// errNotRoute is a path that no route serves.
	errNotRoute = errors.New("no such route")
	// errMethod is a method that the path is not served with.
	errMethod = errors.New("method not served here")
	// errQueryTooLong is a query string over maxQueryStringBytes.
	errQueryTooLong = errors.New("query string too long")
	// errBodySlow is a request body that did not arrive within the
	// request's deadline.
	errBodySlow = errors.New("the request body did not arrive in time")
	// errMediaType is a request body that is not JSON.
	errMediaType = errors.New("unsupported media type")
	// errNotReady is a request that came before the engine was loaded.
	errNotReady = errors.New("the engine is not loaded yet")
	// errShed is a request refused because MaxInFlight requests are at work.
	errShed = errors.New("too many requests at work")
	// errPanic is a handler that panicked.
	errPanic = errors.New("panic in handler")
)

// bodyTooLargeError is a request body over limit bytes; it is errTooLarge.
type bodyTooLargeError struct{ limit int64 }

func (e *bodyTooLargeError) Error() string {
	return fmt.Sprintf("%v: the body may hold at most %d bytes", errTooLarge, e.limit)
}

func (e *bodyTooLargeError) Is(target error) bool { return target == errTooLarge }

// statusClientClosed is the status logged for a client that left before
// its answer was written (nginx's convention); the client never sees it.
const statusClientClosed = 499

// problemFor is the one table from errors to HTTP status: every handler's
// error goes through it. Unknown errors are 500s whose detail is logged,
// never sent.
func problemFor(err error) Problem {
	var (
		invalid *recommend.InvalidArgumentError
		param   *paramError
		parse   *models.ParseError
		change  *models.ChangeError
	)
	detail := err.Error()
	if errors.As(err, &change) {
		detail = fmt.Sprintf("paper %d of the body (%s): %v", change.Index+1, change.ID, change.Err)
		if change.Index == 0 && !errors.As(err, &parse) {
			detail = fmt.Sprintf("paper %s: %v", change.ID, change.Err) // one change, maybe of no body (DELETE)
		}
	}
	switch {
	case errors.Is(err, errUnauthorized):
		return Problem{Status: http.StatusUnauthorized, Detail: err.Error()}
	case errors.As(err, &parse):
		return Problem{Status: http.StatusBadRequest, Detail: detail, Param: parse.Field}
	case errors.Is(err, models.ErrExists):
		return Problem{Status: http.StatusConflict, Detail: detail}
	case errors.Is(err, live.ErrUnavailable):
		return Problem{Status: http.StatusServiceUnavailable, Detail: "the store of papers cannot take writes now; reads go on: retry later", retryAfter: "5"}
	case errors.As(err, &param):
		return Problem{Status: http.StatusBadRequest, Detail: param.msg, Param: param.param}
	case errors.As(err, &invalid):
		return Problem{Status: http.StatusBadRequest, Detail: invalid.Msg, Param: invalid.Param}
	case errors.Is(err, models.ErrNotFound), errors.Is(err, recommend.ErrThemeNotFound):
		return Problem{Status: http.StatusNotFound, Detail: detail}
	case errors.Is(err, errNotRoute):
		return Problem{Status: http.StatusNotFound, Detail: err.Error()}
	case errors.Is(err, errMethod):
		return Problem{Status: http.StatusMethodNotAllowed, Detail: err.Error()}
	case errors.Is(err, errTooLarge):
		limit := int64(maxBodyBytes)
		var tl *bodyTooLargeError
		if errors.As(err, &tl) {
			limit = tl.limit
		}
		return Problem{Status: http.StatusRequestEntityTooLarge, Detail: fmt.Sprintf("the body may hold at most %d bytes", limit)}
	case errors.Is(err, errBodySlow):
		return Problem{Status: http.StatusRequestTimeout, Detail: err.Error() + ": send it within the deadline"}
	case errors.Is(err, errQueryTooLong):
		return Problem{Status: http.StatusRequestURITooLong, Detail: fmt.Sprintf("the query string may hold at most %d bytes", maxQueryStringBytes)}
	case errors.Is(err, errMediaType):
		return Problem{Status: http.StatusUnsupportedMediaType, Detail: "the body must be JSON: send Content-Type: application/json, without Content-Encoding"}
	case errors.Is(err, errNotReady):
		return Problem{Status: http.StatusServiceUnavailable, Detail: err.Error(), retryAfter: "5"}
	case errors.Is(err, errShed):
		return Problem{Status: http.StatusServiceUnavailable, Detail: err.Error() + ": retry later", retryAfter: "1"}
	case errors.Is(err, context.DeadlineExceeded):
		return Problem{Status: http.StatusServiceUnavailable, Detail: "the request took too long"}
	case errors.Is(err, context.Canceled):
		return Problem{Status: statusClientClosed, Detail: "the client went away"}
	}
	return Problem{Status: http.StatusInternalServerError, Detail: "internal error"}
}

// fail renders err as problem details and stops the handler chain. The
// error of a 500 is kept on the request for the log (see observe).
func fail(c *gin.Context, err error) {
	p := problemFor(err)
	if p.Status == http.StatusInternalServerError {
		c.Error(err)
	}
	p.Title = http.StatusText(p.Status)
	if p.Title == "" {
		p.Title = "Client Closed Request"
	}
	p.Type = "about:blank"
	p.Instance = c.Request.URL.RequestURI()
	if p.retryAfter != "" {
		c.Header("Retry-After", p.retryAfter)
	}
	body, _ := json.Marshal(p) // strings and ints only
	c.Abort()
	c.Writer.Header().Del("Content-Encoding")
	c.Writer.Header().Del("ETag")
	writeBody(c, p.Status, "application/problem+json", body)
}
