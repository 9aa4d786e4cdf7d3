package api

import (
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
)

// trackingWriter remembers the first failed write of an answer.
type trackingWriter struct {
	gin.ResponseWriter
	err error
}

func (w *trackingWriter) Write(b []byte) (int, error) {
	n, err := w.ResponseWriter.Write(b)
	if err != nil && w.err == nil {
		w.err = err
	}
	return n, err
}

func (w *trackingWriter) WriteString(s string) (int, error) {
	n, err := w.ResponseWriter.WriteString(s)
	if err != nil && w.err == nil {
		w.err = err
	}
	return n, err
}

// Unwrap gives http.ResponseController the writer beneath.
func (w *trackingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe gives the request its deadline, then counts and logs what the
// client got. The answer is flushed before it is logged, so that a write
// that failed (the client left, or the server's write timeout passed) is
// logged and counted as 499, not as the status the handler chose.
func (s *Server) observe(c *gin.Context) {
	start := time.Now()
	ctx, cancel := s.withDeadline(c.Request.Context())
	defer cancel()
	c.Request = c.Request.WithContext(ctx)
	tw := &trackingWriter{ResponseWriter: c.Writer}
	c.Writer = tw
	s.metrics.inFlight.Inc()
	defer s.metrics.inFlight.Dec()

	c.Next()

	if tw.err == nil {
		tw.err = flush(tw.ResponseWriter)
	}
	status := tw.Status()
	if tw.err != nil {
		status = statusClientClosed
	}
	took := time.Since(start)
	route := c.FullPath()
	if route == "" {
		route = "unmatched" // one label for every unknown path
	}
	code := strconv.Itoa(status)
	method := methodLabel(c.Request.Method)
	s.metrics.requests.WithLabelValues(route, method, code).Inc()
	s.metrics.latency.WithLabelValues(route, method, code).Observe(took.Seconds())

	var failure error
	if len(c.Errors) > 0 {
		failure = c.Errors.Last().Err
	}
	if !s.logRequest(failure != nil) {
		return
	}
	attrs := []slog.Attr{slog.String("method", c.Request.Method), slog.String("path", c.Request.URL.Path),
		slog.Int("status", status), slog.Int("bytes", max(0, tw.Size())), slog.Duration("took", took)}
	level := slog.LevelInfo
	if tw.err != nil {
		attrs = append(attrs, slog.Int("chosen_status", tw.Status()), slog.String("write_error", tw.err.Error()))
	}
	if failure != nil {
		level = slog.LevelError
		attrs = append(attrs, slog.String("err", failure.Error()))
	}
	s.cfg.Logger.LogAttrs(ctx, level, "request", attrs...)
}

// logRequest says whether the access log records this request; failures
// are always logged.
func (s *Server) logRequest(failed bool) bool {
	switch {
	case failed:
		return true
	case s.cfg.AccessLog == AccessLogOff:
		return false
	case s.cfg.AccessLog == AccessLogSampled:
		return s.logged.Add(1)%uint64(s.cfg.AccessLogSample) == 1 || s.cfg.AccessLogSample == 1
	}
	return true
}

// flush writes the answer out and returns the error of the write. Gin's
// writer hides that error (its Flush returns none), so flush writes the
// header through it and flushes the writer beneath.
func flush(w gin.ResponseWriter) error {
	w.WriteHeaderNow()
	u, ok := w.(interface{ Unwrap() http.ResponseWriter })
	if !ok {
		return nil
	}
	return http.NewResponseController(u.Unwrap()).Flush()
}

// methodLabel is the method as a metric label: a client may send any token
// as a method, and each would be a new series kept forever, so the methods
// HTTP defines are themselves and every other one is "other".
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return m
	}
	return "other"
}
