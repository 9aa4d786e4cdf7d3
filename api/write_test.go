package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/paperrec/paperrec/data"
	"github.com/paperrec/paperrec/live"
	"github.com/paperrec/paperrec/models"
	"github.com/paperrec/paperrec/recommend"
)

const testToken = "0123456789abcdef0123456789abcdef"

// writeServer is the API with write routes over a live engine of the first
// 80 bundled papers, in memory.
func writeServer(t *testing.T) (*Server, *live.Engine) {
	t.Helper()
	res, err := models.ParseListing(bytes.NewReader(data.Listing), data.ListingName, models.ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	store, err := live.NewMemory(res.Papers[:80])
	if err != nil {
		t.Fatal(err)
	}
	eng, err := live.Open(context.Background(), store, live.Config{Build: recommend.Config{SkipThemes: true}, RefitAfter: -1, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	return New(eng.Service, Config{Logger: quiet, Token: testToken, Writer: eng, Status: eng.Status}), eng
}

func serveOn(s *Server, method, target, body string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, req)
	return w
}

const newPaperJSON = `{"id": "flows-at-finite-density", "title": "Normalizing flows for lattice gauge theory at finite density",
 "abstract": "We train normalizing flows to sample lattice gauge field configurations at finite density.",
 "authors": ["Phiala E. Shanahan"], "category": "Theoretical Physics", "date": "2026-11-20",
 "keywords": ["normalizing flows", "lattice gauge theory"]}`

func TestWriteRoutes(t *testing.T) {
	s, eng := writeServer(t)
	auth := []string{"Authorization", "Bearer " + testToken, "Content-Type", "application/json"}
	tests := []struct {
		name, method, target, body string
		header                     []string
		status                     int
		param                      string
		reason                     string
	}{
		{name: "no token", method: "POST", target: "/v1/papers", body: newPaperJSON, status: 401},
		{name: "wrong token", method: "POST", target: "/v1/papers", body: newPaperJSON, header: []string{"Authorization", "Bearer nope"}, status: 401},
		{name: "token as query", method: "DELETE", target: "/v1/papers/x?token=" + testToken, status: 401,
			reason: "only the Authorization header carries the token"},
		{name: "add", method: "POST", target: "/v1/papers", body: newPaperJSON, header: auth, status: 201},
		{name: "add again", method: "POST", target: "/v1/papers", body: newPaperJSON, header: auth, status: 409},
		{name: "no title", method: "POST", target: "/v1/papers", body: `{"id": "x", "abstract": "a"}`, header: auth, status: 400, param: "title"},
		{name: "bad date in a batch", method: "POST", target: "/v1/papers", header: auth, status: 400, param: "date",
			body:   `[{"id": "b1", "title": "t", "abstract": "a"}, {"id": "b2", "title": "t", "abstract": "a", "date": "soon"}]`,
			reason: "a batch is all or nothing: b1 is not added either"},
		{name: "not JSON", method: "POST", target: "/v1/papers", body: "id,title", header: []string{"Authorization", "Bearer " + testToken, "Content-Type", "text/csv"}, status: 415},
		{name: "empty", method: "POST", target: "/v1/papers", header: auth, status: 400, param: "body"},
		{name: "put new", method: "PUT", target: "/v1/papers/put-new", body: `{"title": "A put paper about jets", "abstract": "Jet tagging with graph networks."}`, header: auth, status: 201},
		{name: "put again", method: "PUT", target: "/v1/papers/put-new", body: `{"title": "A put paper about jets, revised", "abstract": "Jet tagging with graph networks."}`, header: auth, status: 200},
		{name: "put, other id", method: "PUT", target: "/v1/papers/put-new", body: `{"id": "other", "title": "t", "abstract": "a"}`, header: auth, status: 400, param: "id"},
		{name: "delete", method: "DELETE", target: "/v1/papers/put-new", header: auth, status: 200},
		{name: "delete again", method: "DELETE", target: "/v1/papers/put-new", header: auth, status: 404},
		{name: "refit", method: "POST", target: "/v1/admin/refit", header: auth, status: 202},
		{name: "refit, no token", method: "POST", target: "/v1/admin/refit", status: 401},
		{name: "unknown parameter", method: "DELETE", target: "/v1/papers/x?force=1", header: auth, status: 400, param: "force"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := serveOn(s, tt.method, tt.target, tt.body, tt.header...)
			if w.Code != tt.status {
				t.Fatalf("%s %s: %d %s, want %d", tt.method, tt.target, w.Code, w.Body, tt.status)
			}
			if tt.status >= 400 {
				p := decode[Problem](t, w)
				if p.Status != tt.status || p.Param != tt.param || w.Header().Get("Content-Type") != "application/problem+json" {
					t.Errorf("problem %+v, want param %q", p, tt.param)
				}
			}
			if tt.status == 401 && w.Header().Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
	svc := eng.Service()
	if _, err := svc.Paper("flows-at-finite-density"); err != nil {
		t.Errorf("the added paper is not served: %v", err)
	}
	if _, err := svc.Paper("b1"); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("a refused batch added its first paper: %v", err)
	}
	// The new paper is in every answer at once.
	if w := serveOn(s, "GET", "/v1/papers/flows-at-finite-density/related?k=3", ""); w.Code != 200 {
		t.Errorf("related of the new paper: %d %s", w.Code, w.Body)
	}
	w := serveOn(s, "GET", "/v1/search?q=normalizing+flows+finite+density&k=3", "")
	if !strings.Contains(w.Body.String(), "flows-at-finite-density") {
		t.Errorf("search does not find the new paper: %s", w.Body)
	}
	h := decode[map[string]any](t, serveOn(s, "GET", "/healthz", ""))
	if h["seq"] != float64(4) || h["papers"] != float64(81) {
		t.Errorf("healthz %v, want seq 4 and 81 papers", h)
	}
}

func TestWriteBatchesAndLocation(t *testing.T) {
	s, eng := writeServer(t)
	ndjson := `{"id": "n1", "title": "First", "abstract": "Dark matter halos."}` + "\n\n" +
		`{"id": "n2", "title": "Second", "abstract": "Gravitational lensing."}` + "\n"
	w := serveOn(s, "POST", "/v1/papers", ndjson, "Authorization", "Bearer "+testToken, "Content-Type", "application/x-ndjson")
	if w.Code != 201 || w.Header().Get("Location") != "" {
		t.Fatalf("ndjson batch: %d %s (Location %q)", w.Code, w.Body, w.Header().Get("Location"))
	}
	got := decode[struct{ Changes []ChangeJSON }](t, w)
	if len(got.Changes) != 2 || got.Changes[0].Op != "add" || got.Changes[1].ID != "n2" || got.Changes[1].Seq != 2 {
		t.Errorf("changes %+v", got.Changes)
	}
	w = serveOn(s, "POST", "/v1/papers", `{"id": "one/with slash", "title": "t", "abstract": "a"}`, "Authorization", "Bearer "+testToken)
	if w.Code != 400 {
		t.Errorf("an id with white space: %d", w.Code)
	}
	w = serveOn(s, "POST", "/v1/papers", `{"id": "n3", "title": "t", "abstract": "a"}`, "Authorization", "Bearer "+testToken)
	if w.Code != 201 || w.Header().Get("Location") != "/v1/papers/n3" {
		t.Errorf("one paper: %d, Location %q", w.Code, w.Header().Get("Location"))
	}
	if eng.Service().Len() != 83 {
		t.Errorf("%d papers, want 83", eng.Service().Len())
	}
}

func TestNoWriteRoutesWithoutToken(t *testing.T) {
	for _, tt := range []struct{ method, target string }{{"POST", "/v1/papers"}, {"PUT", "/v1/papers/x"}, {"DELETE", "/v1/papers/x"}, {"POST", "/v1/admin/refit"}} {
		w := do(t, tt.method, tt.target, newPaperJSON, "Authorization", "Bearer "+testToken)
		if w.Code != http.StatusNotFound && w.Code != http.StatusMethodNotAllowed {
			t.Errorf("%s %s without a configured token: %d, want 404 or 405", tt.method, tt.target, w.Code)
		}
	}
}

// unavailable is a Writer whose store is down.
type unavailable struct{}

func (unavailable) Write(context.Context, []models.Change) ([]models.Change, error) {
	return nil, live.ErrUnavailable
}
func (unavailable) RequestRefit() {}

func TestWritesWhileTheStoreIsDown(t *testing.T) {
	s := New(fixed(service(t)), Config{Logger: quiet, Token: testToken, Writer: unavailable{}})
	w := serveOn(s, "DELETE", "/v1/papers/"+fisherID, "", "Authorization", "Bearer "+testToken)
	if w.Code != 503 || w.Header().Get("Retry-After") == "" {
		t.Errorf("write with the store down: %d %s (Retry-After %q)", w.Code, w.Body, w.Header().Get("Retry-After"))
	}
	if w := serveOn(s, "GET", "/v1/papers/"+fisherID+"/related?k=3", ""); w.Code != 200 {
		t.Errorf("read with the store down: %d", w.Code)
	}
}

// TestAnswerCache checks that a repeated lookup is answered from the cache
// of its engine version, and that a write (a new version) is never answered
// from the old version's cache.
func TestAnswerCache(t *testing.T) {
	s, eng := writeServer(t)
	id := eng.Service().AllPapers()[3].ID
	target := "/v1/papers/" + id + "/related?k=5"
	first := serveOn(s, "GET", target, "", "Accept-Encoding", "gzip")
	second := serveOn(s, "GET", target, "", "Accept-Encoding", "gzip")
	if first.Code != 200 || second.Code != 200 || first.Body.String() != second.Body.String() || first.Header().Get("ETag") != second.Header().Get("ETag") {
		t.Fatalf("two lookups differ: %d %d", first.Code, second.Code)
	}
	if got := testutil.ToFloat64(s.metrics.cacheHits); got != 1 {
		t.Errorf("cache hits %v, want 1", got)
	}
	if w := serveOn(s, "GET", target, "", "If-None-Match", second.Header().Get("ETag"), "Accept-Encoding", "gzip"); w.Code != 304 {
		t.Errorf("If-None-Match on a cached answer: %d", w.Code)
	}
	// Remove the paper's best related paper: the next answer must not hold it.
	var rel struct{ Related []struct{ ID string } }
	plain := serveOn(s, "GET", target, "")
	if err := json.Unmarshal(plain.Body.Bytes(), &rel); err != nil {
		t.Fatal(err)
	}
	gone := rel.Related[0].ID
	if w := serveOn(s, "DELETE", "/v1/papers/"+gone, "", "Authorization", "Bearer "+testToken); w.Code != 200 {
		t.Fatalf("delete: %d %s", w.Code, w.Body)
	}
	after := serveOn(s, "GET", target, "")
	if strings.Contains(after.Body.String(), `"id":"`+gone+`"`) {
		t.Errorf("a cached answer of the old version was sent after a write: %s", after.Body)
	}
}

// TestAnswerCacheKeys checks that the answer cache tells apart what the
// router tells apart, and sends a cached fragment with its headers.
func TestAnswerCacheKeys(t *testing.T) {
	s, eng := writeServer(t)
	auth := []string{"Authorization", "Bearer " + testToken, "Content-Type", "application/json"}
	id := eng.Service().AllPapers()[3].ID
	// A paper whose ID ends in "/related", next to the paper it names.
	slashed := id + "/related"
	body := strings.Replace(newPaperJSON, `"flows-at-finite-density"`, strconv.Quote(slashed), 1)
	if w := serveOn(s, "PUT", "/v1/papers/"+url.PathEscape(slashed), body, auth...); w.Code != 201 {
		t.Fatalf("PUT %s: %d %s", slashed, w.Code, w.Body)
	}
	for range 2 { // the second answers come from the cache
		paper := serveOn(s, "GET", "/v1/papers/"+url.PathEscape(slashed), "")
		related := serveOn(s, "GET", "/v1/papers/"+id+"/related", "")
		if paper.Code != 200 || !strings.Contains(paper.Body.String(), `"title":"Normalizing flows for lattice gauge theory at finite density"`) ||
			strings.Contains(paper.Body.String(), `"related":[`) {
			t.Errorf("GET the paper %q: %d %.200s", slashed, paper.Code, paper.Body)
		}
		if related.Code != 200 || !strings.Contains(related.Body.String(), `"related":[`) {
			t.Errorf("GET the related list of %q: %d %.200s", id, related.Code, related.Body)
		}
	}
	for range 2 {
		w := serveOn(s, "GET", "/v1/papers/"+id+"/related?format=html", "")
		if w.Code != 200 || w.Header().Get("Content-Security-Policy") == "" || w.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("fragment: %d, CSP %q, nosniff %q", w.Code, w.Header().Get("Content-Security-Policy"), w.Header().Get("X-Content-Type-Options"))
		}
	}
}

// TestTooLargeNamesTheLimit checks that a 413 states the limit of the
// route that refused the body.
func TestTooLargeNamesTheLimit(t *testing.T) {
	for _, limit := range []int64{maxBodyBytes, maxWriteBytes} {
		p := problemFor(&bodyTooLargeError{limit})
		if p.Status != 413 || !strings.Contains(p.Detail, strconv.FormatInt(limit, 10)) {
			t.Errorf("limit %d: %d %q", limit, p.Status, p.Detail)
		}
	}
}
