package api

import "sync"

// admission bounds the requests at work at once: past max, a request is
// refused at once rather than queued, so that a burst cannot build a queue
// whose tail waits for seconds. Expensive requests may hold at most half of
// the places (at least one), which leaves room for cheap ones under a flood
// of expensive ones. A max below 1 admits everything.
//
// Safe for concurrent use.
type admission struct {
	max int

	mu        sync.Mutex
	n, costly int // requests at work, and how many of them are expensive
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
