package api

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// hostileCase is a request the API must refuse with its documented 4xx and
// problem details, never a 5xx.
type hostileCase struct {
	name           string
	method, target string
	header         []string // name, value pairs
	body           string
	status         int
	param          string // the parameter the problem names; "" to not check
	reason         string
}

// hostileCases is the standing table of hostile requests, counted in
// docs/reliability.md.
func hostileCases() []hostileCase {
	rel := "/v1/papers/" + fisherID + "/related?"
	rec := func(name, body string, status int, param string, header ...string) hostileCase {
		if header == nil {
			header = []string{"Content-Type", "application/json"}
		}
		return hostileCase{name: name, method: "POST", target: "/v1/recommend", header: header, body: body, status: status, param: param}
	}
	deepArray := `{"positive":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`
	deepObject := strings.Repeat(`{"positive":`, 5000) + `[]` + strings.Repeat(`}`, 5000)
	return []hostileCase{
		// Parameters: unknown, repeated, not finite, not numbers.
		{name: "unknown parameter K", method: "GET", target: rel + "K=5", status: 400, param: "K", reason: "names are case-sensitive: ?K=5 used to give 10 results silently"},
		{name: "unknown parameter on a route that takes none", method: "GET", target: "/v1/map?x=1", status: 400, param: "x"},
		{name: "unknown parameter on a paper", method: "GET", target: "/v1/papers/" + fisherID + "?k=1", status: 400, param: "k"},
		{name: "k repeated with different values", method: "GET", target: rel + "k=5&k=abc", status: 400, param: "k", reason: "used to take the first value silently"},
		{name: "q repeated with different values", method: "GET", target: "/v1/search?q=a&q=b", status: 400, param: "q"},
		{name: "diversity NaN", method: "GET", target: rel + "diversity=NaN", status: 400, param: "diversity", reason: "NaN passes every < and > range check"},
		{name: "diversity nan", method: "GET", target: rel + "diversity=nan", status: 400, param: "diversity"},
		{name: "diversity Inf", method: "GET", target: rel + "diversity=Inf", status: 400, param: "diversity"},
		{name: "diversity -Infinity", method: "GET", target: rel + "diversity=-Infinity", status: 400, param: "diversity"},
		{name: "diversity overflowing", method: "GET", target: rel + "diversity=1e400", status: 400, param: "diversity"},
		{name: "diversity in search NaN", method: "GET", target: "/v1/search?q=x&diversity=NaN", status: 400, param: "diversity"},
		{name: "diversity negative", method: "GET", target: rel + "diversity=-0.1", status: 400, param: "diversity"},
		{name: "k NaN", method: "GET", target: rel + "k=NaN", status: 400, param: "k"},
		{name: "k in exponent form", method: "GET", target: rel + "k=1e1", status: 400, param: "k"},
		{name: "k overflowing", method: "GET", target: rel + "k=99999999999999999999", status: 400, param: "k"},
		{name: "k a NUL", method: "GET", target: rel + "k=%00", status: 400, param: "k"},
		{name: "k double-encoded", method: "GET", target: rel + "k=%2535", status: 400, param: "k", reason: "decoded once, %35 is not a number"},
		{name: "k full-width digit", method: "GET", target: rel + "k=%EF%BC%95", status: 400, param: "k"},
		{name: "k empty list", method: "GET", target: rel + "k=,", status: 400, param: "k"},
		{name: "limit negative", method: "GET", target: "/v1/papers?limit=-1", status: 400, param: "limit"},
		{name: "limit not a number", method: "GET", target: "/v1/papers?limit=all", status: 400, param: "limit"},
		{name: "offset negative", method: "GET", target: "/v1/papers?offset=-5", status: 400, param: "offset"},
		// Encodings of the query string.
		{name: "invalid UTF-8 in q", method: "GET", target: "/v1/search?q=%ff%fe", status: 400, param: "q"},
		{name: "overlong UTF-8 slash in q", method: "GET", target: "/v1/search?q=%c0%af", status: 400, param: "q"},
		{name: "UTF-16 surrogate in q", method: "GET", target: "/v1/search?q=%ed%a0%80", status: 400, param: "q"},
		{name: "invalid UTF-8 in a category", method: "GET", target: "/v1/papers?category=%ff", status: 400, param: "category"},
		{name: "invalid UTF-8 in a parameter name", method: "GET", target: "/v1/papers?%ff=1", status: 400},
		{name: "malformed percent-encoding", method: "GET", target: "/v1/search?q=%zz", status: 400, param: "query"},
		{name: "truncated percent-encoding", method: "GET", target: "/v1/search?q=a%2", status: 400, param: "query"},
		{name: "semicolon separator", method: "GET", target: rel + "k=1;k=2", status: 400, param: "query"},
		{name: "empty q", method: "GET", target: "/v1/search?q=", status: 400, param: "q"},
		{name: "blank q", method: "GET", target: "/v1/search?q=%20%09%20", status: 400, param: "q"},
		{name: "q over 4096 bytes", method: "GET", target: "/v1/search?q=" + strings.Repeat("a", 5000), status: 400, param: "q"},
		{name: "query string over the bound", method: "GET", target: "/v1/search?q=" + strings.Repeat("%61", 8000), status: 414},
		// Filters.
		{name: "from after to", method: "GET", target: rel + "from=2025&to=2024", status: 400, param: "from"},
		{name: "from month 13", method: "GET", target: rel + "from=2024-13", status: 400, param: "from"},
		{name: "from year zero", method: "GET", target: rel + "from=0000", status: 400, param: "from"},
		{name: "to not a date", method: "GET", target: rel + "to=yesterday", status: 400, param: "to"},
		{name: "to with a time zone trick", method: "GET", target: rel + "to=2024-01-01T25:00:00Z", status: 400, param: "to"},
		{name: "unknown category", method: "GET", target: rel + "category=Biology", status: 400, param: "category"},
		{name: "category a NUL", method: "GET", target: rel + "category=%00", status: 400, param: "category"},
		// The HTML fragment.
		{name: "unknown format", method: "GET", target: rel + "format=xml", status: 400, param: "format"},
		{name: "javascript href", method: "GET", target: rel + "format=html&href=" + url.QueryEscape("javascript:alert(1)//{id}"), status: 400, param: "href"},
		{name: "data href", method: "GET", target: rel + "format=html&href=" + url.QueryEscape("data:text/html,{id}"), status: 400, param: "href"},
		{name: "vbscript href", method: "GET", target: rel + "format=html&href=" + url.QueryEscape("VBScript:x{id}"), status: 400, param: "href"},
		{name: "long href", method: "GET", target: rel + "format=html&href=" + strings.Repeat("a", 2000), status: 400, param: "href"},
		// Paths.
		{name: "theme id not an integer", method: "GET", target: "/v1/clusters/abc", status: 400, param: "id"},
		{name: "theme id overflowing", method: "GET", target: "/v1/clusters/99999999999999999999", status: 400, param: "id"},
		{name: "unknown theme", method: "GET", target: "/v1/clusters/9999", status: 404},
		{name: "paper id a NUL", method: "GET", target: "/v1/papers/%00", status: 404},
		{name: "paper id climbing up", method: "GET", target: "/v1/papers/..%2F..%2Fetc%2Fpasswd", status: 404},
		{name: "paper id invalid UTF-8", method: "GET", target: "/v1/papers/%ff%fe/related", status: 404},
		{name: "paper id of 10,000 bytes", method: "GET", target: "/v1/papers/" + strings.Repeat("x", 10000), status: 404},
		{name: "path past a route", method: "GET", target: "/v1/papers/" + fisherID + "/related/more", status: 404},
		{name: "unknown version", method: "GET", target: "/v2/papers", status: 404},
		{name: "OPTIONS on an unknown path", method: "OPTIONS", target: "/v2/papers", status: 404},
		// Methods.
		{name: "DELETE a paper (no token: no write routes)", method: "DELETE", target: "/v1/papers/" + fisherID, status: 404},
		{name: "PUT recommend", method: "PUT", target: "/v1/recommend", status: 405},
		{name: "PATCH healthz", method: "PATCH", target: "/healthz", status: 405},
		{name: "GET recommend", method: "GET", target: "/v1/recommend", status: 405},
		{name: "POST search", method: "POST", target: "/v1/search?q=x", status: 405},
		// Bodies.
		rec("empty body", "", 400, "body"),
		rec("truncated JSON", `{"positive":`, 400, "body"),
		rec("JSON array", `[]`, 400, "body"),
		rec("JSON null", `null`, 400, "positive"),
		rec("byte-order mark", "\ufeff{}", 400, "body"),
		rec("unknown field", `{"postive":["x"]}`, 400, "body"),
		rec("field name in capitals", `{"Positive":["`+fisherID+`"]}`, 400, "body"),
		rec("field given twice", `{"positive":["`+fisherID+`"],"positive":["x"]}`, 400, "positive"),
		rec("ids not strings", `{"positive":[1]}`, 400, "positive"),
		rec("k a string", `{"positive":["`+fisherID+`"],"k":"5"}`, 400, "k"),
		rec("k a fraction", `{"positive":["`+fisherID+`"],"k":1.5}`, 400, "k"),
		rec("k overflowing", `{"positive":["`+fisherID+`"],"k":1e400}`, 400, "k"),
		rec("k out of range", `{"positive":["`+fisherID+`"],"k":1000}`, 400, "k"),
		rec("diversity a string", `{"positive":["`+fisherID+`"],"diversity":"NaN"}`, 400, "diversity"),
		rec("diversity above 1", `{"positive":["`+fisherID+`"],"diversity":2}`, 400, "diversity"),
		rec("no positives", `{"negative":["`+fisherID+`"]}`, 400, "positive"),
		rec("two JSON values", `{"positive":["`+fisherID+`"]} {}`, 400, "body"),
		rec("deep array", deepArray, 400, ""),
		rec("deep object", deepObject, 400, ""),
		rec("invalid UTF-8 in an id", "{\"positive\":[\"\xff\xfe\"]}", 404, ""),
		rec("ten thousand ids", `{"positive":[`+strings.TrimSuffix(strings.Repeat(`"nope",`, 10000), ",")+`]}`, 400, "positive"),
		rec("body over 1 MiB", `{"positive":["`+strings.Repeat("a", maxBodyBytes)+`"]}`, 413, ""),
		{name: "recommend with a query parameter", method: "POST", target: "/v1/recommend?k=5", header: []string{"Content-Type", "application/json"},
			body: `{"positive":["` + fisherID + `"]}`, status: 400, param: "k", reason: "k goes in the body; the route takes no parameter"},
		rec("text/plain", `{"positive":["`+fisherID+`"]}`, 415, "", "Content-Type", "text/plain"),
		rec("a form", `positive=`+fisherID, 415, "", "Content-Type", "application/x-www-form-urlencoded"),
		rec("multipart", "--x\r\n\r\n--x--", 415, "", "Content-Type", "multipart/form-data; boundary=x"),
		rec("malformed content type", `{}`, 415, "", "Content-Type", ";;;"),
		rec("gzip-encoded body", `{}`, 415, "", "Content-Type", "application/json", "Content-Encoding", "gzip"),
	}
}

