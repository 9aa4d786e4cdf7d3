package main

import (
	"bufio"
	"io"
	"log/slog"
	"sync"
	"time"
)

// logFlushEvery is how often serve writes out buffered log lines: a line
// reaches stderr at most this late.
const logFlushEvery = 200 * time.Millisecond

// logWriter buffers log lines and writes them out when its 64 KB buffer
// fills and every flush interval, so that a request's access log line costs
// a copy, not a write to stderr of its own. Close writes out the rest.
//
// Safe for concurrent use.
type logWriter struct {
	mu sync.Mutex
	bw *bufio.Writer

	stop chan struct{}
	done chan struct{}
}

// newLogWriter starts a logWriter over w that flushes every interval.
func newLogWriter(w io.Writer, every time.Duration) *logWriter {
	l := &logWriter{bw: bufio.NewWriterSize(w, 64<<10), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-l.stop:
				return
			case <-t.C:
				l.flush()
			}
		}
	}()
	return l
}

func (l *logWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.bw.Write(p)
}

func (l *logWriter) flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.bw.Flush()
}

// Close stops the flushing and writes out what is buffered; lines written
// after Close are written out when the buffer fills. Call it once.
func (l *logWriter) Close() error {
	close(l.stop)
	<-l.done
	return l.flush()
}

// newLogger logs to w as text (logfmt) or JSON lines.
func newLogger(w io.Writer, format string) *slog.Logger {
	opt := &slog.HandlerOptions{Level: slog.LevelInfo}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opt))
	}
	return slog.New(slog.NewTextHandler(w, opt))
}
