package pgstore

import (
	"context"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/paperrec/paperrec/internal/pgtest"
	"github.com/paperrec/paperrec/live"
	"github.com/paperrec/paperrec/models"
)

// TestOutage cuts a replica off its database: reads go on from memory,
// writes fail as unavailable (not as a conflict), and after the database
// is back writes succeed again and the listener, reconnected, wakes the
// engine to catch up on what others committed meanwhile.
func TestOutage(t *testing.T) {
	ctx := context.Background()
	dsn, schema := newSchema(t)
	direct := openStore(t, dsn, schema)
	if err := direct.Seed(ctx, seedPapers()); err != nil {
		t.Fatal(err)
	}
	p, viaProxy := pgtest.NewProxy(t, dsn)
	s := openStore(t, viaProxy, schema)
	e, err := live.Open(ctx, s, engineConfig())
	if err != nil {
		t.Fatal(err)
	}
	notify := s.Notify()
	drain(t, notify)

	p.Cut()
	for _, write := range []func() error{
		func() error {
			_, err := s.Commit(ctx, []models.Change{{Op: models.OpAdd, ID: "lattice", Paper: paper("lattice")}})
			return err
		},
		func() error {
			_, err := e.Write(ctx, []models.Change{{Op: models.OpAdd, ID: "new", Paper: paper("new")}})
			if !errors.Is(err, live.ErrUnavailable) {
				t.Errorf("a write through the engine during the outage: %v, want ErrUnavailable", err)
			}
			return err
		},
	} {
		err := write()
		var pe *models.ParseError
		if err == nil || errors.Is(err, models.ErrExists) || errors.Is(err, models.ErrNotFound) || errors.As(err, &pe) {
			t.Errorf("a write during the outage: %v, want an error that is not about the change", err)
		}
	}
	if _, err := e.Service().Paper("lattice"); err != nil {
		t.Errorf("a read during the outage: %v", err)
	}
	// Another replica, still connected, writes meanwhile.
	if _, err := direct.Commit(ctx, []models.Change{{Op: models.OpAdd, ID: "meanwhile", Paper: paper("meanwhile")}}); err != nil {
		t.Fatal(err)
	}

	p.Restore()
	// The listener reconnects and wakes the engine: no notification of
	// the commit above was seen, but the wake after reconnecting stands
	// for it.
	waitWake(t, notify, 10*time.Second, "the listener's reconnection")
	var done []models.Change
	for try := 0; ; try++ {
		// A pooled connection cut by the outage fails once, then the pool
		// dials anew.
		done, err = e.Write(ctx, []models.Change{{Op: models.OpAdd, ID: "new", Paper: paper("new")}})
		if err == nil {
			break
		}
		if !errors.Is(err, live.ErrUnavailable) || try == 5 {
			t.Fatalf("write after the outage, try %d: %v", try, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if done[0].Seq != 2 {
		t.Errorf("the write after the outage is change %d, want 2", done[0].Seq)
	}
	for _, id := range []string{"meanwhile", "new"} {
		if _, err := e.Service().Paper(id); err != nil {
			t.Errorf("after the outage: %v", err)
		}
	}
	if _, err := direct.Commit(ctx, []models.Change{{Op: models.OpAdd, ID: "later", Paper: paper("later")}}); err != nil {
		t.Fatal(err)
	}
	waitWake(t, notify, time.Second, "a commit after the reconnection")
}

// TestTerminatedConnections ends the store's sessions from the server
// side (pg_terminate_backend, as a failover or an administrator does):
// the listener reconnects, and writes succeed again, after at most one
// failure per pooled connection that is not about the change.
func TestTerminatedConnections(t *testing.T) {
	ctx := context.Background()
	dsn, schema := newSchema(t)
	app := schema + "_victim"
	u, err := url.Parse(dsn)
	if err != nil {
		t.Skip("PAPERREC_TEST_POSTGRES is not a URL")
	}
	q := u.Query()
	q.Set("application_name", app)
	u.RawQuery = q.Encode()
	s, other := openStore(t, u.String(), schema), openStore(t, dsn, schema)
	notify := s.Notify()
	drain(t, notify)
	commit := func(id string) error {
		_, err := s.Commit(ctx, []models.Change{{Op: models.OpAdd, ID: id, Paper: paper(id)}})
		return err
	}
	if err := commit("before"); err != nil {
		t.Fatal(err)
	}
	drain(t, notify) // our own commit's
	var killed int
	if err := other.pool.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1`, app).Scan(&killed); err != nil {
		t.Fatal(err)
	}
	if killed < 2 {
		t.Fatalf("terminated %d sessions, want the pool's and the listener's", killed)
	}
	waitWake(t, notify, 10*time.Second, "the listener's reconnection")
	failures := 0
	for {
		err := commit("after")
		if err == nil {
			break
		}
		var pe *models.ParseError
		if errors.Is(err, models.ErrExists) || errors.Is(err, models.ErrNotFound) || errors.As(err, &pe) {
			t.Fatalf("a write on a terminated connection: %v, want an error that is not about the change", err)
		}
		if failures++; failures > killed {
			t.Fatalf("%d failures: %v", failures, err)
		}
	}
	t.Logf("%d sessions terminated, %d writes failed", killed, failures)
	if _, err := other.Commit(ctx, []models.Change{{Op: models.OpAdd, ID: "other", Paper: paper("other")}}); err != nil {
		t.Fatal(err)
	}
	waitWake(t, notify, time.Second, "a commit after the reconnection")
}
