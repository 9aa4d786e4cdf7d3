package api

// Tests that drive Debian's Chromium headless with chromedp: the widget on
// a page served from another origin, and the landscape explorer. They skip
// when no Chromium is found, unless PAPERREC_REQUIRE_BROWSER=1 (as in CI).
// They wait on DOM conditions, never on time; the context timeouts are only
// a backstop for a hung browser.

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/paperrec/paperrec/web"
)

var screenshots = flag.Bool("screenshots", false, "write docs/widget.png and docs/explorer.png from a real browser")

// tabTimeout is the backstop for one browser test: generous, because the
// machines running it are shared and noisy.
const tabTimeout = 3 * time.Minute

// chromiumPath finds the browser: $PAPERREC_CHROMIUM, /usr/bin/chromium,
// or chromium on $PATH.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("PAPERREC_CHROMIUM"); p != "" {
		return p
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	if os.Getenv("PAPERREC_REQUIRE_BROWSER") == "1" {
		t.Fatal("no chromium found (set PAPERREC_CHROMIUM), and PAPERREC_REQUIRE_BROWSER=1")
	}
	t.Skip("no chromium found; set PAPERREC_CHROMIUM or install Debian's chromium")
	return ""
}

// quietLog forwards the browser's complaints to the test log until the
// test ends; chromedp may still log from its goroutines after that.
type quietLog struct {
	mu   sync.Mutex
	t    *testing.T
	done bool
}

func (l *quietLog) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.done {
		l.t.Logf("chromium: "+format, args...)
	}
}

func (l *quietLog) stop() {
	l.mu.Lock()
	l.done = true
	l.mu.Unlock()
}

// newBrowser starts a headless Chromium for the test with a fresh profile.
// The flags keep it off the network: without the background-networking
// ones Chromium floods a closed network with update and sync requests.
func newBrowser(t *testing.T, width, height int) context.Context {
	t.Helper()
	exe := chromiumPath(t)
	profile, err := os.MkdirTemp("", "paperrec-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(width, height),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-features", "Translate,MediaRouter,OptimizationHints,InterestFeedContentSuggestions"),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("mute-audio", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.Flag("password-store", "basic"),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	l := &quietLog{t: t}
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithLogf(l.logf), chromedp.WithErrorf(l.logf),
		chromedp.WithBrowserOption(chromedp.WithBrowserLogf(l.logf), chromedp.WithBrowserErrorf(l.logf)))
	t.Cleanup(func() {
		cancel()
		cancelAlloc() // waits for the browser process to exit
		l.stop()
		os.RemoveAll(profile)
	})
	// The first run starts the browser, which lives as long as ctx: no
	// timeout on this one.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", exe, err)
	}
	return ctx
}

// newTab opens a tab in the browser, closed when the test ends; its context
// carries the backstop timeout.
func newTab(t *testing.T, browser context.Context) context.Context {
	t.Helper()
	tab, cancelTab := chromedp.NewContext(browser)
	if err := chromedp.Do(tab); err != nil {
		cancelTab()
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(tab, tabTimeout)
	t.Cleanup(func() {
		cancel()
		cancelTab()
	})
	return ctx
}

// quietTab opens a tab in which the test fails if the page logs an error or
// an uncaught exception (see consoleErrors); the check runs when the test
// ends, before the tab closes.
func quietTab(t *testing.T, browser context.Context, allowFailedLoads bool) context.Context {
	t.Helper()
	ctx := newTab(t, browser)
	logged := consoleErrors(ctx, allowFailedLoads)
	t.Cleanup(func() {
		if errs := logged(); len(errs) > 0 {
			t.Errorf("the page logged errors: %q", errs)
		}
	})
	return ctx
}

// consoleErrors collects the errors and uncaught exceptions the page logs
// from now on; the returned func lists them so far. Failed loads are left
// out when allowFailedLoads is set, for pages that fetch unknown papers on
// purpose.
func consoleErrors(ctx context.Context, allowFailedLoads bool) func() []string {
	msgs := chromedp.Console(ctx)
	var (
		mu  sync.Mutex
		got []string
	)
	go func() { // ends when the tab closes
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.Type != chromedp.ConsoleError && !m.IsException() {
				continue
			}
			if allowFailedLoads && strings.HasPrefix(m.Text, "Failed to load resource") {
				continue
			}
			mu.Lock()
			got = append(got, m.String())
			mu.Unlock()
		}
	}()
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), got...)
	}
}

