package api

import (
	_ "embed"

	"github.com/gin-gonic/gin"
)

// openAPIDoc describes every route; TestOpenAPIListsServedRoutes keeps the
// two in step.
//
//go:embed openapi.json
var openAPIDoc []byte

func (s *Server) openAPI(c *gin.Context) {
	c.Header("Cache-Control", "public, max-age=300")
	c.Data(200, "application/json; charset=utf-8", openAPIDoc)
}
