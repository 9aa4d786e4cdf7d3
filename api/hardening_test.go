package api

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/paperrec/paperrec/models"
	"github.com/paperrec/paperrec/recommend"
)

// waitLimit bounds how long a test waits for something that should happen
// at once; it only turns a hang into a failure.
const waitLimit = 30 * time.Second

// slow is a test route, GET /test/slow, that works in small steps as the
// engine's loops do, checking its context between steps, until release is
// closed or its context ends.
type slow struct {
	started chan struct{} // one value per request that began work
	ended   chan error    // how each one ended: nil, or its context's error
	release chan struct{}
}

// addSlow registers GET /test/slow on s, behind the same checks, admission
// and deadline as the /v1 routes. k above 10 makes a request expensive.
func addSlow(s *Server) *slow {
	w := &slow{started: make(chan struct{}, 64), ended: make(chan error, 64), release: make(chan struct{})}
	s.route(s.engine.Group("/test"), "GET", "/slow", querySpec{names: []string{"k"}}, func(s *Server, c *gin.Context) {
		w.started <- struct{}{}
		ctx := c.Request.Context()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-w.release:
				w.ended <- nil
				s.render(c, gin.H{"done": true})
				return
			case <-ctx.Done():
				w.ended <- ctx.Err()
				s.render(c, gin.H{"done": false}) // answers the context's problem
				return
			case <-tick.C: // a step of work
			}
		}
	})
	return w
}

// receive waits for one value of ch, failing the test after waitLimit.
func receive[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitLimit):
		t.Fatalf("waited %s for %s", waitLimit, what)
	}
	var zero T
	return zero
}

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor polls cond until it holds, failing the test after waitLimit.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for start := time.Now(); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Since(start) > waitLimit {
			t.Fatalf("waited %s for %s", waitLimit, what)
		}
	}
}

