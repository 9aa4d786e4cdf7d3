package mathml

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	xhtml "golang.org/x/net/html"
)

// The markup the output may hold: what the package doc promises, and what
// the widget's and the explorer's sanitizers let through (plus style, which
// KaTeX writes for \fbox and \pmb from checked values, and they drop).
var (
	allowedTags = set("span i em b code sub sup " +
		"math annotation semantics mtext mn mo mi mspace mover munder munderover msup msub msubsup " +
		"mfrac mroot msqrt mtable mtr mtd mlabeledtr mrow menclose mstyle mpadded mphantom")
	allowedAttrs = set("class xmlns display encoding width height depth lspace rspace voffset notation fence " +
		"stretchy mathvariant columnspacing rowspacing columnalign columnlines rowlines scriptlevel displaystyle " +
		"mathcolor mathbackground linethickness accent accentunder separator minsize maxsize mathsize linebreak " +
		"largeop style")
)

func set(words string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}

// checkMarkup reports the first way s is not the promised markup: a tag or
// attribute outside the lists, a tag closed out of order or left open, a
// comment, a doctype, invalid UTF-8, or an attribute value that could
// reach a URL.
func checkMarkup(s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("invalid UTF-8")
	}
	z := xhtml.NewTokenizer(strings.NewReader(s))
	var open []string
	for {
		tt := z.Next()
		switch tt {
		case xhtml.ErrorToken:
			if z.Err() != io.EOF {
				return z.Err()
			}
			if len(open) > 0 {
				return fmt.Errorf("unclosed %v", open)
			}
			return nil
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken:
			name, more := z.TagName()
			if !allowedTags[string(name)] {
				return fmt.Errorf("tag <%s>", name)
			}
			for more {
				var k, v []byte
				k, v, more = z.TagAttr()
				if !allowedAttrs[string(k)] {
					return fmt.Errorf("attribute %s on <%s>", k, name)
				}
				if l := strings.ToLower(string(v)); strings.Contains(l, "url(") || strings.Contains(l, "javascript:") || strings.ContainsAny(l, "<>") {
					return fmt.Errorf("attribute %s=%q", k, v)
				}
			}
			if tt == xhtml.StartTagToken {
				open = append(open, string(name))
			}
		case xhtml.EndTagToken:
			name, _ := z.TagName()
			if len(open) == 0 || open[len(open)-1] != string(name) {
				return fmt.Errorf("</%s> closes %v", name, open)
			}
			open = open[:len(open)-1]
		case xhtml.CommentToken, xhtml.DoctypeToken:
			return fmt.Errorf("%v token", tt)
		}
	}
}

// FuzzHTML: any input renders without a panic, to the promised markup.
func FuzzHTML(f *testing.F) {
	for _, s := range []string{
		"plain", `${T\overline{T}}$-like`, `$a<b$ <script>`, `\textit{x $y$`, `$$\frac{a$`, `\(x\)\[y\]`,
		`{\it a} \cite{k} \url{u} \href{h}{t} \'{e} \c c --- ~`, `$\begin{array}{c}a\\b\end{array}$`,
		`$\fbox{x}\pmb{y}\color{red}{z}\rule{1em}{2em}$`, `$\href{javascript:x}{y}$`, `$\text{$x$}$`,
	} {
		f.Add(s)
	}
	e := newEngine(1, 256)
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 4096 {
			return // KaTeX takes about a millisecond per expression: keep each run short
		}
		out := render(s, e.math)
		if err := checkMarkup(out); err != nil {
			t.Fatalf("render(%q): %v\n%s", s, err, out)
		}
	})
}
