// Package boltstore keeps a live corpus durably on one machine: the papers,
// the log of every change and the newest engine snapshot, in a directory,
// with go.etcd.io/bbolt (the embedded key/value store of etcd) as the
// database. A commit returns once bbolt has synced it to disk, so an
// acknowledged write survives a crash or kill -9. It implements live.Store.
//
// The database is opened for each operation and closed after it, under
// bbolt's file lock, so that several processes can share a directory: a
// server serving it, and `paperrec add` run by cron. A server learns of
// another process's commits from [Store.Notify], which watches the file.
//
// A directory holds:
//
//	paperrec.db            the bbolt database (papers, change log, metadata)
//	snapshot-<seq>.bin     the newest engine snapshot, as of change <seq>
package boltstore

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/renameio/v2"
	bolt "go.etcd.io/bbolt"
	boltErrors "go.etcd.io/bbolt/errors"

	"github.com/paperrec/paperrec/live"
	"github.com/paperrec/paperrec/models"
)

// Format is the version of the directory layout this package writes and
// reads; a directory of a newer format is refused.
const Format = 1

// dbName is the database file in a data directory.
const dbName = "paperrec.db"

var (
	bucketMeta    = []byte("meta")
	bucketPapers  = []byte("papers")  // id → ord (8 bytes) + paper JSON
	bucketOrder   = []byte("order")   // ord → id: corpus order
	bucketChanges = []byte("changes") // seq → change JSON

	keyFormat      = []byte("format")
	keySeq         = []byte("seq")
	keyNextOrd     = []byte("next_ord")
	keySnapshotSeq = []byte("snapshot_seq")
	// keyPruned is the last change removed from the log (see SaveSnapshot).
	keyPruned      = []byte("pruned")
	keySnapshotSum = []byte("snapshot_sha256")
	// keySnapshotFile names the newest snapshot's file (a directory
	// written before it was recorded names snapshot-SEQ.bin).
	keySnapshotFile = []byte("snapshot_file")
)

// Errors a caller may branch on.
var (
	// ErrNewer wraps the refusal of a directory written by a newer paperrec.
	ErrNewer = errors.New("data directory written by a newer paperrec")
	// ErrDamaged wraps a directory whose database is damaged or is not one.
	ErrDamaged = errors.New("data directory damaged")
	// ErrLocked is returned when another process has the directory open.
	ErrLocked = errors.New("data directory in use by another process")
)

// Store is a data directory. Safe for concurrent use, by several
// goroutines and several processes.
type Store struct {
	dir, path string
	// timeout bounds the wait for another process's operation.
	timeout time.Duration
	// turn serialises this process's operations (a semaphore of one, so
	// that a wait ends with its context): bbolt's file lock, which
	// serialises them across processes, retries every 50 ms, which
	// concurrent writers of one server would otherwise wait out.
	turn chan struct{}

	notifyOnce sync.Once
	notify     chan struct{}
	stop       chan struct{}
	closeOnce  sync.Once
}

// LockTimeout is how long an operation waits for another process holding
// the directory before it fails with [ErrLocked].
const LockTimeout = 10 * time.Second

// Open opens the data directory dir, creating it when missing, and checks
// the database's format and, page by page, its integrity.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	s := &Store{dir: dir, path: filepath.Join(dir, dbName), timeout: LockTimeout, turn: make(chan struct{}, 1), stop: make(chan struct{})}
	if err := s.init(); err != nil {
		return nil, err
	}
	return s, nil
}

