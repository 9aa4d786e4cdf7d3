package live

import (
	"context"
	"fmt"
	"reflect"

	"github.com/paperrec/paperrec/models"
)

// syncBatch is how many changes one write of Sync holds.
const syncBatch = 1000

// Sync makes the store hold exactly papers, for a site that regenerates its
// listing file: it writes the difference as changes (a put for each paper
// new or changed, a remove for each paper gone), then asks for a refit when
// anything changed. It returns the number of changes written.
func (e *Engine) Sync(ctx context.Context, papers []models.Paper) (int, error) {
	have, _, err := e.store.Papers(ctx)
	if err != nil {
		return 0, fmt.Errorf("sync: read papers: %w", err)
	}
	old := make(map[string]models.Paper, len(have))
	for _, p := range have {
		old[p.ID] = p
	}
	var changes []models.Change
	seen := make(map[string]bool, len(papers))
	for _, p := range papers {
		if seen[p.ID] {
			return 0, fmt.Errorf("sync: duplicate id %q", p.ID)
		}
		seen[p.ID] = true
		if q, ok := old[p.ID]; !ok || !samePaper(p, q) {
			changes = append(changes, models.Change{Op: models.OpPut, ID: p.ID, Paper: p})
		}
	}
	for _, p := range have {
		if !seen[p.ID] {
			changes = append(changes, models.Change{Op: models.OpRemove, ID: p.ID})
		}
	}
	for lo := 0; lo < len(changes); lo += syncBatch {
		if _, err := e.Write(ctx, changes[lo:min(lo+syncBatch, len(changes))]); err != nil {
			return lo, fmt.Errorf("sync: %w", err)
		}
	}
	if len(changes) > 0 {
		e.RequestRefit()
	}
	return len(changes), nil
}

// samePaper reports whether two papers hold the same record, wherever in
// their files they stood.
func samePaper(a, b models.Paper) bool {
	a.Line, b.Line = 0, 0
	return reflect.DeepEqual(a, b)
}