// TestHostileRequests sends every hostile request over a real connection:
// each gets its documented 4xx as problem details, never a 5xx, and the
// server keeps serving.
func TestHostileRequests(t *testing.T) {
	ts := httptest.NewServer(server(t).Handler())
	defer ts.Close()
	cases := hostileCases()
	if len(cases) < 60 {
		t.Errorf("%d hostile requests; the table keeps at least 60", len(cases))
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := rawRequest(t, ts.Listener.Addr().String(), tt.method, tt.target, tt.body, tt.header...)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d %s: %.300s", resp.StatusCode, tt.status, tt.reason, body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Fatalf("Content-Type %q: %.300s", ct, body)
			}
			p := decodeBytes[Problem](t, body)
			if p.Status != tt.status || p.Title == "" || p.Detail == "" || (tt.param != "" && p.Param != tt.param) {
				t.Errorf("problem %+v, want status %d param %q", p, tt.status, tt.param)
			}
		})
	}
	for _, target := range []string{"/healthz", "/v1/papers/" + fisherID + "/related?k=3"} {
		if resp, body := rawRequest(t, ts.Listener.Addr().String(), "GET", target, ""); resp.StatusCode != 200 {
			t.Errorf("after the hostile requests: %s: status %d: %s", target, resp.StatusCode, body)
		}
	}
}

// rawRequest writes one HTTP/1.1 request byte for byte (no client
// normalises the target) and reads the answer.
func rawRequest(t *testing.T, addr, method, target, body string, header ...string) (*http.Response, []byte) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: paperrec.test\r\nConnection: close\r\n", method, target)
	for i := 0; i+1 < len(header); i += 2 {
		fmt.Fprintf(&b, "%s: %s\r\n", header[i], header[i+1])
	}
	if body != "" || method == "POST" {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n")
	b.WriteString(body)
	go io.WriteString(conn, b.String()) // the server may answer before it reads the whole body
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		t.Fatalf("%s %.80s: %v", method, target, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp, out
}

func decodeBytes[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %.300q: %v", b, err)
	}
	return v
}
