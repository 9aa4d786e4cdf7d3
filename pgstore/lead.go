package pgstore

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// TryLead makes this replica the one that refits, if no other is, with a
// session-level advisory lock (pg_try_advisory_lock) held on a connection
// taken from the pool until release. It does not wait: ok is false while
// another replica leads.
//
// The lock goes with its connection: if that is lost during a refit,
// another replica may start one too. That costs work, not correctness:
// every snapshot is of committed papers as of its seq, and the newest by
// seq is the one replicas load.
func (s *Store) TryLead(ctx context.Context) (release func(), ok bool, err error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("try to lead refits: %w", err)
	}
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, s.leadKey).Scan(&ok); err != nil || !ok {
		conn.Release()
		if err != nil {
			return nil, false, fmt.Errorf("try to lead refits: %w", err)
		}
		return nil, false, nil
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if _, err := conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, s.leadKey); err != nil {
				// Ending the session releases the lock as surely.
				conn.Hijack().Close(ctx)
				return
			}
			conn.Release()
		})
	}, true, nil
}
