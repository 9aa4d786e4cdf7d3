// Package api serves paperrec over HTTP with Gin: papers, related papers
// with explanations, search, recommendations, an OpenAPI document, probes,
// Prometheus metrics, and the website of package web (the landscape
// explorer and the related-work widget, readable from any origin).
// Errors are RFC 9457 problem details. It is the only package that knows
// Gin; handlers bind parameters, call package recommend and render.
//
// Every request has a deadline and a place among a bounded number of
// requests at work; past the bound it is answered 503 at once (see
// [Config]). The API answers from whatever service its [Source] returns,
// so that a newer engine can be swapped in while it serves.
package api

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/paperrec/paperrec/live"
	"github.com/paperrec/paperrec/recommend"
)

// maxBodyBytes bounds a request body.
const maxBodyBytes = 1 << 20

// Source returns the service that answers a request, or nil while none is
// ready. A request calls it once, at its start, and answers wholly from the
// service it got, even if a newer one is swapped in meanwhile. It must be
// safe for concurrent use and fast (an atomic load).
type Source func() *recommend.Service

// AccessLogMode says which requests the access log records.
//
// A plain value.
type AccessLogMode string

// Access log modes.
const (
	// AccessLogAll logs every request: on GET /healthz, the cheapest
	// answer, the line costs 29% more CPU per request (docs/reliability.md).
	AccessLogAll AccessLogMode = "all"
	// AccessLogSampled logs one request in [Config.AccessLogSample], and
	// every request answered 500 (the default): its cost is within the
	// noise. The metrics count every request.
	AccessLogSampled AccessLogMode = "sampled"
	// AccessLogOff logs no request; failures answered 500 are still logged.
	AccessLogOff AccessLogMode = "off"
)

// Defaults for Config.
const (
	// DefaultTimeout is the default deadline of a request: about 270 times
	// the slowest query of the bundled corpus (k=100 with diversity 1 takes
	// 11 ms alone), so only overload or a far larger corpus reaches it.
	DefaultTimeout = 3 * time.Second
	// DefaultAnswerCache is the default of Config.AnswerCache: every paper
	// of a corpus of a few thousand, at about 5 KB an answer.
	DefaultAnswerCache = 4096
	// DefaultAccessLogSample is the default N of AccessLogSampled.
	DefaultAccessLogSample = 100
)

// Config tunes the server. The zero value is the default.
//
// A plain value, filled in by cmd/paperrec.
type Config struct {
	// CacheMaxAge is the max-age of Cache-Control on GET answers (default
	// 5 minutes; negative sends no-cache).
	CacheMaxAge time.Duration
	// Logger logs requests and failures (default slog.Default()).
	Logger *slog.Logger
	// Timeout is the deadline of every request (default DefaultTimeout;
	// negative: none). A request past it answers 503 problem details.
	Timeout time.Duration
	// MaxInFlight bounds the requests of the /v1 routes at work at once
	// (default 4 × GOMAXPROCS; negative: no bound). The others are answered
	// 503 with Retry-After at once. Expensive requests (POST /v1/recommend,
	// k above the default or diversity above 0) may hold at most half of
	// the places, so that cheap lookups keep finding one under overload.
	// Probes, metrics and the site's assets are never refused.
	MaxInFlight int
	// ExpensiveWorkers bounds the admitted expensive requests that compute
	// at once (default max(1, GOMAXPROCS/2)); the others wait for a turn
	// within their deadline. Expensive work is CPU-bound: leaving cores to
	// the cheap requests keeps their latency low under a flood. Negative:
	// no bound.
	ExpensiveWorkers int
	// PublicURL is the base URL of this server as readers reach it, such as
	// "https://papers.example.org": the HTML fragment links titles to the
	// explorer there. Empty: relative links ("/#paper=ID"). The request's
	// Host header is never used.
	PublicURL string
	// AccessLog says which requests are logged (default AccessLogSampled).
	AccessLog AccessLogMode
	// AccessLogSample is N of AccessLogSampled (default
	// DefaultAccessLogSample).
	AccessLogSample int
	// Token is the bearer token of the write routes (POST /v1/papers,
	// PUT and DELETE /v1/papers/{id}, POST /v1/admin/refit). Without a
	// Token or a Writer the write routes do not exist (404).
	Token string
	// Writer takes the writes: the live engine.
	Writer Writer
	// Status, when set, reports the change and snapshot the engine serves,
	// for /healthz and /metrics, so that an operator sees at once whether
	// replicas agree.
	Status func() live.Status
	// AnswerCache is how many answers of the lookup routes (a paper, the
	// papers, related, search) are kept per engine version, encoded, and
	// sent again for the same query without computing (default
	// DefaultAnswerCache; negative: none). Answers over 64 KiB are not
	// kept. A new engine version starts an empty cache.
	AnswerCache int
	// Metrics is the registry /metrics serves. The server registers its
	// collectors on it, and the Go runtime's and the process's; the caller
	// may add its own. Nil: a new registry. One server per registry.
	Metrics *prometheus.Registry
}

