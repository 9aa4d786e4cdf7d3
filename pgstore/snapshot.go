package pgstore

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/paperrec/paperrec/live"
)

// Snapshots are kept as bytea chunks in a table of the schema rather than
// as large objects: they go with the schema (DROP SCHEMA, pg_dump -n,
// logical replication), need no lo_unlink or vacuumlo when replaced, and a
// reader fetches chunk after chunk by key without holding a transaction
// open for the length of a multi-gigabyte read.

// chunkSize is the most bytes one row of snapshot_chunks holds: small
// enough to stay far below PostgreSQL's 1 GB field limit and to bound the
// memory of a read, large enough that a round trip per chunk costs little.
const chunkSize = 1 << 20

// keepSnapshots is how many snapshots are kept: the newest, and the one
// before, which a replica may still be reading when a newer one is saved.
const keepSnapshots = 2

// ErrSnapshotChanged wraps the failure of a snapshot read whose chunks
// were deleted under it, by two newer saves.
var ErrSnapshotChanged = errors.New("snapshot deleted while read")

// SaveSnapshot streams the snapshot that write writes into the database,
// in one transaction, checks its SHA-256 against the one write returns,
// keeps it and the one before (by seq), and notifies the other replicas.
// On error nothing is kept.
func (s *Store) SaveSnapshot(ctx context.Context, seq uint64, write func(io.Writer) ([32]byte, error)) (live.SnapshotInfo, error) {
	info := live.SnapshotInfo{Seq: seq}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var id int64
		if err := tx.QueryRow(ctx, `INSERT INTO snapshots (seq, sha256, size, chunks) VALUES ($1, '', 0, 0) RETURNING id`, int64(seq)).Scan(&id); err != nil {
			return err
		}
		cw := &chunkWriter{ctx: ctx, tx: tx, id: id, buf: make([]byte, 0, chunkSize), sum: sha256.New()}
		sum, err := write(cw)
		if err != nil {
			return err
		}
		if err := cw.flush(); err != nil {
			return err
		}
		if got := [32]byte(cw.sum.Sum(nil)); got != sum {
			return fmt.Errorf("the writer says SHA-256 %x, the bytes are %x", sum, got)
		}
		info.SHA256 = sum
		if _, err := tx.Exec(ctx, `UPDATE snapshots SET sha256 = $2, size = $3, chunks = $4 WHERE id = $1`, id, sum[:], cw.size, cw.n); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM snapshots WHERE id NOT IN (SELECT id FROM snapshots ORDER BY seq DESC, id DESC LIMIT $1)`, keepSnapshots); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `SELECT pg_notify($1, $2)`, s.channel, "snapshot "+strconv.FormatUint(seq, 10))
		return err
	})
	if err != nil {
		return info, fmt.Errorf("save snapshot at change %d: %w", seq, err)
	}
	return info, nil
}

// chunkWriter writes a snapshot's bytes as rows of snapshot_chunks.
type chunkWriter struct {
	ctx  context.Context
	tx   pgx.Tx
	id   int64
	n    int // chunks written
	size int64
	buf  []byte
	sum  hash.Hash
}

func (w *chunkWriter) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		k := copy(w.buf[len(w.buf):cap(w.buf)], p)
		w.buf = w.buf[:len(w.buf)+k]
		p, written = p[k:], written+k
		if len(w.buf) == cap(w.buf) {
			if err := w.flush(); err != nil {
				return written, err
			}
		}
	}
	return written, nil
}

// flush writes the buffered bytes as the next chunk.
func (w *chunkWriter) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	if _, err := w.tx.Exec(w.ctx, `INSERT INTO snapshot_chunks (snapshot, n, data) VALUES ($1, $2, $3)`, w.id, w.n, w.buf); err != nil {
		return fmt.Errorf("write chunk %d: %w", w.n, err)
	}
	w.sum.Write(w.buf)
	w.n++
	w.size += int64(len(w.buf))
	w.buf = w.buf[:0]
	return nil
}

// OpenSnapshot opens the newest snapshot (the one of the highest seq).
// It reads only the snapshot's row: the chunks are fetched as the reader
// is read, with ctx, one query each. A reader outlived by two newer saves
// fails with [ErrSnapshotChanged].
func (s *Store) OpenSnapshot(ctx context.Context) (io.ReadCloser, live.SnapshotInfo, error) {
	var (
		info   live.SnapshotInfo
		id     int64
		seq    int64
		sum    []byte
		chunks int
	)
	err := s.pool.QueryRow(ctx, `SELECT id, seq, sha256, chunks FROM snapshots ORDER BY seq DESC, id DESC LIMIT 1`).Scan(&id, &seq, &sum, &chunks)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, info, live.ErrNoSnapshot
	}
	if err != nil {
		return nil, info, fmt.Errorf("open snapshot: %w", err)
	}
	info.Seq = uint64(seq)
	copy(info.SHA256[:], sum)
	return &chunkReader{ctx: ctx, pool: s.pool, id: id, seq: info.Seq, chunks: chunks}, info, nil
}

// chunkReader reads a snapshot's chunks in order. Not safe for concurrent
// use, as readers go.
type chunkReader struct {
	ctx    context.Context
	pool   *pgxpool.Pool
	id     int64
	seq    uint64
	n      int // chunks read
	chunks int
	buf    []byte
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.n == r.chunks {
			return 0, io.EOF
		}
		var data []byte
		err := r.pool.QueryRow(r.ctx, `SELECT data FROM snapshot_chunks WHERE snapshot = $1 AND n = $2`, r.id, r.n).Scan(&data)
		if errors.Is(err, pgx.ErrNoRows) {
			return 0, fmt.Errorf("%w: the snapshot at change %d lost chunk %d of %d", ErrSnapshotChanged, r.seq, r.n, r.chunks)
		}
		if err != nil {
			return 0, fmt.Errorf("read snapshot chunk %d: %w", r.n, err)
		}
		r.n++
		r.buf = data
	}
	k := copy(p, r.buf)
	r.buf = r.buf[k:]
	return k, nil
}

// Close ends the read; it holds no connection between reads.
func (r *chunkReader) Close() error {
	r.buf, r.n = nil, r.chunks
	return nil
}
