// Package api serves paperrec over HTTP with Gin: papers, related papers
// with explanations, search, recommendations, an OpenAPI document, and the
// website of package web (the landscape explorer and the related-work
// widget, readable from any origin).
// Errors are RFC 9457 problem details. It is the only package that knows
// Gin; handlers bind parameters, call package recommend and render.
package api

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/paperrec/paperrec/models"
	"github.com/paperrec/paperrec/recommend"
)

// maxBodyBytes bounds a request body.
const maxBodyBytes = 1 << 20

// Config tunes the server. The zero value is the default.
type Config struct {
	// CacheMaxAge is the max-age of Cache-Control on GET answers (default
	// 5 minutes; negative sends no-cache).
	CacheMaxAge time.Duration
	// Logger logs requests and failures (default slog.Default()).
	Logger *slog.Logger
}

// Server is the HTTP API over one recommend.Service. Safe for concurrent use.
type Server struct {
	svc          *recommend.Service
	cfg          Config
	engine       *gin.Engine
	categories   map[string]models.Category // lower-case name → category
	categoryList string
}

// New builds the server and its routes.
func New(svc *recommend.Service, cfg Config) *Server {
	if cfg.CacheMaxAge == 0 {
		cfg.CacheMaxAge = 5 * time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	gin.SetMode(gin.ReleaseMode)
	s := &Server{svc: svc, cfg: cfg, categories: map[string]models.Category{}}
	var names []string
	for _, p := range svc.AllPapers() {
		if p.Category != "" {
			if _, ok := s.categories[strings.ToLower(string(p.Category))]; !ok {
				s.categories[strings.ToLower(string(p.Category))] = p.Category
				names = append(names, strconv.Quote(string(p.Category)))
			}
		}
	}
	slices.Sort(names)
	s.categoryList = strings.Join(names, ", ")

	e := gin.New()
	e.UseRawPath = true
	e.UnescapePathValues = true
	e.HandleMethodNotAllowed = true
	e.Use(s.logRequests, s.recover, s.cors)
	e.NoRoute(func(c *gin.Context) { fail(c, errNotRoute) })
	e.NoMethod(func(c *gin.Context) {
		c.Header("Content-Type", "application/problem+json")
		c.AbortWithStatusJSON(http.StatusMethodNotAllowed, Problem{Type: "about:blank", Title: "Method Not Allowed",
			Status: http.StatusMethodNotAllowed, Detail: c.Request.Method + " is not served here", Instance: c.Request.URL.RequestURI()})
	})

	s.webRoutes(e)
	e.GET("/healthz", s.health)
	e.GET("/openapi.json", s.openAPI)
	v1 := e.Group("/v1")
	v1.GET("/papers", s.listPapers)
	v1.GET("/papers/:id", s.getPaper)
	v1.GET("/papers/:id/related", s.related)
	v1.GET("/search", s.search)
	v1.POST("/recommend", s.recommend)
	v1.GET("/clusters", s.listClusters)
	v1.GET("/clusters/:id", s.getCluster)
	v1.GET("/map", s.landscape)
	s.engine = e
	return s
}

// Handler returns the HTTP handler.
func (s *Server) Handler() http.Handler { return s.engine }

// routes lists the served method and path pairs, for the OpenAPI test.
func (s *Server) routes() []string {
	var out []string
	for _, r := range s.engine.Routes() {
		out = append(out, r.Method+" "+r.Path)
	}
	slices.Sort(out)
	return out
}

func (s *Server) logRequests(c *gin.Context) {
	start := time.Now()
	c.Next()
	s.cfg.Logger.LogAttrs(c.Request.Context(), slog.LevelInfo, "request",
		slog.String("method", c.Request.Method), slog.String("path", c.Request.URL.Path),
		slog.Int("status", c.Writer.Status()), slog.Duration("took", time.Since(start)))
}

// recover turns a panic in a handler into a logged 500 problem.
func (s *Server) recover(c *gin.Context) {
	defer func() {
		if r := recover(); r != nil {
			s.cfg.Logger.Error("panic serving request", "path", c.Request.URL.Path, "panic", r)
			fail(c, errPanic)
		}
	}()
	c.Next()
}

// render writes a JSON answer through send.
func (s *Server) render(c *gin.Context, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		fail(c, err)
		return
	}
	s.send(c, "application/json; charset=utf-8", body)
}

// minGzip is the smallest answer worth compressing.
const minGzip = 1024

// gzipWriters reuses compressors: each holds about 800 KB of state.
var gzipWriters = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed) // the level is valid
	return zw
}}

// send writes a 200 answer, gzip-compressed when the client accepts it and
// the body is at least minGzip bytes. GET answers carry a strong ETag over
// the body (one per encoding) and Cache-Control (unless the handler set its
// own), and a matching If-None-Match gets 304 Not Modified.
func (s *Server) send(c *gin.Context, contentType string, body []byte) {
	zip := len(body) >= minGzip && acceptsGzip(c.GetHeader("Accept-Encoding"))
	if len(body) >= minGzip {
		c.Writer.Header().Add("Vary", "Accept-Encoding")
	}
	if c.Request.Method == http.MethodGet || c.Request.Method == http.MethodHead {
		sum := sha256.Sum256(body)
		etag := base64.RawURLEncoding.EncodeToString(sum[:12])
		if zip {
			etag += "-gz"
		}
		if s.notModified(c, `"`+etag+`"`) {
			return
		}
	}
	if zip {
		var buf bytes.Buffer
		zw := gzipWriters.Get().(*gzip.Writer)
		zw.Reset(&buf)
		zw.Write(body)
		zw.Close()
		gzipWriters.Put(zw)
		body = buf.Bytes()
		c.Header("Content-Encoding", "gzip")
	}
	c.Data(http.StatusOK, contentType, body)
}

// notModified sets ETag and Cache-Control and, when If-None-Match names
// etag, answers 304 Not Modified and reports true.
func (s *Server) notModified(c *gin.Context, etag string) bool {
	c.Header("ETag", etag)
	if c.Writer.Header().Get("Cache-Control") == "" {
		if s.cfg.CacheMaxAge > 0 {
			c.Header("Cache-Control", "public, max-age="+strconv.Itoa(int(s.cfg.CacheMaxAge.Seconds())))
		} else {
			c.Header("Cache-Control", "no-cache")
		}
	}
	if etagMatch(c.GetHeader("If-None-Match"), etag) {
		c.Status(http.StatusNotModified)
		return true
	}
	return false
}

// etagMatch reports whether an If-None-Match header names etag (weak
// comparison, as RFC 9110 asks for If-None-Match).
func etagMatch(header, etag string) bool {
	for v := range strings.SplitSeq(header, ",") {
		v = strings.TrimPrefix(strings.TrimSpace(v), "W/")
		if v == etag || v == "*" {
			return true
		}
	}
	return false
}
