package mathml

import (
	"bytes"
	"fmt"
	"html"
	"io"
	"regexp"
	"strings"
	"testing"

	xhtml "golang.org/x/net/html"

	"github.com/paperrec/paperrec/internal/golden"

	"github.com/paperrec/paperrec/data"
	"github.com/paperrec/paperrec/models"
)

// stubMath marks what the converter sends to the math engine; it rejects
// "bad".
func stubMath(tex string, display bool) (string, bool) {
	if tex == "bad" {
		return "", false
	}
	if display {
		return "<M d>" + html.EscapeString(tex) + "</M>", true
	}
	return "<M>" + html.EscapeString(tex) + "</M>", true
}

// TestRender checks the splitting into text and math and the text-mode
// commands, with a stand-in for KaTeX.
func TestRender(t *testing.T) {
	tests := []struct {
		name, in, want string
		reason         string
	}{
		{name: "plain text", in: "Naturalness and Fisher Information", want: "Naturalness and Fisher Information"},
		{name: "empty", in: "", want: ""},
		{name: "HTML in text", in: `a<b & "c" 'd' <script>x</script>`,
			want: "a&lt;b &amp; &#34;c&#34; &#39;d&#39; &lt;script&gt;x&lt;/script&gt;"},
		{name: "inline math", in: "the $x^2$ term", want: "the <M>x^2</M> term"},
		{name: "display math", in: "so $$E=mc^2$$ holds", want: "so <M d>E=mc^2</M> holds"},
		{name: "paren math", in: `\(a\) and \[b\]`, want: "<M>a</M> and <M d>b</M>"},
		{name: "HTML in math", in: "$a<b$", want: "<M>a&lt;b</M>", reason: "math goes to the engine as TeX; the engine escapes"},
		{name: "escaped dollar", in: `costs \$5 and \$6`, want: "costs $5 and $6"},
		{name: "escaped dollar in math", in: `$a\$b$`, want: `<M>a\$b</M>`},
		{name: "unbalanced dollar", in: "5$ only", want: "5$ only"},
		{name: "display opened, inline closed", in: "$$x$", want: "$<M>x</M>"},
		{name: "empty math", in: "a $ $ b and $$", want: "a $ $ b and $$", reason: "nothing to render: kept as typed"},
		{name: "dollar inside braces", in: `${\text{$x$}}$ y`, want: `<M>{\text{$x$}}</M> y`,
			reason: "a $ inside braces does not close the math"},
		{name: "unclosed paren math", in: `\(x and more`, want: "(x and more"},
		{name: "rejected math", in: "a $bad$ b", want: "a $bad$ b", reason: "shown as its source"},
		{name: "math too long", in: "$" + strings.Repeat("x", maxExprBytes+1) + "$", want: "$" + strings.Repeat("x", maxExprBytes+1) + "$"},
		{name: "emph", in: `\emph{new} and \textit{a priori}`, want: "<em>new</em> and <i>a priori</i>"},
		{name: "it switch", in: `{\it attention} -- a`, want: "<i>attention</i> – a"},
		{name: "it switch at top level", in: `plain \bf bold`, want: "plain <b>bold</b>"},
		{name: "bold and tt", in: `\textbf{b} \texttt{C++}`, want: "<b>b</b> <code>C++</code>"},
		{name: "plain styles", in: `\textsc{Abacus}\textsc{Summit} \textrm{r} \text{t} \mbox{m}`, want: "AbacusSummit r t m"},
		{name: "math inside a style", in: `\textit{see $x$}`, want: "<i>see <M>x</M></i>"},
		{name: "unclosed style", in: `\textit{abc`, want: "<i>abc</i>"},
		{name: "style without brace", in: `\emph x`, want: "x"},
		{name: "stray brace", in: "a } b {c}", want: "a  b c"},
		{name: "cite", in: `recently \citet{xieprice} and Ref.~\cite{Amarasinghe:2021lqa}`,
			want: "recently [xieprice] and Ref.\u00a0[Amarasinghe:2021lqa]"},
		{name: "cite with options", in: `\citep[e.g.][p.~3]{a,b}`, want: "[a, b]"},
		{name: "url", in: `at \url{https://x.org/a_b?c=d&e}.`, want: "at https://x.org/a_b?c=d&amp;e."},
		{name: "href", in: `\href{https://aka.ms/denseav}{the page}`, want: "the page"},
		{name: "dashes and tie", in: "Barbieri--Giudice --- and~so", want: "Barbieri–Giudice — and\u00a0so"},
		{name: "quotes", in: "``so-called'' `x'", want: "“so-called” ‘x&#39;"},
		{name: "escaped specials", in: `50\% \& \# \_ \{ \}`, want: "50% &amp; # _ { }"},
		{name: "spaces", in: `30\,000 a\ b c\\d e\!f`, want: "30\u202f000 a b c d ef"},
		{name: "unknown commands", in: `\prometheus{} is \Fermi data, \pslsn$>0.5$`, want: "prometheus is Fermi data, pslsn<M>&gt;0.5</M>",
			reason: "an unknown command shows as its name; braces only group"},
		{name: "accents", in: `\'{e}t\'e \"o na\"{\i}ve \c c \v{s} \'\i \H{o}`, want: "été ö naïve ç š í ő"},
		{name: "letters", in: `Stra\ss e \o{} \aa \o`, want: "Straße ø åø", reason: "a letter command takes the spaces after it, as in TeX"},
		{name: "symbols", in: `\ldots{} \S 3 \LaTeX`, want: "… § 3 LaTeX"},
		{name: "trailing backslash", in: `a\`, want: "a"},
		{name: "backslash before non-ASCII", in: `\é`, want: "é"},
		{name: "invalid UTF-8", in: "a\xffb", want: "a\uFFFDb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := render(tt.in, stubMath); got != tt.want {
				t.Errorf("render(%q)\n got %q\nwant %q\n(%s)", tt.in, got, tt.want, tt.reason)
			}
		})
	}
}

// TestKaTeX renders with the real engine.
func TestKaTeX(t *testing.T) {
	e := newEngine(1, 64)
	tests := []struct {
		name, in string
		want     string   // "math", "source" (no MathML) or "" (either)
		contains []string // in the output
		reason   string
	}{
		{name: "title from the listing", in: `${T\overline{T}}$-like Flows of Yang-Mills Theories`, want: "math",
			contains: []string{`<mover accent="true"><mi>T</mi>`, "-like Flows"}},
		{name: "blackboard", in: `$\mathbb{CP}^{N-1}$`, want: "math", contains: []string{"ℂ", "ℙ"}, reason: "styled letters as Unicode: see variant.go"},
		{name: "less-than in math", in: `$a<b$`, want: "math", contains: []string{"<mo>&lt;</mo>"}},
		{name: "Unicode in math", in: `$τ_{\rm m} \gtrsim 1.1\times10^{26}\,$`, want: "math", contains: []string{"<mi>τ</mi>"}},
		{name: "display", in: `$$\sum_i x_i$$`, want: "math", contains: []string{`display="block"`}},
		{name: "unknown macro", in: `$τ_{\textrm{\nnbar}}$`, want: "math", contains: []string{"<mtext>nnbar</mtext>"},
			reason: "an unknown command shows as its name, as outside math"},
		{name: "unbalanced braces", in: `a $\frac{a$ b`, want: "source", contains: []string{`a $\frac{a$ b`}},
		{name: "unknown environment", in: `$\begin{foo}x\end{foo}$`, want: "source", contains: []string{`$\begin{foo}x\end{foo}$`}},
		{name: "newline in math", in: `$a \\ b$`, want: "math"},
		{name: "macro bomb", in: `$\def\a{\b\b\b\b}\def\b{\c\c\c\c}\def\c{\d\d\d\d}\def\d{\e\e\e\e}\def\e{xxxx}\a\a\a$`,
			want: "source", contains: []string{`$\def\a`}, reason: "KaTeX stops after 1000 expansions"},
		{name: "trust is off", in: `$\href{javascript:alert(1)}{x}\htmlClass{c}{y}$`, want: "source",
			reason: "KaTeX would draw the refused commands' names in red: the source is plainer"},
		{name: "deep nesting", in: "$" + strings.Repeat("{", 900) + "x" + strings.Repeat("}", 900) + "$",
			reason: "either renders or falls back; never a crash"},
		{name: "deep fractions", in: "$" + strings.Repeat(`\frac{1}{`, 40) + "x" + strings.Repeat("}", 40) + "$", want: "math",
			reason: "KaTeX's time grows with the square of the depth: 150 levels take 0.5 s, and over the timeout under -race"},
		{name: "deeper than the stack", in: `$\def\s#1{\sqrt{\s{#1}}}\s{x}$`, want: "source",
			reason: "a recursive macro nests deeper than the call stack limit before it runs out of expansions"},
		{name: "after a stack overflow", in: `$x$`, want: "math", reason: "the runtime was replaced"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := render(tt.in, e.math)
			if has := strings.Contains(got, "<math"); tt.want != "" && has != (tt.want == "math") {
				t.Errorf("MathML present %v, want %s (%s):\n%s", has, tt.want, tt.reason, got)
			}
			for _, c := range tt.contains {
				if !strings.Contains(got, c) {
					t.Errorf("output lacks %q (%s):\n%s", c, tt.reason, got)
				}
			}
			if err := checkMarkup(got); err != nil {
				t.Errorf("%v:\n%s", err, got)
			}
		})
	}
}

// TestMacroIsolation: a definition in one expression does not reach the
// next, whichever runtime renders it.
func TestMacroIsolation(t *testing.T) {
	e := newEngine(1, 64)
	render(`$\gdef\foo{X}\foo$`, e.math)
	if got := render(`$\foo$`, e.math); !strings.Contains(got, "<mtext>foo</mtext>") {
		t.Errorf("\\gdef leaked into the next expression:\n%s", got)
	}
}

// TestTimeout: an expression interrupted for running out of time shows as
// source, is not cached, and the runtime it ran on is replaced.
func TestTimeout(t *testing.T) {
	e := newEngine(1, 64)
	render("$x$", e.math) // starts a runtime
	v := <-e.idle
	v.rt.Interrupt(errTimeout) // as the timer does when an expression runs too long
	e.idle <- v
	if got := render("$x^2$", e.math); got != "$x^2$" {
		t.Errorf("interrupted: got %q, want the source", got)
	}
	if _, ok := e.cache.Get(mathKey{"x^2", false}); ok {
		t.Error("an interrupted expression was cached")
	}
	if got := render("$x^2$", e.math); !strings.Contains(got, "<msup>") {
		t.Errorf("after the interrupt: %q", got)
	}
	if e.started != 2 {
		t.Errorf("%d runtimes started, want 2 (the interrupted one dropped)", e.started)
	}
}

func TestHugeInput(t *testing.T) {
	e := newEngine(1, 64)
	var b strings.Builder
	for b.Len() < 1<<20 {
		b.WriteString(`${ a \$ $$ \( {\it x \textbf{y <script> `)
	}
	got := render(b.String(), e.math)
	if err := checkMarkup(got); err != nil {
		t.Error(err)
	}
}

// TestCorpus renders every title and abstract of the bundled listing: no
// math is left as source, no dollar or command shows, and the markup is
// well-formed. The titles with math are kept in a golden file.
func TestCorpus(t *testing.T) {
	res, err := models.ParseListing(bytes.NewReader(data.Listing), data.ListingName, models.ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e := newEngine(0, cacheSize)
	var titles strings.Builder
	withMath := 0
	for _, p := range res.Papers {
		for i, s := range []string{p.Title, p.Abstract} {
			out := render(s, e.math)
			if strings.Contains(out, "<math") {
				withMath++
			}
			if err := checkMarkup(out); err != nil {
				t.Errorf("%s: %v", p.ID, err)
			}
			if vis := visibleText(t, out); strings.Contains(vis, "$") || regexp.MustCompile(`\\[A-Za-z]`).MatchString(vis) {
				t.Errorf("%s: TeX left in the text: %q", p.ID, vis)
			}
			if i == 0 && out != html.EscapeString(s) {
				fmt.Fprintf(&titles, "%s\n%s\n\n", s, out)
			}
		}
	}
	if e.failed != 0 {
		t.Errorf("KaTeX rejected %d expressions of the listing", e.failed)
	}
	t.Logf("%d titles and abstracts with math; %d distinct expressions", withMath, e.rendered)
	golden.Check(t, "titles.golden", []byte(titles.String()))
}

// visibleText is the text a reader sees: the MathML annotation (the TeX
// source, which browsers do not draw) left out.
func visibleText(t *testing.T, s string) string {
	z := xhtml.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	hidden := 0
	for {
		switch z.Next() {
		case xhtml.ErrorToken:
			if z.Err() != io.EOF {
				t.Fatal(z.Err())
			}
			return b.String()
		case xhtml.StartTagToken:
			if name, _ := z.TagName(); string(name) == "annotation" {
				hidden++
			}
		case xhtml.EndTagToken:
			if name, _ := z.TagName(); string(name) == "annotation" {
				hidden--
			}
		case xhtml.TextToken:
			if hidden == 0 {
				b.Write(z.Text())
			}
		}
	}
}

func TestMathVariants(t *testing.T) {
	tests := []struct{ name, in, want, reason string }{
		{name: "double-struck", in: `<mi mathvariant="double-struck">C</mi><mi mathvariant="double-struck">P</mi>`,
			want: `<mi mathvariant="normal">ℂ</mi><mi mathvariant="normal">ℙ</mi>`, reason: "C and P live in Letterlike Symbols"},
		{name: "script", in: `<mi mathvariant="script">DO</mi>`, want: `<mi>𝒟𝒪</mi>`},
		{name: "fraktur", in: `<mi mathvariant="fraktur">g</mi>`, want: `<mi mathvariant="normal">𝔤</mi>`},
		{name: "bold digits", in: `<mn mathvariant="bold">12</mn>`, want: `<mn>𝟏𝟐</mn>`},
		{name: "bold Greek", in: `<mi mathvariant="bold">αΩ∂ϕ</mi>`, want: `<mi>𝛂𝛀𝛛𝛟</mi>`},
		{name: "italic h", in: `<mi mathvariant="italic">h</mi>`, want: `<mi mathvariant="normal">ℎ</mi>`},
		{name: "normal stays", in: `<mi mathvariant="normal">polylog</mi>`, want: `<mi mathvariant="normal">polylog</mi>`},
		{name: "text stays", in: `<mtext mathvariant="italic">Hubble</mtext>`, want: `<mtext mathvariant="italic">Hubble</mtext>`,
			reason: "words, not symbols"},
		{name: "entity stays", in: `<mi mathvariant="bold">&lt;</mi>`, want: `<mi mathvariant="bold">&lt;</mi>`},
		{name: "no letters for it", in: `<mi mathvariant="double-struck">α</mi>`, want: `<mi mathvariant="normal">α</mi>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mathVariants(tt.in); got != tt.want {
				t.Errorf("mathVariants(%s) = %s, want %s (%s)", tt.in, got, tt.want, tt.reason)
			}
		})
	}
}