// do runs fn in one transaction on the database, opened for it: a
// read-write one when write is set. The waits for this process's other
// operations and for another process's lock end with ctx (its error
// wrapped with [ErrLocked] when another process holds the lock).
func (s *Store) do(ctx context.Context, write bool, fn func(tx *bolt.Tx) error) error {
	select {
	case s.turn <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.turn }()
	timeout, capped := s.timeout, false
	if d, ok := ctx.Deadline(); ok && time.Until(d) < timeout {
		timeout, capped = max(time.Until(d), time.Millisecond), true
	}
	db, err := bolt.Open(s.path, 0o640, &bolt.Options{Timeout: timeout, ReadOnly: !write})
	switch {
	case errors.Is(err, boltErrors.ErrTimeout) && capped:
		return fmt.Errorf("%w: %w: %s", context.DeadlineExceeded, ErrLocked, s.dir)
	case errors.Is(err, boltErrors.ErrTimeout):
		return fmt.Errorf("%w: %s (for %s)", ErrLocked, s.dir, timeout)
	case errors.Is(err, boltErrors.ErrInvalid), errors.Is(err, boltErrors.ErrChecksum), errors.Is(err, boltErrors.ErrVersionMismatch):
		return fmt.Errorf("%w: %s: %v", ErrDamaged, s.path, err)
	case err != nil:
		return fmt.Errorf("open %s: %w", s.path, err)
	}
	if write {
		err = db.Update(fn)
	} else {
		err = db.View(fn)
	}
	if cerr := db.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close %s: %w", s.path, cerr)
	}
	return err
}

// init creates the buckets of a new directory, or checks those of an
// existing one: its format, and bbolt's consistency check of every page.
func (s *Store) init() error {
	return s.do(context.Background(), true, func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			for _, name := range [][]byte{bucketMeta, bucketPapers, bucketOrder, bucketChanges} {
				if _, err := tx.CreateBucket(name); err != nil {
					return err
				}
			}
			return tx.Bucket(bucketMeta).Put(keyFormat, []byte(strconv.Itoa(Format)))
		}
		f, err := strconv.Atoi(string(meta.Get(keyFormat)))
		switch {
		case err != nil:
			return fmt.Errorf("%w: %s: format %q", ErrDamaged, s.dir, meta.Get(keyFormat))
		case f > Format:
			return fmt.Errorf("%w: %s has format %d, this paperrec reads format %d and older; upgrade paperrec", ErrNewer, s.dir, f, Format)
		}
		for _, name := range [][]byte{bucketPapers, bucketOrder, bucketChanges} {
			if tx.Bucket(name) == nil {
				return fmt.Errorf("%w: %s: no %s bucket", ErrDamaged, s.dir, name)
			}
		}
		var problems []string
		for err := range tx.Check() {
			problems = append(problems, err.Error())
		}
		if len(problems) > 0 {
			return fmt.Errorf("%w: %s: %s", ErrDamaged, s.dir, strings.Join(problems[:min(3, len(problems))], "; "))
		}
		return nil
	})
}

// Close stops the watch of Notify. The database is closed after every
// operation already.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { close(s.stop) })
	return nil
}

// Dir returns the data directory.
func (s *Store) Dir() string { return s.dir }

// New reports whether the store was never written: no papers and no
// change (a store whose every paper was removed is not new).
func (s *Store) New() (bool, error) {
	var fresh bool
	err := s.do(context.Background(), false, func(tx *bolt.Tx) error {
		fresh = tx.Bucket(bucketPapers).Stats().KeyN == 0 && getU64(tx.Bucket(bucketMeta).Get(keySeq)) == 0
		return nil
	})
	return fresh, err
}

// Seed fills an empty store with papers, in order, as of change 0.
func (s *Store) Seed(papers []models.Paper) error {
	return s.do(context.Background(), true, func(tx *bolt.Tx) error {
		if tx.Bucket(bucketPapers).Stats().KeyN > 0 {
			return fmt.Errorf("seed %s: the store already holds papers", s.dir)
		}
		if seq := getU64(tx.Bucket(bucketMeta).Get(keySeq)); seq > 0 {
			return fmt.Errorf("seed %s: the store has %d changes: its papers were removed, not never added", s.dir, seq)
		}
		for _, p := range papers {
			if err := putPaper(tx, p); err != nil {
				return fmt.Errorf("seed %s: %w", s.dir, err)
			}
		}
		return nil
	})
}

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