// withDefaults fills in the zero values.
func (c Config) withDefaults() Config {
	if c.CacheMaxAge == 0 {
		c.CacheMaxAge = 5 * time.Minute
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxInFlight == 0 {
		c.MaxInFlight = 4 * runtime.GOMAXPROCS(0)
	}
	if c.ExpensiveWorkers == 0 {
		c.ExpensiveWorkers = max(1, runtime.GOMAXPROCS(0)/2)
	}
	if c.AccessLog == "" {
		c.AccessLog = AccessLogSampled
	}
	if c.AccessLogSample <= 0 {
		c.AccessLogSample = DefaultAccessLogSample
	}
	if c.Metrics == nil {
		c.Metrics = prometheus.NewRegistry()
	}
	if c.AnswerCache == 0 {
		c.AnswerCache = DefaultAnswerCache
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	return c
}

// Server is the HTTP API. Safe for concurrent use.
//
// The value New returns is bound to no service. A request's handler runs
// on a Server bound to the service the request took at its start (its
// view), so handlers read s.svc and what derives from it.
type Server struct {
	*core
	*view
}

// core is what every request shares.
type core struct {
	src     Source
	cfg     Config
	engine  *gin.Engine
	metrics *metrics
	admit   *admission
	// bodies bounds the public request bodies being read before admission
	// (see route) to MaxInFlight, so that their memory is bounded too; nil
	// when MaxInFlight is unbounded.
	bodies chan struct{}
	logged atomic.Uint64 // requests seen by the sampled access log
	// cur caches the view of the latest service, built once per service.
	cur atomic.Pointer[view]
}

// New builds the server and its routes. src returns the service that
// answers each request (see [Source]).
func New(src Source, cfg Config) *Server {
	cfg = cfg.withDefaults()
	gin.SetMode(gin.ReleaseMode)
	s := &Server{core: &core{src: src, cfg: cfg, admit: newAdmission(cfg.MaxInFlight, cfg.ExpensiveWorkers)}}
	if cfg.MaxInFlight > 0 {
		s.bodies = make(chan struct{}, cfg.MaxInFlight)
	}
	s.metrics = newMetrics(cfg.Metrics, s.current, cfg.Status)

	e := gin.New()
	e.UseRawPath = true
	e.UnescapePathValues = true
	e.HandleMethodNotAllowed = true
	e.Use(s.observe, s.recover, s.cors)
	e.NoRoute(func(c *gin.Context) { fail(c, errNotRoute) })
	e.NoMethod(func(c *gin.Context) {
		if p := c.Request.URL.EscapedPath(); !s.writable() && isWrite(c.Request.Method) &&
			(p == "/v1/papers" || strings.HasPrefix(p, "/v1/papers/") && !strings.Contains(p[len("/v1/papers/"):], "/")) {
			fail(c, errNotRoute) // the write routes do not exist without a token
			return
		}
		fail(c, errMethod)
	})

	s.webRoutes(e)
	getHead(e, "/healthz", s.health)
	getHead(e, "/readyz", s.ready)
	getHead(e, "/metrics", s.metrics.serve)
	getHead(e, "/openapi.json", s.openAPI)
	filters := []string{"category", "from", "to", "exclude"}
	options := append([]string{"k", "diversity"}, filters...)
	v1 := e.Group("/v1")
	s.route(v1, "GET", "/papers", querySpec{names: append([]string{"limit", "offset"}, filters...), cached: true}, (*Server).listPapers)
	s.route(v1, "GET", "/papers/:id", querySpec{cached: true}, (*Server).getPaper)
	s.route(v1, "GET", "/papers/:id/related", querySpec{names: append([]string{"format", "href"}, options...), cached: true}, (*Server).related)
	s.route(v1, "GET", "/search", querySpec{names: append([]string{"q"}, options...), cached: true}, (*Server).search)
	s.route(v1, "POST", "/recommend", querySpec{expensive: true, body: maxBodyBytes}, (*Server).recommend)
	s.route(v1, "GET", "/clusters", querySpec{}, (*Server).listClusters)
	s.route(v1, "GET", "/clusters/:id", querySpec{}, (*Server).getCluster)
	s.route(v1, "GET", "/map", querySpec{}, (*Server).landscape)
	s.writeRoutes(v1)
	s.engine = e
	return s
}

// Handler returns the HTTP handler.
func (s *Server) Handler() http.Handler { return s.engine }

// getHead serves GET and HEAD on path: load balancers probe with HEAD, and
// net/http sends no body for it.
func getHead(r gin.IRoutes, path string, h ...gin.HandlerFunc) {
	r.GET(path, h...)
	r.HEAD(path, h...)
}

// route serves one /v1 route (GET routes answer HEAD too): its query is
// checked against spec, then the request takes the current service (503
// while none is ready) and a place among those at work (503 when none is
// free), an expensive one waits for its turn to compute, and h runs bound
// to that service.
func (s *Server) route(g *gin.RouterGroup, method, path string, spec querySpec, h func(*Server, *gin.Context)) {
	handler := func(c *gin.Context) {
		q, err := spec.check(c)
		if err != nil {
			fail(c, err)
			return
		}
		v := s.current()
		if v == nil {
			fail(c, errNotReady)
			return
		}
		if spec.cached && v.answers != nil {
			// The escaped path, as the router matched it: "/v1/papers/X%2Frelated"
			// (paper "X/related") is not "/v1/papers/X/related".
			key := c.Request.URL.EscapedPath() + "?" + c.Request.URL.RawQuery
			if e, ok := v.answers.Get(key); ok {
				s.metrics.cacheHits.Inc()
				s.sendEncoded(c, e, nil)
				return
			}
			c.Set(answerKey, key)
		}
		if spec.body > 0 {
			// The body is read before the request takes a place among those
			// at work: a client that sends it slowly holds no place meanwhile.
			// At most MaxInFlight public bodies are held at once (read, and
			// kept while the request works); past that the request is shed
			// as admission sheds it. (Writes come with
			// the token, checked before: anonymous clients cannot crowd
			// them out.) A body must arrive within the request's deadline.
			if s.bodies != nil && !spec.trusted {
				select {
				case s.bodies <- struct{}{}:
					defer func() { <-s.bodies }()
				default:
					s.metrics.shed.Inc()
					fail(c, errShed)
					return
				}
			}
			if s.cfg.Timeout > 0 && !spec.trusted {
				// (A write's batch may be large: the server's read timeout
				// bounds it.)
				if err := http.NewResponseController(c.Writer).SetReadDeadline(time.Now().Add(s.cfg.Timeout)); err != nil {
					s.cfg.Logger.Debug("no read deadline for the body", "err", err)
				}
			}
			body, err := readBody(c, spec.body)
			if err != nil {
				fail(c, err)
				return
			}
			c.Set(bodyKey, body)
		}
		costly := spec.expensive || expensive(q)
		release, ok := s.admit.acquire(costly)
		if !ok {
			s.metrics.shed.Inc()
			fail(c, errShed)
			return
		}
		s.metrics.atWork.Inc()
		defer func() {
			s.metrics.atWork.Dec()
			release()
		}()
		if costly {
			done, err := s.admit.work(c.Request.Context())
			if err != nil {
				fail(c, err)
				return
			}
			defer done()
		}
		h(&Server{core: s.core, view: v}, c)
	}
	if method == http.MethodGet {
		getHead(g, path, handler)
		return
	}
	g.Handle(method, path, handler)
}

// routes lists the served method and path pairs, for the OpenAPI test.
func (s *Server) routes() []string {
	var out []string
	for _, r := range s.engine.Routes() {
		out = append(out, r.Method+" "+r.Path)
	}
	slices.Sort(out)
	return out
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
	if err := c.Request.Context().Err(); err != nil {
		fail(c, err) // spare the encoding
		return
	}
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

// gzipped compresses body.
func gzipped(body []byte) []byte {
	var buf bytes.Buffer
	zw := gzipWriters.Get().(*gzip.Writer)
	zw.Reset(&buf)
	zw.Write(body)
	zw.Close()
	gzipWriters.Put(zw)
	return buf.Bytes()
}

// etagOf is the strong ETag of body, quoted; suffix tells encodings apart.
func etagOf(body []byte, suffix string) string {
	sum := sha256.Sum256(body)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + suffix + `"`
}

// send writes a 200 answer, gzip-compressed when the client accepts it and
// the body is at least minGzip bytes. GET answers carry a strong ETag over
// the body (one per encoding) and Cache-Control (unless the handler set its
// own), and a matching If-None-Match gets 304 Not Modified. A request past
// its deadline, or whose client left, gets its problem instead (503, 499).
func (s *Server) send(c *gin.Context, contentType string, body []byte) {
	if err := c.Request.Context().Err(); err != nil {
		fail(c, err)
		return
	}
	if key := c.GetString(answerKey); key != "" && len(body) <= maxCachedAnswer {
		// Keep the answer for the next request of the same query.
		e := encodeBody(contentType, body)
		s.answers.Add(key, e)
		s.sendEncoded(c, e, nil)
		return
	}
	zip := len(body) >= minGzip && acceptsGzip(c.GetHeader("Accept-Encoding"))
	if len(body) >= minGzip {
		c.Writer.Header().Add("Vary", "Accept-Encoding")
	}
	if c.Request.Method == http.MethodGet || c.Request.Method == http.MethodHead {
		suffix := ""
		if zip {
			suffix = "-gz"
		}
		if s.notModified(c, etagOf(body, suffix)) {
			return
		}
	}
	if zip {
		body = gzipped(body)
		c.Header("Content-Encoding", "gzip")
	}
	writeBody(c, http.StatusOK, contentType, body)
}

// encoded is an answer that never changes for one service, ready to send:
// the body, its gzip form and an ETag for each.
//
// Immutable once built; safe for concurrent use.
type encoded struct {
	contentType  string
	body, gz     []byte
	etag, gzETag string
}

// encode marshals v as JSON and compresses it.
func encode(v any) (*encoded, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return encodeBody("application/json; charset=utf-8", body), nil
}

// encodeBody compresses body and tags both forms.
func encodeBody(contentType string, body []byte) *encoded {
	e := &encoded{contentType: contentType, body: body, etag: etagOf(body, "")}
	if len(body) >= minGzip {
		e.gz = gzipped(body)
		e.gzETag = etagOf(body, "-gz")
	}
	return e
}

// bodyKey is the gin context key under which route keeps the body it read
// for a route with a body (querySpec.body); see requestBody.
const bodyKey = "paperrec.body"

// requestBody is the body route read for the handler.
func requestBody(c *gin.Context) []byte {
	b, _ := c.Get(bodyKey)
	body, _ := b.([]byte)
	return body
}

// answerKey is the gin context key under which a cached route's handler
// finds the key to keep its answer under.
const answerKey = "paperrec.answer"

// maxCachedAnswer is the largest answer kept in the answer cache.
const maxCachedAnswer = 64 << 10

// sendEncoded writes a cached answer as send would write its body.
func (s *Server) sendEncoded(c *gin.Context, e *encoded, err error) {
	if err != nil {
		fail(c, err)
		return
	}
	body, etag, zip := e.body, e.etag, false
	if strings.HasPrefix(e.contentType, "text/html") {
		htmlHeaders(c) // a cached fragment is sent as its first answer was
	}
	if e.gz != nil {
		c.Writer.Header().Add("Vary", "Accept-Encoding")
		if acceptsGzip(c.GetHeader("Accept-Encoding")) {
			body, etag, zip = e.gz, e.gzETag, true
		}
	}
	if s.notModified(c, etag) {
		return
	}
	if zip {
		c.Header("Content-Encoding", "gzip")
	}
	writeBody(c, http.StatusOK, e.contentType, body)
}

// writeBody writes an answer with its Content-Length, so that the answer can be
// flushed (and a failed write seen) before the handler chain ends.
func writeBody(c *gin.Context, status int, contentType string, body []byte) {
	c.Header("Content-Length", strconv.Itoa(len(body)))
	c.Data(status, contentType, body)
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

// withDeadline gives ctx the server's request deadline.
func (s *Server) withDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	if s.cfg.Timeout < 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, s.cfg.Timeout)
}
