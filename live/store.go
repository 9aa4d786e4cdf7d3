package live

import (
	"context"
	"errors"
	"io"

	"github.com/paperrec/paperrec/models"
)

// Store keeps a corpus and the log of its changes: the system of record
// that an [Engine] serves from. Implementations: [Memory] here, package
// boltstore (one machine, an embedded database in a directory) and package
// pgstore (PostgreSQL, for replicas). They must be safe for concurrent use.
type Store interface {
	// Papers returns every paper and the number of the last change they
	// include, read at one moment.
	Papers(ctx context.Context) ([]models.Paper, uint64, error)
	// Commit checks changes against the papers and writes them, numbered,
	// in one durable transaction, and returns them numbered. An add of an
	// ID already there wraps [models.ErrExists]; a remove of an ID not there
	// wraps [models.ErrNotFound]; on any error nothing is written.
	Commit(ctx context.Context, changes []models.Change) ([]models.Change, error)
	// Changes returns up to limit changes numbered after seq, in order. A
	// store may prune the changes that its newest snapshot covers and no
	// engine needs; asked for changes it pruned, it returns an error
	// wrapping [ErrPruned].
	Changes(ctx context.Context, after uint64, limit int) ([]models.Change, error)
	// SaveSnapshot keeps the snapshot that write writes (returning its
	// SHA-256) as the newest, of the papers as of change seq, replacing
	// older ones.
	SaveSnapshot(ctx context.Context, seq uint64, write func(io.Writer) ([32]byte, error)) (SnapshotInfo, error)
	// OpenSnapshot opens the newest snapshot; [ErrNoSnapshot] when none
	// was saved.
	OpenSnapshot(ctx context.Context) (io.ReadCloser, SnapshotInfo, error)
	// Notify returns a channel that receives when another process may have
	// committed changes, nil for a store only this process writes.
	Notify() <-chan struct{}
}

// SnapshotInfo names a saved snapshot: the change it is as of, and its
// SHA-256 (what sha256sum prints of the file).
//
// A plain value.
type SnapshotInfo struct {
	Seq    uint64
	SHA256 [32]byte
}

// ErrNoSnapshot is returned by [Store.OpenSnapshot] when no snapshot was
// saved.
var ErrNoSnapshot = errors.New("no snapshot saved")

// ErrUnavailable wraps a store error that is not about the change itself:
// the store cannot take writes now (its database is down, say). Reads are
// unaffected: they never touch the store.
var ErrUnavailable = errors.New("the store of papers is unavailable")

// ErrPruned wraps a [Store.Changes] error for changes the store no longer
// keeps: an engine that far behind loads the newest snapshot instead.
var ErrPruned = errors.New("the changes asked for were pruned")