// run runs actions and fails the test with what the page shows on error.
func run(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v%s", what, err, pageState(ctx))
	}
}

// poll waits until the JavaScript expression is truthy and returns it.
func poll[T any](t *testing.T, ctx context.Context, what, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Poll[T](expr, chromedp.WithPollingTimeout(0)))
	if err != nil {
		t.Fatalf("waiting for %s: %v%s", what, err, pageState(ctx))
	}
	return v
}

// eval evaluates a JavaScript expression.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v%s", expr, err, pageState(ctx))
	}
	return v
}

// pageState describes the page for a failure message, if it still answers.
func pageState(ctx context.Context) string {
	if ctx.Err() != nil {
		return ""
	}
	c, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(c, chromedp.Evaluate[string](`location.href + "\n" + document.body.innerText.slice(0, 1500)`))
	if err != nil {
		return ""
	}
	return "\npage: " + s
}

// apiServer serves the API and the site over the bundled corpus.
func apiServer(t *testing.T) *httptest.Server {
	ts := httptest.NewServer(server(t).Handler())
	t.Cleanup(ts.Close)
	return ts
}

// hostServer is a second origin, a site that embeds the widget. It serves
// the pages in testdata with {{API}} and the paper IDs filled in, a static
// export of related papers under /static/papers/, and a failing endpoint.
func hostServer(t *testing.T, api *httptest.Server, ids ...string) *httptest.Server {
	byFile := map[string]string{}
	for _, p := range service(t).AllPapers() {
		byFile[web.FileName(p.ID)] = p.ID
	}
	mux := http.NewServeMux()
	page := func(name string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			b, err := os.ReadFile(filepath.Join("testdata", name))
			if err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			s := strings.ReplaceAll(string(b), "{{API}}", api.URL)
			for i, id := range ids {
				key := "{{ID}}"
				if i > 0 {
					key = "{{ID" + strconv.Itoa(i+1) + "}}"
				}
				s = strings.ReplaceAll(s, key, id)
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte(s))
		}
	}
	mux.HandleFunc("GET /host", page("widget-host.html"))
	mux.HandleFunc("GET /article", page("widget-article.html"))
	mux.HandleFunc("GET /broken/", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", 500) })
	// A static export gone bad: a title_html with markup the server never
	// writes, which the widget must not carry into the page.
	mux.HandleFunc("GET /evil/papers/{file}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"paper": {"id": "x", "title": "x"}, "related": [{"id": "evil", "title": "Evil", "authors": [], "date": "2024",
			"title_html": "<img src=x onerror=\"window.pwned=1\"><a href=\"javascript:window.pwned=2\">link</a><script>window.pwned=3</script><math><mi onclick=\"window.pwned=4\" style=\"color:red\" href=\"javascript:x\">x</mi></math> <b>bold</b><svg onload=\"window.pwned=5\"></svg>"}]}`))
	})
	mux.HandleFunc("GET /static/papers/{file}", func(w http.ResponseWriter, r *http.Request) {
		id, ok := byFile[r.PathValue("file")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		rec := httptest.NewRecorder()
		server(t).Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/v1/papers/"+url.PathEscape(id)+"/related?k=10", nil))
		w.Header().Set("Content-Type", "application/json")
		w.Write(rec.Body.Bytes())
	})
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return ts
}

// js quotes a string as a JavaScript literal.
func js(s string) string {
	b, _ := json.Marshal(s) // a string always marshals
	return string(b)
}

// relatedIDs asks the API which papers are related, for comparison.
func relatedIDs(t *testing.T, id string, k int) []string {
	var ids []string
	for _, it := range decode[relatedBody](t, do(t, "GET", "/v1/papers/"+id+"/related?k="+strconv.Itoa(k), "")).Related {
		ids = append(ids, it.ID)
	}
	return ids
}

// widgetIDs lists the paper IDs a widget shows, from inside its shadow root.
func widgetIDs(t *testing.T, ctx context.Context, sel string) []string {
	return eval[[]string](t, ctx, fmt.Sprintf(
		`Array.from(document.querySelector(%q).shadowRoot.querySelectorAll('[data-paper-id]')).map(e => e.dataset.paperId)`, sel))
}

// waitWidget waits until a widget has left its loading state and returns
// the state.
func waitWidget(t *testing.T, ctx context.Context, sel string) string {
	return poll[string](t, ctx, "widget "+sel, fmt.Sprintf(
		`(() => { const e = document.querySelector(%q); const s = e && e.getAttribute('data-paperrec-state'); return s && s !== 'loading' ? s : ''; })()`, sel))
}

func TestBrowser(t *testing.T) {
	browser := newBrowser(t, 1280, 900)
	api := apiServer(t)
	const second = "end-to-end-differentiable-calibration-and-reconstruction-for-optical-particle"
	host := hostServer(t, api, fisherID, second)
	if host.URL == api.URL {
		t.Fatal("the host page must come from another origin")
	}

	t.Run("widget on another origin renders k items", func(t *testing.T) {
		ctx := quietTab(t, browser, true)
		run(t, ctx, "open host page", chromedp.Navigate(host.URL+"/host"))
		if st := waitWidget(t, ctx, "#w1"); st != "ready" {
			t.Fatalf("state %q", st)
		}
		want := relatedIDs(t, fisherID, 5)
		if got := widgetIDs(t, ctx, "#w1"); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("widget shows %v, want %v", got, want)
		}
		if n := eval[string](t, ctx, `document.querySelector('#w1').dataset.renderedCount`); n != "5" {
			t.Errorf("data-rendered-count %q", n)
		}
		href := eval[string](t, ctx, `document.querySelector('#w1').shadowRoot.querySelector('[data-paper-id] a').href`)
		if want := host.URL + "/papers/" + want[0]; href != want {
			t.Errorf("first link %q, want %q (data-href)", href, want)
		}
		item := eval[map[string]string](t, ctx, `(() => {
			const li = document.querySelector('#w1').shadowRoot.querySelector('li[data-paper-id]');
			const a = li.querySelector('a'), s = getComputedStyle(a), l = getComputedStyle(li);
			return {fontSize: s.fontSize, color: s.color, border: l.borderTopWidth + ' ' + l.borderTopColor, text: li.innerText};
		})()`)
		if item["fontSize"] == "40px" || item["color"] == "rgb(255, 0, 255)" || strings.Contains(item["border"], "rgb(0, 255, 0)") {
			t.Errorf("host styles leaked into the widget: %v", item)
		}
		if !strings.Contains(item["text"], "Shared") || !strings.Contains(item["text"], "20") {
			t.Errorf("item lacks authors, year or why: %q", item["text"])
		}
		own := eval[string](t, ctx, `getComputedStyle(document.querySelector('#own li')).fontSize`)
		if own != "40px" {
			t.Errorf("the host's own list is %s; the widget's styles leaked out", own)
		}
	})

	t.Run("several widgets, and one added later", func(t *testing.T) {
		ctx := quietTab(t, browser, true)
		run(t, ctx, "open host page", chromedp.Navigate(host.URL+"/host"))
		waitWidget(t, ctx, "#w1")
		if st := waitWidget(t, ctx, "#w2"); st != "ready" {
			t.Fatalf("second widget: state %q", st)
		}
		if got, want := widgetIDs(t, ctx, "#w2"), relatedIDs(t, second, 3); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("second widget shows %v, want %v", got, want)
		}
		title := eval[string](t, ctx, `document.querySelector('#w2').shadowRoot.querySelector('.t').textContent`)
		if title != "More like this" {
			t.Errorf("data-title: %q", title)
		}
		// A widget added after the script ran, as a single-page app would.
		eval[bool](t, ctx, `(() => {
			const d = document.createElement('div');
			d.id = 'late'; d.dataset.paperrecRelated = `+js(second)+`; d.dataset.k = '2';
			document.body.appendChild(d); return true; })()`)
		if st := waitWidget(t, ctx, "#late"); st != "ready" || len(widgetIDs(t, ctx, "#late")) != 2 {
			t.Errorf("late widget: state %q, %d items", st, len(widgetIDs(t, ctx, "#late")))
		}
		// Changing a widget's attributes re-renders it.
		eval[bool](t, ctx, `(document.querySelector('#w2').dataset.k = '4', true)`)
		poll[bool](t, ctx, "#w2 to show 4", `document.querySelector('#w2').dataset.renderedCount === '4'`)
		// A static export serves the same lists without the API.
		if st := waitWidget(t, ctx, "#w-static"); st != "ready" {
			t.Errorf("static widget: state %q", st)
		} else if got, want := widgetIDs(t, ctx, "#w-static"), relatedIDs(t, fisherID, 2); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("static widget shows %v, want %v", got, want)
		}
	})

	t.Run("unknown id and failed request show a quiet message", func(t *testing.T) {
		ctx := quietTab(t, browser, true)
		run(t, ctx, "open host page", chromedp.Navigate(host.URL+"/host"))
		tests := []struct{ sel, state, text string }{
			{"#w-unknown", "unknown", "No related papers are known for this paper."},
			{"#w-broken", "error", "could not be loaded"},
		}
		for _, tt := range tests {
			if st := waitWidget(t, ctx, tt.sel); st != tt.state {
				t.Errorf("%s: state %q, want %q", tt.sel, st, tt.state)
			}
			text := eval[string](t, ctx, fmt.Sprintf(`document.querySelector(%q).shadowRoot.textContent`, tt.sel))
			if !strings.Contains(text, tt.text) || len(widgetIDs(t, ctx, tt.sel)) != 0 {
				t.Errorf("%s shows %q, want %q", tt.sel, text, tt.text)
			}
		}
	})

	t.Run("math renders in the explorer, the widget and the fragment", func(t *testing.T) {
		ctx := quietTab(t, browser, true)
		// A paper with math in its title and abstract, and a paper whose
		// related papers include it.
		const mathID = "t-overline-t-like-flows-of-yang-mills-theories"
		p, err := service(t).Paper(mathID)
		if err != nil || !strings.Contains(p.Title, "$") || !strings.Contains(p.Abstract, "$") {
			t.Fatalf("%s: %v; want math in title and abstract: %q", mathID, err, p.Title)
		}
		var host5 string
		for _, q := range service(t).AllPapers() {
			if q.ID != mathID && slices.Contains(relatedIDs(t, q.ID, 5), mathID) {
				host5 = q.ID
				break
			}
		}
		if host5 == "" {
			t.Fatalf("no paper lists %s among its 5 related", mathID)
		}
		// noTeX checks the text a reader sees in the elements sel selects
		// (under root) and that they hold MathML.
		noTeX := func(what, root, sel string) {
			t.Helper()
			got := eval[map[string]any](t, ctx, fmt.Sprintf(`(() => {
				const els = Array.from((%s).querySelectorAll(%q));
				return {n: els.length, text: els.map(e => e.innerText).join('\n'),
					math: els.reduce((k, e) => k + e.getElementsByTagNameNS('http://www.w3.org/1998/Math/MathML', 'math').length, 0)};
			})()`, root, sel))
			text, _ := got["text"].(string)
			if n, _ := got["n"].(float64); n == 0 {
				t.Errorf("%s: nothing matches %s", what, sel)
			}
			if m, _ := got["math"].(float64); m == 0 {
				t.Errorf("%s: no MathML in %q", what, text)
			}
			if tex := regexp.MustCompile(`\$|\\[A-Za-z]+`).FindString(text); tex != "" {
				t.Errorf("%s shows TeX (%q): %q", what, tex, text)
			}
		}

		// The explorer's paper panel: title and abstract; and the related
		// list of a paper that lists it.
		run(t, ctx, "open the paper", chromedp.Navigate(api.URL+"/#paper="+mathID))
		poll[bool](t, ctx, "the paper", `document.querySelector('#detail').dataset.paperId === `+js(mathID)+` && document.querySelector('#detail').dataset.state === 'ready'`)
		noTeX("explorer title", "document", "#detail-title")
		noTeX("explorer abstract", "document", "#abstract")
		run(t, ctx, "open a paper that lists it", chromedp.Navigate(api.URL+"/#paper="+host5))
		poll[bool](t, ctx, "that paper", `document.querySelector('#detail').dataset.paperId === `+js(host5)+` && document.querySelector('#detail').dataset.state === 'ready'`)
		noTeX("explorer related list", "document", "#detail .related li[data-paper-id="+js(mathID)+"] a")

		// The widget, from the API and from a static export.
		run(t, ctx, "open host page", chromedp.Navigate(host.URL+"/host"))
		eval[bool](t, ctx, `(() => {
			for (const [id, src] of [['math-api', ''], ['math-static', '/static/papers/{file}']]) {
				const d = document.createElement('div');
				d.id = id; d.dataset.paperrecRelated = `+js(host5)+`; d.dataset.k = '5';
				if (src) d.dataset.src = src;
				document.body.appendChild(d);
			}
			return true; })()`)
		for _, sel := range []string{"#math-api", "#math-static"} {
			if st := waitWidget(t, ctx, sel); st != "ready" {
				t.Fatalf("%s: state %q", sel, st)
			}
			noTeX("widget "+sel, fmt.Sprintf("document.querySelector(%q).shadowRoot", sel), "li[data-paper-id="+js(mathID)+"]")
		}

		// The HTML fragment, as a page of its own.
		run(t, ctx, "open the fragment", chromedp.Navigate(api.URL+"/v1/papers/"+host5+"/related?format=html&k=5"))
		poll[bool](t, ctx, "the fragment", `!!document.querySelector('.paperrec-related')`)
		noTeX("fragment", "document", "li[data-paper-id="+js(mathID)+"] .paperrec-title")
	})

	t.Run("widget keeps only text and MathML of a title_html", func(t *testing.T) {
		ctx := quietTab(t, browser, true)
		run(t, ctx, "open host page", chromedp.Navigate(host.URL+"/host"))
		eval[bool](t, ctx, `(() => {
			const d = document.createElement('div');
			d.id = 'evil'; d.dataset.paperrecRelated = 'x'; d.dataset.src = '/evil/papers/{file}';
			document.body.appendChild(d); return true; })()`)
		if st := waitWidget(t, ctx, "#evil"); st != "ready" {
			t.Fatalf("state %q", st)
		}
		got := eval[map[string]any](t, ctx, `(() => {
			const li = document.querySelector('#evil').shadowRoot.querySelector('li[data-paper-id]');
			const all = Array.from(li.querySelectorAll('*'));
			return {tags: all.map(e => e.localName).join(' '),
				attrs: all.flatMap(e => Array.from(e.attributes).map(a => e.localName + '.' + a.name)).join(' '),
				mi: li.querySelectorAll('mi').length, b: li.querySelectorAll('b').length, a: li.querySelectorAll('a').length,
				pwned: String(window.pwned)};
		})()`)
		tags, _ := got["tags"].(string)
		attrs, _ := got["attrs"].(string)
		for _, bad := range []string{"img", "script", "svg"} {
			if strings.Contains(" "+tags+" ", " "+bad+" ") {
				t.Errorf("%s came through: %s", bad, tags)
			}
		}
		for _, bad := range []string{"onerror", "onclick", "style", "mi.href", "onload"} {
			if strings.Contains(attrs, bad) {
				t.Errorf("attribute %s came through: %s", bad, attrs)
			}
		}
		if got["mi"] != 1.0 || got["b"] != 1.0 || got["a"] != 1.0 || got["pwned"] != "undefined" {
			t.Errorf("mi %v, b %v, links %v (want the title's own), window.pwned %v; tags %s", got["mi"], got["b"], got["a"], got["pwned"], tags)
		}
	})

	t.Run("widget names static files as the export does", func(t *testing.T) {
		ctx := quietTab(t, browser, true)
		run(t, ctx, "open host page", chromedp.Navigate(host.URL+"/host"))
		poll[bool](t, ctx, "the widget script", `!!window.paperrecWidget`)
		for _, id := range []string{fisherID, "hep-th/9901001", "a~b!c'd(e)f*g", ".hidden", "100% é ü/?#&"} {
			got := eval[string](t, ctx, "paperrecWidget.fileName("+js(id)+")")
			if want := web.FileName(id); got != want {
				t.Errorf("fileName(%q): widget %q, export %q", id, got, want)
			}
		}
	})

	t.Run("explorer draws every paper, searches and opens a paper", func(t *testing.T) {
		ctx := quietTab(t, browser, false)
		run(t, ctx, "open explorer", chromedp.Navigate(api.URL+"/"))
		n := poll[string](t, ctx, "the map", `document.querySelector('#map').dataset.pointCount !== '0' && document.querySelector('#map').dataset.pointCount`)
		if n != "574" || eval[int](t, ctx, `document.querySelectorAll('#points circle').length`) != 574 {
			t.Fatalf("data-point-count %s, %d circles; want 574", n, eval[int](t, ctx, `document.querySelectorAll('#points circle').length`))
		}
		if labels := eval[int](t, ctx, `document.querySelectorAll('#labels text').length`); labels < 5 {
			t.Errorf("%d theme labels on the map", labels)
		}
		if themes := eval[int](t, ctx, `document.querySelectorAll('#themes li p').length`); themes < 8 {
			t.Errorf("%d theme summaries", themes)
		}

		run(t, ctx, "search", chromedp.SetValue(chromedp.CSS("#q"), "dark matter halos"), chromedp.Click(chromedp.CSS("#search button[type=submit]")))
		m := poll[string](t, ctx, "the search", `/match/.test(document.querySelector('#status').textContent) && document.querySelector('#map').dataset.pointCount`)
		if k, _ := strconv.Atoi(m); k <= 0 || k >= 574 {
			t.Fatalf("search drew %s points; want fewer than 574 and some", m)
		}
		if c := eval[int](t, ctx, `document.querySelectorAll('#points circle').length`); strconv.Itoa(c) != m {
			t.Errorf("%d circles, data-point-count %s", c, m)
		}

		first := eval[string](t, ctx, `document.querySelector('#papers a[data-paper-id]').dataset.paperId`)
		run(t, ctx, "click a paper", chromedp.Click(chromedp.CSS("#papers a[data-paper-id]")))
		poll[bool](t, ctx, "the paper", `document.querySelector('#detail').dataset.paperId === `+js(first)+` && document.querySelector('#detail').dataset.state === 'ready'`)
		got := eval[[]string](t, ctx, `Array.from(document.querySelectorAll('#detail .related li[data-paper-id]')).map(e => e.dataset.paperId)`)
		if want := relatedIDs(t, first, 6); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("related papers %v, want %v", got, want)
		}
		detail := eval[string](t, ctx, `document.querySelector('#detail').innerText`)
		for _, part := range []string{"Theme:", "Abstract", "Related papers", "Shared"} {
			if !strings.Contains(strings.ToLower(detail), strings.ToLower(part)) {
				t.Errorf("detail lacks %q:\n%s", part, detail)
			}
		}
		if focused := eval[string](t, ctx, `document.activeElement.id`); focused != "detail-title" {
			t.Errorf("focus on %q after opening, want the detail heading", focused)
		}
		// Follow a connection: a related paper opens in turn.
		next := got[0]
		run(t, ctx, "click a related paper", chromedp.Click(chromedp.CSS("#detail .related li[data-paper-id] a")))
		poll[bool](t, ctx, "the related paper", `document.querySelector('#detail').dataset.paperId === `+js(next)+` && document.querySelector('#detail').dataset.state === 'ready'`)
	})

	t.Run("explorer map click, keyboard and colour toggle", func(t *testing.T) {
		ctx := quietTab(t, browser, false)
		run(t, ctx, "open explorer", chromedp.Navigate(api.URL+"/"))
		poll[bool](t, ctx, "the map", `document.querySelector('#map').dataset.pointCount === '574'`)

		id := isolatedPoint(t)
		run(t, ctx, "click a dot", chromedp.Click(chromedp.CSS(fmt.Sprintf(`#points circle[data-paper-id=%q]`, id))))
		poll[bool](t, ctx, "the clicked paper", `document.querySelector('#detail').dataset.paperId === `+js(id)+` && document.querySelector('#detail').dataset.state === 'ready'`)
		if n := eval[int](t, ctx, `document.querySelectorAll('#detail .related li').length`); n == 0 {
			t.Error("no related papers after clicking a dot")
		}
		if lines := eval[int](t, ctx, `document.querySelectorAll('#links line').length`); lines == 0 {
			t.Error("no connections drawn to the related papers")
		}

		// Close the paper, then walk the map with the arrow keys and open
		// the paper under the cursor with Enter.
		run(t, ctx, "close the paper", chromedp.Click(chromedp.CSS("#detail .close")))
		poll[bool](t, ctx, "the closed panel", `!document.querySelector('#detail').dataset.paperId && document.activeElement.id === 'map'`)
		run(t, ctx, "keyboard", chromedp.KeyEvent(kb.ArrowRight), chromedp.KeyEvent(kb.ArrowLeft), chromedp.KeyEvent(kb.ArrowUp), chromedp.KeyEvent(kb.ArrowDown))
		live := poll[string](t, ctx, "the keyboard cursor", `document.querySelector('#cursor-live').textContent`)
		run(t, ctx, "open with Enter", chromedp.KeyEvent(kb.Enter))
		poll[bool](t, ctx, "the paper opened by keyboard", `document.querySelector('#detail').dataset.state === 'ready' && `+
			js(live)+`.startsWith(document.querySelector('#detail-title').textContent + ', ')`)

		before := eval[string](t, ctx, `document.querySelector('#points circle').getAttribute('fill')`)
		run(t, ctx, "colour by area", chromedp.Click(chromedp.CSS(`input[name=colour][value=area]`)))
		poll[bool](t, ctx, "the area legend", `document.querySelectorAll('#legend .swatch').length === 4`)
		if after := eval[string](t, ctx, `document.querySelector('#points circle').getAttribute('fill')`); after == before {
			t.Logf("first point keeps colour %s across the toggle (its theme and area colours may agree)", after)
		}
		run(t, ctx, "filter by area", chromedp.SetValue(chromedp.CSS("#area"), "Astrophysics"),
			chromedp.Evaluate[chromedp.Void](`document.querySelector('#area').dispatchEvent(new Event('change'))`))
		poll[bool](t, ctx, "the area filter", `document.querySelector('#map').dataset.pointCount === '152'`)
	})

	t.Run("explorer fits a phone", func(t *testing.T) {
		ctx := quietTab(t, browser, false)
		run(t, ctx, "phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
			chromedp.Navigate(api.URL+"/#paper="+fisherID))
		poll[bool](t, ctx, "the paper", `document.querySelector('#detail').dataset.state === 'ready' && document.querySelector('#map').dataset.pointCount === '574'`)
		if w := eval[[]int](t, ctx, `[document.documentElement.scrollWidth, window.innerWidth]`); w[0] > w[1] {
			t.Errorf("the page is %dpx wide in a %dpx viewport", w[0], w[1])
		}
	})
}

