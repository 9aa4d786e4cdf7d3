package mathml

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// mathFunc renders one TeX expression as HTML and reports whether it could.
type mathFunc func(tex string, display bool) (string, bool)

// render converts s in one pass: math between delimiters through math (or
// as escaped source when it fails), everything else as text with the
// text-mode commands of the tables below.
func render(s string, math mathFunc) string {
	c := converter{s: strings.ToValidUTF8(s, "\uFFFD"), math: math, groups: []string{""}}
	c.b.Grow(len(s) + len(s)/8)
	c.run()
	return c.b.String()
}

// converter is the state of one render.
type converter struct {
	s    string
	i    int
	b    strings.Builder
	math mathFunc
	// groups holds the closing markup of each open brace group, innermost
	// last; groups[0] is the top level, closed at the end.
	groups []string
}

func (c *converter) run() {
	for c.i < len(c.s) {
		switch ch := c.s[c.i]; ch {
		case '$':
			c.dollar()
		case '\\':
			c.command()
		case '{':
			c.groups = append(c.groups, "")
			c.i++
		case '}':
			if n := len(c.groups); n > 1 {
				c.b.WriteString(c.groups[n-1])
				c.groups = c.groups[:n-1]
			} // a stray } is dropped
			c.i++
		case '~':
			c.b.WriteString("\u00a0")
			c.i++
		case '-':
			switch {
			case strings.HasPrefix(c.s[c.i:], "---"):
				c.b.WriteString("—")
				c.i += 3
			case strings.HasPrefix(c.s[c.i:], "--"):
				c.b.WriteString("–")
				c.i += 2
			default:
				c.b.WriteByte('-')
				c.i++
			}
		case '`':
			if strings.HasPrefix(c.s[c.i:], "``") {
				c.b.WriteString("“")
				c.i += 2
			} else {
				c.b.WriteString("‘")
				c.i++
			}
		case '\'':
			if strings.HasPrefix(c.s[c.i:], "''") {
				c.b.WriteString("”")
				c.i += 2
			} else {
				c.b.WriteString("&#39;")
				c.i++
			}
		default:
			c.text(c.s[c.i : c.i+1])
			c.i++
		}
	}
	for i := len(c.groups) - 1; i >= 0; i-- {
		c.b.WriteString(c.groups[i])
	}
}

// text writes plain text, escaped.
func (c *converter) text(t string) {
	for i := 0; i < len(t); i++ {
		switch t[i] {
		case '<':
			c.b.WriteString("&lt;")
		case '>':
			c.b.WriteString("&gt;")
		case '&':
			c.b.WriteString("&amp;")
		case '"':
			c.b.WriteString("&#34;")
		case '\'':
			c.b.WriteString("&#39;")
		default:
			c.b.WriteByte(t[i])
		}
	}
}

// dollar reads math opened by $ or $$. Without a closing delimiter the
// dollar is a plain character.
func (c *converter) dollar() {
	open := "$"
	if strings.HasPrefix(c.s[c.i:], "$$") {
		open = "$$"
	}
	start := c.i + len(open)
	if end := closeMath(c.s, start, open); end >= 0 {
		c.emitMath(c.s[c.i:end+len(open)], c.s[start:end], open == "$$")
		c.i = end + len(open)
		return
	}
	if open == "$$" { // "$$x$": inline math after a literal dollar
		c.text("$")
		c.i++
		return
	}
	c.text("$")
	c.i++
}

// closeMath finds the delimiter that closes math opened just before start:
// the first unescaped one outside braces (so ${\text{$x$}}$ is one piece),
// else the first unescaped one. It returns -1 when there is none within
// maxExprBytes: longer math is not recognised, which keeps a page of stray
// dollars linear to scan.
func closeMath(s string, start int, delim string) int {
	first, depth := -1, 0
	end := min(len(s), start+maxExprBytes+len(delim))
	for i := start; i < end; i++ {
		switch s[i] {
		case '\\':
			if strings.HasPrefix(s[i:], delim) {
				return i // \) or \]
			}
			i++ // skip the escaped character: \$, \{, \\
		case '{':
			depth++
		case '}':
			depth = max(0, depth-1)
		case '$':
			if !strings.HasPrefix(s[i:], delim) {
				continue
			}
			if depth == 0 {
				return i
			}
			if first < 0 {
				first = i
			}
			i += len(delim) - 1
		}
	}
	return first
}

// emitMath writes rendered math, or its source when the engine rejects it.
func (c *converter) emitMath(source, tex string, display bool) {
	if strings.TrimSpace(tex) == "" {
		c.text(source)
		return
	}
	if html, ok := c.math(tex, display); ok {
		c.b.WriteString(html)
		return
	}
	c.text(source)
}

