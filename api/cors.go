package api

import (
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"
)

// corsMethods are the methods any origin may use: reading, and POST
// /v1/recommend, which only reads too (a site's "more like these"). The
// answers are public and the API takes no credentials, so "*" is safe and
// lets browsers and CDNs share one cached copy across sites (no Vary:
// Origin).
var corsMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost}

// corsAllowMethods is the preflight's Access-Control-Allow-Methods (HEAD
// needs no preflight).
const corsAllowMethods = "GET, POST, OPTIONS"

// corsHeaders are the request headers a cross-origin reader may send:
// Content-Type for the JSON body of POST /v1/recommend.
const corsHeaders = "Accept, Accept-Language, Content-Language, Content-Type, Cache-Control, If-None-Match"

// corsMaxAge is how long, in seconds, a browser may reuse a preflight answer
// (Chromium caps it at 2 hours).
const corsMaxAge = "7200"

// cors lets pages on any origin read the API with GET and POST: the
// related-work widget runs on other sites. It also answers OPTIONS for every served path,
// preflight or not, from the Allow header that Gin computes for a method it
// does not route; OPTIONS on an unknown path stays a 404.
func (s *Server) cors(c *gin.Context) {
	h := c.Writer.Header()
	if c.Request.Method != http.MethodOptions {
		if slices.Contains(corsMethods, c.Request.Method) {
			h.Set("Access-Control-Allow-Origin", "*")
			h.Set("Access-Control-Expose-Headers", "ETag")
		}
		c.Next()
		return
	}
	allow := h.Get("Allow") // set by Gin when the path is served with other methods
	if allow == "" {
		c.Next()
		return
	}
	h.Set("Allow", allow+", "+http.MethodOptions)
	want := c.GetHeader("Access-Control-Request-Method")
	if c.GetHeader("Origin") != "" && want != "" && slices.Contains(corsMethods, want) && allows(allow, want) {
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Allow-Methods", corsAllowMethods)
		h.Set("Access-Control-Allow-Headers", corsHeaders)
		h.Set("Access-Control-Max-Age", corsMaxAge)
	}
	// A refused preflight is still a 204: without the Allow-Origin header the
	// browser blocks the request, which is the answer.
	c.AbortWithStatus(http.StatusNoContent)
}

// allows reports whether an Allow header lists method.
func allows(allow, method string) bool {
	for m := range strings.SplitSeq(allow, ",") {
		if strings.TrimSpace(m) == method {
			return true
		}
	}
	return false
}
