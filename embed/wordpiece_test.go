package embed

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func newWordPiece(tb testing.TB) *WordPiece {
	tb.Helper()
	wp, err := NewWordPiece()
	if err != nil {
		tb.Fatalf("NewWordPiece: %v", err)
	}
	return wp
}

func TestWordPieceTokens(t *testing.T) {
	wp := newWordPiece(t)
	tests := []struct {
		name   string
		in     string
		want   []string
		reason string
	}{
		{name: "known words", in: "Neural networks", want: []string{"neural", "networks"}},
		{
			name:   "rare word in pieces",
			in:     "magnetohydrodynamics",
			want:   []string{"magnet", "##oh", "##yd", "##rod", "##yna", "##mics"},
			reason: `the package doc's "##ydro", "##dyna" pieces are not what bert-base-uncased gives`,
		},
		{name: "accents folded first", in: "Schrödinger equation", want: []string{"sc", "##hr", "##od", "##inger", "equation"}},
		{name: "Greek spelled first", in: "ΛCDM", want: []string{"lambda", "##cd", "##m"}},
		{name: "LaTeX handled first", in: `$\Lambda$CDM \citep{x}`, want: []string{"lambda", "##cd", "##m"}},
		{
			name:   "characters that panic sugarme's accent stripper",
			in:     "\u0130 \u2126 \u03a9 \u212a \u1e9e", // İ, ohm sign, Ω, Kelvin sign, ẞ
			want:   []string{"i", "omega", "omega", "k", "ss"},
			reason: "Normalize folds them before the BERT normalizer sees them",
		},
		{name: "punctuation is a token", in: "graph-based", want: []string{"graph", "-", "based"}},
		{name: "unknown characters", in: "😀 galaxy", want: []string{"[UNK]", "galaxy"}},
		{name: "control characters removed", in: "\x00\x01 ok", want: []string{"ok"}},
		{name: "empty", in: "", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := wp.Tokens(tt.in)
			if err != nil {
				t.Fatalf("Tokens(%q): %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Tokens(%q) mismatch (-want +got):\n%s\n%s", tt.in, diff, tt.reason)
			}
		})
	}
}

func TestWordPieceAnalyze(t *testing.T) {
	wp := newWordPiece(t)
	tests := []struct {
		name   string
		in     string
		want   []Token
		reason string
	}{
		{
			name: "known words, each a break",
			in:   "neural networks",
			want: []Token{tok("neural", "neural", true), tok("networks", "networks", true)},
			reason: "Break marks every new word, so bigrams over WordPiece terms stay inside a word; " +
				"WordPiece terms are not stemmed",
		},
		{
			name: "pieces carry their word",
			in:   "Schrödinger",
			want: []Token{tok("sc", "schrodinger", true), tok("##hr", "schrodinger", false),
				tok("##od", "schrodinger", false), tok("##inger", "schrodinger", false)},
		},
		{
			name: "stop words, numbers and punctuation dropped",
			in:   "We propose 42 models, graph-based.",
			want: []Token{tok("models", "models", true), tok("graph", "graph", true)},
		},
		{name: "unknown dropped", in: "😀 galaxy", want: []Token{tok("galaxy", "galaxy", true)}},
		{
			name:   "one-letter words dropped",
			in:     "\u0130 \u2126 \u03a9 \u212a \u1e9e", // İ, ohm sign, Ω, Kelvin sign, ẞ
			want:   []Token{tok("omega", "omega", true), tok("omega", "omega", true), tok("ss", "ss", true)},
			reason: "i and k are single letters",
		},
		{name: "empty", in: "", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, wp.Analyze(tt.in)); diff != "" {
				t.Errorf("Analyze(%q) mismatch (-want +got):\n%s\n%s", tt.in, diff, tt.reason)
			}
		})
	}
}

// TestWordPiecePanicCharacters feeds the characters that make
// sugarme/tokenizer's accent stripping panic, alone and inside words.
func TestWordPiecePanicCharacters(t *testing.T) {
	wp := newWordPiece(t)
	for _, s := range []string{
		// İ (U+0130), the ohm sign (U+2126), Ω (U+03A9), the Kelvin sign (U+212A), ẞ (U+1E9E).
		"\u0130", "\u2126", "\u03a9", "\u212a", "\u1e9e", "\u0130stanbul", "D\u0130YARBAKIR", "5 \u212a",
		"400 \u2126 resistor", "GRO\u1e9e", "\u2126\u2126\u2126 \u212a\u212a\u212a \u0130\u0130\u0130 \u1e9e\u1e9e\u1e9e",
		"\u2126\u0130", "a\u0307", "ǅ ǈ ǋ", "ﬃ", "Ⱥ ⱥ Ⱦ", "ß", "ŉ", "\u0130\u0307", strings.Repeat("\u0130\u2126\u212a\u1e9e\u03a9", 100),
	} {
		t.Run(s[:min(len(s), 12)], func(t *testing.T) {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("Tokens(%q) panicked: %v", s, r)
				}
			}()
			if _, err := wp.Tokens(s); err != nil {
				t.Errorf("Tokens(%q): %v", s, err)
			}
			wp.Analyze(s)
		})
	}
}

func TestNewWordPieceShared(t *testing.T) {
	a, b := newWordPiece(t), newWordPiece(t)
	if a != b {
		t.Error("NewWordPiece returned two tokenizers; want the shared one")
	}
}