// isolatedPoint returns the paper whose map point is farthest from any
// other, so a click on it cannot land on a neighbour.
func isolatedPoint(t *testing.T) string {
	pts := service(t).Map()
	best, bestD := "", -1.0
	for i, p := range pts {
		d := math.Inf(1)
		for j, q := range pts {
			if i != j {
				d = min(d, math.Hypot(p.X-q.X, p.Y-q.Y))
			}
		}
		if d > bestD {
			best, bestD = p.ID, d
		}
	}
	return best
}

// TestScreenshots writes the screenshots in docs/ (go test ./api -run
// Screenshot -args -screenshots).
func TestScreenshots(t *testing.T) {
	if !*screenshots {
		t.Skip("pass -args -screenshots to write docs/widget.png and docs/explorer.png")
	}
	api := apiServer(t)
	host := hostServer(t, api, fisherID)
	shots := []struct {
		file, url, ready string
		width, height    int
	}{
		{"widget.png", host.URL + "/article", `document.querySelector('[data-paperrec-related]').dataset.paperrecState === 'ready'`, 1200, 720},
		{"explorer.png", api.URL + "/#paper=" + fisherID, `document.querySelector('#detail').dataset.state === 'ready' && document.querySelector('#map').dataset.pointCount === '574'`, 1440, 940},
	}
	for _, s := range shots {
		t.Run(s.file, func(t *testing.T) {
			ctx := newTab(t, newBrowser(t, s.width, s.height))
			run(t, ctx, "open", chromedp.EmulateViewport(int64(s.width), int64(s.height)), chromedp.Navigate(s.url))
			poll[bool](t, ctx, "the page", s.ready)
			eval[bool](t, ctx, `(document.activeElement && document.activeElement.blur && document.activeElement.blur(), true)`)
			png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("..", "docs", s.file)
			if err := os.WriteFile(path, png, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("wrote %s (%d bytes)", path, len(png))
		})
	}
}
