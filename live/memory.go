package live

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/paperrec/paperrec/models"
)

// Memory is a [Store] in memory: what `paperrec serve` uses without a data
// directory or a database, so that a corpus file can still be reloaded
// live. Nothing survives the process, and it keeps no snapshot. Safe for
// concurrent use.
type Memory struct {
	mu     sync.Mutex
	papers []models.Paper
	index  map[string]int
	log    []models.Change
	seq    uint64
}

// NewMemory returns a store holding papers, with an empty log.
func NewMemory(papers []models.Paper) (*Memory, error) {
	m := &Memory{index: make(map[string]int, len(papers))}
	for _, p := range papers {
		if _, dup := m.index[p.ID]; dup {
			return nil, fmt.Errorf("duplicate id %q", p.ID)
		}
		m.index[p.ID] = len(m.papers)
		m.papers = append(m.papers, p)
	}
	return m, nil
}

// Papers returns the papers in the order they were added (a replaced
// paper keeps its place).
func (m *Memory) Papers(context.Context) ([]models.Paper, uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.papers), m.seq, nil
}

// Commit applies the changes to the papers and appends them to the log.
func (m *Memory) Commit(_ context.Context, changes []models.Change) ([]models.Change, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	// Check the whole batch first, against the papers as the batch leaves
	// them, so that a failure writes nothing.
	exists := func(id string, pending map[string]bool) bool {
		if v, ok := pending[id]; ok {
			return v
		}
		_, ok := m.index[id]
		return ok
	}
	pending := map[string]bool{}
	for k, c := range changes {
		if err := c.Check(); err != nil {
			return nil, &models.ChangeError{Index: k, ID: c.ID, Err: err}
		}
		switch c.Op {
		case models.OpAdd:
			if exists(c.ID, pending) {
				return nil, &models.ChangeError{Index: k, ID: c.ID, Err: models.ErrExists}
			}
		case models.OpRemove:
			if !exists(c.ID, pending) {
				return nil, &models.ChangeError{Index: k, ID: c.ID, Err: models.ErrNotFound}
			}
		}
		pending[c.ID] = c.Op != models.OpRemove
	}
	now := time.Now().UTC()
	out := make([]models.Change, len(changes))
	for k, c := range changes {
		m.seq++
		c.Seq, c.Time = m.seq, now
		out[k] = c
		m.log = append(m.log, c)
		i, ok := m.index[c.ID]
		switch {
		case c.Op == models.OpRemove:
			m.papers = slices.Delete(m.papers, i, i+1)
			delete(m.index, c.ID)
			for j := i; j < len(m.papers); j++ {
				m.index[m.papers[j].ID] = j
			}
		case ok:
			m.papers[i] = c.Paper
		default:
			m.index[c.ID] = len(m.papers)
			m.papers = append(m.papers, c.Paper)
		}
	}
	return out, nil
}

// Changes returns logged changes after seq.
func (m *Memory) Changes(_ context.Context, after uint64, limit int) ([]models.Change, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k, _ := slices.BinarySearchFunc(m.log, after+1, func(c models.Change, seq uint64) int {
		switch {
		case c.Seq < seq:
			return -1
		case c.Seq > seq:
			return 1
		}
		return 0
	})
	return slices.Clone(m.log[k:min(len(m.log), k+limit)]), nil
}

// SaveSnapshot keeps nothing: an engine over a Memory store is fitted anew
// when the process starts, so a snapshot would only cost its writing. It
// returns ErrNoSnapshot without calling write.
func (m *Memory) SaveSnapshot(context.Context, uint64, func(io.Writer) ([32]byte, error)) (SnapshotInfo, error) {
	return SnapshotInfo{}, ErrNoSnapshot
}

// OpenSnapshot returns ErrNoSnapshot: a Memory keeps none.
func (m *Memory) OpenSnapshot(context.Context) (io.ReadCloser, SnapshotInfo, error) {
	return nil, SnapshotInfo{}, ErrNoSnapshot
}

// Notify returns nil: only this process writes a Memory.
func (m *Memory) Notify() <-chan struct{} { return nil }
