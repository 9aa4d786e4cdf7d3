package vectorindex

// item is a graph node (internal id) with its distance to the current query.
type item struct {
	dist float32
	id   uint32
}

// minHeap pops the nearest item first.
type minHeap []item

func (h *minHeap) push(x item) {
	s := append(*h, x)
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if s[p].dist <= s[i].dist {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
	*h = s
}

func (h *minHeap) pop() item {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s = s[:n]
	for i := 0; ; {
		l := 2*i + 1
		if l >= n {
			break
		}
		c := l
		if r := l + 1; r < n && s[r].dist < s[l].dist {
			c = r
		}
		if s[i].dist <= s[c].dist {
			break
		}
		s[i], s[c] = s[c], s[i]
		i = c
	}
	*h = s
	return top
}

// maxHeap keeps the farthest item at the root.
type maxHeap []item

func (h *maxHeap) push(x item) {
	s := append(*h, x)
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if s[p].dist >= s[i].dist {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
	*h = s
}

func (h *maxHeap) pop() item {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s = s[:n]
	for i := 0; ; {
		l := 2*i + 1
		if l >= n {
			break
		}
		c := l
		if r := l + 1; r < n && s[r].dist > s[l].dist {
			c = r
		}
		if s[i].dist >= s[c].dist {
			break
		}
		s[i], s[c] = s[c], s[i]
		i = c
	}
	*h = s
	return top
}

// visited marks nodes seen by one search. Clearing is O(1): a node is marked
// when its tag equals the current epoch.
type visited struct {
	tags  []uint16
	epoch uint16
}

// reset forgets every mark and makes room for n nodes.
func (v *visited) reset(n int) {
	if len(v.tags) < n {
		v.tags = make([]uint16, n+n/4)
		v.epoch = 0
	}
	v.epoch++
	if v.epoch == 0 {
		clear(v.tags)
		v.epoch = 1
	}
}

// mark marks id and reports whether it was already marked.
func (v *visited) mark(id uint32) bool {
	if v.tags[id] == v.epoch {
		return true
	}
	v.tags[id] = v.epoch
	return false
}

// scratch is the working memory of one search or one inserting worker,
// taken from the index's pool.
type scratch struct {
	q       []float32 // the normalised query
	filter  walkFilter
	seen    visited
	cand    minHeap
	res     maxHeap
	sorted  []Result
	sorted2 []item
	fresh   []uint32
	sel     []item
	pruned  []item
	relink  []item
	relinkS []item
}
