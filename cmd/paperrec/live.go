package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/paperrec/paperrec/live"
	"github.com/paperrec/paperrec/pgstore"
	"github.com/paperrec/paperrec/recommend"
)

// minTokenBytes is the shortest API token accepted: a token is a secret,
// not a password to remember.
const minTokenBytes = 16

// token reads the API token from --token-file or PAPERREC_API_TOKEN.
func (e *env) token(sf serveFlags) (string, error) {
	tok := e.getenv("PAPERREC_API_TOKEN")
	if sf.tokenFile != "" {
		if tok != "" {
			return "", usageError{errors.New("--token-file and PAPERREC_API_TOKEN: give one")}
		}
		b, err := os.ReadFile(sf.tokenFile)
		if err != nil {
			return "", usageError{fmt.Errorf("--token-file: %w", err)}
		}
		tok = string(b)
	}
	tok = strings.TrimSpace(tok)
	if tok != "" && len(tok) < minTokenBytes {
		return "", usageError{fmt.Errorf("the API token has %d bytes: use at least %d random ones (openssl rand -hex 32)", len(tok), minTokenBytes)}
	}
	return tok, nil
}

// openEngine opens the store the flags name (a data directory, PostgreSQL,
// or the corpus in memory), seeding a new one from the corpus, and the live
// engine over it. The store closes when ctx ends.
func (e *env) openEngine(ctx context.Context, cf corpusFlags, sf serveFlags, build recommend.Config) (*live.Engine, error) {
	var (
		store  live.Store
		closer func() error
	)
	switch {
	case sf.data != "":
		st, err := e.openData(sf.data, cf)
		if err != nil {
			return nil, err
		}
		store, closer = st, st.Close
	case sf.store != "":
		st, err := pgstore.Open(ctx, sf.store, pgstore.Options{Schema: sf.schema, Logger: e.log})
		if err != nil {
			return nil, err
		}
		if err := e.seedPostgres(ctx, st, cf); err != nil {
			st.Close()
			return nil, err
		}
		store, closer = st, st.Close
	default:
		corpus, err := e.loadCorpus(cf)
		if err != nil {
			return nil, err
		}
		if store, err = live.NewMemory(corpus.Papers()); err != nil {
			return nil, err
		}
	}
	build.Progress, _ = e.progress() // the build reports "done" at its end, which ends the bars
	eng, err := live.Open(ctx, store, live.Config{Build: build, RefitAfter: sf.refitAfter, Logger: e.log})
	if err != nil {
		if closer != nil {
			closer()
		}
		return nil, err
	}
	if closer != nil {
		context.AfterFunc(ctx, func() { closer() })
	}
	return eng, nil
}

// seedPostgres fills an empty PostgreSQL store with the corpus. Replicas
// starting together race to seed; the store lets one win, and the others
// find it seeded.
func (e *env) seedPostgres(ctx context.Context, st *pgstore.Store, cf corpusFlags) error {
	fresh, err := st.New(ctx)
	if err != nil || !fresh {
		return err // a store whose papers were all removed stays empty
	}
	corpus, err := e.loadCorpus(cf)
	if err != nil {
		return err
	}
	if err := st.Seed(ctx, corpus.Papers()); err != nil {
		if fresh, nerr := st.New(ctx); nerr == nil && !fresh {
			return nil // another replica seeded it first
		}
		return err
	}
	e.log.Info("store seeded", "papers", corpus.Len())
	return nil
}

// watchEvery is how often --watch looks at the corpus file.
const watchEvery = time.Second

// reloads serves SIGHUP and --watch until ctx ends. Where the corpus file
// is the truth (serving it from memory, or with --watch), they reload it
// into the store: new and changed papers put, missing ones removed, then a
// refit. Otherwise SIGHUP asks for a refit of the store's papers.
func (e *env) reloads(ctx context.Context, eng *live.Engine, hup <-chan os.Signal, cf corpusFlags, sf serveFlags) {
	fileIsTruth := cf.path != "" && (sf.watch || (sf.data == "" && sf.store == ""))
	var tick <-chan time.Time
	// done is the stamp of the file as last reloaded (or found at start);
	// seen the stamp the last tick found: a file is reloaded once its stamp
	// held for a whole tick, so that one being rewritten is not read half
	// written.
	var done, seen string
	if sf.watch {
		t := time.NewTicker(watchEvery)
		defer t.Stop()
		tick = t.C
		seen = fileStamp(cf.path)
		if sf.data != "" || sf.store != "" {
			// The store may have been served without the file for a while:
			// make it hold the file now.
			if e.reload(ctx, eng, cf) {
				done = seen
			}
		} else {
			done = seen // the corpus was just read from it
		}
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			if !fileIsTruth {
				e.log.Info("SIGHUP: refitting")
				eng.RequestRefit()
				continue
			}
			e.log.Info("SIGHUP: reloading the corpus", "file", cf.path)
			e.reload(ctx, eng, cf)
		case <-tick:
			now := fileStamp(cf.path)
			if now != done && now == seen {
				e.log.Info("the corpus file changed; reloading", "file", cf.path)
				if e.reload(ctx, eng, cf) {
					done = now
				}
			}
			seen = now
		}
	}
}

// reload reads the corpus file and makes the store hold it. A file that
// does not parse is logged and changes nothing. It reports false when the
// store could not take the changes (some may be written), so that the
// caller tries again; a file that does not parse is not tried again until
// it changes.
func (e *env) reload(ctx context.Context, eng *live.Engine, cf corpusFlags) bool {
	corpus, err := e.loadCorpus(cf)
	if err != nil {
		e.log.Error("reload: keeping the corpus as it was", "err", err)
		return true
	}
	n, err := eng.Sync(ctx, corpus.Papers())
	if err != nil {
		e.log.Error("reload: will try again", "changes", n, "err", err)
		return false
	}
	e.log.Info("corpus reloaded", "papers", corpus.Len(), "changes", n)
	return true
}

// fileStamp names a file's state: size and modification time.
func fileStamp(path string) string {
	fi, err := os.Stat(path)
	if err != nil {
		return "missing"
	}
	return fmt.Sprint(fi.Size(), fi.ModTime().UnixNano())
}

// notifyHUP returns a channel of SIGHUPs, caught from now on, and a
// function that stops catching them.
func notifyHUP() (<-chan os.Signal, func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGHUP)
	return ch, func() { signal.Stop(ch) }
}