func getU64(b []byte) uint64 {
	if len(b) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

// putPaper adds p, or replaces the paper with its ID in its place.
func putPaper(tx *bolt.Tx, p models.Paper) error {
	papers, meta := tx.Bucket(bucketPapers), tx.Bucket(bucketMeta)
	js, err := json.Marshal(p)
	if err != nil {
		return err
	}
	id := []byte(p.ID)
	var ord []byte
	if old := papers.Get(id); len(old) >= 8 {
		ord = bytes.Clone(old[:8])
	} else {
		next := getU64(meta.Get(keyNextOrd))
		ord = u64(next)
		if err := meta.Put(keyNextOrd, u64(next+1)); err != nil {
			return err
		}
		if err := tx.Bucket(bucketOrder).Put(ord, id); err != nil {
			return err
		}
	}
	return papers.Put(id, append(ord, js...))
}

// Papers returns every paper in corpus order and the last change's number.
func (s *Store) Papers(ctx context.Context) ([]models.Paper, uint64, error) {
	var (
		out []models.Paper
		seq uint64
	)
	err := s.do(ctx, false, func(tx *bolt.Tx) error {
		seq = getU64(tx.Bucket(bucketMeta).Get(keySeq))
		papers := tx.Bucket(bucketPapers)
		out = make([]models.Paper, 0, papers.Stats().KeyN)
		c := tx.Bucket(bucketOrder).Cursor()
		for ord, id := c.First(); ord != nil; ord, id = c.Next() {
			v := papers.Get(id)
			if len(v) < 8 {
				return fmt.Errorf("%w: %s: paper %q listed but missing", ErrDamaged, s.dir, id)
			}
			var p models.Paper
			if err := json.Unmarshal(v[8:], &p); err != nil {
				return fmt.Errorf("%w: %s: paper %q: %v", ErrDamaged, s.dir, id, err)
			}
			out = append(out, p)
			if len(out)%4096 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
		}
		return nil
	})
	return out, seq, err
}

// logged is a change as the log keeps it.
type logged struct {
	Op    string        `json:"op"`
	ID    string        `json:"id"`
	Paper *models.Paper `json:"paper,omitempty"`
	Time  time.Time     `json:"time"`
}

// Commit checks and writes changes in one transaction, synced to disk
// before it returns.
func (s *Store) Commit(ctx context.Context, changes []models.Change) ([]models.Change, error) {
	out := make([]models.Change, len(changes))
	err := s.do(ctx, true, func(tx *bolt.Tx) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		meta, papers, log := tx.Bucket(bucketMeta), tx.Bucket(bucketPapers), tx.Bucket(bucketChanges)
		seq := getU64(meta.Get(keySeq))
		now := time.Now().UTC()
		for k, c := range changes {
			if err := c.Check(); err != nil {
				return &models.ChangeError{Index: k, ID: c.ID, Err: err}
			}
			exists := papers.Get([]byte(c.ID)) != nil
			switch {
			case c.Op == models.OpAdd && exists:
				return &models.ChangeError{Index: k, ID: c.ID, Err: models.ErrExists}
			case c.Op == models.OpRemove && !exists:
				return &models.ChangeError{Index: k, ID: c.ID, Err: models.ErrNotFound}
			}
			seq++
			c.Seq, c.Time = seq, now
			out[k] = c
			rec := logged{Op: c.Op.String(), ID: c.ID, Time: now}
			if c.Op == models.OpRemove {
				old := papers.Get([]byte(c.ID))
				if err := tx.Bucket(bucketOrder).Delete(old[:8]); err != nil {
					return err
				}
				if err := papers.Delete([]byte(c.ID)); err != nil {
					return err
				}
			} else {
				rec.Paper = &c.Paper
				if err := putPaper(tx, c.Paper); err != nil {
					return err
				}
			}
			js, err := json.Marshal(rec)
			if err != nil {
				return err
			}
			if err := log.Put(u64(seq), js); err != nil {
				return err
			}
		}
		return meta.Put(keySeq, u64(seq))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Changes returns logged changes after seq.
func (s *Store) Changes(ctx context.Context, after uint64, limit int) ([]models.Change, error) {
	var out []models.Change
	err := s.do(ctx, false, func(tx *bolt.Tx) error {
		if pruned := getU64(tx.Bucket(bucketMeta).Get(keyPruned)); after < pruned {
			return fmt.Errorf("%w: %s: changes up to %d, asked for those after %d", live.ErrPruned, s.dir, pruned, after)
		}
		c := tx.Bucket(bucketChanges).Cursor()
		for k, v := c.Seek(u64(after + 1)); k != nil && len(out) < limit; k, v = c.Next() {
			var rec logged
			if err := json.Unmarshal(v, &rec); err != nil {
				return fmt.Errorf("%w: %s: change %d: %v", ErrDamaged, s.dir, getU64(k), err)
			}
			op, err := models.ParseOp(rec.Op)
			if err != nil {
				return fmt.Errorf("%w: %s: change %d: %v", ErrDamaged, s.dir, getU64(k), err)
			}
			ch := models.Change{Seq: getU64(k), Op: op, ID: rec.ID, Time: rec.Time}
			if rec.Paper != nil {
				ch.Paper = *rec.Paper
			}
			out = append(out, ch)
		}
		return ctx.Err()
	})
	return out, err
}

// snapshotName is the file of the snapshot as of change seq in the data
// directories of before snapshot files were named uniquely (see
// keySnapshotFile).
func snapshotName(seq uint64) string { return fmt.Sprintf("snapshot-%d.bin", seq) }

// SaveSnapshot writes the snapshot to a new file atomically (temporary
// file, fsync, rename, fsync of the directory), records it as the newest,
// and removes every other snapshot file. Each save has a file of its own,
// so that a crash before the record leaves the recorded one whole.
func (s *Store) SaveSnapshot(ctx context.Context, seq uint64, write func(io.Writer) ([32]byte, error)) (live.SnapshotInfo, error) {
	info := live.SnapshotInfo{Seq: seq}
	name := fmt.Sprintf("snapshot-%d-%d.bin", seq, time.Now().UnixNano())
	pf, err := renameio.NewPendingFile(filepath.Join(s.dir, name), renameio.WithPermissions(0o640))
	if err != nil {
		return info, err
	}
	defer pf.Cleanup()
	bw := bufio.NewWriterSize(pf, 1<<20)
	if info.SHA256, err = write(bw); err != nil {
		return info, err
	}
	if err := bw.Flush(); err != nil {
		return info, err
	}
	if err := pf.CloseAtomicallyReplace(); err != nil {
		return info, err
	}
	if err := syncDir(s.dir); err != nil {
		return info, err
	}
	recorded := false
	err = s.do(ctx, true, func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if _, err := os.Stat(filepath.Join(s.dir, name)); err != nil {
			// Another process's save, recorded meanwhile, swept it.
			return fmt.Errorf("%s: not recording this snapshot (change %d): %w", s.dir, seq, err)
		}
		if v := meta.Get(keySnapshotSeq); v != nil {
			if prev := getU64(v); prev > seq {
				// Another process recorded a newer one meanwhile.
				return fmt.Errorf("%s: a newer snapshot (change %d) is recorded; not recording this one (change %d)", s.dir, prev, seq)
			}
			// The log keeps the changes after the snapshot before this
			// one, so that an engine a refit behind still catches up by the
			// log; the older ones are covered by both snapshots, and go.
			if err := prune(tx, getU64(v)); err != nil {
				return err
			}
		}
		if err := meta.Put(keySnapshotSeq, u64(seq)); err != nil {
			return err
		}
		if err := meta.Put(keySnapshotFile, []byte(name)); err != nil {
			return err
		}
		if err := meta.Put(keySnapshotSum, info.SHA256[:]); err != nil {
			return err
		}
		// Once the record is on disk, and still under the file lock, so
		// that no other process records meanwhile.
		tx.OnCommit(func() {
			recorded = true
			s.sweepSnapshots(name)
		})
		return nil
	})
	if err != nil && !recorded {
		os.Remove(filepath.Join(s.dir, name))
		return info, err
	}
	return info, nil
}

// prune removes the logged changes up to through and records it.
func prune(tx *bolt.Tx, through uint64) error {
	meta, log := tx.Bucket(bucketMeta), tx.Bucket(bucketChanges)
	if through <= getU64(meta.Get(keyPruned)) {
		return nil
	}
	c := log.Cursor()
	for k, _ := c.First(); k != nil && getU64(k) <= through; k, _ = c.First() {
		if err := log.Delete(k); err != nil {
			return err
		}
	}
	return meta.Put(keyPruned, u64(through))
}

// sweepSnapshots removes the snapshot files older than keep, the one just
// recorded: those earlier saves left, and those of saves that crashed
// before their record. A newer file is another process's save on its way
// to its record, and stays. It runs under the database's lock.
func (s *Store) sweepSnapshots(keep string) {
	files, _ := filepath.Glob(filepath.Join(s.dir, "snapshot-*.bin"))
	k := snapshotOrder(keep)
	for _, f := range files {
		if o := snapshotOrder(filepath.Base(f)); o[0] < k[0] || (o[0] == k[0] && o[1] < k[1]) {
			os.Remove(f)
		}
	}
}

// snapshotOrder reads the change number and save time of a snapshot file
// name ("snapshot-SEQ-NANOS.bin", or "snapshot-SEQ.bin" from before the
// time was in the name).
func snapshotOrder(name string) [2]uint64 {
	var o [2]uint64
	parts := strings.Split(strings.TrimSuffix(strings.TrimPrefix(name, "snapshot-"), ".bin"), "-")
	for i := 0; i < len(parts) && i < 2; i++ {
		o[i], _ = strconv.ParseUint(parts[i], 10, 64)
	}
	return o
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// OpenSnapshot opens the newest snapshot.
func (s *Store) OpenSnapshot(ctx context.Context) (io.ReadCloser, live.SnapshotInfo, error) {
	var (
		info live.SnapshotInfo
		f    *os.File
	)
	err := s.do(ctx, false, func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		v := meta.Get(keySnapshotSeq)
		if v == nil {
			return live.ErrNoSnapshot
		}
		info.Seq = getU64(v)
		copy(info.SHA256[:], meta.Get(keySnapshotSum))
		name := string(meta.Get(keySnapshotFile))
		if name == "" {
			name = snapshotName(info.Seq)
		}
		// Opened under the lock, which keeps other processes' sweeps out;
		// once open, the file reads to its end even if swept later.
		var err error
		f, err = os.Open(filepath.Join(s.dir, name))
		return err
	})
	if err != nil {
		if f != nil {
			f.Close()
		}
		return nil, info, err
	}
	return readCloser{bufio.NewReaderSize(f, 1<<20), f}, info, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

// watchEvery is how often Notify looks at the database file.
const watchEvery = 500 * time.Millisecond

// Notify returns a channel that receives when the database file changed,
// which another process's commit does (and this one's: a caught-up engine
// then finds nothing new). The watch stops at Close.
func (s *Store) Notify() <-chan struct{} {
	s.notifyOnce.Do(func() {
		s.notify = make(chan struct{}, 1)
		go s.watch()
	})
	return s.notify
}

func (s *Store) watch() {
	t := time.NewTicker(watchEvery)
	defer t.Stop()
	var last os.FileInfo
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		fi, err := os.Stat(s.path)
		if err != nil {
			continue
		}
		if last != nil && (fi.ModTime() != last.ModTime() || fi.Size() != last.Size()) {
			select {
			case s.notify <- struct{}{}:
			default:
			}
		}
		last = fi
	}
}
