package api

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/paperrec/paperrec/models"
	"github.com/paperrec/paperrec/recommend"
	"github.com/paperrec/paperrec/web"
)

// maxWidgetBytes is the budget of widget.js as served, uncompressed.
const maxWidgetBytes = 10 * 1024

func TestSiteAssets(t *testing.T) {
	tests := []struct {
		path, contentType, contains string
	}{
		{"/", "text/html; charset=utf-8", `data-point-count`},
		{"/widget.js", "text/javascript; charset=utf-8", `data-paperrec-related`},
		{"/explorer.js", "text/javascript; charset=utf-8", `v1/map`},
		{"/explorer.css", "text/css; charset=utf-8", `.map`},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			w := do(t, "GET", tt.path, "")
			if w.Code != 200 {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			h := w.Header()
			if h.Get("Content-Type") != tt.contentType || !strings.Contains(w.Body.String(), tt.contains) {
				t.Errorf("Content-Type %q, body has %q: %v", h.Get("Content-Type"), tt.contains, strings.Contains(w.Body.String(), tt.contains))
			}
			if h.Get("ETag") == "" || !strings.Contains(h.Get("Cache-Control"), "max-age=") || h.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("headers %v", h)
			}
			if h.Get("Access-Control-Allow-Origin") != "*" {
				t.Errorf("Access-Control-Allow-Origin %q", h.Get("Access-Control-Allow-Origin"))
			}
			again := do(t, "GET", tt.path, "", "If-None-Match", h.Get("ETag"))
			if again.Code != http.StatusNotModified || again.Body.Len() != 0 {
				t.Errorf("revalidation: status %d, %d bytes", again.Code, again.Body.Len())
			}
			gz := do(t, "GET", tt.path, "", "Accept-Encoding", "br, gzip;q=0.8")
			if gz.Header().Get("Content-Encoding") != "gzip" || gz.Header().Get("ETag") == h.Get("ETag") || !strings.Contains(gz.Header().Get("Vary"), "Accept-Encoding") {
				t.Fatalf("gzip: headers %v", gz.Header())
			}
			zr, err := gzip.NewReader(gz.Body)
			if err != nil {
				t.Fatal(err)
			}
			plain, err := io.ReadAll(zr)
			if err != nil || !bytes.Equal(plain, w.Body.Bytes()) {
				t.Errorf("gzip body does not inflate to the plain one (%v)", err)
			}
		})
	}
}

func TestWidgetSize(t *testing.T) {
	w := do(t, "GET", "/widget.js", "")
	if w.Code != 200 || w.Body.Len() == 0 || w.Body.Len() > maxWidgetBytes {
		t.Fatalf("widget.js is %d bytes (status %d); the budget is %d", w.Body.Len(), w.Code, maxWidgetBytes)
	}
	gz := do(t, "GET", "/widget.js", "", "Accept-Encoding", "gzip")
	t.Logf("widget.js: %d bytes, %d gzipped", w.Body.Len(), gz.Body.Len())
}

// TestExplorerVersionedAssets checks that the page names its script and
// styles by version, and that those URLs may be cached for good.
func TestExplorerVersionedAssets(t *testing.T) {
	page := do(t, "GET", "/", "")
	if csp := page.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
	for _, name := range []string{"explorer.js", "explorer.css"} {
		a, _ := web.Lookup(name)
		ref := name + "?v=" + a.Version
		if !strings.Contains(page.Body.String(), `"`+ref+`"`) {
			t.Errorf("index.html does not reference %s", ref)
		}
		if cc := do(t, "GET", "/"+ref, "").Header().Get("Cache-Control"); !strings.Contains(cc, "immutable") {
			t.Errorf("%s: Cache-Control %q", ref, cc)
		}
		if cc := do(t, "GET", "/"+name+"?v=old", "").Header().Get("Cache-Control"); strings.Contains(cc, "immutable") {
			t.Errorf("%s?v=old: Cache-Control %q; a stale version must revalidate", name, cc)
		}
	}
}

