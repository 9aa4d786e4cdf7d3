// Command livebench measures a live corpus through the HTTP API of running
// paperrec servers (serve --data or --store with a token): write latency
// and throughput, the time until a write is visible on the writing replica
// and on another one, refit time with the reads during it, and read
// throughput across replicas. docs/bench/live.sh starts the servers and
// runs it; docs/live.md reports its figures.
//
//	livebench write  -url A [-n 500] [-c 1] [-batch 1] [-papers FILE] [-follower B]
//	livebench read   -url A[,B,C] [-c 16] [-d 20s]
//	livebench refit  -url A [-n 3] [-papers FILE] [-via B]
//
// The token is read from PAPERREC_API_TOKEN. Latencies are quoted as
// p50/p99 of one run; run it several times and take medians.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: livebench write|read|refit [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "write":
		err = writeCmd(os.Args[2:])
	case "read":
		err = readCmd(os.Args[2:])
	case "refit":
		err = refitCmd(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q: want write, read or refit", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "livebench:", err)
		os.Exit(1)
	}
}

// client is shared by every request: keep-alive connections, enough of
// them for the concurrency used here.
var client = &http.Client{
	Timeout:   2 * time.Minute,
	Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: time.Minute},
}

// paper is what a write sends.
type paper struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Abstract string `json:"abstract"`
	Category string `json:"category,omitempty"`
	Date     string `json:"date,omitempty"`
}

// source hands out papers to write: the records of a JSON Lines file in
// turn (under new IDs), or made-up ones without a file. Safe for
// concurrent use.
type source struct {
	tag  string
	recs []paper
	next atomic.Int64
}

func newSource(path, tag string) (*source, error) {
	s := &source{tag: tag}
	if path == "" {
		return s, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var p paper
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		s.recs = append(s.recs, p)
	}
	if len(s.recs) == 0 {
		return nil, fmt.Errorf("%s: no papers", path)
	}
	return s, sc.Err()
}

func (s *source) take() paper {
	n := s.next.Add(1) - 1
	id := fmt.Sprintf("%s-%06d", s.tag, n)
	if len(s.recs) == 0 {
		return paper{ID: id, Title: "Weak lensing of galaxy clusters " + id, Category: "Astrophysics", Date: "2026-11",
			Abstract: "We map dark matter halos of galaxy clusters with weak gravitational lensing and compare them with simulations, paper " + id + "."}
	}
	p := s.recs[int(n)%len(s.recs)]
	p.ID = id
	return p
}

// changeAnswer is the answer of a write.
type changeAnswer struct {
	Changes []struct {
		Seq  uint64    `json:"seq"`
		ID   string    `json:"id"`
		Time time.Time `json:"time"`
	} `json:"changes"`
}

// post sends papers as one write and returns the answer.
func post(ctx context.Context, base string, papers []paper) (changeAnswer, error) {
	var body []byte
	if len(papers) == 1 {
		body, _ = json.Marshal(papers[0])
	} else {
		body, _ = json.Marshal(papers)
	}
	var out changeAnswer
	code, resp, err := do(ctx, "POST", base+"/v1/papers", body)
	if err != nil {
		return out, err
	}
	if code != http.StatusCreated {
		return out, fmt.Errorf("POST /v1/papers: %d %.200s", code, resp)
	}
	return out, json.Unmarshal(resp, &out)
}

