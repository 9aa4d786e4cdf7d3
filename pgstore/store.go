// Package pgstore keeps a live corpus in PostgreSQL, the system of record
// that identical replicas share: the papers, the append-only log of every
// change and the newest engine snapshots, in one schema of one database,
// through github.com/jackc/pgx/v5. It implements live.Store and
// live.Leader.
//
// A commit is one transaction (paper rows and change rows) and returns
// once PostgreSQL has committed it. Changes are numbered in commit order
// without gaps, so a replica that has applied change n needs exactly the
// changes after n. A commit notifies the other replicas (NOTIFY on the
// channel "<schema>.changes", payload "change <last seq>"; a saved
// snapshot sends "snapshot <seq>"), whose [Store.Notify] channel then
// wakes their engines to catch up.
//
// The schema is created and migrated by [Open], under an advisory lock, so
// that replicas starting together migrate it once. A schema holds:
//
//	schema_migrations   the migrations applied (migrations/NNN_name.sql)
//	meta                the number of the last change
//	papers              id, corpus order, paper (json)
//	changes             seq, op, id, paper (json, null for a remove), time
//	snapshots           seq, SHA-256, size, and the bytes in
//	snapshot_chunks     chunks of at most 1 MiB; the newest two are kept
package pgstore

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"log/slog"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/paperrec/paperrec/models"
)

// Errors a caller may branch on.
var (
	// ErrNewer wraps the refusal of a schema migrated by a newer paperrec.
	ErrNewer = errors.New("database schema written by a newer paperrec")
	// ErrSchemaName wraps an Options.Schema that is not a plain name.
	ErrSchemaName = errors.New("bad schema name")
)

// Options configure a Store. The zero value is the default.
//
// A plain value.
type Options struct {
	// Schema is the PostgreSQL schema that holds the store's tables,
	// created when missing (default "paperrec"). Lower-case letters,
	// digits and underscores, at most 48, not starting with a digit.
	Schema string
	// Logger logs migrations and the listener's lost and regained
	// connections (default slog.Default()).
	Logger *slog.Logger
}

// DefaultSchema is the schema of a zero Options.
const DefaultSchema = "paperrec"

// connectTimeout bounds a connection attempt when the DSN sets no
// connect_timeout, so that a write during an outage fails in seconds.
const connectTimeout = 5 * time.Second

// Store is a paperrec store in a PostgreSQL schema. Safe for concurrent
// use, by several goroutines and several processes.
type Store struct {
	pool    *pgxpool.Pool
	cfg     *pgxpool.Config
	schema  string
	channel string // of NOTIFY: channels are per database, so named by schema
	leadKey int64  // of the advisory lock of refits
	log     *slog.Logger

	// The listener of Notify runs until Close cancels ctx.
	ctx        context.Context
	cancel     context.CancelFunc
	wg         sync.WaitGroup
	notifyOnce sync.Once
	notify     chan struct{}
	closeOnce  sync.Once
}

// Open connects to the database named by dsn (a postgres:// URL or a
// key=value string, as libpq reads them), creates or migrates the schema,
// and returns the store. A schema migrated by a newer paperrec is refused
// with [ErrNewer].
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	schema := opts.Schema
	if schema == "" {
		schema = DefaultSchema
	}
	if !plainName(schema) {
		return nil, fmt.Errorf("%w: %q: want lower-case letters, digits and underscores, at most 48", ErrSchemaName, schema)
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	// Unqualified names in every statement, and in the migrations, are the
	// schema's; plainName makes quoting unnecessary.
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	if cfg.ConnConfig.RuntimeParams["application_name"] == "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = "paperrec"
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = connectTimeout
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	s := &Store{pool: pool, cfg: cfg, schema: schema, channel: schema + ".changes", leadKey: lockKey("refit", schema), log: log}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// plainName reports whether s can name a schema without quoting.
func plainName(s string) bool {
	if s == "" || len(s) > 48 || (s[0] >= '0' && s[0] <= '9') {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// lockKey is the advisory lock key of purpose in schema: one per schema,
// so that stores in two schemas of a database do not wait for each other.
func lockKey(purpose, schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte("paperrec " + purpose + " " + schema))
	return int64(h.Sum64())
}

//go:embed migrations/*.sql
var migrationFS embed.FS

// migration is one numbered SQL file of migrations/.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations in order. Their names are
// checked by TestMigrationsAreNumbered, so an error here is a build's.
func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v != len(out)+1 {
			return nil, fmt.Errorf("migration %s: want %03d_name.sql", e.Name(), len(out)+1)
		}
		b, err := migrationFS.ReadFile(path.Join("migrations", e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: e.Name(), sql: string(b)})
	}
	return out, nil
}

