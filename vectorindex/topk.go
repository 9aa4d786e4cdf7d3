package vectorindex

import (
	"cmp"
	"slices"
)

// worse reports whether a ranks after b: larger distance, then larger key.
func worse(a, b Result) bool {
	if a.Distance != b.Distance {
		return a.Distance > b.Distance
	}
	return a.Key > b.Key
}

func compareResults(a, b Result) int {
	if c := cmp.Compare(a.Distance, b.Distance); c != 0 {
		return c
	}
	return cmp.Compare(a.Key, b.Key)
}

// topK keeps the k best results seen so far in a max-heap whose root is the
// worst of them.
type topK struct {
	k int
	h []Result
}

func newTopK(k, n int) *topK {
	return &topK{k: k, h: make([]Result, 0, min(k, n))}
}

// wants reports whether a result (key, d) would enter the heap.
func (t *topK) wants(key uint32, d float32) bool {
	return len(t.h) < t.k || worse(t.h[0], Result{key, d})
}

// push adds r; the caller has checked wants.
func (t *topK) push(r Result) {
	if len(t.h) < t.k {
		t.h = append(t.h, r)
		for i := len(t.h) - 1; i > 0; {
			p := (i - 1) / 2
			if !worse(t.h[i], t.h[p]) {
				break
			}
			t.h[i], t.h[p] = t.h[p], t.h[i]
			i = p
		}
		return
	}
	t.h[0] = r
	for i, n := 0, len(t.h); ; {
		l := 2*i + 1
		if l >= n {
			break
		}
		c := l
		if r := l + 1; r < n && worse(t.h[r], t.h[l]) {
			c = r
		}
		if !worse(t.h[c], t.h[i]) {
			break
		}
		t.h[i], t.h[c] = t.h[c], t.h[i]
		i = c
	}
}

// sorted returns the results best first.
func (t *topK) sorted() []Result {
	slices.SortFunc(t.h, compareResults)
	return t.h
}
