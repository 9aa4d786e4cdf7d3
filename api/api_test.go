package api

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/paperrec/paperrec/data"
	"github.com/paperrec/paperrec/models"
	"github.com/paperrec/paperrec/recommend"
)

var (
	srvOnce sync.Once
	srv     *Server
	srvSvc  *recommend.Service
	srvErr  error
)

// quiet is a logger that discards.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// fixed is a Source that always answers with svc.
func fixed(svc *recommend.Service) Source { return func() *recommend.Service { return svc } }

// server builds the API over the bundled corpus once per test binary.
func server(t testing.TB) *Server {
	t.Helper()
	service(t)
	return srv
}

// service returns the service that server answers with.
func service(t testing.TB) *recommend.Service {
	t.Helper()
	srvOnce.Do(func() {
		res, err := models.ParseListing(bytes.NewReader(data.Listing), data.ListingName, models.ParseOptions{})
		if err != nil {
			srvErr = err
			return
		}
		c, err := models.NewCorpus(res.Papers)
		if err != nil {
			srvErr = err
			return
		}
		svc, err := recommend.New(context.Background(), c, recommend.Config{})
		if err != nil {
			srvErr = err
			return
		}
		srvSvc = svc
		srv = New(fixed(svc), Config{Logger: quiet})
	})
	if srvErr != nil {
		t.Fatal(srvErr)
	}
	return srvSvc
}

const fisherID = "naturalness-and-fisher-information"

func do(t *testing.T, method, target, body string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, r)
	for i := 0; i+1 < len(header); i += 2 {
		if header[i] == "Host" {
			req.Host = header[i+1]
			continue
		}
		req.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	server(t).Handler().ServeHTTP(w, req)
	return w
}

func decode[T any](t *testing.T, w *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatalf("decode %q: %v", w.Body.String(), err)
	}
	return v
}