// migrate creates the schema and applies the migrations it lacks, all in
// one transaction under a transaction-scoped advisory lock: a second
// replica starting at the same moment waits, then finds nothing to do.
// Without the lock, two CREATE SCHEMA IF NOT EXISTS can still collide.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockKey("migrate", s.schema)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+s.schema); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version integer PRIMARY KEY, name text NOT NULL, applied timestamptz NOT NULL DEFAULT now())`); err != nil {
			return err
		}
		var have int
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
			return err
		}
		if have > len(ms) {
			return fmt.Errorf("%w: schema %s is at version %d, this paperrec knows versions up to %d; upgrade paperrec", ErrNewer, s.schema, have, len(ms))
		}
		for _, m := range ms[have:] {
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return fmt.Errorf("%s: %w", m.name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.version, m.name); err != nil {
				return err
			}
			s.log.Info("schema migrated", "schema", s.schema, "migration", m.name)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("migrate schema %s: %w", s.schema, err)
	}
	return nil
}

// Close stops the listener of Notify and closes the connections.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.cancel()
		s.wg.Wait()
		s.pool.Close()
	})
	return nil
}

// New reports whether the store was never written: no papers and no
// change (a store whose every paper was removed is not new).
func (s *Store) New(ctx context.Context) (bool, error) {
	var fresh bool
	if err := s.pool.QueryRow(ctx, `SELECT NOT EXISTS (SELECT 1 FROM papers) AND (SELECT seq FROM meta) = 0`).Scan(&fresh); err != nil {
		return false, fmt.Errorf("read the store: %w", err)
	}
	return fresh, nil
}

// Seed fills an empty store with papers, in order, as of change 0.
func (s *Store) Seed(ctx context.Context, papers []models.Paper) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Lock the counter as a commit does, so that no commit slips in.
		var seq int64
		if err := tx.QueryRow(ctx, `SELECT seq FROM meta FOR UPDATE`).Scan(&seq); err != nil {
			return err
		}
		var held bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM papers)`).Scan(&held); err != nil {
			return err
		}
		if held || seq > 0 {
			return errors.New("the store already holds papers or changes")
		}
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"papers"}, []string{"id", "paper"},
			pgx.CopyFromSlice(len(papers), func(i int) ([]any, error) { return []any{papers[i].ID, papers[i]}, nil }))
		return err
	})
	if err != nil {
		return fmt.Errorf("seed %s: %w", s.schema, err)
	}
	return nil
}

// Papers returns every paper in corpus order and the last change's number,
// read from one snapshot of the database (REPEATABLE READ).
func (s *Store) Papers(ctx context.Context) ([]models.Paper, uint64, error) {
	var (
		out []models.Paper
		seq int64
	)
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT seq FROM meta`).Scan(&seq); err != nil {
			return err
		}
		rows, _ := tx.Query(ctx, `SELECT paper FROM papers ORDER BY ord`)
		var err error
		out, err = pgx.CollectRows(rows, pgx.RowTo[models.Paper])
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("read papers: %w", err)
	}
	return out, uint64(seq), nil
}
