package api

import (
	"sync"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/gin-gonic/gin"

	"github.com/paperrec/paperrec/recommend"
)

// view is what the API derives from one service: the areas its papers name
// (for the category parameter) and the answers that never change for it,
// encoded at first use. A swapped-in service gets a new view.
//
// Immutable once built, but for its lazily built answers; safe for
// concurrent use.
type view struct {
	svc *recommend.Service
	// themesAnswer and mapAnswer are GET /v1/clusters and GET /v1/map:
	// marshalled, hashed and compressed once (4–7 ms each) per service.
	themesAnswer func() (*encoded, error)
	mapAnswer    func() (*encoded, error)
	// answers are the lookup routes' answers for this service, by path and
	// query (nil when Config.AnswerCache is negative).
	answers *lru.Cache[string, *encoded]
}

func newView(svc *recommend.Service, answers int) *view {
	v := &view{svc: svc}
	if answers > 0 {
		v.answers, _ = lru.New[string, *encoded](answers) // the size is positive
	}
	v.themesAnswer = sync.OnceValues(func() (*encoded, error) { return encode(svc.Themes()) })
	v.mapAnswer = sync.OnceValues(func() (*encoded, error) { return encode(gin.H{"points": svc.Map()}) })
	return v
}

// current returns the view of the service the source returns now, nil
// while none is ready. The view of the latest service is kept; requests
// racing on a new service may each build one, and one of them is kept.
func (s *core) current() *view {
	svc := s.src()
	if svc == nil {
		return nil
	}
	if v := s.cur.Load(); v != nil && v.svc == svc {
		return v
	}
	v := newView(svc, s.cfg.AnswerCache)
	s.cur.Store(v)
	return v
}
