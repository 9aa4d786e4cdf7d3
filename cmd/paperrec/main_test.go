package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/paperrec/paperrec/api"
	"github.com/paperrec/paperrec/data"
	"github.com/paperrec/paperrec/models"
	"github.com/paperrec/paperrec/recommend"
)

const small = "testdata/small.jsonl"

// runCmd runs one command line and returns its exit status and output.
func runCmd(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errb, func(string) string { return "" })
	return code, out.String(), errb.String()
}

func TestRelatedCommand(t *testing.T) {
	code, out, errs := runCmd(t, "", "related", "p001", "--corpus", small, "-k", "3", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var got struct {
		Paper   struct{ ID string } `json:"paper"`
		Related []api.Item          `json:"related"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if got.Paper.ID != "p001" || len(got.Related) != 3 || got.Related[0].ID == "p001" {
		t.Errorf("related: %+v", got)
	}
	if !strings.Contains(errs, "engine built") {
		t.Errorf("stderr does not log the build: %q", errs)
	}
	code, out, _ = runCmd(t, "", "related", "p001", "--corpus", small, "-k", "2")
	if code != 0 || !strings.Contains(out, "Related to: Naturalness and Fisher Information") || !strings.Contains(out, " 2. ") || !strings.Contains(out, "why:") {
		t.Errorf("readable output:\n%s", out)
	}
}

func TestSearchCommand(t *testing.T) {
	code, out, errs := runCmd(t, "", "search", "--corpus", small, "Fisher", "information", "naturalness")
	if code != 0 || !strings.Contains(out, " 1. ") || !strings.Contains(strings.SplitN(out, "\n", 2)[0], "Naturalness and Fisher Information") {
		t.Errorf("exit %d:\n%s\n%s", code, out, errs)
	}
	code, out, _ = runCmd(t, "", "search", "--corpus", small, "zzqx")
	if code != 0 || !strings.Contains(out, "No paper matches.") {
		t.Errorf("no match: exit %d:\n%s", code, out)
	}
}

func TestUsageAndInputErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"unknown command", []string{"frobnicate"}, 2, "unknown command"},
		{"unknown flag", []string{"related", "x", "--nope"}, 2, "unknown flag"},
		{"missing argument", []string{"related"}, 2, "accepts 1 arg"},
		{"bad k", []string{"related", "p001", "--corpus", small, "-k", "0"}, 2, "--k: 0 is out of range: must be between 1 and 100"},
		{"bad diversity", []string{"search", "x", "--corpus", small, "--diversity", "3"}, 2, "--diversity: 3 is out of range: must be between 0 and 1"},
		{"NaN diversity", []string{"search", "x", "--corpus", small, "--diversity", "NaN"}, 2, "--diversity: NaN is out of range"},
		{"search without text", []string{"search", "-k", "3", "--corpus", small}, 2, "requires at least 1 arg"},
		{"unknown area", []string{"search", "x", "--corpus", small, "--category", "Theoretical Physics,Quantum Biology"}, 2,
			`--category "Quantum Biology": unknown area; want one of "Astrophysics", "Experimental Physics", "Foundational AI", "Theoretical Physics"`},
		{"unknown area, related", []string{"related", "p001", "--category", "nope"}, 2, `--category "nope": unknown area`},
		{"bad date", []string{"related", "p001", "--corpus", small, "--from", "soon"}, 2, `--from: invalid date "soon"`},
		{"unknown paper", []string{"related", "nope", "--corpus", small}, 1, `paper not found: "nope"`},
		{"missing corpus file", []string{"related", "p001", "--corpus", filepath.Join(dir, "none.txt")}, 1, "no such file"},
		{"malformed record", []string{"related", "a-good-paper", "--corpus", "testdata/bad.txt"}, 1, `bad.txt:13: category: unknown category "Quantum Biology"`},
		{"export k out of range", []string{"export", "--corpus", small, "-k", "500"}, 2, "--k 500"},
		{"malformed snapshot sha256", []string{"serve", "--snapshot", filepath.Join(dir, "none.snap"), "--snapshot-sha256", "abc"}, 2, `--snapshot-sha256 "abc": want 64 hex digits`},
		{"zero timeout", []string{"serve", "--timeout", "0s"}, 2, "--timeout 0s"},
		{"unknown access log mode", []string{"serve", "--access-log", "some"}, 2, `--access-log "some"`},
		{"public URL not http", []string{"serve", "--public-url", "ftp://example.org"}, 2, "--public-url"},
		{"serve with an unknown index", []string{"serve", "--index", "btree"}, 2, `--index "btree"`},
		{"serve whose build fails", []string{"serve", "--addr", "127.0.0.1:0", "--corpus", filepath.Join(dir, "none.txt")}, 1, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errs := runCmd(t, "", tt.args...)
			if code != tt.code || !strings.Contains(errs, tt.msg) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, errs, tt.code, tt.msg)
			}
		})
	}
}

func TestSkipInvalid(t *testing.T) {
	code, out, errs := runCmd(t, "", "related", "a-good-paper", "--corpus", "testdata/bad.txt", "--skip-invalid", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(errs, "skipped: bad.txt:13: category") || !strings.Contains(errs, "skipped 1 malformed records; loaded 1 papers") {
		t.Errorf("stderr %q", errs)
	}
	if !strings.Contains(out, `"related": []`) {
		t.Errorf("a one-paper corpus has nothing related: %s", out)
	}
}

func TestExportBundled(t *testing.T) {
	code, out, errs := runCmd(t, "", "export", "-k", "5")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	n := 0
	seen := map[string]bool{}
	for sc.Scan() {
		var line exportLine
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("line %d: %v", n+1, err)
		}
		n++
		seen[line.ID] = true
		if len(line.Related) != 5 || line.Title == "" {
			t.Fatalf("line %d: %+v", n, line)
		}
		for i, r := range line.Related {
			if r.ID == line.ID || r.Score < 0 || r.Score > 1 || (i > 0 && r.Score > line.Related[i-1].Score) {
				t.Errorf("line %d related %d: %+v", n, i, r)
			}
		}
	}
	if n != 574 || len(seen) != 574 {
		t.Errorf("%d lines, %d distinct papers; want 574", n, len(seen))
	}
}

func TestEvalCommand(t *testing.T) {
	code, out, errs := runCmd(t, "", "eval", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var rep struct {
		Queries int     `json:"queries"`
		NDCG    float64 `json:"ndcg"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Queries != 20 || rep.NDCG < 0.828 {
		t.Errorf("eval: %+v", rep)
	}
	bad := filepath.Join(t.TempDir(), "q.json")
	os.WriteFile(bad, []byte(`[{"query":"No Such Title","candidate":"x","grade":1}]`), 0o644)
	code, _, errs = runCmd(t, "", "eval", "--qrels", bad, "--corpus", small)
	if code != 1 || !strings.Contains(errs, `query "No Such Title": no paper has this title`) {
		t.Errorf("exit %d: %s", code, errs)
	}
}

func TestRankCommand(t *testing.T) {
	in := `{"query":"p001","candidates":["p002","p003","p004"]}` + "\n\n" + `{"query":"p002","candidates":["p001"]}` + "\n"
	code, out, errs := runCmd(t, in, "rank", "--corpus", small)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d answers, want 2:\n%s", len(lines), out)
	}
	var a rankAnswer
	if err := json.Unmarshal([]byte(lines[0]), &a); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range a.Ranked {
		got = append(got, r.ID)
	}
	slices.Sort(got)
	if a.Query != "p001" || !slices.Equal(got, []string{"p002", "p003", "p004"}) {
		t.Errorf("answer %+v", a)
	}
	code, _, errs = runCmd(t, `{"query":"p001","candidates":["zz"]}`, "rank", "--corpus", small)
	if code != 1 || !strings.Contains(errs, `stdin:1: candidate 0: paper not found: "zz"`) {
		t.Errorf("unknown candidate: exit %d %q", code, errs)
	}
	code, _, errs = runCmd(t, `{"query":`, "rank", "--corpus", small)
	if code != 1 || !strings.Contains(errs, "stdin:1:") {
		t.Errorf("bad JSON: exit %d %q", code, errs)
	}
}

// get fetches url and returns the status and body.
func get(t *testing.T, url string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

// TestServeEndToEnd boots the real server on a free port, sees it live but
// not ready, publishes the engine over the bundled corpus and answers over
// HTTP.
func TestServeEndToEnd(t *testing.T) {
	e := &env{getenv: func(string) string { return "" }, stderr: io.Discard, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	m := &Main{Addr: "127.0.0.1:0", Logger: e.log}
	if err := m.Open(); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 503, "/v1/papers?limit=2": 503} {
		if code, body := get(t, m.URL()+path); code != want {
			t.Errorf("before the engine: %s: status %d, want %d: %s", path, code, want, body)
		}
	}
	svc, err := e.buildService(context.Background(), corpusFlags{index: "exact"})
	if err != nil {
		t.Fatal(err)
	}
	m.Publish(svc, "")
	for _, path := range []string{"/healthz", "/readyz", "/v1/papers?limit=2", "/v1/papers/naturalness-and-fisher-information/related?k=2", "/openapi.json"} {
		resp, err := http.Get(m.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !json.Valid(body) {
			t.Errorf("%s: status %d: %s", path, resp.StatusCode, body)
		}
	}
	if err := m.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
}

// TestServeCommandStops runs "paperrec serve" and stops it by cancelling
// its context, as SIGTERM does.
func TestServeCommandStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r, w := io.Pipe()
	var wg sync.WaitGroup
	var code int
	wg.Go(func() {
		code = run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--corpus", small}, strings.NewReader(""), io.Discard, w, func(string) string { return "" })
		w.Close()
	})
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if strings.Contains(sc.Text(), "msg=serving") {
			cancel()
		}
	}
	wg.Wait()
	if code != 0 {
		t.Errorf("serve exited %d after cancel", code)
	}
}

func TestLoadCorpusAssignsIDs(t *testing.T) {
	e := &env{stderr: io.Discard}
	c, err := e.loadCorpus(corpusFlags{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Len() != 574 {
		t.Errorf("bundled corpus has %d papers", c.Len())
	}
	svc, err := recommend.New(context.Background(), c, recommend.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Paper("naturalness-and-fisher-information"); err != nil {
		t.Error(err)
	}
	_ = models.ErrNotFound
}

func TestClustersCommand(t *testing.T) {
	code, out1, errs := runCmd(t, "", "clusters", "--corpus", small, "--seed", "3")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	_, out2, _ := runCmd(t, "", "clusters", "--corpus", small, "--seed", "3")
	if out1 != out2 {
		t.Error("the same input and seed gave different output")
	}
	var got struct {
		Clusters []struct {
			ID      int      `json:"id"`
			Label   string   `json:"label"`
			Members []string `json:"members"`
		} `json:"clusters"`
	}
	if err := json.Unmarshal([]byte(out1), &got); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range got.Clusters {
		n += len(c.Members)
	}
	if len(got.Clusters) == 0 || n != 40 {
		t.Errorf("%d clusters holding %d papers, want all 40", len(got.Clusters), n)
	}
	code, md, _ := runCmd(t, "", "clusters", "--corpus", small, "--format", "md", "-k", "4")
	if code != 0 || !strings.HasPrefix(md, "# Research themes") || !strings.Contains(md, "40 papers in 4 themes") {
		t.Errorf("markdown, k=4: exit %d:\n%.300s", code, md)
	}
	for _, args := range [][]string{{"-k", "many"}, {"--format", "xml"}, {"--representatives", "-1"}} {
		if code, _, errs := runCmd(t, "", append([]string{"clusters", "--corpus", small}, args...)...); code != 2 {
			t.Errorf("%v: exit %d (%s), want 2", args, code, errs)
		}
	}
}

func TestBuildAndServeSnapshot(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "engine.snap")
	code, out, errs := runCmd(t, "", "build", "--corpus", small, "--out", path)
	if code != 0 {
		t.Fatalf("build: exit %d: %s", code, errs)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(raw)
	want := hex.EncodeToString(sum[:])
	side, _ := os.ReadFile(path + ".sha256")
	if string(side) != want+"  engine.snap\n" || !strings.HasPrefix(out, want) {
		t.Errorf("sidecar %q, stdout %q; want the file's sha256 %s", side, out, want)
	}
	e := &env{getenv: func(string) string { return "" }, stderr: io.Discard, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	svc, got, err := e.readSnapshot(context.Background(), path, want)
	if err != nil || got != want {
		t.Fatalf("sha256 %s, err %v; want %s", got, err, want)
	}
	m := &Main{Addr: "127.0.0.1:0", Logger: e.log}
	if err := m.Open(); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	m.Publish(svc, got)
	if code, body := get(t, m.URL()+"/metrics"); code != 200 || !strings.Contains(string(body), `paperrec_engine_info{snapshot_sha256="`+want+`"} 1`) {
		t.Errorf("metrics: status %d, no engine info with the snapshot's hash:\n%.2000s", code, body)
	}
	resp, err := http.Get(m.URL() + "/v1/papers/p001/related?k=3")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("related from a snapshot: status %d", resp.StatusCode)
	}
	if _, _, err := e.readSnapshot(context.Background(), path, strings.Repeat("0", 64)); err == nil || !strings.Contains(err.Error(), "want 0000") {
		t.Errorf("a wrong expected checksum: err = %v", err)
	}
	os.WriteFile(path, raw[:len(raw)-1], 0o644)
	if code, _, errs := runCmd(t, "", "serve", "--snapshot", path, "--addr", "127.0.0.1:0"); code != 1 || !strings.Contains(errs, "bad snapshot") {
		t.Errorf("truncated snapshot: exit %d: %s", code, errs)
	}
	if code, _, _ := runCmd(t, "", "build", "--corpus", small); code != 2 {
		t.Errorf("build without --out: exit %d, want 2", code)
	}
}

func TestBenchCommand(t *testing.T) {
	code, out, errs := runCmd(t, "", "bench", "--docs", "400", "--queries", "30", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var r benchResult
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if r.Docs != 400 || r.Queries != 30 || r.Themes == 0 || r.BuildSeconds <= 0 || r.RecallAt10 < 0.9 ||
		r.HNSWQPS <= 0 || r.ExactQPS <= 0 || r.RelatedP99MS <= 0 || r.PeakRSSBytes <= 0 {
		t.Errorf("bench: %+v", r)
	}
	if code, _, _ := runCmd(t, "", "bench", "--docs", "0"); code != 2 {
		t.Errorf("--docs 0: exit %d, want 2", code)
	}
}

func TestSynthesizeIsSeeded(t *testing.T) {
	src := bundledPapers(t)
	a, b := synthesize(src, 50, 3), synthesize(src, 50, 3)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("two draws with one seed differ:\n%s", diff)
	}
	for _, p := range a {
		if err := models.ValidateID(p.ID); err != nil || p.Title == "" || p.Abstract == "" || p.Category == "" {
			t.Errorf("synthetic paper %+v: %v", p, err)
		}
	}
	if c := synthesize(src, 50, 4); cmp.Equal(a, c) {
		t.Error("another seed gives the same corpus")
	}
}

func bundledPapers(t *testing.T) []models.Paper {
	t.Helper()
	res, err := models.ParseListing(bytes.NewReader(data.Listing), data.ListingName, models.ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return res.Papers
}

func TestServeEnvironmentErrors(t *testing.T) {
	env := map[string]string{"PAPERREC_TIMEOUT": "soon", "PAPERREC_MAX_IN_FLIGHT": "many"}
	var errb bytes.Buffer
	code := run(context.Background(), []string{"serve"}, strings.NewReader(""), io.Discard, &errb, func(k string) string { return env[k] })
	if code != 2 || !strings.Contains(errb.String(), `PAPERREC_TIMEOUT="soon"`) || !strings.Contains(errb.String(), `PAPERREC_MAX_IN_FLIGHT="many"`) {
		t.Errorf("exit %d: %s", code, errb.String())
	}
}

// TestServeFlagOverridesEnvironment checks that a flag given on the command
// line overrides a malformed environment default: only the other variable
// is an error.
func TestServeFlagOverridesEnvironment(t *testing.T) {
	env := map[string]string{"PAPERREC_TIMEOUT": "soon", "PAPERREC_MAX_IN_FLIGHT": "many"}
	var errb bytes.Buffer
	code := run(context.Background(), []string{"serve", "--timeout", "5s"}, strings.NewReader(""), io.Discard, &errb, func(k string) string { return env[k] })
	if code != 2 || strings.Contains(errb.String(), "PAPERREC_TIMEOUT") || !strings.Contains(errb.String(), `PAPERREC_MAX_IN_FLIGHT="many"`) {
		t.Errorf("exit %d: %s", code, errb.String())
	}
}

// TestSearchBlankText checks that blank search text is a usage error, as
// the API's blank q is a 400.
func TestSearchBlankText(t *testing.T) {
	var errb bytes.Buffer
	code := run(context.Background(), []string{"search", "  ", " "}, strings.NewReader(""), io.Discard, &errb, func(string) string { return "" })
	if code != 2 || !strings.Contains(errb.String(), "blank") {
		t.Errorf("exit %d: %s", code, errb.String())
	}
}

// TestSkipInvalidWarnsOfACutListing loads the bundled listing cut in half:
// it loads under --skip-invalid, and says how many papers the header
// declared and how many were loaded.
func TestSkipInvalidWarnsOfACutListing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cut.txt")
	if err := os.WriteFile(path, data.Listing[:len(data.Listing)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errs := runCmd(t, "", "search", "fisher", "--corpus", path, "--skip-invalid")
	if code != 0 || !regexp.MustCompile(`warning: cut.txt:\d+: header declares 574 papers, loaded 2\d\d \(\d+ records skipped\)`).MatchString(errs) {
		t.Errorf("exit %d, stderr:\n%s", code, errs)
	}
}