// fetch sends a request to a test server and returns the answer, body read.
func fetch(t *testing.T, method, url string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// TestShed fills the places of a server with slow requests: past the bound
// a request is answered 503 with Retry-After at once, expensive requests
// hold at most half of the places so that cheap ones still get in, probes
// are never refused, and the places come back when the work ends.
func TestShed(t *testing.T) {
	s := New(fixed(service(t)), Config{Logger: quiet, MaxInFlight: 4, ExpensiveWorkers: -1})
	w := addSlow(s)
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	var wg sync.WaitGroup
	defer wg.Wait()
	defer close(w.release)
	hold := func(target string) {
		wg.Go(func() {
			if resp, body := fetch(t, "GET", ts.URL+target); resp.StatusCode != 200 {
				t.Errorf("%s: status %d: %s", target, resp.StatusCode, body)
			}
		})
		receive(t, w.started, target+" to start")
	}
	shed := func(target string) {
		t.Helper()
		resp, body := fetch(t, "GET", ts.URL+target)
		if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "1" || !strings.Contains(body, "too many requests at work") {
			t.Errorf("%s: status %d, Retry-After %q: %s; want 503 at once", target, resp.StatusCode, resp.Header.Get("Retry-After"), body)
		}
	}

	hold("/test/slow?k=50")
	hold("/test/slow?k=50")
	shed("/test/slow?k=50") // the expensive half is full
	hold("/test/slow")      // a cheap request still gets in
	hold("/test/slow")
	shed("/test/slow") // every place is taken
	shed("/v1/papers/" + fisherID + "/related")
	for _, probe := range []string{"/healthz", "/readyz", "/widget.js"} {
		if resp, body := fetch(t, "GET", ts.URL+probe); resp.StatusCode != 200 {
			t.Errorf("%s while full: status %d: %.200s", probe, resp.StatusCode, body)
		}
	}
	_, metrics := fetch(t, "GET", ts.URL+"/metrics")
	for _, want := range []string{"paperrec_requests_shed_total 3", "paperrec_requests_at_work 4",
		`paperrec_http_requests_total{method="GET",route="/test/slow",status="503"} 2`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	w.release <- struct{}{} // one request ends...
	receive(t, w.ended, "a request to end")
	waitFor(t, "a place to come back", func() bool {
		resp, _ := fetch(t, "GET", ts.URL+"/v1/papers/"+fisherID+"/related?k=2")
		return resp.StatusCode == 200 // ...and its place serves another
	})
}

// TestExpensiveWorkers admits two expensive requests with one worker: the
// second waits for the first to end before it computes, and one that waits
// past its deadline answers 503 without having computed.
func TestExpensiveWorkers(t *testing.T) {
	s := New(fixed(service(t)), Config{Logger: quiet, MaxInFlight: 4, ExpensiveWorkers: 1, Timeout: time.Hour})
	w := addSlow(s)
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	status := make(chan int, 2)
	for range 2 {
		go func() {
			resp, _ := fetch(t, "GET", ts.URL+"/test/slow?k=50")
			status <- resp.StatusCode
		}()
	}
	receive(t, w.started, "the first request to compute")
	waitFor(t, "both to be admitted", func() bool {
		s.admit.mu.Lock()
		defer s.admit.mu.Unlock()
		return s.admit.costly == 2
	})
	select {
	case <-w.started:
		t.Fatal("two expensive requests compute at once with one worker")
	case <-time.After(50 * time.Millisecond):
	}
	if resp, body := fetch(t, "GET", ts.URL+"/v1/papers/"+fisherID+"/related?k=2"); resp.StatusCode != 200 {
		t.Errorf("a cheap request while the worker is busy: status %d: %s", resp.StatusCode, body)
	}
	w.release <- struct{}{}
	receive(t, w.ended, "the first to end")
	receive(t, w.started, "the second to compute")
	w.release <- struct{}{}
	receive(t, w.ended, "the second to end")
	for range 2 {
		if code := receive(t, status, "an answer"); code != 200 {
			t.Errorf("status %d", code)
		}
	}

	short := New(fixed(service(t)), Config{Logger: quiet, ExpensiveWorkers: 1, Timeout: 100 * time.Millisecond})
	busy := addSlow(short)
	ts2 := httptest.NewServer(short.Handler())
	defer ts2.Close()
	done, err := short.admit.work(context.Background()) // the worker is busy
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	if resp, body := fetch(t, "GET", ts2.URL+"/test/slow?k=50"); resp.StatusCode != 503 || !strings.Contains(body, "took too long") {
		t.Errorf("waiting past the deadline: status %d: %s", resp.StatusCode, body)
	}
	if len(busy.started) != 0 {
		t.Error("the request that waited past its deadline computed")
	}
}

// TestClientGoneStopsWork cancels a request while it works: the work stops
// at its next check of the context, and the log records 499, not 200.
func TestClientGoneStopsWork(t *testing.T) {
	logs := &syncBuffer{}
	s := New(fixed(service(t)), Config{Logger: slog.New(slog.NewJSONHandler(logs, nil)), AccessLog: AccessLogAll})
	w := addSlow(s)
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+"/test/slow", nil)
	errc := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	receive(t, w.started, "the request to start")
	cancel() // the client leaves; release is never closed
	if err := receive(t, w.ended, "the work to stop"); !errors.Is(err, context.Canceled) {
		t.Errorf("the work ended with %v, want context.Canceled", err)
	}
	if err := receive(t, errc, "the client"); err == nil {
		t.Error("the cancelled client got an answer")
	}
	waitFor(t, "the access log line", func() bool { return strings.Contains(logs.String(), `"path":"/test/slow"`) })
	if !strings.Contains(logs.String(), `"status":499`) {
		t.Errorf("log does not say 499:\n%s", logs)
	}
}

// TestDeadline gives requests 50 ms: a request still working then stops
// and answers 503 problem details.
func TestDeadline(t *testing.T) {
	s := New(fixed(service(t)), Config{Logger: quiet, Timeout: 50 * time.Millisecond})
	w := addSlow(s)
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	resp, body := fetch(t, "GET", ts.URL+"/test/slow")
	if resp.StatusCode != 503 || resp.Header.Get("Content-Type") != "application/problem+json" || !strings.Contains(body, "the request took too long") {
		t.Errorf("status %d, Content-Type %q: %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	if err := receive(t, w.ended, "the work to stop"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("the work ended with %v, want context.DeadlineExceeded", err)
	}
	if p := problemFor(context.DeadlineExceeded); p.Status != 503 {
		t.Errorf("deadline maps to %d", p.Status)
	}
}

// TestFailedWriteIsNotLogged200 answers after the server's write timeout:
// the write fails, and the access log says so instead of 200.
func TestFailedWriteIsNotLogged200(t *testing.T) {
	logs := &syncBuffer{}
	s := New(fixed(service(t)), Config{Logger: slog.New(slog.NewJSONHandler(logs, nil)), AccessLog: AccessLogAll})
	s.engine.GET("/test/late", func(c *gin.Context) {
		time.Sleep(300 * time.Millisecond) // past the write timeout below
		s.send(c, "text/plain", []byte("too late"))
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: s.Handler(), WriteTimeout: 100 * time.Millisecond}
	go srv.Serve(ln)
	defer srv.Close()
	if resp, err := http.Get("http://" + ln.Addr().String() + "/test/late"); err == nil {
		resp.Body.Close()
		t.Errorf("the client got status %d past the write timeout", resp.StatusCode)
	}
	waitFor(t, "the access log line", func() bool { return strings.Contains(logs.String(), `"path":"/test/late"`) })
	line := logs.String()
	if !strings.Contains(line, `"status":499`) || !strings.Contains(line, `"chosen_status":200`) || !strings.Contains(line, `"write_error"`) {
		t.Errorf("log line:\n%s", line)
	}
}

// TestReadiness serves from a source that has no service at first, then
// one: liveness holds throughout, readiness and the data routes follow the
// service.
func TestReadiness(t *testing.T) {
	var cur atomic.Pointer[recommend.Service]
	s := New(cur.Load, Config{Logger: quiet})
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	check := func(path string, status int, retryAfter, contains string) {
		t.Helper()
		for _, method := range []string{"GET", "HEAD"} {
			resp, body := fetch(t, method, ts.URL+path)
			if resp.StatusCode != status || resp.Header.Get("Retry-After") != retryAfter || (method == "GET" && !strings.Contains(body, contains)) {
				t.Errorf("%s %s: status %d, Retry-After %q: %.300s; want %d, %q and %q", method, path, resp.StatusCode, resp.Header.Get("Retry-After"), body, status, retryAfter, contains)
			}
		}
	}
	check("/healthz", 200, "", `"ready":false`)
	check("/readyz", 503, "5", "not loaded yet")
	check("/v1/papers", 503, "5", "not loaded yet")
	check("/v1/recommend", 405, "", "")
	check("/metrics", 200, "", "paperrec_ready 0")
	check("/", 200, "", "<html")
	cur.Store(service(t))
	check("/healthz", 200, "", `"ready":true`)
	check("/readyz", 200, "", `"papers":574`)
	check("/v1/papers", 200, "", `"total":574`)
	check("/metrics", 200, "", "paperrec_papers 574")
}

// TestSwapService swaps the service under the server: answers, the cached
// theme answers and the category list follow the current one.
func TestSwapService(t *testing.T) {
	c, err := models.NewCorpus([]models.Paper{
		{ID: "a", Title: "Strings and branes", Category: "Strings", Abstract: "Strings and branes in anti de Sitter space."},
		{ID: "b", Title: "Branes and strings", Category: "Strings", Abstract: "Branes and strings in de Sitter space."},
	})
	if err != nil {
		t.Fatal(err)
	}
	small, err := recommend.New(context.Background(), c, recommend.Config{})
	if err != nil {
		t.Fatal(err)
	}
	var cur atomic.Pointer[recommend.Service]
	cur.Store(service(t))
	s := New(cur.Load, Config{Logger: quiet})
	get := func(target string, header ...string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		req := httptest.NewRequest("GET", target, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		s.Handler().ServeHTTP(w, req)
		return w
	}
	first, again := get("/v1/map"), get("/v1/map")
	if first.Header().Get("ETag") == "" || first.Header().Get("ETag") != again.Header().Get("ETag") || first.Body.String() != again.Body.String() {
		t.Errorf("two map answers of one service differ")
	}
	if w := get("/v1/clusters", "Accept-Encoding", "gzip"); w.Header().Get("Content-Encoding") != "gzip" || get("/v1/clusters", "If-None-Match", get("/v1/clusters").Header().Get("ETag")).Code != 304 {
		t.Errorf("cached themes: gzip %q, revalidation failed", w.Header().Get("Content-Encoding"))
	}
	if w := get("/v1/papers?category=Strings"); w.Code != 400 {
		t.Errorf("a category of the next corpus: status %d", w.Code)
	}
	cur.Store(small)
	if n := strings.Count(get("/v1/map").Body.String(), `"id"`); n != 2 {
		t.Errorf("after the swap the map has %d points, want 2", n)
	}
	if w := get("/v1/papers?category=strings"); w.Code != 200 || !strings.Contains(w.Body.String(), `"total":2`) {
		t.Errorf("the new corpus's category: status %d: %s", w.Code, w.Body)
	}
	if w := get("/v1/papers?category=Astrophysics"); w.Code != 400 || !strings.Contains(w.Body.String(), `want one of \"Strings\"`) {
		t.Errorf("the old corpus's category: status %d: %s", w.Code, w.Body)
	}
}

// TestHeadOnEveryGetRoute asks every GET route with HEAD over a real
// connection: the same status and headers, no body.
func TestHeadOnEveryGetRoute(t *testing.T) {
	ts := httptest.NewServer(server(t).Handler())
	defer ts.Close()
	n := 0
	routes := server(t).routes()
	for _, r := range routes {
		pattern, ok := strings.CutPrefix(r, "GET ")
		if !ok {
			continue
		}
		n++
		if !slices.Contains(routes, "HEAD "+pattern) {
			t.Errorf("%s: no HEAD route", r)
		}
		path := strings.NewReplacer("/papers/:id", "/papers/"+fisherID, "/clusters/:id", "/clusters/0", "/search", "/search?q=flows").Replace(pattern)
		get, getBody := fetch(t, "GET", ts.URL+path, "Accept-Encoding", "gzip")
		head, headBody := fetch(t, "HEAD", ts.URL+path, "Accept-Encoding", "gzip")
		if get.StatusCode != 200 || head.StatusCode != 200 || headBody != "" || getBody == "" {
			t.Errorf("%s: GET %d (%d bytes), HEAD %d (%d bytes)", path, get.StatusCode, len(getBody), head.StatusCode, len(headBody))
		}
		for _, h := range []string{"Content-Type", "Content-Length", "Content-Encoding", "ETag"} {
			if path != "/metrics" && get.Header.Get(h) != head.Header.Get(h) {
				t.Errorf("%s: %s %q on GET, %q on HEAD", path, h, get.Header.Get(h), head.Header.Get(h))
			}
		}
	}
	if n < 14 {
		t.Errorf("%d GET routes", n)
	}
}

// TestQueryAccepted lists what the strict query check lets through.
func TestQueryAccepted(t *testing.T) {
	tests := []struct {
		name, target, reason string
	}{
		{name: "a parameter repeated with one value", target: "/v1/papers/" + fisherID + "/related?k=3&k=3"},
		{name: "categories repeated", target: "/v1/papers?category=Astrophysics&category=Foundational%20AI"},
		{name: "excludes repeated", target: "/v1/papers/" + fisherID + "/related?exclude=a&exclude=b"},
		{name: "a month within a year bound", target: "/v1/papers/" + fisherID + "/related?from=2024-05&to=2024",
			reason: "the README says a year bound includes all of it"},
		{name: "a day within a month bound", target: "/v1/papers?from=2024-05-10&to=2024-05"},
		{name: "empty values", target: "/v1/papers/" + fisherID + "/related?k=&diversity=&category="},
		{name: "diversity 1 and k 100", target: "/v1/search?q=flows&k=100&diversity=1"},
		{name: "an asset with any parameter", target: "/widget.js?utm_source=x", reason: "pages may carry tracking parameters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if w := do(t, "GET", tt.target, ""); w.Code != 200 {
				t.Errorf("status %d %s: %s", w.Code, tt.reason, w.Body)
			}
		})
	}
}

// TestMetrics scrapes /metrics after a few requests.
func TestMetrics(t *testing.T) {
	do(t, "GET", "/v1/papers/"+fisherID, "")
	do(t, "GET", "/v1/papers/no-such-paper", "")
	w := do(t, "GET", "/metrics", "")
	if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") {
		t.Fatalf("status %d, Content-Type %q", w.Code, w.Header().Get("Content-Type"))
	}
	body := w.Body.String()
	for _, want := range []string{
		`paperrec_http_requests_total{method="GET",route="/v1/papers/:id",status="200"}`,
		`paperrec_http_requests_total{method="GET",route="/v1/papers/:id",status="404"}`,
		`paperrec_http_request_duration_seconds_bucket{method="GET",route="/v1/papers/:id",status="200",le="0.005"}`,
		"paperrec_http_requests_in_flight 1", "paperrec_requests_at_work 0", "paperrec_requests_shed_total 0",
		"paperrec_ready 1", "paperrec_papers 574", "paperrec_themes ", "paperrec_engine_build_seconds ",
		"go_goroutines ", "go_gc_duration_seconds", "process_resident_memory_bytes ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

// TestAccessLogModes counts the lines each mode writes for nine requests;
// a 500 is logged in every mode.
func TestAccessLogModes(t *testing.T) {
	tests := []struct {
		name  string
		cfg   Config
		lines int
	}{
		{"all", Config{AccessLog: AccessLogAll}, 9},
		{"sampled one in three", Config{AccessLog: AccessLogSampled, AccessLogSample: 3}, 3},
		{"default: one in a hundred", Config{}, 1},
		{"off", Config{AccessLog: AccessLogOff}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs := &syncBuffer{}
			tt.cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
			s := New(fixed(service(t)), tt.cfg)
			s.engine.GET("/test/panic", func(*gin.Context) { panic("a bug") })
			for range 9 {
				s.Handler().ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/healthz", nil))
			}
			if n := strings.Count(logs.String(), "msg=request"); n != tt.lines {
				t.Errorf("%d lines for 9 requests, want %d:\n%s", n, tt.lines, logs)
			}
			w := httptest.NewRecorder()
			s.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/test/panic", nil))
			if w.Code != 500 || strings.Contains(w.Body.String(), "a bug") || !strings.Contains(logs.String(), "level=ERROR msg=request method=GET path=/test/panic status=500") {
				t.Errorf("panic: status %d, body %s, log:\n%s", w.Code, w.Body, logs)
			}
		})
	}
}

// slowRecommend announces a recommend body of 100 bytes and sends one.
const slowRecommend = "POST /v1/recommend HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"

// sendRaw writes raw bytes to ts on a connection of their own, closed when
// the test ends; reads on it give up after waitLimit.
func sendRaw(t *testing.T, ts *httptest.Server, raw string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(waitLimit))
	if _, err := io.WriteString(conn, raw); err != nil {
		t.Fatal(err)
	}
	return conn
}

// TestSlowBodyHoldsNoPlace sends a recommend body that never arrives: the
// request must not hold the one expensive worker (nor a place at work)
// while it waits, so an expensive search still computes.
func TestSlowBodyHoldsNoPlace(t *testing.T) {
	s := New(fixed(service(t)), Config{Logger: quiet, MaxInFlight: 2, ExpensiveWorkers: 1, Timeout: 2 * time.Second})
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close) // after the raw connections close
	sendRaw(t, ts, slowRecommend)
	time.Sleep(50 * time.Millisecond) // let the server start reading it
	for _, q := range []string{"/v1/search?q=neural&k=20", "/v1/search?q=flows&k=30", "/v1/search?q=dark+matter&diversity=0.5"} {
		if resp, body := fetch(t, "GET", ts.URL+q); resp.StatusCode != 200 {
			t.Errorf("%s while a body is on its way: %d %.200s", q, resp.StatusCode, body)
		}
	}
	// The bodies read at once are bounded (MaxInFlight, 2 here): with a
	// second slow one, a third body is shed at once, not buffered.
	sendRaw(t, ts, slowRecommend)
	time.Sleep(50 * time.Millisecond)
	resp, err := http.Post(ts.URL+"/v1/recommend", "application/json", strings.NewReader(`{"positive": ["`+fisherID+`"]}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Errorf("a body past the bound: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

// TestUnreadableBody sends a malformed chunked body: a 400 naming the body,
// not a 500.
func TestUnreadableBody(t *testing.T) {
	ts := httptest.NewServer(server(t).Handler())
	t.Cleanup(ts.Close) // after the raw connections close
	conn := sendRaw(t, ts, "POST /v1/recommend HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 400 || !strings.Contains(string(body), `"param":"body"`) {
		t.Errorf("malformed chunked body: %d %s", resp.StatusCode, body)
	}
}

// TestMethodLabel checks that invented methods share one metric label.
func TestMethodLabel(t *testing.T) {
	for m, want := range map[string]string{"GET": "GET", "DELETE": "DELETE", "OPTIONS": "OPTIONS", "ZZMETHOD": "other", "get": "other"} {
		if got := methodLabel(m); got != want {
			t.Errorf("methodLabel(%q) = %q, want %q", m, got, want)
		}
	}
}

// TestSlowBodyTimesOut sends a recommend body that never arrives: past the
// request's deadline the server answers 408 and frees the slot.
func TestSlowBodyTimesOut(t *testing.T) {
	s := New(fixed(service(t)), Config{Logger: quiet, MaxInFlight: 1, Timeout: 200 * time.Millisecond})
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close) // after the raw connections close
	conn := sendRaw(t, ts, slowRecommend)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestTimeout {
		t.Errorf("a body that never came: %d", resp.StatusCode)
	}
	// The one body slot is free again.
	post, err := http.Post(ts.URL+"/v1/recommend", "application/json", strings.NewReader(`{"positive": ["`+fisherID+`"]}`))
	if err != nil {
		t.Fatal(err)
	}
	post.Body.Close()
	if post.StatusCode != 200 {
		t.Errorf("a recommend after the slow one: %d", post.StatusCode)
	}
}

// TestNoBoundNoPanic builds a server with no bound on requests at work.
func TestNoBoundNoPanic(t *testing.T) {
	s := New(fixed(service(t)), Config{Logger: quiet, MaxInFlight: -1})
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, httptest.NewRequest("POST", "/v1/recommend", strings.NewReader(`{"positive": ["`+fisherID+`"]}`)))
	if w.Code != 200 {
		t.Errorf("recommend with no bound: %d %s", w.Code, w.Body)
	}
}