// TestWordPieceNoFiles loads the tokenizer in a fresh process whose working
// directory is an empty temporary directory and whose module cache and home
// point nowhere: the vocabulary must come from the binary, and loading must
// not change the working directory (pretrained.BertBaseUncased does).
func TestWordPieceNoFiles(t *testing.T) {
	if os.Getenv("EMBED_WORDPIECE_CHILD") == "1" {
		dir := t.TempDir()
		t.Chdir(dir)
		wp, err := NewWordPiece()
		if err != nil {
			t.Fatalf("NewWordPiece in an empty directory: %v", err)
		}
		got, err := wp.Tokens("Magnetohydrodynamics of neutron stars")
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"magnet", "##oh", "##yd", "##rod", "##yna", "##mics", "of", "neutron", "stars"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Tokens mismatch (-want +got):\n%s", diff)
		}
		if wd, err := os.Getwd(); err != nil || wd != dir {
			t.Errorf("working directory after NewWordPiece = %q (%v), want %q", wd, err, dir)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("NewWordPiece wrote %d files into the working directory", len(entries))
		}
		return
	}
	nowhere := filepath.Join(t.TempDir(), "nowhere")
	cmd := exec.Command(os.Args[0], "-test.run=^TestWordPieceNoFiles$", "-test.count=1", "-test.v")
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "EMBED_WORDPIECE_CHILD=1", "HOME="+nowhere, "GOPATH="+nowhere, "GOMODCACHE="+nowhere)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child process: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "--- PASS: TestWordPieceNoFiles") {
		t.Fatalf("child process did not run the test:\n%s", out)
	}
}

// TestWordPieceConcurrent tokenizes abstracts from several goroutines and
// compares with a sequential run; run with -race.
func TestWordPieceConcurrent(t *testing.T) {
	wp := newWordPiece(t)
	papers := bundledPapers(t)[:12]
	want := make([][]string, len(papers))
	for i, p := range papers {
		toks, err := wp.Tokens(p.Abstract)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = toks
	}
	var wg sync.WaitGroup
	errs := make(chan string, 4*len(papers))
	for g := range 4 {
		wg.Go(func() {
			for i := range papers {
				i := (i + 3*g) % len(papers)
				got, err := wp.Tokens(papers[i].Abstract)
				if err != nil {
					errs <- err.Error()
					continue
				}
				if diff := cmp.Diff(want[i], got); diff != "" {
					errs <- fmt.Sprintf("goroutine %d, paper %d (-sequential +concurrent):\n%s", g, i, diff)
				}
				wp.Analyze(papers[i].Title)
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// FuzzWordPiece checks that tokenizing never panics or fails, and that
// Analyze's tokens are non-empty with a break at each word start.
func FuzzWordPiece(f *testing.F) {
	for _, s := range []string{"", "\u200bab\x01", "\xca000\x7f", "\ufffda\x7f", "neural networks", "\u0130 \u2126 \u212a \u1e9e", "Schrödinger", "😀", "\x00", "\xff", `$\alpha$`, "中文"} {
		f.Add(s)
	}
	wp := newWordPiece(f)
	f.Fuzz(func(t *testing.T, s string) {
		if _, err := wp.Tokens(s); err != nil {
			t.Fatalf("Tokens(%q): %v", s, err)
		}
		for i, tk := range wp.Analyze(s) {
			if tk.Term == "" || tk.Word == "" || !utf8.ValidString(tk.Term) {
				t.Fatalf("Analyze(%q)[%d] = %+v", s, i, tk)
			}
			if tk.Break == strings.HasPrefix(tk.Term, "##") {
				t.Fatalf("Analyze(%q)[%d] = %+v: Break must be set exactly on word starts", s, i, tk)
			}
		}
	})
}

// TestWordPieceCleanText pins a fixed bug: text that the BERT normalizer
// must clean makes Tokens panic or return wrong pieces.
func TestWordPieceCleanText(t *testing.T) {
	wp := newWordPiece(t)
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{name: "zero-width space then control", in: "\u200bab\x01", want: []string{"ab"}},
		{name: "invalid UTF-8 then DEL (fuzz)", in: "\xca000\x7f", want: []string{"000"}},
		{name: "replacement character then DEL", in: "\ufffdab\x7f", want: []string{"ab"}},
		{name: "leading zero-width space", in: "\u200bab", want: []string{"ab"}},
		{name: "replacement character and DEL around a letter", in: "\ufffda\x7f", want: []string{"a"}},
		{name: "zero-width space inside", in: "x\u200bab\x01", want: []string{"x", "##ab"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("Tokens(%q) panicked: %v", tt.in, r)
				}
			}()
			got, err := wp.Tokens(tt.in)
			if err != nil {
				t.Fatalf("Tokens(%q): %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Tokens(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func BenchmarkWordPieceTokens(b *testing.B) {
	wp := newWordPiece(b)
	abs := benchAbstract(b)
	for _, sz := range []struct {
		name string
		text string
	}{
		{"title", "End-to-end Differentiable Calibration and Reconstruction for Optical Particle Detectors"},
		{"abstract", abs},
		{"abstractx10", strings.Repeat(abs+" ", 10)},
	} {
		b.Run(sz.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(sz.text)))
			for b.Loop() {
				if _, err := wp.Tokens(sz.text); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
