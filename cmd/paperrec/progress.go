package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/schollz/progressbar/v3"

	"github.com/paperrec/paperrec/recommend"
)

// progress returns what draws a build's progress on a terminal: one bar a
// stage, with papers a second and the time left; finish ends the last bar.
// Off a terminal, or with --quiet, it returns nil and the build stays
// silent but for its log lines.
func (e *env) progress() (report func(recommend.Progress), finish func()) {
	w, ok := e.terminal()
	if !ok {
		return nil, func() {}
	}
	var (
		bar   *progressbar.ProgressBar
		stage string
	)
	end := func() {
		if bar != nil {
			bar.Finish()
			io.WriteString(w, "\n")
			bar = nil
		}
	}
	return func(p recommend.Progress) {
		if p.Stage == "done" {
			end()
			stage = ""
			return
		}
		if p.Stage != stage {
			end()
			stage = p.Stage
			opts := []progressbar.Option{progressbar.OptionSetWriter(w), progressbar.OptionSetDescription(fmt.Sprintf("%-10s", p.Stage)),
				progressbar.OptionThrottle(100 * time.Millisecond), progressbar.OptionSetWidth(30), progressbar.OptionSetElapsedTime(true)}
			total := int64(p.Total)
			if total > 0 {
				opts = append(opts, progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("papers"),
					progressbar.OptionSetPredictTime(true))
			} else {
				total = -1 // a spinner: the step is not counted in papers
			}
			bar = progressbar.NewOptions64(total, opts...)
		}
		if p.Total > 0 {
			bar.Set(p.Done)
			if p.Done >= p.Total {
				bar.Finish()
			}
		} else {
			bar.Add(1)
		}
	}, end
}

// terminal returns stderr when it is a terminal and progress is wanted.
func (e *env) terminal() (io.Writer, bool) {
	f, ok := e.stderr.(*os.File)
	if !ok || e.quiet || !(isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())) {
		return nil, false
	}
	return f, true
}

// byteBar wraps w in a progress bar of bytes written (a snapshot), or
// returns w on its own off a terminal.
func (e *env) byteBar(w io.Writer, what string) (io.Writer, func()) {
	t, ok := e.terminal()
	if !ok {
		return w, func() {}
	}
	bar := progressbar.NewOptions64(-1, progressbar.OptionSetWriter(t), progressbar.OptionSetDescription(what),
		progressbar.OptionShowBytes(true), progressbar.OptionShowTotalBytes(true), progressbar.OptionThrottle(100*time.Millisecond))
	return io.MultiWriter(w, bar), func() { bar.Finish(); io.WriteString(t, "\n") }
}
