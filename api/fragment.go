package api

import (
	"bytes"
	"fmt"
	"html/template"
	"net/url"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/paperrec/paperrec/mathml"
	"github.com/paperrec/paperrec/models"
	"github.com/paperrec/paperrec/recommend"
)

// output is how GET /v1/papers/{id}/related answers: JSON, or with html an
// HTML fragment whose titles link by href.
type output struct {
	html bool
	href string
}

// outputParams reads format (json, the default, or html) and, for html, href.
func (s *Server) outputParams(c *gin.Context) (output, error) {
	switch strings.ToLower(strings.TrimSpace(c.Query("format"))) {
	case "", "json":
		return output{}, nil
	case "html":
		href, err := s.hrefParam(c)
		return output{html: true, href: href}, err
	default:
		return output{}, &paramError{"format", fmt.Sprintf("unknown format %q: want json or html", c.Query("format"))}
	}
}

// maxHrefBytes bounds the link pattern of an HTML fragment.
const maxHrefBytes = 1024

// hrefParam reads href, the link pattern of an HTML fragment's titles:
// "{id}" stands for the URL-escaped paper ID. Only http(s) URLs and paths are
// allowed. Without it, titles link to the explorer at Config.PublicURL, or
// relatively ("/#paper={id}") when none is set: never from the request's
// Host header, which a client chooses and a cache would keep.
func (s *Server) hrefParam(c *gin.Context) (string, error) {
	h := strings.TrimSpace(c.Query("href"))
	if h == "" {
		return s.cfg.PublicURL + "/#paper={id}", nil
	}
	if len(h) > maxHrefBytes {
		return "", &paramError{"href", fmt.Sprintf("longer than %d bytes", maxHrefBytes)}
	}
	u, err := url.Parse(strings.ReplaceAll(h, "{id}", "x"))
	if err != nil || (u.Scheme != "" && u.Scheme != "http" && u.Scheme != "https") {
		return "", &paramError{"href", fmt.Sprintf("%q is not an http(s) URL or a path; use {id} for the paper ID", h)}
	}
	return h, nil
}

// fragmentItem is one related paper as the HTML fragment shows it. Title
// is markup from mathml.HTML: escaped text and MathML.
type fragmentItem struct {
	ID, Authors, Year, Why, Href string
	Title                        template.HTML
}

// fragment is an HTML list of related papers for sites without JavaScript.
// The classes are stable, for the host page's own styles.
var fragment = template.Must(template.New("related").Parse(
	`<section class="paperrec-related" data-paper-id="{{.ID}}" aria-label="Related papers">
{{- if .Items}}
<ol class="paperrec-list">
{{- range .Items}}
<li class="paperrec-item" data-paper-id="{{.ID}}"><a class="paperrec-title" href="{{.Href}}">{{.Title}}</a>
{{- if or .Authors .Year}} <span class="paperrec-meta">{{.Authors}}{{if and .Authors .Year}} · {{end}}{{.Year}}</span>{{end}}
{{- if .Why}} <span class="paperrec-why">{{.Why}}</span>{{end}}</li>
{{- end}}
</ol>
{{- else}}
<p class="paperrec-empty">No related papers.</p>
{{- end}}
</section>
`))

// fragmentCSP forbids the fragment, opened on its own, any script, style,
// frame or form: it is text and links only.
const fragmentCSP = "default-src 'none'; base-uri 'none'; form-action 'none'"

// renderRelatedHTML writes the related papers of p as an HTML fragment.
// html/template escapes every value for its context.
func (s *Server) renderRelatedHTML(c *gin.Context, p models.Paper, items []recommend.Item, href string) {
	data := struct {
		ID    string
		Items []fragmentItem
	}{ID: p.ID}
	for _, it := range items {
		year := ""
		if y := it.Paper.Year(); y > 0 {
			year = fmt.Sprint(y)
		}
		// Escaped as encodeURIComponent does, as widget.js does: safe in a
		// path segment and in a query value alike.
		link := strings.ReplaceAll(href, "{id}", strings.ReplaceAll(url.QueryEscape(it.Paper.ID), "+", "%20"))
		data.Items = append(data.Items, fragmentItem{
			ID: it.Paper.ID, Title: template.HTML(mathml.HTML(it.Paper.Title)), Authors: authorLine(it.Paper.Authors, it.Paper.AuthorsTruncated),
			Year: year, Why: whyLine(it.Why), Href: link,
		})
	}
	var buf bytes.Buffer
	if err := fragment.Execute(&buf, data); err != nil {
		fail(c, err)
		return
	}
	htmlHeaders(c)
	s.send(c, "text/html; charset=utf-8", buf.Bytes())
}

// htmlHeaders sets the headers every HTML fragment is sent with, from the
// handler or from the answer cache.
func htmlHeaders(c *gin.Context) {
	c.Header("X-Content-Type-Options", "nosniff")
	c.Header("Content-Security-Policy", fragmentCSP)
}

// authorLine names up to three authors.
func authorLine(authors []string, truncated bool) string {
	line := strings.Join(authors[:min(3, len(authors))], ", ")
	if len(authors) > 3 || (truncated && line != "") {
		line += " et al."
	}
	return line
}

// whyLine is a short reason: shared keyphrases, else shared authors, else
// up to three shared terms, phrases before words, none repeating a word
// already named. widget.js and the explorer say the same.
func whyLine(w recommend.Why) string {
	switch {
	case len(w.Keyphrases) > 0:
		return "Shared keyphrases: " + strings.Join(w.Keyphrases[:min(3, len(w.Keyphrases))], ", ")
	case len(w.Authors) > 0:
		return "Shared authors: " + strings.Join(w.Authors[:min(2, len(w.Authors))], ", ")
	}
	terms := slices.Clone(w.Terms)
	slices.SortStableFunc(terms, func(a, b recommend.Term) int { return boolInt(a.Kind == "word") - boolInt(b.Kind == "word") })
	used := map[string]bool{}
	var out []string
	for _, t := range terms {
		words := strings.Fields(t.Term)
		if len(out) == 3 || slices.ContainsFunc(words, func(w string) bool { return used[w] }) {
			continue
		}
		for _, w := range words {
			used[w] = true
		}
		out = append(out, t.Term)
	}
	if len(out) == 0 {
		return ""
	}
	return "Shared terms: " + strings.Join(out, ", ")
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
