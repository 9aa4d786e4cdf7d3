package web

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestAssets(t *testing.T) {
	want := []string{"explorer.css", "explorer.js", "index.html", "widget.js"}
	if diff := cmp.Diff(want, Names()); diff != "" {
		t.Fatalf("assets (-want +got):\n%s", diff)
	}
	for _, name := range want {
		a, ok := Lookup(name)
		if !ok || a.Name != name || len(a.Body) == 0 || a.ContentType == "" || a.ETag == "" || a.Version == "" {
			t.Errorf("%s: %+v", name, a)
			continue
		}
		if a.Gzip == nil {
			t.Errorf("%s: no gzip copy", name)
			continue
		}
		zr, err := gzip.NewReader(bytes.NewReader(a.Gzip))
		if err != nil {
			t.Fatal(err)
		}
		plain, err := io.ReadAll(zr)
		if err != nil || !bytes.Equal(plain, a.Body) {
			t.Errorf("%s: gzip copy does not inflate to the body (%v)", name, err)
		}
		if a.GzipETag == a.ETag {
			t.Errorf("%s: the two encodings share an ETag", name)
		}
	}
	if _, ok := Lookup("nope.js"); ok {
		t.Error("Lookup found a file that does not exist")
	}
}

// TestNoDependencies checks that the assets load nothing from elsewhere:
// no modules, no CDN, no absolute URLs.
func TestNoDependencies(t *testing.T) {
	code := regexp.MustCompile(`(?m)^\s*import[\s(]|\brequire\(|@import|\bimportScripts\(`)
	markup := regexp.MustCompile(`<(?:script|link)[^>]+(?:src|href)="(?:https?:)?//`)
	for _, name := range Names() {
		a, _ := Lookup(name)
		re := code
		if strings.HasSuffix(name, ".html") {
			re = markup
		}
		if m := re.Find(a.Body); m != nil {
			t.Errorf("%s loads a dependency: %q", name, m)
		}
	}
}

// TestWidgetBudget keeps the widget small; package api asserts the size
// as served too.
func TestWidgetBudget(t *testing.T) {
	a, _ := Lookup("widget.js")
	if len(a.Body) > 10*1024 {
		t.Errorf("widget.js is %d bytes, over the 10 KiB budget", len(a.Body))
	}
	t.Logf("widget.js: %d bytes, %d gzipped", len(a.Body), len(a.Gzip))
}

func TestIndexReferencesVersions(t *testing.T) {
	idx, _ := Lookup("index.html")
	for _, name := range versioned {
		a, _ := Lookup(name)
		if !bytes.Contains(idx.Body, []byte(`"`+name+`?v=`+a.Version+`"`)) {
			t.Errorf("index.html does not name %s?v=%s", name, a.Version)
		}
	}
}

// TestScriptsParse runs node --check over the scripts when Node is there:
// a syntax error would otherwise surface only in a browser.
func TestScriptsParse(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed")
	}
	for _, name := range []string{"widget.js", "explorer.js"} {
		a, _ := Lookup(name)
		path := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(path, a.Body, 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(node, "--check", path).CombinedOutput(); err != nil {
			t.Errorf("%s: %v\n%s", name, err, out)
		}
	}
}

func TestFileName(t *testing.T) {
	tests := []struct {
		name, id, want string
	}{
		{"slug", "naturalness-and-fisher-information", "naturalness-and-fisher-information.json"},
		{"dots and underscores", "2401.00001_v2", "2401.00001_v2.json"},
		{"old arXiv slash", "hep-th/9901001", "hep-th~2F9901001.json"},
		{"tilde is escaped", "a~b", "a~7Eb.json"},
		{"percent", "100%", "100~25.json"},
		{"leading dot", ".htaccess", "~2Ehtaccess.json"},
		{"dot dot", "..", "~2E..json"},
		{"space and quote", `a b"`, "a~20b~22.json"},
		{"utf-8", "é", "~C3~A9.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FileName(tt.id); got != tt.want {
				t.Errorf("FileName(%q) = %q, want %q", tt.id, got, tt.want)
			}
		})
	}
	long := strings.Repeat("é", 200)
	got := FileName(long)
	if len(got) > 255 || !strings.Contains(got, "~~") || got == FileName(long+"x") {
		t.Errorf("long ID: %q (%d bytes)", got, len(got))
	}
}

var safeName = regexp.MustCompile(`^[A-Za-z0-9_~-][A-Za-z0-9._~-]*\.json$`)

func FuzzFileName(f *testing.F) {
	for _, s := range []string{"a", "hep-th/9901001", ".", "~", "~~", strings.Repeat("/", 100), strings.Repeat("a", 300)} {
		f.Add(s, s+"x")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		fa, fb := FileName(a), FileName(b)
		if !safeName.MatchString(fa) || len(fa) > 255 {
			t.Fatalf("FileName(%q) = %q: not a safe file name", a, fa)
		}
		if a != b && fa == fb {
			t.Fatalf("%q and %q share the file name %q", a, b, fa)
		}
	})
}
