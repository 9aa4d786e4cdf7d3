package api

import (
	"context"
	"sync"
)

// admission bounds the requests at work at once: past max, a request is
// refused at once rather than queued, so that a burst cannot build a queue
// whose tail waits for seconds. Expensive requests may hold at most half of
// the places (at least one), which leaves room for cheap ones under a flood
// of expensive ones; and of the admitted expensive requests only workers
// compute at once, the others waiting their turn within their deadline, so
// that CPU-bound work leaves cores to the cheap requests. A max below 1
// admits everything; workers below 1 bounds no expensive work.
//
// Safe for concurrent use.
type admission struct {
	max     int
	workers chan struct{} // one token per expensive request computing; nil: no bound

	mu        sync.Mutex
	n, costly int // requests at work, and how many of them are expensive
}

func newAdmission(max, workers int) *admission {
	a := &admission{max: max}
	if workers > 0 {
		a.workers = make(chan struct{}, workers)
	}
	return a
}

// acquire takes a place for a request, expensive or not, and returns the
// function that gives it back; ok is false when no place is free.
func (a *admission) acquire(expensive bool) (release func(), ok bool) {
	if a.max < 1 {
		return func() {}, true
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.n >= a.max || (expensive && a.costly >= max(1, a.max/2)) {
		return nil, false
	}
	a.n++
	if expensive {
		a.costly++
	}
	return func() {
		a.mu.Lock()
		a.n--
		if expensive {
			a.costly--
		}
		a.mu.Unlock()
	}, true
}

// work waits for a turn to compute an expensive request, until ctx ends,
// and returns the function that ends the turn.
func (a *admission) work(ctx context.Context) (done func(), err error) {
	if a.workers == nil {
		return func() {}, nil
	}
	select {
	case a.workers <- struct{}{}:
		return func() { <-a.workers }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