func TestAcceptsGzip(t *testing.T) {
	tests := []struct {
		header string
		want   bool
	}{
		{"", false},
		{"gzip", true},
		{"gzip, deflate, br", true},
		{"GZIP;q=0.5", true},
		{"br;q=1.0, gzip;q=0", false},
		{"gzip;q=0.000", false},
		{"gzip;q=0.001", true},
		{"*", true},
		{"*;q=0", false},
		{"*, gzip;q=0", false},
		{"identity", false},
		{"x-gzip", true},
		{"gzip;q=bogus", false},
	}
	for _, tt := range tests {
		if got := acceptsGzip(tt.header); got != tt.want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", tt.header, got, tt.want)
		}
	}
}

// TestCORS checks that any origin may read with GET and POST, and how
// OPTIONS is answered: preflights for GET and POST pass where the path
// serves the method, others are refused, OPTIONS on an unknown path is a 404.
func TestCORS(t *testing.T) {
	tests := []struct {
		name, method, target string
		header               []string
		status               int
		allowOrigin          string
		allowMethods         string
		allow                string
	}{
		{name: "simple GET", method: "GET", target: "/v1/papers/" + fisherID + "/related?k=2",
			header: []string{"Origin", "https://example.org"}, status: 200, allowOrigin: "*"},
		{name: "error answers are readable too", method: "GET", target: "/v1/papers/nope/related",
			header: []string{"Origin", "https://example.org"}, status: 404, allowOrigin: "*"},
		{name: "widget script", method: "GET", target: "/widget.js",
			header: []string{"Origin", "https://example.org"}, status: 200, allowOrigin: "*"},
		{name: "preflight for GET", method: "OPTIONS", target: "/v1/papers/" + fisherID + "/related",
			header: []string{"Origin", "https://example.org", "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "if-none-match"},
			status: 204, allowOrigin: "*", allowMethods: "GET, POST, OPTIONS", allow: "GET, HEAD, OPTIONS"},
		{name: "preflight for POST with JSON", method: "OPTIONS", target: "/v1/recommend",
			header: []string{"Origin", "https://example.org", "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type"},
			status: 204, allowOrigin: "*", allowMethods: "GET, POST, OPTIONS", allow: "POST, OPTIONS"},
		{name: "preflight for POST where only GET is served", method: "OPTIONS", target: "/v1/search",
			header: []string{"Origin", "https://example.org", "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type"},
			status: 204, allow: "GET, HEAD, OPTIONS"},
		{name: "preflight for DELETE is refused", method: "OPTIONS", target: "/v1/papers/" + fisherID,
			header: []string{"Origin", "https://example.org", "Access-Control-Request-Method", "DELETE"},
			status: 204, allow: "GET, HEAD, OPTIONS"},
		{name: "preflight for a method the path lacks", method: "OPTIONS", target: "/v1/recommend",
			header: []string{"Origin", "https://example.org", "Access-Control-Request-Method", "GET"},
			status: 204, allow: "POST, OPTIONS"},
		{name: "plain OPTIONS", method: "OPTIONS", target: "/v1/search", status: 204, allow: "GET, HEAD, OPTIONS"},
		{name: "OPTIONS on an unknown path", method: "OPTIONS", target: "/v2/nothing",
			header: []string{"Origin", "https://example.org", "Access-Control-Request-Method", "GET"}, status: 404},
		{name: "POST is readable cross-origin", method: "POST", target: "/v1/recommend",
			header: []string{"Origin", "https://example.org", "Content-Type", "application/json"}, status: 200, allowOrigin: "*"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := ""
			if tt.method == "POST" {
				body = `{"positive":["` + fisherID + `"],"k":1}`
			}
			w := do(t, tt.method, tt.target, body, tt.header...)
			h := w.Header()
			got := []string{strings.TrimSpace(http.StatusText(w.Code)), h.Get("Access-Control-Allow-Origin"), h.Get("Access-Control-Allow-Methods"), h.Get("Allow")}
			want := []string{http.StatusText(tt.status), tt.allowOrigin, tt.allowMethods, tt.allow}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("status, Allow-Origin, Allow-Methods, Allow (-want +got):\n%s", diff)
			}
			if allowed := strings.ToLower(h.Get("Access-Control-Allow-Headers")); tt.allowMethods != "" &&
				(!strings.Contains(allowed, "if-none-match") || !strings.Contains(allowed, "content-type") || h.Get("Access-Control-Max-Age") == "") {
				t.Errorf("preflight headers %v", h)
			}
			if tt.allowOrigin != "" && tt.method == "GET" && h.Get("Access-Control-Expose-Headers") != "ETag" {
				t.Errorf("Access-Control-Expose-Headers %q", h.Get("Access-Control-Expose-Headers"))
			}
		})
	}
}

