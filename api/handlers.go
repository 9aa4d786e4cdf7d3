package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/paperrec/paperrec/mathml"
	"github.com/paperrec/paperrec/models"
	"github.com/paperrec/paperrec/recommend"
)

// Paper is a paper in lists; PaperDetail adds the abstract.
type Paper struct {
	ID       string   `json:"id"`
	Title    string   `json:"title"`
	Authors  []string `json:"authors"`
	Category string   `json:"category"`
	Date     string   `json:"date"`
	Keywords []string `json:"keywords"`
	// Cluster is the paper's research theme (-1: the outlier group).
	Cluster int `json:"cluster"`
	// TitleHTML is Title rendered for readers (package mathml): escaped
	// text and MathML. Title stays the plain source.
	TitleHTML string `json:"title_html"`
}

// PaperDetail is one paper in full.
type PaperDetail struct {
	Paper
	AuthorsTruncated bool   `json:"authors_truncated"`
	Abstract         string `json:"abstract"`
	// AbstractHTML is Abstract rendered, as TitleHTML.
	AbstractHTML string `json:"abstract_html"`
}

// Item is a related, found or recommended paper with its score and why.
type Item struct {
	ID       string        `json:"id"`
	Title    string        `json:"title"`
	Authors  []string      `json:"authors"`
	Category string        `json:"category"`
	Date     string        `json:"date"`
	Score    float64       `json:"score"`
	Why      recommend.Why `json:"why"`
	Cluster  int           `json:"cluster"`
	// TitleHTML is Title rendered, as Paper's.
	TitleHTML string `json:"title_html"`
}

func (s *Server) paperJSON(p models.Paper) Paper {
	theme, _ := s.svc.ThemeOf(p.ID)
	return paperOf(p, theme)
}

// paperOf renders a paper in theme; lists are never null.
func paperOf(p models.Paper, theme int) Paper {
	authors, kw := p.Authors, p.Keywords
	if authors == nil {
		authors = []string{}
	}
	if kw == nil {
		kw = []string{}
	}
	return Paper{ID: p.ID, Title: p.Title, Authors: authors, Category: string(p.Category), Date: p.Date.String(), Keywords: kw, Cluster: theme, TitleHTML: mathml.HTML(p.Title)}
}

// Items renders related, found or recommended papers as the API answers
// them; the CLI prints the same shape with --json.
func Items(items []recommend.Item) []Item {
	out := make([]Item, len(items))
	for i, it := range items {
		p := paperOf(it.Paper, it.Theme)
		out[i] = Item{ID: p.ID, Title: p.Title, Authors: p.Authors, Category: p.Category, Date: p.Date, Score: it.Score, Why: it.Why, Cluster: it.Theme, TitleHTML: p.TitleHTML}
	}
	return out
}

// health is the liveness probe: 200 while the process serves HTTP, whether
// or not an engine is loaded yet.
func (s *Server) health(c *gin.Context) {
	h := gin.H{"status": "ok", "ready": false}
	if v := s.current(); v != nil {
		h["ready"], h["papers"] = true, v.svc.Len()
	}
	if s.cfg.Status != nil {
		st := s.cfg.Status()
		h["seq"], h["fit_seq"], h["snapshot"], h["refitting"] = st.Seq, st.FitSeq, st.Snapshot, st.Refitting
	}
	c.Header("Cache-Control", "no-store")
	s.render(c, h)
}

// ready is the readiness probe: 503 until an engine is loaded.
func (s *Server) ready(c *gin.Context) {
	v := s.current()
	if v == nil {
		fail(c, errNotReady)
		return
	}
	c.Header("Cache-Control", "no-store")
	s.render(c, gin.H{"status": "ready", "papers": v.svc.Len()})
}

// defaultLimit is the page size of GET /v1/papers.
const defaultLimit = 20

func (s *Server) listPapers(c *gin.Context) {
	limit, err := intParam(c, "limit", defaultLimit)
	if err != nil {
		fail(c, err)
		return
	}
	offset, err := intParam(c, "offset", 0)
	if err != nil {
		fail(c, err)
		return
	}
	f, err := s.filterParams(c)
	if err != nil {
		fail(c, err)
		return
	}
	page, total, err := s.svc.Papers(f, offset, limit)
	if err != nil {
		fail(c, err)
		return
	}
	out := make([]Paper, len(page))
	for i, p := range page {
		out[i] = s.paperJSON(p)
	}
	s.render(c, gin.H{"papers": out, "total": total, "limit": limit, "offset": offset})
}

func (s *Server) getPaper(c *gin.Context) {
	p, err := s.svc.Paper(c.Param("id"))
	if err != nil {
		fail(c, err)
		return
	}
	s.render(c, PaperDetail{Paper: s.paperJSON(p), AuthorsTruncated: p.AuthorsTruncated, Abstract: p.Abstract, AbstractHTML: mathml.HTML(p.Abstract)})
}

