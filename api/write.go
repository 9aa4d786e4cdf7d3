package api

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/paperrec/paperrec/models"
)

// Writer takes the changes of the write routes and refit requests: a
// live.Engine is one. Write returns once the changes are durable and the
// service that Source returns shows them.
type Writer interface {
	Write(ctx context.Context, changes []models.Change) ([]models.Change, error)
	// RequestRefit asks for the models to be fitted anew in the
	// background; it returns at once.
	RequestRefit()
}

// maxWriteBytes bounds the body of a write: a batch of a few thousand
// papers.
const maxWriteBytes = 32 << 20

// errUnauthorized is a write without the right bearer token.
var errUnauthorized = errors.New("a write needs the API token: send Authorization: Bearer <token>")

// writeRoutes serves the write routes when a token and a Writer are
// configured; without them the routes do not exist (404).
func (s *Server) writeRoutes(v1 *gin.RouterGroup) {
	if !s.writable() {
		return
	}
	sum := sha256.Sum256([]byte(s.cfg.Token))
	auth := func(c *gin.Context) {
		// Comparing digests takes the same time whatever the token's length.
		got, ok := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
		given := sha256.Sum256([]byte(strings.TrimSpace(got)))
		if !ok || subtle.ConstantTimeCompare(given[:], sum[:]) != 1 {
			c.Header("WWW-Authenticate", `Bearer realm="paperrec"`)
			fail(c, errUnauthorized)
		}
	}
	w := v1.Group("", auth)
	s.route(w, http.MethodPost, "/papers", querySpec{body: maxWriteBytes, trusted: true}, (*Server).addPapers)
	s.route(w, http.MethodPut, "/papers/:id", querySpec{body: maxWriteBytes, trusted: true}, (*Server).putPaper)
	s.route(w, http.MethodDelete, "/papers/:id", querySpec{}, (*Server).removePaper)
	s.route(w, http.MethodPost, "/admin/refit", querySpec{}, (*Server).refit)
}

// writable reports whether the write routes are served.
func (s *Server) writable() bool { return s.cfg.Token != "" && s.cfg.Writer != nil }

// isWrite reports whether a method writes.
func isWrite(method string) bool {
	return method == http.MethodPost || method == http.MethodPut || method == http.MethodDelete || method == http.MethodPatch
}

// ChangeJSON is a committed change as the write routes answer it.
type ChangeJSON struct {
	Seq  uint64    `json:"seq"`
	Op   string    `json:"op"`
	ID   string    `json:"id"`
	Time time.Time `json:"time"`
}

func changesJSON(done []models.Change) []ChangeJSON {
	out := make([]ChangeJSON, len(done))
	for i, c := range done {
		out[i] = ChangeJSON{Seq: c.Seq, Op: c.Op.String(), ID: c.ID, Time: c.Time}
	}
	return out
}

// readPapers reads the body of a write: one paper (a JSON object), a batch
// (a JSON array of them), or JSON Lines (Content-Type
// application/x-ndjson). Each paper is read and checked as the JSON Lines
// parser reads a record; a bad one is a 400 naming the record and field.
func readPapers(c *gin.Context) ([]models.Paper, error) {
	if ce := c.GetHeader("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		return nil, errMediaType
	}
	lines := false
	if ct := c.GetHeader("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		switch {
		case err != nil:
			return nil, errMediaType
		case mt == "application/x-ndjson" || mt == "application/jsonl":
			lines = true
		case mt != "application/json":
			return nil, errMediaType
		}
	}
	body := requestBody(c)
	var records []json.RawMessage
	trimmed := bytes.TrimSpace(body)
	switch {
	case len(trimmed) == 0:
		return nil, &paramError{"body", "empty: want a paper (a JSON object with id, title and abstract), an array of them, or JSON Lines"}
	case lines:
		sc := bufio.NewScanner(bytes.NewReader(body))
		sc.Buffer(nil, maxWriteBytes)
		for sc.Scan() {
			records = append(records, bytes.Clone(sc.Bytes()))
		}
	case trimmed[0] == '[':
		if err := json.Unmarshal(trimmed, &records); err != nil {
			return nil, &paramError{"body", "invalid JSON array: " + err.Error()}
		}
	default:
		records = []json.RawMessage{trimmed}
	}
	var papers []models.Paper
	for n, r := range records {
		if len(bytes.TrimSpace(r)) == 0 && lines {
			continue
		}
		p, err := models.DecodePaper(r, "body", n+1)
		if err != nil {
			return nil, err
		}
		papers = append(papers, p)
	}
	if len(papers) == 0 {
		return nil, &paramError{"body", "no papers"}
	}
	return papers, nil
}

// addPapers is POST /v1/papers: add papers whose IDs are new (409 when
// one is not), all or none.
func (s *Server) addPapers(c *gin.Context) {
	papers, err := readPapers(c)
	if err != nil {
		fail(c, err)
		return
	}
	changes := make([]models.Change, len(papers))
	for i, p := range papers {
		changes[i] = models.Change{Op: models.OpAdd, ID: p.ID, Paper: p}
	}
	s.commit(c, changes, http.StatusCreated)
}

// putPaper is PUT /v1/papers/{id}: add the paper, or replace the one with
// its ID. The body's id, when given, must be the path's.
func (s *Server) putPaper(c *gin.Context) {
	id := c.Param("id")
	body := requestBody(c)
	if err := checkJSONBody(c.Request); err != nil {
		fail(c, err)
		return
	}
	var probe struct {
		ID *string `json:"id"`
	}
	if json.Unmarshal(body, &probe) == nil && probe.ID == nil {
		// The path names the paper: give the record its id.
		var m map[string]json.RawMessage
		if json.Unmarshal(body, &m) == nil && m != nil {
			m["id"], _ = json.Marshal(id)
			body, _ = json.Marshal(m)
		}
	}
	p, err := models.DecodePaper(bytes.TrimSpace(body), "body", 1)
	if err != nil {
		fail(c, err)
		return
	}
	if p.ID != id {
		fail(c, &paramError{"id", fmt.Sprintf("the body's id %q is not the path's %q", p.ID, id)})
		return
	}
	status := http.StatusCreated
	if _, err := s.svc.Paper(id); err == nil {
		status = http.StatusOK
	}
	s.commit(c, []models.Change{{Op: models.OpPut, ID: id, Paper: p}}, status)
}

// removePaper is DELETE /v1/papers/{id}.
func (s *Server) removePaper(c *gin.Context) {
	s.commit(c, []models.Change{{Op: models.OpRemove, ID: c.Param("id")}}, http.StatusOK)
}

// commit writes changes through the Writer and answers status with them.
func (s *Server) commit(c *gin.Context, changes []models.Change, status int) {
	done, err := s.cfg.Writer.Write(c.Request.Context(), changes)
	if err != nil {
		fail(c, err)
		return
	}
	if status == http.StatusCreated && len(done) == 1 {
		c.Header("Location", "/v1/papers/"+url.PathEscape(done[0].ID))
	}
	c.Header("Cache-Control", "no-store")
	body, _ := json.Marshal(gin.H{"changes": changesJSON(done)}) // plain values
	writeBody(c, status, "application/json; charset=utf-8", body)
}

// refit is POST /v1/admin/refit: fit the models anew in the background and
// swap the new engine in; 202 at once.
func (s *Server) refit(c *gin.Context) {
	s.cfg.Writer.RequestRefit()
	c.Header("Cache-Control", "no-store")
	body, _ := json.Marshal(gin.H{"status": "refit requested"})
	writeBody(c, http.StatusAccepted, "application/json; charset=utf-8", body)
}