// command reads a backslash and what follows.
func (c *converter) command() {
	rest := c.s[c.i+1:]
	if rest == "" { // a trailing backslash
		c.i++
		return
	}
	if !isLetter(rest[0]) {
		c.symbol(rest[0])
		return
	}
	n := 1
	for n < len(rest) && isLetter(rest[n]) {
		n++
	}
	name := rest[:n]
	c.i += 1 + n
	switch {
	case textStyles[name] != [2]string{} || plainStyles[name]:
		if c.openArg() {
			c.b.WriteString(textStyles[name][0])
			c.groups[len(c.groups)-1] = textStyles[name][1]
		}
	case switchStyles[name] != [2]string{}:
		c.skipSpaces()
		c.b.WriteString(switchStyles[name][0])
		c.groups[len(c.groups)-1] = switchStyles[name][1] + c.groups[len(c.groups)-1]
	case plainSwitches[name]:
		c.skipSpaces()
	case letterSymbols[name] != "": // inside words: Stra\ss e
		c.skipSpaces()
		c.b.WriteString(letterSymbols[name])
	case citeCommands[name]:
		c.skipOptional()
		if arg, ok := c.rawArg(); ok {
			c.text("[" + strings.Join(strings.Fields(strings.ReplaceAll(arg, ",", ", ")), " ") + "]")
		}
	case name == "url":
		if arg, ok := c.rawArg(); ok {
			c.text(arg)
		}
	case name == "href": // the link text stays; the address goes
		c.rawArg()
	case letterAccents[name] != "":
		c.accent(letterAccents[name], true)
	case textSymbols[name] != "":
		c.b.WriteString(textSymbols[name])
	default: // unknown: its name, without the backslash
		c.text(name)
	}
}

// symbol handles a backslash before a character that is not a letter.
func (c *converter) symbol(ch byte) {
	switch ch {
	case '(', '[':
		closer := `\)`
		if ch == '[' {
			closer = `\]`
		}
		start := c.i + 2
		if end := closeMath(c.s, start, closer); end >= 0 {
			c.emitMath(c.s[c.i:end+2], c.s[start:end], ch == '[')
			c.i = end + 2
			return
		}
		c.text(string(ch))
	case ',':
		c.b.WriteString("\u202f") // narrow no-break space
	case ' ', ';', ':', '>', '\\':
		c.b.WriteByte(' ')
	case '!', '/', '-', '@':
	default:
		if mark := symbolAccents[ch]; mark != "" {
			c.i += 2
			c.accent(mark, false)
			return
		}
		if ch >= utf8.RuneSelf { // \é: the backslash goes
			c.i++
			return
		}
		c.text(string(ch)) // \% \& \$ \# \_ \{ \} and the rest
	}
	c.i += 2
}

// openArg enters the braced argument of a style command, as a group whose
// closing markup the caller sets. Without a brace it reports false.
func (c *converter) openArg() bool {
	c.skipSpaces()
	if c.i < len(c.s) && c.s[c.i] == '{' {
		c.groups = append(c.groups, "")
		c.i++
		return true
	}
	return false
}

// rawArg reads a braced argument verbatim (nested braces kept balanced).
func (c *converter) rawArg() (string, bool) {
	c.skipSpaces()
	if c.i >= len(c.s) || c.s[c.i] != '{' {
		return "", false
	}
	depth := 0
	for j := c.i; j < len(c.s); j++ {
		switch c.s[j] {
		case '\\':
			j++
		case '{':
			depth++
		case '}':
			if depth--; depth == 0 {
				arg := c.s[c.i+1 : j]
				c.i = j + 1
				return arg, true
			}
		}
	}
	arg := c.s[c.i+1:] // unclosed: the rest
	c.i = len(c.s)
	return arg, true
}

// skipOptional skips [optional] arguments and a star.
func (c *converter) skipOptional() {
	if c.i < len(c.s) && c.s[c.i] == '*' {
		c.i++
	}
	for c.i < len(c.s) && c.s[c.i] == '[' {
		end := strings.IndexByte(c.s[c.i:], ']')
		if end < 0 {
			return
		}
		c.i += end + 1
	}
}

func (c *converter) skipSpaces() {
	for c.i < len(c.s) && c.s[c.i] == ' ' {
		c.i++
	}
}

