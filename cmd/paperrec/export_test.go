package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/paperrec/paperrec/api"
	"github.com/paperrec/paperrec/recommend"
	"github.com/paperrec/paperrec/web"
)

// oddCorpus writes a copy of testdata/small.jsonl whose first papers have
// IDs that are not URL-safe, as JSON Lines corpora may bring, and returns
// its path. The first paper's title gets some math.
func oddCorpus(t *testing.T, ids ...string) string {
	t.Helper()
	f, err := os.Open(small)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out strings.Builder
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for i := 0; sc.Scan(); i++ {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatal(err)
		}
		if i < len(ids) {
			rec["id"] = ids[i]
		}
		if i == 0 {
			rec["title"] = fmt.Sprint(rec["title"]) + " in $d>2$ dimensions"
		}
		b, _ := json.Marshal(rec)
		out.Write(append(b, '\n'))
	}
	path := filepath.Join(t.TempDir(), "odd.jsonl")
	if err := os.WriteFile(path, []byte(out.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func readJSON[T any](t *testing.T, path string) T {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}

// TestExportStatic writes a static export of a corpus with awkward IDs and
// checks the layout, the file names, and that every file holds what the
// API answers for that paper.
func TestExportStatic(t *testing.T) {
	ids := []string{"hep-th/9901001", "a~b", ".hidden", "x?y#z&w=1", "100%"}
	corpus := oddCorpus(t, ids...)
	dir := filepath.Join(t.TempDir(), "site")
	code, _, errs := runCmd(t, "", "export", "--corpus", corpus, "--format", "static", "--out", dir, "-k", "3")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}

	idx := readJSON[staticIndex](t, filepath.Join(dir, "index.json"))
	if idx.K != 3 || idx.Count != 40 || len(idx.Papers) != 40 {
		t.Fatalf("index: k %d, count %d, %d papers", idx.K, idx.Count, len(idx.Papers))
	}
	for i, id := range ids {
		if e := idx.Papers[i]; e.ID != id || e.File != "papers/"+web.FileName(id) {
			t.Errorf("index entry %d: %+v, want id %q in papers/%s", i, e, id, web.FileName(id))
		}
	}
	if e := idx.Papers[0]; !strings.Contains(e.TitleHTML, "<math") || strings.Contains(e.TitleHTML, "$") {
		t.Errorf("index entry 0: title_html %q, want the math rendered", e.TitleHTML)
	}
	files, err := os.ReadDir(filepath.Join(dir, "papers"))
	if err != nil {
		t.Fatal(err)
	}
	var names, want []string
	for _, f := range files {
		names = append(names, "papers/"+f.Name())
	}
	for _, e := range idx.Papers {
		want = append(want, e.File)
	}
	slices.Sort(want)
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("files (-index +disk), none left over from writing:\n%s", diff)
	}

	// Each file is the API's answer for its paper.
	e := &env{getenv: func(string) string { return "" }, stderr: io.Discard, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	svc, err := e.buildService(context.Background(), corpusFlags{path: corpus, index: "exact"})
	if err != nil {
		t.Fatal(err)
	}
	h := api.New(func() *recommend.Service { return svc }, api.Config{Logger: e.log}).Handler()
	for _, entry := range []staticEntry{idx.Papers[0], idx.Papers[3], idx.Papers[len(idx.Papers)-1]} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/v1/papers/"+url.PathEscape(entry.ID)+"/related?k=3", nil))
		if w.Code != 200 {
			t.Fatalf("%s: API status %d: %s", entry.ID, w.Code, w.Body)
		}
		var fromAPI, fromFile any
		if err := json.Unmarshal(w.Body.Bytes(), &fromAPI); err != nil {
			t.Fatal(err)
		}
		fromFile = readJSON[any](t, filepath.Join(dir, filepath.FromSlash(entry.File)))
		if diff := cmp.Diff(fromAPI, fromFile); diff != "" {
			t.Errorf("%s (-API +file):\n%s", entry.ID, diff)
		}
	}

	// A second export replaces the files in place.
	if code, _, errs := runCmd(t, "", "export", "--corpus", corpus, "--format", "static", "--out", dir, "-k", "2"); code != 0 {
		t.Fatalf("second export: exit %d: %s", code, errs)
	}
	again := readJSON[staticPaper](t, filepath.Join(dir, "papers", web.FileName(ids[0])))
	if again.Paper.ID != ids[0] || len(again.Related) != 2 {
		t.Errorf("after the second export: %+v", again.Paper)
	}
	if after, _ := os.ReadDir(filepath.Join(dir, "papers")); len(after) != len(files) {
		t.Errorf("%d files after the second export, %d before", len(after), len(files))
	}
}

// TestExportJSONLFile checks that --out gives the JSON Lines feed a file,
// byte for byte what standard output gets.
func TestExportJSONLFile(t *testing.T) {
	code, stdout, errs := runCmd(t, "", "export", "--corpus", small, "-k", "2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	path := filepath.Join(t.TempDir(), "feed.jsonl")
	if code, _, errs := runCmd(t, "", "export", "--corpus", small, "-k", "2", "--format", "jsonl", "--out", path); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != stdout || strings.Count(stdout, "\n") != 40 {
		t.Errorf("file and standard output differ, or not 40 lines")
	}
	var line exportLine
	if err := json.Unmarshal([]byte(strings.SplitN(stdout, "\n", 2)[0]), &line); err != nil || line.ID != "p001" || len(line.Related) != 2 {
		t.Errorf("first line %+v (%v)", line, err)
	}
}

func TestExportErrors(t *testing.T) {
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, reason string
		args         []string
		code         int
		msg          string
	}{
		{name: "static without out", args: []string{"export", "--corpus", small, "--format", "static"}, code: 2, msg: "--format static needs --out DIR"},
		{name: "unknown format", args: []string{"export", "--corpus", small, "--format", "xml"}, code: 2, msg: `--format "xml": want jsonl or static`},
		{name: "out is a file", args: []string{"export", "--corpus", small, "--format", "static", "--out", notDir}, code: 1, msg: "not a directory"},
		{name: "case-insensitive clash", args: []string{"export", "--corpus", oddCorpus(t, "Paper-A", "paper-a"), "--format", "static", "--out", t.TempDir()}, code: 1,
			msg: "would share the file", reason: "on macOS or Windows one paper would overwrite the other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errs := runCmd(t, "", tt.args...)
			if code != tt.code || !strings.Contains(errs, tt.msg) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q (%s)", code, errs, tt.code, tt.msg, tt.reason)
			}
		})
	}
}
