// Package mathml renders the LaTeX in paper titles and abstracts as safe
// HTML for readers: math as MathML, which browsers draw natively without
// fonts or style sheets, and the text around it escaped, with the common
// text-mode commands applied (\emph{…} in italics, \% as %, -- as an en
// dash, ~ as a no-break space).
//
// Math between $…$, $$…$$, \(…\) and \[…\] goes to KaTeX
// (third_party/katex), run in goja, a JavaScript engine in pure Go; this
// package only finds the delimiters. Whatever KaTeX rejects, and any
// expression over its limits, shows as its escaped source: rendering never
// fails. See docs/web.md for the command list and the measurements.
//
// The output holds only escaped text, the MathML elements and attributes
// KaTeX writes, spans of class katex, and the inline tags i, em, b, code,
// sub and sup: never a script, a link or an event handler (style only as
// KaTeX writes it for \fcolorbox and \pmb, from values it checked).
package mathml

import (
	"runtime"
	"sync"
)

// HTML renders s, a title or an abstract in LaTeX-flavoured plain text, as
// an HTML fragment. Plain text comes back escaped. The math engine starts
// on the first expression (about 70 ms), and rendered expressions are
// cached. Safe for concurrent use.
func HTML(s string) string {
	return render(s, shared().math)
}

// shared is the engine behind HTML, built on first use.
var shared = sync.OnceValue(func() *engine { return newEngine(runtime.GOMAXPROCS(0), cacheSize) })
