package api

import (
	"bufio"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"syscall"
	"testing"
	"time"
)

// BenchmarkAccessLog serves GET /healthz, the cheapest answer and so the
// one where the access log weighs most, in each log mode: off, sampled,
// every line written with a write(2) of its own (as before serve buffered
// its log), and every line through the 64 KB buffer serve uses. Besides
// wall time it reports cpu-ns/op, the process's CPU time (user + system)
// per request, which other work on a shared machine disturbs less.
func BenchmarkAccessLog(b *testing.B) {
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer devNull.Close()
	tests := []struct {
		name string
		mode AccessLogMode
		w    io.Writer
	}{
		{"off", AccessLogOff, devNull},
		{"sampled", AccessLogSampled, devNull},
		{"all/unbuffered", AccessLogAll, devNull},
		{"all/buffered", AccessLogAll, bufio.NewWriterSize(devNull, 64<<10)},
	}
	svc := service(b)
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			s := New(fixed(svc), Config{AccessLog: tt.mode, Logger: slog.New(slog.NewTextHandler(tt.w, nil))})
			h := s.Handler()
			req := httptest.NewRequest("GET", "/healthz", nil)
			b.ReportAllocs()
			before := cpuTime(b)
			for b.Loop() {
				h.ServeHTTP(httptest.NewRecorder(), req)
			}
			b.ReportMetric(float64(cpuTime(b)-before)/float64(b.N), "cpu-ns/op")
		})
	}
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
