package pgstore

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgxlisten"
)

// Backoff of the listener's reconnections: the first at once, then
// doubling from minBackoff up to maxBackoff while the database is away.
const (
	minBackoff = 250 * time.Millisecond
	maxBackoff = 5 * time.Second
)

// Notify returns a channel that receives when a replica (this one too)
// committed changes or saved a snapshot, and once each time the listener
// has connected, since changes may have been committed while it was not:
// a woken engine catches up by number, so a spurious wake costs one query.
//
// The first call starts the listener: a goroutine on a connection of its
// own (outside the pool) doing LISTEN, which reconnects with backoff when
// the connection is lost, and stops at Close.
func (s *Store) Notify() <-chan struct{} {
	s.notifyOnce.Do(func() {
		s.notify = make(chan struct{}, 1)
		l := &listener{s: s}
		pl := &pgxlisten.Listener{
			Connect:  l.connect,
			LogError: l.logError,
			// connect waits as the backoff says.
			ReconnectDelay: -1,
		}
		pl.Handle(s.channel, l)
		s.wg.Go(func() { pl.Listen(s.ctx) })
	})
	return s.notify
}

// wake sends on the notify channel unless a wake is pending already.
func (s *Store) wake() {
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

// listener is the pgxlisten handler of a Store's channel and keeps the
// state of its reconnections. Safe for concurrent use, though pgxlisten
// calls it from one goroutine.
type listener struct {
	s *Store

	mu       sync.Mutex
	failures int  // since the last LISTEN that worked
	lost     bool // a failure was logged since
}

// connect opens the listener's connection, after the backoff of the
// failures before.
func (l *listener) connect(ctx context.Context) (*pgx.Conn, error) {
	l.mu.Lock()
	n := l.failures
	l.mu.Unlock()
	if n > 0 {
		d := min(maxBackoff, minBackoff<<min(n-1, 16))
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(d):
		}
	}
	return pgx.ConnectConfig(ctx, l.s.cfg.ConnConfig.Copy())
}

// logError counts a failure and logs the first of a run of them.
func (l *listener) logError(ctx context.Context, err error) {
	if ctx.Err() != nil {
		return // closing
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failures++
	if !l.lost {
		l.lost = true
		l.s.log.Warn("lost the notifications of the store; reconnecting", "schema", l.s.schema, "err", err)
	}
}

// HandleBacklog is called once LISTEN is in place after each connection:
// it wakes the engine to catch up on what it missed.
func (l *listener) HandleBacklog(context.Context, string, *pgx.Conn) error {
	l.mu.Lock()
	if l.lost {
		l.s.log.Info("notifications of the store back", "schema", l.s.schema, "after_failures", l.failures)
	}
	l.failures, l.lost = 0, false
	l.mu.Unlock()
	l.s.wake()
	return nil
}

// HandleNotification wakes the engine.
func (l *listener) HandleNotification(context.Context, *pgconn.Notification, *pgx.Conn) error {
	l.s.wake()
	return nil
}
