package api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/paperrec/paperrec/web"
)

// siteRoutes maps the website's paths to embedded assets of package web.
var siteRoutes = map[string]string{
	"/":             "index.html",
	"/widget.js":    "widget.js",
	"/explorer.js":  "explorer.js",
	"/explorer.css": "explorer.css",
}

// explorerCSP confines the explorer page's scripts, styles and requests to
// its own origin: with all text inserted as text, a second wall against
// script injection. Other sites may still frame the page.
const explorerCSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
	"base-uri 'none'; form-action 'self'"

// webRoutes serves the landscape explorer at / and the related-work widget
// at /widget.js.
func (s *Server) webRoutes(e *gin.Engine) {
	for path, name := range siteRoutes {
		a, ok := web.Lookup(name)
		if !ok {
			panic("api: no embedded asset " + name) // a build error, caught by the tests
		}
		getHead(e, path, func(c *gin.Context) { s.asset(c, a) })
	}
}

// asset writes an embedded file, gzip-compressed when the client accepts
// it, with a strong ETag per encoding. A request that names the asset's
// current version (?v=, as index.html does) may be cached for a year; others
// get the server's Cache-Control and revalidate with the ETag.
func (s *Server) asset(c *gin.Context, a web.Asset) {
	h := c.Writer.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Add("Vary", "Accept-Encoding")
	if a.Name == "index.html" {
		h.Set("Content-Security-Policy", explorerCSP)
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
	}
	if v := c.Query("v"); v != "" && v == a.Version {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	}
	body, etag := a.Body, a.ETag
	if a.Gzip != nil && acceptsGzip(c.GetHeader("Accept-Encoding")) {
		body, etag = a.Gzip, a.GzipETag
		h.Set("Content-Encoding", "gzip")
	}
	if s.notModified(c, etag) {
		return
	}
	writeBody(c, http.StatusOK, a.ContentType, body)
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip (RFC
// 9110 §12.5.3): named with a q above 0, or covered by a "*" that is.
func acceptsGzip(header string) bool {
	gzip, star := -1.0, -1.0
	for part := range strings.SplitSeq(header, ",") {
		coding, params, _ := strings.Cut(part, ";")
		q := 1.0
		if k, v, ok := strings.Cut(strings.TrimSpace(params), "="); ok && strings.EqualFold(strings.TrimSpace(k), "q") {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				continue
			}
			q = f
		}
		switch strings.ToLower(strings.TrimSpace(coding)) {
		case "gzip", "x-gzip":
			gzip = max(gzip, q)
		case "*":
			star = max(star, q)
		}
	}
	if gzip >= 0 {
		return gzip > 0
	}
	return star > 0
}
