package live

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paperrec/paperrec/models"
)

// gatedStore holds each fit's read of the papers, once on, until the test
// lets it go: the test sees when a refit starts and chooses when it ends.
type gatedStore struct {
	*Memory
	on      atomic.Bool
	fits    chan uint64 // the change each fit reads as of
	release chan struct{}
}

func (g *gatedStore) Papers(ctx context.Context) ([]models.Paper, uint64, error) {
	papers, seq, err := g.Memory.Papers(ctx)
	if g.on.Load() {
		g.fits <- seq
		<-g.release
	}
	return papers, seq, err
}

// logSignal closes ch when a record with message msg is logged.
type logSignal struct {
	slog.Handler
	msg  string
	once sync.Once
	ch   chan struct{}
}

func (l *logSignal) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == l.msg {
		l.once.Do(func() { close(l.ch) })
	}
	return l.Handler.Handle(ctx, r)
}

// TestRefitPolicyAfterARefit writes while a refit that the policy asked
// for runs: the writes ask for another refit, but once the first is in,
// fewer changes than RefitAfter were made since its fit, so no second
// refit runs. (Otherwise, under steady writes, refits run back to back.)
func TestRefitPolicyAfterARefit(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	g := &gatedStore{Memory: memory(t, listing(t)[:120]), fits: make(chan uint64), release: make(chan struct{})}
	sig := &logSignal{Handler: slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelDebug}), msg: "refit no longer due", ch: make(chan struct{})}
	e, err := Open(ctx, g, Config{RefitAfter: 3, Logger: slog.New(sig)})
	if err != nil {
		t.Fatal(err)
	}
	g.on.Store(true)
	var run sync.WaitGroup
	run.Go(func() { e.Run(ctx) })
	defer func() {
		cancel()
		run.Wait()
	}()
	write := func(id string) {
		t.Helper()
		p := newPaper(id)
		if _, err := e.Write(ctx, []models.Change{{Op: models.OpAdd, ID: p.ID, Paper: p}}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		write(fmt.Sprintf("policy-%d", i))
	}
	if seq := <-g.fits; seq != 3 {
		t.Fatalf("the refit reads the papers as of change %d, want 3", seq)
	}
	write("during-the-refit") // 4 changes since the fit in use: the policy asks again
	g.release <- struct{}{}
	select {
	case seq := <-g.fits:
		t.Errorf("a second refit, as of change %d, with %+v: one change since the last fit, RefitAfter 3", seq, e.Status())
		g.release <- struct{}{}
	case <-sig.ch:
	case <-time.After(time.Minute):
		t.Fatalf("neither a second refit nor the request dropped: %+v", e.Status())
	}
	if st := e.Status(); st.FitSeq != 3 || st.Seq != 4 {
		t.Errorf("after the refit: %+v, want fit_seq 3 and seq 4", st)
	}
}