func (s *Server) related(c *gin.Context) {
	out, err := s.outputParams(c)
	if err != nil {
		fail(c, err)
		return
	}
	o, err := s.optionParams(c)
	if err != nil {
		fail(c, err)
		return
	}
	id := c.Param("id")
	p, err := s.svc.Paper(id)
	if err != nil {
		fail(c, err)
		return
	}
	items, err := s.svc.Related(c.Request.Context(), id, o)
	if err != nil {
		fail(c, err)
		return
	}
	if out.html {
		s.renderRelatedHTML(c, p, items, out.href)
		return
	}
	s.render(c, gin.H{"paper": gin.H{"id": p.ID, "title": p.Title, "title_html": mathml.HTML(p.Title)}, "related": Items(items)})
}

// maxQueryBytes bounds the free text of a search.
const maxQueryBytes = 4096

func (s *Server) search(c *gin.Context) {
	q := strings.TrimSpace(c.Query("q"))
	switch {
	case q == "":
		fail(c, &paramError{"q", "required: the text to search for"})
		return
	case len(q) > maxQueryBytes:
		fail(c, &paramError{"q", fmt.Sprintf("longer than %d bytes", maxQueryBytes)})
		return
	}
	o, err := s.optionParams(c)
	if err != nil {
		fail(c, err)
		return
	}
	items, err := s.svc.Search(c.Request.Context(), q, o)
	if err != nil {
		fail(c, err)
		return
	}
	s.render(c, gin.H{"results": Items(items)})
}

// RecommendRequest is the body of POST /v1/recommend.
type RecommendRequest struct {
	Positive  []string `json:"positive"`
	Negative  []string `json:"negative"`
	K         *int     `json:"k"`
	Diversity float64  `json:"diversity"`
}

func (s *Server) recommend(c *gin.Context) {
	if err := checkJSONBody(c.Request); err != nil {
		fail(c, err)
		return
	}
	req, err := decodeRecommend(requestBody(c))
	if err != nil {
		fail(c, err)
		return
	}
	o := recommend.Options{K: recommend.DefaultK, Diversity: req.Diversity}
	if req.K != nil {
		o.K = *req.K
		if o.K < 1 || o.K > s.svc.MaxK() {
			fail(c, &paramError{"k", fmt.Sprintf("%d is out of range: must be between 1 and %d", o.K, s.svc.MaxK())})
			return
		}
	}
	items, err := s.svc.Recommend(c.Request.Context(), req.Positive, req.Negative, o)
	if err != nil {
		fail(c, err)
		return
	}
	s.render(c, gin.H{"results": Items(items)})
}

// decodeRecommend reads a RecommendRequest strictly, in one pass over the
// body: one JSON object (or null), no unknown fields, field names as
// written ("Positive" is not "positive", which encoding/json's struct
// decoding would accept), none twice, IDs as strings. An error names the
// field.
func decodeRecommend(body []byte) (RecommendRequest, error) {
	var req RecommendRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	invalid := func(err error) error {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return &paramError{"body", "invalid JSON: " + err.Error()}
	}
	open, err := dec.Token()
	switch {
	case errors.Is(err, io.EOF):
		return req, &paramError{"body", `empty: want {"positive": [ids], "negative": [ids], "k": 10}`}
	case err != nil:
		return req, invalid(err)
	case open == nil: // null: no field given
	case open != json.Delim('{'):
		return req, &paramError{"body", `want a JSON object {"positive": [ids], "negative": [ids], "k": 10}`}
	default:
		fields := map[string]any{"positive": &req.Positive, "negative": &req.Negative, "k": &req.K, "diversity": &req.Diversity}
		seen := map[string]bool{}
		for dec.More() {
			t, err := dec.Token()
			if err != nil {
				return req, invalid(err)
			}
			name, _ := t.(string)
			dst, ok := fields[name]
			switch {
			case !ok:
				for known := range fields {
					if strings.EqualFold(known, name) {
						return req, &paramError{"body", fmt.Sprintf("unknown field %q: field names are case-sensitive (%q)", name, known)}
					}
				}
				return req, &paramError{"body", fmt.Sprintf("unknown field %q: want positive, negative, k or diversity", name)}
			case seen[name]:
				return req, &paramError{name, "given twice"}
			}
			seen[name] = true
			if err := dec.Decode(dst); err != nil {
				var te *json.UnmarshalTypeError
				if errors.As(err, &te) {
					return req, &paramError{name, fmt.Sprintf("want %s, got %s", te.Type, te.Value)}
				}
				return req, invalid(err)
			}
		}
		if _, err := dec.Token(); err != nil { // the closing brace
			return req, invalid(err)
		}
	}
	if len(bytes.TrimSpace(body[dec.InputOffset():])) > 0 {
		return req, &paramError{"body", "more than one JSON value"}
	}
	return req, nil
}

func (s *Server) listClusters(c *gin.Context) {
	e, err := s.themesAnswer()
	s.sendEncoded(c, e, err)
}

func (s *Server) getCluster(c *gin.Context) {
	id, err := strconv.Atoi(c.Param("id"))
	if err != nil {
		fail(c, &paramError{"id", fmt.Sprintf("%q is not a theme id (an integer)", c.Param("id"))})
		return
	}
	t, err := s.svc.Theme(id)
	if err != nil {
		fail(c, err)
		return
	}
	s.render(c, t)
}

func (s *Server) landscape(c *gin.Context) {
	e, err := s.mapAnswer()
	s.sendEncoded(c, e, err)
}
