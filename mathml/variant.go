package mathml

import (
	"regexp"
	"slices"
	"strings"
)

// KaTeX writes \mathbb{C} as <mi mathvariant="double-struck">C</mi>, but
// MathML Core, and so Chromium, draws only mathvariant="normal": the letter
// shows as a plain italic C. MathML Core spells styled letters with the
// Unicode Mathematical Alphanumeric Symbols instead (ℂ, 𝒟, 𝔤, 𝐱), which
// every browser draws, so identifiers and numbers are rewritten to them.
// Text (<mtext>, from \textit{…} in math) keeps its attribute: those letters
// are words, not symbols, and stay as typed where the attribute is ignored.

// variantTag matches an identifier or number with a mathvariant and plain
// text content.
var variantTag = regexp.MustCompile(`<(mi|mn) mathvariant="([a-z-]+)">([^<&]*)</(?:mi|mn)>`)

// mathVariants rewrites the styled identifiers and numbers of KaTeX's
// MathML to Mathematical Alphanumeric Symbols.
func mathVariants(html string) string {
	if !strings.Contains(html, "mathvariant=") {
		return html
	}
	return variantTag.ReplaceAllStringFunc(html, func(m string) string {
		sub := variantTag.FindStringSubmatch(m)
		tag, variant, text := sub[1], sub[2], sub[3]
		v, ok := variants[variant]
		if !ok {
			return m // normal, or one Unicode has no letters for
		}
		var b strings.Builder
		for _, r := range text {
			b.WriteRune(v.of(r))
		}
		if tag == "mi" && len([]rune(text)) == 1 {
			// A one-letter identifier is drawn in italic unless it says
			// otherwise; the styled letter is already what is meant.
			return "<mi mathvariant=\"normal\">" + b.String() + "</mi>"
		}
		return "<" + tag + ">" + b.String() + "</" + tag + ">"
	})
}

// variant is where one style starts in the Mathematical Alphanumeric
// Symbols block (U+1D400…), 0 where Unicode has no such letters, and the
// letters that live elsewhere (ℂ, ℎ, ℛ…).
type variant struct {
	upper, lower, digit, greekUpper, greekLower rune
	holes                                       map[rune]rune
}

// of returns r in this style, or r when the style has no such letter.
func (v variant) of(r rune) rune {
	if h, ok := v.holes[r]; ok {
		return h
	}
	switch {
	case 'A' <= r && r <= 'Z' && v.upper != 0:
		return v.upper + r - 'A'
	case 'a' <= r && r <= 'z' && v.lower != 0:
		return v.lower + r - 'a'
	case '0' <= r && r <= '9' && v.digit != 0:
		return v.digit + r - '0'
	case v.greekUpper == 0:
		return r
	case 'Α' <= r && r <= 'Ω' && r != 0x3a2:
		return v.greekUpper + r - 'Α'
	case r == 'ϴ':
		return v.greekUpper + 0x11
	case r == '∇':
		return v.greekUpper + 0x19
	case 'α' <= r && r <= 'ω':
		return v.greekLower + r - 'α'
	}
	if i := slices.Index(greekLowerExtra, r); i >= 0 {
		return v.greekLower + 0x19 + rune(i)
	}
	return r
}

// greekLowerExtra follow ω in each Greek style of the block.
var greekLowerExtra = []rune("∂ϵϑϰϕϱϖ")

// variants are MathML's mathvariant values that KaTeX writes, by the
// Unicode chart "Mathematical Alphanumeric Symbols".
var variants = map[string]variant{
	"bold":        {upper: 0x1d400, lower: 0x1d41a, digit: 0x1d7ce, greekUpper: 0x1d6a8, greekLower: 0x1d6c2},
	"italic":      {upper: 0x1d434, lower: 0x1d44e, greekUpper: 0x1d6e2, greekLower: 0x1d6fc, holes: map[rune]rune{'h': 'ℎ'}},
	"bold-italic": {upper: 0x1d468, lower: 0x1d482, greekUpper: 0x1d71c, greekLower: 0x1d736},
	"script": {upper: 0x1d49c, lower: 0x1d4b6, holes: map[rune]rune{'B': 'ℬ', 'E': 'ℰ', 'F': 'ℱ', 'H': 'ℋ', 'I': 'ℐ',
		'L': 'ℒ', 'M': 'ℳ', 'R': 'ℛ', 'e': 'ℯ', 'g': 'ℊ', 'o': 'ℴ'}},
	"bold-script": {upper: 0x1d4d0, lower: 0x1d4ea},
	"fraktur":     {upper: 0x1d504, lower: 0x1d51e, holes: map[rune]rune{'C': 'ℭ', 'H': 'ℌ', 'I': 'ℑ', 'R': 'ℜ', 'Z': 'ℨ'}},
	"double-struck": {upper: 0x1d538, lower: 0x1d552, digit: 0x1d7d8, holes: map[rune]rune{'C': 'ℂ', 'H': 'ℍ', 'N': 'ℕ',
		'P': 'ℙ', 'Q': 'ℚ', 'R': 'ℝ', 'Z': 'ℤ'}},
	"bold-fraktur":           {upper: 0x1d56c, lower: 0x1d586},
	"sans-serif":             {upper: 0x1d5a0, lower: 0x1d5ba, digit: 0x1d7e2},
	"bold-sans-serif":        {upper: 0x1d5d4, lower: 0x1d5ee, digit: 0x1d7ec, greekUpper: 0x1d756, greekLower: 0x1d770},
	"sans-serif-italic":      {upper: 0x1d608, lower: 0x1d622},
	"sans-serif-bold-italic": {upper: 0x1d63c, lower: 0x1d656, greekUpper: 0x1d790, greekLower: 0x1d7aa},
	"monospace":              {upper: 0x1d670, lower: 0x1d68a, digit: 0x1d7f6},
}
