package models

import (
	"strconv"
	"strings"
	"unicode"
)

// maxSlugLen bounds a slug; longer titles are cut at a word boundary.
const maxSlugLen = 80

// Slug turns a title into a URL-safe ID: lower-case ASCII letters and digits
// separated by single hyphens, accents folded ("Schrödinger" → "schrodinger"),
// Greek letters spelled out ("Λ" → "lambda"), at most 80 bytes, cut at a
// hyphen. It returns "paper" for a title with no usable character.
func Slug(title string) string {
	var b strings.Builder
	hyphen := false
	emit := func(s string) {
		if hyphen && b.Len() > 0 {
			b.WriteByte('-')
		}
		hyphen = false
		b.WriteString(s)
	}
	for _, r := range title {
		switch {
		case r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			emit(string(unicode.ToLower(r)))
		case foldRune[r] != "":
			emit(foldRune[r])
		case r == '\'' || r == '’':
			// "Bayes' theorem" → "bayes-theorem", "don't" → "dont"
		default:
			hyphen = true
		}
	}
	s := b.String()
	if len(s) > maxSlugLen {
		s = s[:maxSlugLen]
		if i := strings.LastIndexByte(s, '-'); i > maxSlugLen/2 {
			s = s[:i]
		}
		s = strings.TrimRight(s, "-")
	}
	if s == "" {
		return "paper"
	}
	return s
}

// AssignIDs gives every paper without an ID the slug of its title, appending
// "-2", "-3", ... in corpus order where slugs collide, so that IDs are unique
// and the same on every run over the same input.
func AssignIDs(papers []Paper) {
	taken := make(map[string]bool, len(papers))
	for _, p := range papers {
		if p.ID != "" {
			taken[p.ID] = true
		}
	}
	for i := range papers {
		if papers[i].ID != "" {
			continue
		}
		base := Slug(papers[i].Title)
		id := base
		for n := 2; taken[id]; n++ {
			id = base + "-" + strconv.Itoa(n)
		}
		taken[id] = true
		papers[i].ID = id
	}
}

// foldRune spells accented Latin and Greek letters in ASCII.
var foldRune = func() map[rune]string {
	m := map[rune]string{}
	add := func(ascii string, runes string) {
		for _, r := range runes {
			m[r] = ascii
		}
	}
	add("a", "àáâãäåāăąǎÀÁÂÃÄÅĀĂĄǍ")
	add("ae", "æÆ")
	add("c", "çćĉċčÇĆĈĊČ")
	add("d", "ďđðĎĐÐ")
	add("e", "èéêëēĕėęěÈÉÊËĒĔĖĘĚ")
	add("g", "ĝğġģĜĞĠĢ")
	add("h", "ĥħĤĦ")
	add("i", "ìíîïĩīĭįıÌÍÎÏĨĪĬĮİ")
	add("j", "ĵĴ")
	add("k", "ķĶ")
	add("l", "ĺļľŀłĹĻĽĿŁ")
	add("n", "ñńņňÑŃŅŇ")
	add("o", "òóôõöøōŏőÒÓÔÕÖØŌŎŐ")
	add("oe", "œŒ")
	add("r", "ŕŗřŔŖŘ")
	add("s", "śŝşšŚŜŞŠ")
	add("ss", "ß")
	add("t", "ţťŧŢŤŦ")
	add("u", "ùúûüũūŭůűųÙÚÛÜŨŪŬŮŰŲ")
	add("w", "ŵŴ")
	add("y", "ýÿŷÝŸŶ")
	add("z", "źżžŹŻŽ")
	greek := []struct{ name, letters string }{
		{"alpha", "αΑ"}, {"beta", "βΒ"}, {"gamma", "γΓ"}, {"delta", "δΔ"}, {"epsilon", "εϵΕ"},
		{"zeta", "ζΖ"}, {"eta", "ηΗ"}, {"theta", "θϑΘ"}, {"iota", "ιΙ"}, {"kappa", "κΚ"},
		{"lambda", "λΛ"}, {"mu", "μµΜ"}, {"nu", "νΝ"}, {"xi", "ξΞ"}, {"omicron", "οΟ"},
		{"pi", "πΠ"}, {"rho", "ρΡ"}, {"sigma", "σςΣ"}, {"tau", "τΤ"}, {"upsilon", "υΥ"},
		{"phi", "φϕΦ"}, {"chi", "χΧ"}, {"psi", "ψΨ"}, {"omega", "ωΩΩ"},
	}
	for _, g := range greek {
		add(g.name, g.letters)
	}
	return m
}()