func TestHealthz(t *testing.T) {
	w := do(t, "GET", "/healthz", "")
	if w.Code != 200 {
		t.Fatalf("status %d", w.Code)
	}
	got := decode[map[string]any](t, w)
	if diff := cmp.Diff(map[string]any{"status": "ok", "ready": true, "papers": 574.0}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestListPapers(t *testing.T) {
	type list struct {
		Papers []Paper `json:"papers"`
		Total  int     `json:"total"`
	}
	all := decode[list](t, do(t, "GET", "/v1/papers", ""))
	if all.Total != 574 || len(all.Papers) != defaultLimit {
		t.Errorf("total %d, page %d", all.Total, len(all.Papers))
	}
	if p := all.Papers[0]; p.ID != fisherID || len(p.Keywords) == 0 || len(p.Authors) != 3 || p.Date != "2026-03-02" {
		t.Errorf("first paper: %+v", p)
	}
	astro := decode[list](t, do(t, "GET", "/v1/papers?category=astrophysics&limit=1000&offset=2", ""))
	if astro.Total != 152 || len(astro.Papers) != 150 {
		t.Errorf("astrophysics: total %d, page %d; want 152 and 150", astro.Total, len(astro.Papers))
	}
	for _, p := range astro.Papers {
		if p.Category != "Astrophysics" {
			t.Errorf("%s in %s", p.ID, p.Category)
		}
	}
	two := decode[list](t, do(t, "GET", "/v1/papers?category=Astrophysics,Foundational%20AI&limit=1", ""))
	if two.Total != 152+202 {
		t.Errorf("two categories: total %d", two.Total)
	}
}

func TestGetPaper(t *testing.T) {
	w := do(t, "GET", "/v1/papers/"+fisherID, "")
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	p := decode[PaperDetail](t, w)
	if p.Title != "Naturalness and Fisher Information" || !strings.HasPrefix(p.Abstract, "Fine-tuning and naturalness") {
		t.Errorf("paper: %+v", p)
	}
}

type relatedBody struct {
	Paper   struct{ ID, Title string } `json:"paper"`
	Related []Item                     `json:"related"`
}

func TestRelated(t *testing.T) {
	w := do(t, "GET", "/v1/papers/"+fisherID+"/related", "")
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	got := decode[relatedBody](t, w)
	if got.Paper.ID != fisherID || len(got.Related) != 10 {
		t.Fatalf("paper %q, %d related", got.Paper.ID, len(got.Related))
	}
	for i, it := range got.Related {
		if it.ID == fisherID || it.Score < 0 || it.Score > 1 || (i > 0 && it.Score > got.Related[i-1].Score) {
			t.Errorf("item %d: %+v", i, it)
		}
		if len(it.Why.Terms) == 0 {
			t.Errorf("item %d has no why terms", i)
		}
	}
	f := decode[relatedBody](t, do(t, "GET", "/v1/papers/"+fisherID+"/related?k=3&category=Astrophysics&from=2022&to=2024-06", ""))
	if len(f.Related) != 3 {
		t.Fatalf("filtered: %d items", len(f.Related))
	}
	for _, it := range f.Related {
		if it.Category != "Astrophysics" || it.Date < "2022" || it.Date > "2024-06-30" {
			t.Errorf("filtered item %+v", it)
		}
	}
}

func TestSearchAndRecommend(t *testing.T) {
	type results struct {
		Results []Item `json:"results"`
	}
	s := decode[results](t, do(t, "GET", "/v1/search?q="+url.QueryEscape("Naturalness and Fisher Information")+"&k=3", ""))
	if len(s.Results) != 3 || s.Results[0].ID != fisherID {
		t.Errorf("search: %+v", s.Results)
	}
	empty := decode[results](t, do(t, "GET", "/v1/search?q=zzqx", ""))
	if empty.Results == nil || len(empty.Results) != 0 {
		t.Errorf("search for nothing known: %s", `want {"results":[]}`)
	}
	w := do(t, "POST", "/v1/recommend", `{"positive":["`+fisherID+`"],"negative":[],"k":4}`, "Content-Type", "application/json")
	if w.Code != 200 {
		t.Fatalf("recommend status %d: %s", w.Code, w.Body)
	}
	r := decode[results](t, w)
	if len(r.Results) != 4 || slices.ContainsFunc(r.Results, func(it Item) bool { return it.ID == fisherID }) {
		t.Errorf("recommend: %+v", r.Results)
	}
	if w := do(t, "POST", "/v1/recommend", `{"positive":["`+fisherID+`"]}`); w.Code != 200 || len(decode[results](t, w).Results) != 10 {
		t.Errorf("recommend default k: %d %s", w.Code, w.Body)
	}
}

// TestErrors checks every error the API answers: status, problem details
// content type and the parameter named.
func TestErrors(t *testing.T) {
	tests := []struct {
		name, method, target, body string
		status                     int
		param                      string
	}{
		{"unknown paper", "GET", "/v1/papers/no-such-paper", "", 404, ""},
		{"related of unknown paper", "GET", "/v1/papers/no-such-paper/related", "", 404, ""},
		{"k not an integer", "GET", "/v1/papers/" + fisherID + "/related?k=ten", "", 400, "k"},
		{"k zero", "GET", "/v1/papers/" + fisherID + "/related?k=0", "", 400, "k"},
		{"k above max", "GET", "/v1/papers/" + fisherID + "/related?k=101", "", 400, "k"},
		{"k negative in search", "GET", "/v1/search?q=x&k=-3", "", 400, "k"},
		{"unknown category", "GET", "/v1/papers/" + fisherID + "/related?category=Biology", "", 400, "category"},
		{"bad from", "GET", "/v1/papers/" + fisherID + "/related?from=yesterday", "", 400, "from"},
		{"from after to", "GET", "/v1/papers/" + fisherID + "/related?from=2025&to=2024", "", 400, "from"},
		{"diversity not a number", "GET", "/v1/papers/" + fisherID + "/related?diversity=lots", "", 400, "diversity"},
		{"diversity above 1", "GET", "/v1/papers/" + fisherID + "/related?diversity=2", "", 400, "diversity"},
		{"search without q", "GET", "/v1/search", "", 400, "q"},
		{"search q too long", "GET", "/v1/search?q=" + strings.Repeat("a", 5000), "", 400, "q"},
		{"limit zero", "GET", "/v1/papers?limit=0", "", 400, "limit"},
		{"offset negative", "GET", "/v1/papers?offset=-1", "", 400, "offset"},
		{"recommend empty body", "POST", "/v1/recommend", "", 400, "body"},
		{"recommend bad JSON", "POST", "/v1/recommend", `{"positive":`, 400, "body"},
		{"recommend unknown field", "POST", "/v1/recommend", `{"postive":["x"]}`, 400, "body"},
		{"recommend ids not strings", "POST", "/v1/recommend", `{"positive":[1]}`, 400, "positive"},
		{"recommend no positives", "POST", "/v1/recommend", `{"negative":["` + fisherID + `"]}`, 400, "positive"},
		{"recommend unknown id", "POST", "/v1/recommend", `{"positive":["nope"]}`, 404, ""},
		{"recommend k too big", "POST", "/v1/recommend", `{"positive":["` + fisherID + `"],"k":1000}`, 400, "k"},
		{"recommend two values", "POST", "/v1/recommend", `{"positive":["` + fisherID + `"]} {}`, 400, "body"},
		{"recommend too large", "POST", "/v1/recommend", `{"positive":["` + strings.Repeat("a", maxBodyBytes) + `"]}`, 413, ""},
		{"unknown route", "GET", "/v2/whatever", "", 404, ""},
		{"wrong method", "DELETE", "/v1/search", "", 405, ""},
		{"a bad filter on text that matches nothing", "GET", "/v1/search?q=zzqqxx&category=nope", "", 400, "category"},
		{"a bad range on text that matches nothing", "GET", "/v1/search?q=zzqqxx&from=2025&to=2020", "", 400, "from"},
		{"a write route without a token", "DELETE", "/v1/papers/" + fisherID, "", 404, ""},
		{"a write route without a token, POST", "POST", "/v1/papers", `{"id":"x"}`, 404, ""},
		{"a method no route has on a paper's related list", "POST", "/v1/papers/" + fisherID + "/related", "", 405, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := do(t, tt.method, tt.target, tt.body)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type %q", ct)
			}
			p := decode[Problem](t, w)
			if p.Status != tt.status || p.Title == "" || p.Detail == "" || p.Type == "" || p.Param != tt.param {
				t.Errorf("problem %+v, want status %d param %q", p, tt.status, tt.param)
			}
		})
	}
}

