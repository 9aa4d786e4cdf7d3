package api

import (
	_ "embed"
	"net/http"

	"github.com/gin-gonic/gin"
)

// openAPIDoc describes every route; TestOpenAPIListsServedRoutes keeps the
// two in step.
//
//go:embed openapi.json
var openAPIDoc []byte

func (s *Server) openAPI(c *gin.Context) {
	c.Header("Cache-Control", "public, max-age=300")
	writeBody(c, http.StatusOK, "application/json; charset=utf-8", openAPIDoc)
}