func do(ctx context.Context, method, url string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if method != "GET" {
		req.Header.Set("Authorization", "Bearer "+os.Getenv("PAPERREC_API_TOKEN"))
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// visible polls base for the paper id every millisecond until it is served,
// and returns when it first was.
func visible(ctx context.Context, base, id string) (time.Time, error) {
	for {
		code, _, err := do(ctx, "GET", base+"/v1/papers/"+id, nil)
		if err != nil {
			return time.Time{}, err
		}
		if code == http.StatusOK {
			return time.Now(), nil
		}
		select {
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
}

// quantiles formats p50, p90, p99 and max of ds, in milliseconds.
func quantiles(ds []time.Duration) string {
	if len(ds) == 0 {
		return "none"
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	q := func(p float64) float64 {
		k := int(math.Ceil(p*float64(len(s)))) - 1
		return float64(s[max(k, 0)]) / 1e6
	}
	return fmt.Sprintf("p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms  (n %d)", q(0.5), q(0.9), q(0.99), q(1), len(s))
}

func writeCmd(args []string) error {
	fs := flag.NewFlagSet("write", flag.ExitOnError)
	base := fs.String("url", "", "the replica to write through")
	n := fs.Int("n", 500, "writes (POSTs) in all")
	c := fs.Int("c", 1, "concurrent writers")
	batch := fs.Int("batch", 1, "papers per POST")
	papers := fs.String("papers", "", "JSON Lines file of papers to write (under new IDs); default: made-up ones")
	tag := fs.String("tag", fmt.Sprintf("lb%d", time.Now().UnixNano()%1e9), "prefix of the new IDs")
	follower := fs.String("follower", "", "another replica: measure when each write becomes visible there (use -c 1)")
	fs.Parse(args)
	if *base == "" {
		return errors.New("write: -url is required")
	}
	src, err := newSource(*papers, *tag)
	if err != nil {
		return err
	}
	ctx := context.Background()
	var (
		mu                   sync.Mutex
		lat, fromAck, fromCm []time.Duration
		misses, failures     int
		firstErr             error
	)
	jobs := make(chan struct{})
	var wg sync.WaitGroup
	start := time.Now()
	for range *c {
		wg.Go(func() {
			for range jobs {
				ps := make([]paper, *batch)
				for i := range ps {
					ps[i] = src.take()
				}
				last := ps[len(ps)-1].ID
				// The follower is polled from before the write is sent: it
				// may show the change before the writer answers.
				var seen chan time.Time
				pctx, cancel := context.WithTimeout(ctx, time.Minute)
				if *follower != "" {
					seen = make(chan time.Time, 1)
					go func() {
						at, err := visible(pctx, *follower, last)
						if err != nil {
							at = time.Time{}
						}
						seen <- at
					}()
				}
				t0 := time.Now()
				ans, err := post(ctx, *base, ps)
				d := time.Since(t0)
				ack := time.Now()
				// Visible on the writer as soon as it answers?
				miss := false
				if err == nil {
					if code, _, gerr := do(ctx, "GET", *base+"/v1/papers/"+last, nil); gerr != nil || code != 200 {
						miss = true
					}
				}
				var vis time.Time
				if seen != nil {
					if err != nil {
						cancel()
					}
					vis = <-seen
				}
				cancel()
				mu.Lock()
				if err != nil {
					failures++
					if firstErr == nil {
						firstErr = err
					}
				} else {
					lat = append(lat, d)
					if miss {
						misses++
					}
					if !vis.IsZero() && len(ans.Changes) > 0 {
						fromAck = append(fromAck, vis.Sub(ack))
						fromCm = append(fromCm, vis.Sub(ans.Changes[len(ans.Changes)-1].Time))
					}
				}
				mu.Unlock()
			}
		})
	}
	for range *n {
		jobs <- struct{}{}
	}
	close(jobs)
	wg.Wait()
	took := time.Since(start)
	ok := len(lat)
	fmt.Printf("write %s: %d POSTs of %d paper(s), %d writer(s): %d ok, %d failed in %.2f s\n", *base, *n, *batch, *c, ok, failures, took.Seconds())
	fmt.Printf("  latency      %s\n", quantiles(lat))
	fmt.Printf("  throughput   %.1f POSTs/s, %.1f papers/s\n", float64(ok)/took.Seconds(), float64(ok**batch)/took.Seconds())
	fmt.Printf("  not visible on the writer right after its answer: %d of %d\n", misses, ok)
	if *follower != "" {
		fmt.Printf("  visible on %s after the writer's answer: %s\n", *follower, signed(fromAck))
		fmt.Printf("  visible on %s after the change's commit time: %s\n", *follower, signed(fromCm))
	}
	if firstErr != nil {
		fmt.Printf("  first error: %v\n", firstErr)
	}
	return nil
}

// signed is quantiles for durations that may be negative (a follower that
// shows a change before the writer answers).
func signed(ds []time.Duration) string {
	if len(ds) == 0 {
		return "none"
	}
	neg := 0
	for _, d := range ds {
		if d < 0 {
			neg++
		}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	q := func(p float64) float64 {
		k := int(math.Ceil(p*float64(len(s)))) - 1
		return float64(s[max(k, 0)]) / 1e6
	}
	return fmt.Sprintf("p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms  (n %d, %d before)", q(0.5), q(0.9), q(0.99), q(1), len(s), neg)
}

// ids lists the papers a replica serves.
func ids(ctx context.Context, base string) ([]string, error) {
	var out []string
	for offset := 0; ; offset += 1000 {
		code, body, err := do(ctx, "GET", fmt.Sprintf("%s/v1/papers?limit=1000&offset=%d", base, offset), nil)
		if err != nil {
			return nil, err
		}
		var page struct {
			Papers []struct{ ID string } `json:"papers"`
			Total  int                   `json:"total"`
		}
		if code != 200 || json.Unmarshal(body, &page) != nil {
			return nil, fmt.Errorf("list papers: %d %.200s", code, body)
		}
		for _, p := range page.Papers {
			out = append(out, p.ID)
		}
		if len(page.Papers) == 0 || len(out) >= page.Total {
			return out, nil
		}
	}
}

func readCmd(args []string) error {
	fs := flag.NewFlagSet("read", flag.ExitOnError)
	urls := fs.String("url", "", "replicas to read from, comma-separated; requests go round-robin, as a load balancer sends them")
	c := fs.Int("c", 16, "concurrent connections")
	d := fs.Duration("d", 20*time.Second, "duration")
	fs.Parse(args)
	bases := strings.Split(*urls, ",")
	if *urls == "" {
		return errors.New("read: -url is required")
	}
	ctx := context.Background()
	all, err := ids(ctx, bases[0])
	if err != nil {
		return err
	}
	var (
		next     atomic.Int64
		mu       sync.Mutex
		lat      []time.Duration
		failures = map[string]int{} // by status, or "error"
	)
	rctx, cancel := context.WithTimeout(ctx, *d)
	defer cancel()
	var wg sync.WaitGroup
	start := time.Now()
	for range *c {
		wg.Go(func() {
			var mine []time.Duration
			bad := map[string]int{}
			for rctx.Err() == nil {
				k := next.Add(1)
				u := fmt.Sprintf("%s/v1/papers/%s/related", bases[int(k)%len(bases)], all[int(k/int64(len(bases)))%len(all)])
				t0 := time.Now()
				code, _, err := do(ctx, "GET", u, nil)
				switch {
				case err != nil:
					bad["error"]++
				case code != 200:
					bad[fmt.Sprint(code)]++
				default:
					mine = append(mine, time.Since(t0))
				}
			}
			mu.Lock()
			lat = append(lat, mine...)
			for k, v := range bad {
				failures[k] += v
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	took := time.Since(start)
	fmt.Printf("read %d replica(s), %d connections, %s: %.0f related/s answered 200, failed: %v\n", len(bases), *c, *d, float64(len(lat))/took.Seconds(), failures)
	fmt.Printf("  latency      %s\n", quantiles(lat))
	return nil
}

// health is what /healthz says of the engine.
type health struct {
	Seq       uint64 `json:"seq"`
	FitSeq    uint64 `json:"fit_seq"`
	Papers    int    `json:"papers"`
	Snapshot  string `json:"snapshot"`
	Refitting bool   `json:"refitting"`
}

func healthOf(ctx context.Context, base string) (health, error) {
	var h health
	code, body, err := do(ctx, "GET", base+"/healthz", nil)
	if err == nil && code != 200 {
		err = fmt.Errorf("healthz: %d", code)
	}
	if err == nil {
		err = json.Unmarshal(body, &h)
	}
	return h, err
}

func refitCmd(args []string) error {
	fs := flag.NewFlagSet("refit", flag.ExitOnError)
	base := fs.String("url", "", "the replica to refit")
	n := fs.Int("n", 3, "refits")
	papers := fs.String("papers", "", "JSON Lines file of papers to write before each refit; default: made-up ones")
	tag := fs.String("tag", fmt.Sprintf("rf%d", time.Now().UnixNano()%1e9), "prefix of the new IDs")
	via := fs.String("via", "", "another replica: write through it during each refit, one paper every 100 ms, and measure when each is visible on -url")
	fs.Parse(args)
	if *base == "" {
		return errors.New("refit: -url is required")
	}
	src, err := newSource(*papers, *tag)
	if err != nil {
		return err
	}
	ctx := context.Background()
	all, err := ids(ctx, *base)
	if err != nil {
		return err
	}
	// Reads alone first: the baseline of the reads during each refit.
	var alone []time.Duration
	for k, end := 0, time.Now().Add(2*time.Second); time.Now().Before(end); k++ {
		t0 := time.Now()
		if code, _, err := do(ctx, "GET", *base+"/v1/papers/"+all[k%len(all)]+"/related", nil); err == nil && code == 200 {
			alone = append(alone, time.Since(t0))
		}
	}
	fmt.Printf("related, one at a time, no refit: %s\n", quantiles(alone))
	for round := range *n {
		// One write first, so that the refit's fit_seq tells it apart.
		if _, err := post(ctx, *base, []paper{src.take()}); err != nil {
			return err
		}
		before, err := healthOf(ctx, *base)
		if err != nil {
			return err
		}
		// A reader, one request at a time, through the refit.
		rctx, stop := context.WithCancel(ctx)
		var reads []time.Duration
		readsDone := make(chan struct{})
		go func() {
			defer close(readsDone)
			for k := 0; rctx.Err() == nil; k++ {
				t0 := time.Now()
				if code, _, err := do(ctx, "GET", *base+"/v1/papers/"+all[k%len(all)]+"/related", nil); err == nil && code == 200 {
					reads = append(reads, time.Since(t0))
				}
			}
		}()
		// Writes through another replica, during the refit.
		var lags []time.Duration
		viaDone := make(chan struct{})
		go func() {
			defer close(viaDone)
			if *via == "" {
				return
			}
			for rctx.Err() == nil {
				p := src.take()
				ans, err := post(ctx, *via, []paper{p})
				if err == nil && len(ans.Changes) > 0 {
					if at, err := visible(ctx, *base, p.ID); err == nil {
						lags = append(lags, at.Sub(ans.Changes[0].Time))
					}
				}
				select {
				case <-rctx.Done():
				case <-time.After(100 * time.Millisecond):
				}
			}
		}()
		t0 := time.Now()
		if code, body, err := do(ctx, "POST", *base+"/v1/admin/refit", nil); err != nil || code != http.StatusAccepted {
			stop()
			return fmt.Errorf("refit: %d %s %v", code, body, err)
		}
		var after health
		for {
			if after, err = healthOf(ctx, *base); err != nil {
				stop()
				return err
			}
			if after.FitSeq >= before.Seq && !after.Refitting {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		took := time.Since(t0)
		stop()
		<-readsDone
		<-viaDone
		fmt.Printf("refit %d: %d papers, fit_seq %d -> %d, %.2f s from the request to the swap (as /healthz shows it)\n",
			round, after.Papers, before.FitSeq, after.FitSeq, took.Seconds())
		fmt.Printf("  related, one at a time, during it: %s\n", quantiles(reads))
		if *via != "" {
			fmt.Printf("  writes through %s during it, visible here after their commit time: %s\n", *via, quantiles(lags))
		}
	}
	return nil
}