func TestETag(t *testing.T) {
	w := do(t, "GET", "/v1/papers/"+fisherID+"/related?k=3", "")
	etag := w.Header().Get("ETag")
	if etag == "" || !strings.Contains(w.Header().Get("Cache-Control"), "max-age=") {
		t.Fatalf("ETag %q, Cache-Control %q", etag, w.Header().Get("Cache-Control"))
	}
	again := do(t, "GET", "/v1/papers/"+fisherID+"/related?k=3", "", "If-None-Match", etag)
	if again.Code != http.StatusNotModified || again.Body.Len() != 0 {
		t.Errorf("If-None-Match: status %d, %d bytes; want 304 and no body", again.Code, again.Body.Len())
	}
	other := do(t, "GET", "/v1/papers/"+fisherID+"/related?k=4", "", "If-None-Match", etag)
	if other.Code != 200 {
		t.Errorf("a different answer with the old ETag: status %d", other.Code)
	}
}

// smallHandler serves an API over the given papers.
func smallHandler(t *testing.T, papers []models.Paper) http.Handler {
	t.Helper()
	c, err := models.NewCorpus(papers)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := recommend.New(context.Background(), c, recommend.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return New(fixed(svc), Config{Logger: quiet}).Handler()
}

// TestEscapedID serves IDs that need escaping in a path, as JSON Lines
// corpora may bring (old arXiv IDs hold a slash).
func TestEscapedID(t *testing.T) {
	papers := []models.Paper{
		{ID: "hep-th/9901001", Title: "Old style arXiv id", Abstract: "Strings and branes in anti de Sitter space."},
		{ID: "2401.00001", Title: "New style", Abstract: "Branes and strings in de Sitter space."},
	}
	h := smallHandler(t, papers)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/v1/papers/hep-th%2F9901001/related?k=1", nil))
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"2401.00001"`) {
		t.Errorf("status %d: %s", w.Code, w.Body)
	}
}

// TestOpenAPIListsServedRoutes checks that the OpenAPI document lists
// exactly the routes the server serves.
func TestOpenAPIListsServedRoutes(t *testing.T) {
	w := do(t, "GET", "/openapi.json", "")
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi %q", doc.OpenAPI)
	}
	var documented []string
	for path, ops := range doc.Paths {
		for method := range ops {
			p := path
			for strings.Contains(p, "{") {
				i, j := strings.Index(p, "{"), strings.Index(p, "}")
				p = p[:i] + ":" + p[i+1:j] + p[j+1:]
			}
			documented = append(documented, strings.ToUpper(method)+" "+p)
		}
	}
	slices.Sort(documented)
	// The write routes are documented, and served when a token is set.
	withWrites, _ := writeServer(t)
	if diff := cmp.Diff(withWrites.routes(), documented); diff != "" {
		t.Errorf("served (-) vs documented (+):\n%s", diff)
	}
}

func TestNoPanicOnAnyPath(t *testing.T) {
	for _, target := range []string{"/v1/papers/%00", "/v1/papers/..%2F..%2Fetc/related", "/v1/search?q=%ff%fe", "/v1/papers/" + strings.Repeat("x", 10000), "/v1/papers?category=%00"} {
		w := do(t, "GET", target, "")
		if w.Code >= 500 {
			t.Errorf("%s: status %d: %s", target, w.Code, w.Body)
		}
	}
}

func TestDecodeRecommend(t *testing.T) {
	k3 := 3
	tests := []struct {
		name, body string
		want       RecommendRequest
		param      string // the field an error names; "" for success
		detail     string // a part of the error's message
	}{
		{name: "all fields", body: `{"positive":["a"],"negative":["b"],"k":3,"diversity":0.5}`,
			want: RecommendRequest{Positive: []string{"a"}, Negative: []string{"b"}, K: &k3, Diversity: 0.5}},
		{name: "null", body: ` null `, want: RecommendRequest{}},
		{name: "null k", body: `{"positive":["a"],"k":null}`, want: RecommendRequest{Positive: []string{"a"}}},
		{name: "empty", body: " \n", param: "body", detail: "empty"},
		{name: "an array", body: `[{"positive":["a"]}]`, param: "body", detail: "want a JSON object"},
		{name: "a string", body: `"positive"`, param: "body", detail: "want a JSON object"},
		{name: "name in capitals", body: `{"Positive":["a"]}`, param: "body", detail: "case-sensitive"},
		{name: "unknown name", body: `{"postive":["a"]}`, param: "body", detail: "unknown field"},
		{name: "given twice", body: `{"k":1,"positive":["a"],"k":2}`, param: "k", detail: "twice"},
		{name: "id a number", body: `{"positive":["a",1]}`, param: "positive", detail: "want string"},
		{name: "k a fraction", body: `{"k":1.5}`, param: "k"},
		{name: "truncated", body: `{"positive":["a"]`, param: "body", detail: "invalid JSON"},
		{name: "truncated in a value", body: `{"positive":["a"`, param: "body", detail: "invalid JSON"},
		{name: "two values", body: `{} {}`, param: "body", detail: "more than one"},
		{name: "a stray bracket after", body: `{"positive":["a"]}]`, param: "body", detail: "more than one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeRecommend([]byte(tt.body))
			if tt.param == "" {
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
				return
			}
			var pe *paramError
			if !errors.As(err, &pe) || pe.param != tt.param || !strings.Contains(pe.msg, tt.detail) {
				t.Errorf("err = %v, want one naming %q and saying %q", err, tt.param, tt.detail)
			}
		})
	}
}

func FuzzDecodeRecommend(f *testing.F) {
	f.Add(`{"positive":["a"],"negative":["b"],"k":3}`)
	f.Add(`{"positive":[1]}`)
	f.Add(`{"Positive":["a"],"positive":["b"],"positive":[]}`)
	f.Add(`{"k":"x"}`)
	f.Add(``)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, body string) {
		req, err := decodeRecommend([]byte(body))
		if err != nil {
			if p := problemFor(err); p.Status != 400 {
				t.Fatalf("decode error %v maps to %d, want 400", err, p.Status)
			}
			return
		}
		_ = req
	})
}

func FuzzQueryParams(f *testing.F) {
	f.Add("k=3&category=Astrophysics&from=2020&to=2021-05&diversity=0.5")
	f.Add("k=-1&from=x")
	f.Add("category=%00&exclude=a,b,,c")
	f.Add("k=5&k=abc&K=5&diversity=NaN")
	f.Add("q=%ff&%zz;x")
	f.Fuzz(func(t *testing.T, query string) {
		w := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/v1/papers/"+fisherID+"/related", nil)
		req.URL.RawQuery = query
		server(t).Handler().ServeHTTP(w, req)
		if w.Code != 200 && w.Code != 400 && w.Code != http.StatusRequestURITooLong {
			t.Fatalf("query %q: status %d: %s", query, w.Code, w.Body)
		}
	})
}

func TestClustersAndMap(t *testing.T) {
	type cluster struct {
		ID             int               `json:"id"`
		Label          string            `json:"label"`
		Size           int               `json:"size"`
		Members        []string          `json:"members"`
		Representative []json.RawMessage `json:"representative"`
		Categories     map[string]int    `json:"categories"`
		Years          map[string]int    `json:"years"`
		Summary        string            `json:"summary"`
	}
	all := decode[struct {
		Clusters []cluster `json:"clusters"`
	}](t, do(t, "GET", "/v1/clusters", ""))
	if len(all.Clusters) < 8 || len(all.Clusters) > 61 {
		t.Fatalf("%d clusters", len(all.Clusters))
	}
	members := 0
	for _, c := range all.Clusters {
		members += len(c.Members)
		if c.Size != len(c.Members) || c.Label == "" || c.Summary == "" || len(c.Representative) == 0 || len(c.Categories) == 0 || len(c.Years) == 0 {
			t.Errorf("cluster %d: %+v", c.ID, c)
		}
	}
	if members != 574 {
		t.Errorf("clusters hold %d papers, want 574", members)
	}
	first := all.Clusters[0]
	one := decode[cluster](t, do(t, "GET", "/v1/clusters/"+strconv.Itoa(first.ID), ""))
	if one.ID != first.ID || one.Label != first.Label {
		t.Errorf("cluster %d: %+v", first.ID, one)
	}
	// A paper's detail and its related items carry their cluster.
	p := decode[PaperDetail](t, do(t, "GET", "/v1/papers/"+first.Members[0], ""))
	if p.Cluster != first.ID {
		t.Errorf("paper %s: cluster %d, want %d", p.ID, p.Cluster, first.ID)
	}
	rel := decode[relatedBody](t, do(t, "GET", "/v1/papers/"+first.Members[0]+"/related?k=3", ""))
	for _, it := range rel.Related {
		want := -2
		for _, c := range all.Clusters {
			if slices.Contains(c.Members, it.ID) {
				want = c.ID
			}
		}
		if it.Cluster != want {
			t.Errorf("related %s: cluster %d, want %d", it.ID, it.Cluster, want)
		}
	}
	if w := do(t, "GET", "/v1/clusters/9999", ""); w.Code != 404 {
		t.Errorf("unknown cluster: %d", w.Code)
	}
	if w := do(t, "GET", "/v1/clusters/abc", ""); w.Code != 400 || decode[Problem](t, w).Param != "id" {
		t.Errorf("non-integer cluster: %d %s", w.Code, w.Body)
	}
	pts := decode[struct {
		Points []struct {
			ID      string  `json:"id"`
			X       float64 `json:"x"`
			Y       float64 `json:"y"`
			Cluster int     `json:"cluster"`
		} `json:"points"`
	}](t, do(t, "GET", "/v1/map", ""))
	if len(pts.Points) != 574 {
		t.Errorf("%d map points", len(pts.Points))
	}
	spread := map[[2]float64]bool{}
	for _, pt := range pts.Points {
		if pt.X < 0 || pt.X > 1 || pt.Y < 0 || pt.Y > 1 {
			t.Errorf("point %+v outside the unit square", pt)
		}
		spread[[2]float64{pt.X, pt.Y}] = true
	}
	if len(spread) < 500 {
		t.Errorf("only %d distinct positions for 574 papers", len(spread))
	}
}

func TestGzipJSON(t *testing.T) {
	plain := do(t, "GET", "/v1/papers?limit=1000", "")
	zipped := do(t, "GET", "/v1/papers?limit=1000", "", "Accept-Encoding", "gzip, br")
	if zipped.Header().Get("Content-Encoding") != "gzip" || plain.Header().Get("Content-Encoding") != "" {
		t.Fatalf("Content-Encoding %q (gzip accepted), %q (not)", zipped.Header().Get("Content-Encoding"), plain.Header().Get("Content-Encoding"))
	}
	if zipped.Header().Get("ETag") == plain.Header().Get("ETag") {
		t.Error("the same ETag for two encodings")
	}
	if !strings.Contains(zipped.Header().Get("Vary"), "Accept-Encoding") {
		t.Errorf("Vary %q", zipped.Header().Get("Vary"))
	}
	zippedLen := zipped.Body.Len() // read before gunzipping drains the buffer
	zr, err := gzip.NewReader(zipped.Body)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(body, plain.Body.Bytes()) {
		t.Errorf("gunzipped answer differs (%v)", err)
	}
	t.Logf("papers list: %d bytes, %d gzipped", plain.Body.Len(), zippedLen)
	if zippedLen == 0 || zippedLen*2 > plain.Body.Len() {
		t.Errorf("gzip gave %d of %d bytes", zippedLen, plain.Body.Len())
	}
	small := do(t, "GET", "/healthz", "", "Accept-Encoding", "gzip")
	if small.Header().Get("Content-Encoding") != "" {
		t.Error("a tiny answer was compressed")
	}
	again := do(t, "GET", "/v1/papers?limit=1000", "", "Accept-Encoding", "gzip", "If-None-Match", zipped.Header().Get("ETag"))
	if again.Code != http.StatusNotModified {
		t.Errorf("If-None-Match with the gzip ETag: %d", again.Code)
	}
}
