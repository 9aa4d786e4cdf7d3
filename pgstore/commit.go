package pgstore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paperrec/paperrec/models"
)

// Commit checks and writes changes in one transaction and returns them
// numbered once PostgreSQL has committed it. The notification to the
// other replicas is sent in the same transaction, so PostgreSQL delivers
// it at commit and only then.
//
// Numbering: changes are numbered from a counter (meta.seq), not a
// sequence. The first statement, UPDATE meta SET seq = seq + n, locks the
// counter's row until the transaction ends, so writers take turns: a
// second writer waits, and then reads the counter as the first left it.
// Hence change numbers are handed out in commit order, and a follower
// that read every change up to n never later finds one below n that
// committed late (which nextval alone allows: it numbers at the call, and
// transactions commit in any order). A refused or failed commit rolls the
// counter back with everything else, so the numbers have no gaps. The
// checks come after the lock, so they see every commit before this one.
//
// An error that is not about the changes (a lost connection, say) is
// returned wrapped, never as models.ErrExists, models.ErrNotFound or a
// *models.ParseError; when it comes from the commit itself the
// transaction may or may not have been committed.
func (s *Store) Commit(ctx context.Context, changes []models.Change) ([]models.Change, error) {
	for k, c := range changes {
		if err := c.Check(); err != nil {
			return nil, &models.ChangeError{Index: k, ID: c.ID, Err: err}
		}
	}
	out := make([]models.Change, len(changes))
	if len(changes) == 0 {
		return out, nil
	}
	var refused error
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var (
			last int64
			now  time.Time
		)
		// clock_timestamp, not now(): the time after the wait for the lock,
		// so that times rise with numbers.
		if err := tx.QueryRow(ctx, `UPDATE meta SET seq = seq + $1 RETURNING seq, clock_timestamp()`, len(changes)).Scan(&last, &now); err != nil {
			return err
		}
		ids := make([]string, 0, len(changes))
		for _, c := range changes {
			ids = append(ids, c.ID)
		}
		rows, _ := tx.Query(ctx, `SELECT id FROM papers WHERE id = ANY($1)`, ids)
		held, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		// exists is whether each ID names a paper as the batch so far
		// leaves the papers.
		exists := make(map[string]bool, len(changes))
		for _, id := range held {
			exists[id] = true
		}
		first := uint64(last) - uint64(len(changes))
		now = now.UTC()
		var batch pgx.Batch
		for k, c := range changes {
			switch {
			case c.Op == models.OpAdd && exists[c.ID]:
				refused = &models.ChangeError{Index: k, ID: c.ID, Err: models.ErrExists}
				return refused
			case c.Op == models.OpRemove && !exists[c.ID]:
				refused = &models.ChangeError{Index: k, ID: c.ID, Err: models.ErrNotFound}
				return refused
			}
			exists[c.ID] = c.Op != models.OpRemove
			c.Seq, c.Time = first+uint64(k)+1, now
			out[k] = c
			var paper *models.Paper
			if c.Op == models.OpRemove {
				batch.Queue(`DELETE FROM papers WHERE id = $1`, c.ID)
			} else {
				paper = &out[k].Paper
				// A replaced paper keeps its row, so its ord: its place.
				batch.Queue(`INSERT INTO papers (id, paper) VALUES ($1, $2)
					ON CONFLICT (id) DO UPDATE SET paper = excluded.paper`, c.ID, paper)
			}
			batch.Queue(`INSERT INTO changes (seq, op, id, paper, time) VALUES ($1, $2, $3, $4, $5)`,
				int64(c.Seq), c.Op.String(), c.ID, paper, now)
		}
		batch.Queue(`SELECT pg_notify($1, $2)`, s.channel, "change "+strconv.FormatInt(last, 10))
		return tx.SendBatch(ctx, &batch).Close()
	})
	if refused != nil {
		return nil, refused
	}
	if err != nil {
		return nil, fmt.Errorf("commit to postgres: %w", err)
	}
	return out, nil
}

// commitTimeout bounds a COMMIT, which runs detached from the caller's
// context: a request's deadline or a client that leaves during COMMIT
// must not cancel it halfway, which leaves whether it committed unknown.
const commitTimeout = 10 * time.Second

// inTx runs fn in a transaction with ctx and commits it with a context of
// its own (see commitTimeout); fn's error rolls it back.
func (s *Store) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return err
	}
	detached := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.WithoutCancel(ctx), commitTimeout)
	}
	// After a commit a rollback does nothing; after a failure or a panic in
	// fn it ends the transaction (or closes its connection).
	defer func() {
		rctx, cancel := detached()
		tx.Rollback(rctx)
		cancel()
	}()
	if err := fn(tx); err != nil {
		return err
	}
	cctx, cancel := detached()
	defer cancel()
	return tx.Commit(cctx)
}

// Changes returns logged changes after seq, in order.
func (s *Store) Changes(ctx context.Context, after uint64, limit int) ([]models.Change, error) {
	rows, _ := s.pool.Query(ctx, `SELECT seq, op, id, paper, time FROM changes WHERE seq > $1 ORDER BY seq LIMIT $2`, int64(after), limit)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (models.Change, error) {
		var (
			seq   int64
			op    string
			c     models.Change
			paper *models.Paper
		)
		if err := row.Scan(&seq, &op, &c.ID, &paper, &c.Time); err != nil {
			return c, err
		}
		var err error
		if c.Op, err = models.ParseOp(op); err != nil {
			return c, fmt.Errorf("change %d: %w", seq, err)
		}
		c.Seq, c.Time = uint64(seq), c.Time.UTC()
		if paper != nil {
			c.Paper = *paper
		}
		return c, nil
	})
	if err != nil {
		return nil, fmt.Errorf("read changes after %d: %w", after, err)
	}
	return out, nil
}