// accent puts a combining mark on the next letter, braced ({e}, {\i}) or
// not (\'e, \c c), and composes them.
func (c *converter) accent(mark string, letterCmd bool) {
	if letterCmd {
		c.skipSpaces()
	}
	var base string
	if arg, ok := c.rawArg(); ok {
		base = arg
	} else if c.i < len(c.s) {
		_, n := utf8.DecodeRuneInString(c.s[c.i:])
		if c.s[c.i] == '\\' && len(c.s) > c.i+1 {
			n = 2 // \i, \j
		}
		base = c.s[c.i : c.i+n]
		c.i += n
	}
	switch strings.TrimSpace(base) {
	case `\i`: // dotless i: with the mark it is plain í
		base = "i"
	case `\j`:
		base = "j"
	}
	if base == "" || base[0] == '\\' || base[0] == '{' || base[0] == '$' {
		c.text(strings.Trim(base, `\{}$`))
		return
	}
	_, n := utf8.DecodeRuneInString(base)
	c.text(norm.NFC.String(base[:n]+mark) + strings.Trim(base[n:], `\{}$`))
}

func isLetter(b byte) bool { return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' }

// Text-mode commands. Anything else shows as its name without the
// backslash (\Fermi → Fermi); braces only group.
var (
	// textStyles take one braced argument and set it in a tag.
	textStyles = map[string][2]string{
		"textit": {"<i>", "</i>"}, "textsl": {"<i>", "</i>"}, "emph": {"<em>", "</em>"},
		"textbf": {"<b>", "</b>"}, "texttt": {"<code>", "</code>"},
		"textsuperscript": {"<sup>", "</sup>"}, "textsubscript": {"<sub>", "</sub>"},
	}
	// plainStyles take one braced argument and show it as it is.
	plainStyles = map[string]bool{
		"textrm": true, "textsf": true, "textsc": true, "textup": true, "textmd": true, "textnormal": true,
		"text": true, "mbox": true, "hbox": true, "mathrm": true, "footnote": true,
	}
	// switchStyles apply to the rest of the group they are in: {\it x}.
	switchStyles = map[string][2]string{
		"it": {"<i>", "</i>"}, "itshape": {"<i>", "</i>"}, "sl": {"<i>", "</i>"}, "em": {"<em>", "</em>"},
		"bf": {"<b>", "</b>"}, "bfseries": {"<b>", "</b>"}, "tt": {"<code>", "</code>"}, "ttfamily": {"<code>", "</code>"},
	}
	// plainSwitches are dropped.
	plainSwitches = map[string]bool{
		"rm": true, "sf": true, "sc": true, "scshape": true, "upshape": true, "normalfont": true, "rmfamily": true,
		"sffamily": true, "mdseries": true, "small": true, "footnotesize": true, "large": true, "Large": true,
		"normalsize": true, "xspace": true, "noindent": true, "centering": true, "protect": true, "relax": true,
		"nobreak": true,
	}
	// citeCommands show their keys in brackets: \cite{a,b} → [a, b].
	citeCommands = map[string]bool{
		"cite": true, "citep": true, "citet": true, "citealp": true, "citealt": true, "citeauthor": true,
		"citeyear": true, "parencite": true, "textcite": true, "autocite": true,
		"ref": true, "eqref": true, "autoref": true, "cref": true, "Cref": true,
	}
	// textSymbols are commands that stand for a character or a word.
	textSymbols = map[string]string{
		"ldots": "…", "dots": "…", "textellipsis": "…", "textendash": "–", "textemdash": "—",
		"S": "§", "P": "¶", "dag": "†", "ddag": "‡", "copyright": "©", "textregistered": "®",
		"texttrademark": "™", "pounds": "£", "textsterling": "£", "euro": "€", "texteuro": "€",
		"textdegree": "°", "textasciitilde": "~", "textless": "&lt;", "textgreater": "&gt;",
		"textbar": "|", "textunderscore": "_", "textquoteleft": "‘", "textquoteright": "’",
		"textquotedblleft": "“", "textquotedblright": "”", "LaTeX": "LaTeX", "TeX": "TeX", "newline": " ", "linebreak": " ",
		"par": " ", "quad": " ", "qquad": " ", "enspace": " ", "thinspace": "\u202f",
	}
	// letterSymbols are letters, which take the spaces after them.
	letterSymbols = map[string]string{
		"i": "ı", "j": "ȷ", "ss": "ß", "ae": "æ", "AE": "Æ", "oe": "œ", "OE": "Œ", "o": "ø", "O": "Ø",
		"aa": "å", "AA": "Å", "l": "ł", "L": "Ł",
	}
	// symbolAccents are \' \` \^ \" \~ \= \. before a letter.
	symbolAccents = map[byte]string{
		'\'': "\u0301", '`': "\u0300", '^': "\u0302", '"': "\u0308", '~': "\u0303", '=': "\u0304", '.': "\u0307",
	}
	// letterAccents are \c{c}, \v{s} and the like.
	letterAccents = map[string]string{
		"c": "\u0327", "v": "\u030c", "u": "\u0306", "H": "\u030b", "k": "\u0328", "r": "\u030a", "d": "\u0323", "b": "\u0331",
	}
)