var itemRE = regexp.MustCompile(`<li class="paperrec-item" data-paper-id="([^"]+)">`)

func TestRelatedHTML(t *testing.T) {
	jsonIDs := func(target string) []string {
		var ids []string
		for _, it := range decode[relatedBody](t, do(t, "GET", target, "")).Related {
			ids = append(ids, it.ID)
		}
		return ids
	}
	htmlIDs := func(body string) []string {
		var ids []string
		for _, m := range itemRE.FindAllStringSubmatch(body, -1) {
			ids = append(ids, m[1])
		}
		return ids
	}
	tests := []struct {
		name, query string
	}{
		{"default k", ""},
		{"k", "k=3"},
		{"filters", "k=4&category=Astrophysics&from=2022&to=2024-06"},
		{"diversity and exclude", "k=5&diversity=0.5&exclude=quantification-of-high-dimensional-non-gaussianities-and-its-implication-to"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := "/v1/papers/" + fisherID + "/related?" + tt.query
			w := do(t, "GET", base+"&format=html", "")
			if w.Code != 200 || w.Header().Get("Content-Type") != "text/html; charset=utf-8" {
				t.Fatalf("status %d, Content-Type %q: %s", w.Code, w.Header().Get("Content-Type"), w.Body)
			}
			if w.Header().Get("ETag") == "" || w.Header().Get("Access-Control-Allow-Origin") != "*" {
				t.Errorf("headers %v", w.Header())
			}
			if diff := cmp.Diff(jsonIDs(base), htmlIDs(w.Body.String())); diff != "" {
				t.Errorf("HTML items differ from JSON (-json +html):\n%s", diff)
			}
			if json := jsonIDs(base + "&format=json"); len(json) == 0 {
				t.Errorf("format=json answers no items")
			}
		})
	}
	w := do(t, "GET", "/v1/papers/"+fisherID+"/related?k=1&format=html&href="+url.QueryEscape("https://example.org/papers/{id}?from=widget"), "")
	if !strings.Contains(w.Body.String(), `href="https://example.org/papers/`) || !strings.Contains(w.Body.String(), `?from=widget"`) {
		t.Errorf("href pattern not applied:\n%s", w.Body)
	}
	def := do(t, "GET", "/v1/papers/"+fisherID+"/related?k=1&format=html", "", "Host", "evil.example")
	if !strings.Contains(def.Body.String(), `href="/#paper=`) || strings.Contains(def.Body.String(), "evil") {
		t.Errorf("default link is not the explorer, relative:\n%s", def.Body)
	}
	if h := def.Header(); h.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(h.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Errorf("fragment headers %v", h)
	}
	pub := New(fixed(service(t)), Config{Logger: quiet, PublicURL: "https://papers.example.org/"})
	w = httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/v1/papers/"+fisherID+"/related?k=1&format=html", nil)
	req.Host = "evil.example"
	pub.Handler().ServeHTTP(w, req)
	if !strings.Contains(w.Body.String(), `href="https://papers.example.org/#paper=`) {
		t.Errorf("default link is not the explorer at the public URL:\n%s", w.Body)
	}
}

