package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

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
}

// paramError is a request parameter that could not be read.
type paramError struct {
	param, msg string
}

func (e *paramError) Error() string { return fmt.Sprintf("%s: %s", e.param, e.msg) }

// errTooLarge is a request body over maxBodyBytes.
var errTooLarge = errors.New("request body too large")

// errNotRoute is a path that no route serves.
var errNotRoute = errors.New("no such route")

// problemFor is the one table from errors to HTTP status: every handler's
// error goes through it. Unknown errors are 500s whose detail is logged,
// never sent.
func problemFor(err error) Problem {
	var (
		invalid *recommend.InvalidArgumentError
		param   *paramError
	)
	switch {
	case errors.As(err, &param):
		return Problem{Status: http.StatusBadRequest, Detail: param.msg, Param: param.param}
	case errors.As(err, &invalid):
		return Problem{Status: http.StatusBadRequest, Detail: invalid.Msg, Param: invalid.Param}
	case errors.Is(err, models.ErrNotFound), errors.Is(err, recommend.ErrThemeNotFound):
		return Problem{Status: http.StatusNotFound, Detail: err.Error()}
	case errors.Is(err, errNotRoute):
		return Problem{Status: http.StatusNotFound, Detail: err.Error()}
	case errors.Is(err, errTooLarge):
		return Problem{Status: http.StatusRequestEntityTooLarge, Detail: fmt.Sprintf("the body may hold at most %d bytes", maxBodyBytes)}
	case errors.Is(err, context.DeadlineExceeded):
		return Problem{Status: http.StatusServiceUnavailable, Detail: "the request took too long"}
	case errors.Is(err, context.Canceled):
		return Problem{Status: 499, Detail: "the client went away"}
	}
	return Problem{Status: http.StatusInternalServerError, Detail: "internal error"}
}

// fail renders err as problem details and stops the handler chain.
func fail(c *gin.Context, err error) {
	p := problemFor(err)
	if p.Status >= 500 {
		slog.ErrorContext(c.Request.Context(), "request failed", "method", c.Request.Method, "path", c.Request.URL.Path, "err", err)
	}
	p.Title = http.StatusText(p.Status)
	if p.Title == "" {
		p.Title = "Client Closed Request"
	}
	p.Type = "about:blank"
	p.Instance = c.Request.URL.RequestURI()
	c.Header("Content-Type", "application/problem+json")
	c.AbortWithStatusJSON(p.Status, p)
}