func TestRelatedHTMLErrors(t *testing.T) {
	tests := []struct {
		name, query string
		status      int
		param       string
	}{
		{"unknown format", "format=xml", 400, "format"},
		{"unknown format wins over bad k", "format=pdf&k=0", 400, "format"},
		{"bad k in html", "format=html&k=0", 400, "k"},
		{"javascript link", "format=html&href=" + url.QueryEscape("javascript:alert(1)//{id}"), 400, "href"},
		{"data link", "format=html&href=" + url.QueryEscape("data:text/html,{id}"), 400, "href"},
		{"long link", "format=html&href=" + strings.Repeat("a", 2000), 400, "href"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := do(t, "GET", "/v1/papers/"+fisherID+"/related?"+tt.query, "")
			if w.Code != tt.status || w.Header().Get("Content-Type") != "application/problem+json" {
				t.Fatalf("status %d, Content-Type %q: %s", w.Code, w.Header().Get("Content-Type"), w.Body)
			}
			if p := decode[Problem](t, w); p.Param != tt.param || p.Detail == "" {
				t.Errorf("problem %+v, want param %q", p, tt.param)
			}
		})
	}
	if w := do(t, "GET", "/v1/papers/no-such-paper/related?format=html", ""); w.Code != 404 {
		t.Errorf("unknown paper as html: status %d", w.Code)
	}
}

// TestRelatedHTMLEscapes serves a corpus whose text and IDs carry markup.
func TestRelatedHTMLEscapes(t *testing.T) {
	papers := []models.Paper{
		{ID: "a", Title: "Strings <b>and</b> branes", Authors: []string{"Ann <img src=x onerror=alert(1)>"}, Abstract: "Strings and branes in anti de Sitter space, holography."},
		{ID: `b"><script>alert(1)</script>`, Title: `<script>alert("t")</script> & branes`, Authors: []string{"Bob & Co"},
			Abstract: "Branes and strings in de Sitter space, holography."},
		{ID: "hep-th/99+1", Title: "Slash id", Abstract: "Holography of strings and branes."},
	}
	h := smallHandler(t, papers)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/v1/papers/a/related?k=2&format=html&href=/p/{id}", nil))
	body := w.Body.String()
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, body)
	}
	for _, bad := range []string{"<script", "<img", "<b>", `alert(1)</`} {
		if strings.Contains(body, bad) {
			t.Errorf("fragment holds %q unescaped:\n%s", bad, body)
		}
	}
	for _, good := range []string{"&lt;script&gt;", "Bob &amp; Co", `href="/p/hep-th%2F99%2B1"`, `href="/p/b%22%3E%3Cscript%3Ealert%281%29%3C%2Fscript%3E"`} {
		if !strings.Contains(body, good) {
			t.Errorf("fragment lacks %q:\n%s", good, body)
		}
	}
}

// TestRelatedHTMLEmpty renders a list that filters left empty.
func TestRelatedHTMLEmpty(t *testing.T) {
	w := do(t, "GET", "/v1/papers/"+fisherID+"/related?format=html&from=1900&to=1901", "")
	if w.Code != 200 || !strings.Contains(w.Body.String(), `class="paperrec-empty"`) || strings.Contains(w.Body.String(), "<li") {
		t.Errorf("status %d:\n%s", w.Code, w.Body)
	}
}

func TestWhyLine(t *testing.T) {
	tests := []struct {
		name string
		why  recommend.Why
		want string
	}{
		{"keyphrases first", recommend.Why{Keyphrases: []string{"a", "b", "c", "d"}, Authors: []string{"X"}}, "Shared keyphrases: a, b, c"},
		{"then authors", recommend.Why{Authors: []string{"X", "Y", "Z"}, Terms: []recommend.Term{{Term: "t"}}}, "Shared authors: X, Y"},
		{"then distinct terms", recommend.Why{Terms: []recommend.Term{{Term: "fisher", Kind: "word"}, {Term: "fisher", Kind: "word"}, {Term: "matrix", Kind: "word"}, {Term: "x", Kind: "word"}, {Term: "y", Kind: "word"}}}, "Shared terms: fisher, matrix, x"},
		{"phrases before the words they hold", recommend.Why{Terms: []recommend.Term{{Term: "tuning", Kind: "word"}, {Term: "fine", Kind: "word"}, {Term: "fine tuning", Kind: "bigram"}, {Term: "parameters", Kind: "word"}}}, "Shared terms: fine tuning, parameters"},
		{"nothing", recommend.Why{}, ""},
	}
	for _, tt := range tests {
		if got := whyLine(tt.why); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}
