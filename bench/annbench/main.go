// Command annbench generates the vector-index benchmark set of issue 11 and
// measures paperrec's HNSW on it: build time with one and two threads,
// recall@10 over a sweep of ef, and single-thread queries per second of CPU
// time at the smallest ef reaching a recall target. bench/compare.py runs it
// beside bench/hnswlib_run.py (the same measurements with hnswlib) and
// prints ratios.
//
//	annbench gen -n 20000 -out /tmp/ann20k   # base.f32, queries.f32, truth.i32, meta.json
//	annbench run -data /tmp/ann20k            # one JSON line of figures
//
// It is a development tool, not part of the engine.
package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/paperrec/paperrec/vectorindex"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "annbench:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: annbench gen|run|mem [flags]")
	}
	switch args[0] {
	case "gen":
		return gen(args[1:])
	case "run":
		return bench(args[1:], stdout)
	case "mem":
		return mem(args[1:], stdout)
	}
	return fmt.Errorf("unknown command %q", args[0])
}

// meta describes a generated set; compare.py and hnswlib_run.py read it too.
type meta struct {
	N, Queries, Dim, Clusters, K int
	Spread                       float64
	Seed                         uint64
}

func gen(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	var m meta
	fs.IntVar(&m.N, "n", 20000, "base vectors")
	fs.IntVar(&m.Queries, "q", 1000, "held-out queries")
	fs.IntVar(&m.Dim, "dim", 256, "dimensions")
	fs.IntVar(&m.Clusters, "clusters", 200, "Gaussian clusters")
	fs.Float64Var(&m.Spread, "spread", 1, "noise per component, relative to the N(0,1) centres")
	fs.Uint64Var(&m.Seed, "seed", 1, "PCG seed")
	fs.IntVar(&m.K, "k", 10, "neighbours in the ground truth")
	out := fs.String("out", "", "output directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("gen: -out is required")
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	all := clustered(m.Seed, m.N+m.Queries, m.Dim, m.Clusters, m.Spread)
	base, queries := all[:m.N], all[m.N:]
	truth := groundTruth(base, queries, m.K)
	if err := writeF32(filepath.Join(*out, "base.f32"), base); err != nil {
		return err
	}
	if err := writeF32(filepath.Join(*out, "queries.f32"), queries); err != nil {
		return err
	}
	flat := make([]uint32, 0, len(truth)*m.K)
	for _, t := range truth {
		flat = append(flat, t...)
	}
	if err := writeU32(filepath.Join(*out, "truth.i32"), flat); err != nil {
		return err
	}
	b, _ := json.MarshalIndent(m, "", "  ")
	return os.WriteFile(filepath.Join(*out, "meta.json"), b, 0o644)
}

// clustered returns n unit vectors from a mixture of Gaussians: centres with
// N(0,1) components, points at a centre plus spread*N(0,1) per component.
func clustered(seed uint64, n, dim, clusters int, spread float64) [][]float32 {
	rng := rand.New(rand.NewPCG(seed, 0))
	centres := make([][]float64, clusters)
	for i := range centres {
		centres[i] = make([]float64, dim)
		for j := range centres[i] {
			centres[i][j] = rng.NormFloat64()
		}
	}
	out := make([][]float32, n)
	tmp := make([]float64, dim)
	for i := range out {
		c := centres[rng.IntN(clusters)]
		var ss float64
		for j := range tmp {
			tmp[j] = c[j] + spread*rng.NormFloat64()
			ss += tmp[j] * tmp[j]
		}
		v := make([]float32, dim)
		for j := range v {
			v[j] = float32(tmp[j] / math.Sqrt(ss))
		}
		out[i] = v
	}
	return out
}

// groundTruth is the exact top k of every query by cosine, computed in
// float64 on both cores.
func groundTruth(base, queries [][]float32, k int) [][]uint32 {
	out := make([][]uint32, len(queries))
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		wg.Go(func() {
			for qi := w; qi < len(queries); qi += workers {
				q := queries[qi]
				type cand struct {
					d float64
					i uint32
				}
				top := make([]cand, 0, k+1)
				for i, v := range base {
					var s float64
					for j, x := range q {
						s += float64(x) * float64(v[j])
					}
					c := cand{1 - s, uint32(i)}
					if len(top) == k && c.d >= top[k-1].d {
						continue
					}
					p := len(top)
					top = append(top, c)
					for p > 0 && top[p-1].d > c.d {
						top[p] = top[p-1]
						p--
					}
					top[p] = c
					top = top[:min(len(top), k)]
				}
				ids := make([]uint32, k)
				for j, c := range top {
					ids[j] = c.i
				}
				out[qi] = ids
			}
		})
	}
	wg.Wait()
	return out
}

func writeF32(path string, vecs [][]float32) error {
	buf := make([]byte, 0, len(vecs)*len(vecs[0])*4)
	for _, v := range vecs {
		for _, x := range v {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(x))
		}
	}
	return os.WriteFile(path, buf, 0o644)
}

func writeU32(path string, s []uint32) error {
	buf := make([]byte, 0, 4*len(s))
	for _, x := range s {
		buf = binary.LittleEndian.AppendUint32(buf, x)
	}
	return os.WriteFile(path, buf, 0o644)
}

func readF32(path string, dim int) ([][]float32, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	n := len(b) / 4 / dim
	flat := make([]float32, n*dim)
	for i := range flat {
		flat[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	out := make([][]float32, n)
	for i := range out {
		out[i] = flat[i*dim : (i+1)*dim : (i+1)*dim]
	}
	return out, nil
}

func readSet(dir string) (meta, [][]float32, [][]float32, [][]uint32, error) {
	var m meta
	b, err := os.ReadFile(filepath.Join(dir, "meta.json"))
	if err != nil {
		return m, nil, nil, nil, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, nil, nil, nil, err
	}
	base, err := readF32(filepath.Join(dir, "base.f32"), m.Dim)
	if err != nil {
		return m, nil, nil, nil, err
	}
	queries, err := readF32(filepath.Join(dir, "queries.f32"), m.Dim)
	if err != nil {
		return m, nil, nil, nil, err
	}
	tb, err := os.ReadFile(filepath.Join(dir, "truth.i32"))
	if err != nil {
		return m, nil, nil, nil, err
	}
	truth := make([][]uint32, m.Queries)
	for i := range truth {
		truth[i] = make([]uint32, m.K)
		for j := range truth[i] {
			truth[i][j] = binary.LittleEndian.Uint32(tb[4*(i*m.K+j):])
		}
	}
	return m, base, queries, truth, nil
}

// cpuTime is the CPU time (user + system) of the whole process.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// batchAdder is the parallel insertion API, when the vectorindex under test
// has one; annbench also runs against older commits without it.
type batchAdder interface {
	AddBatch(ctx context.Context, keys []uint32, vecs [][]float32, workers int) error
}

// build returns a graph over base built with the given number of threads,
// its wall time and the process CPU time it took.
func build(base [][]float32, cfg vectorindex.HNSWConfig, threads int) (*vectorindex.HNSW, time.Duration, time.Duration, error) {
	runtime.GC()
	h := vectorindex.NewHNSW(len(base[0]), cfg)
	keys := make([]uint32, len(base))
	for i := range keys {
		keys[i] = uint32(i)
	}
	c0, w0 := cpuTime(), time.Now()
	var err error
	if b, ok := any(h).(batchAdder); ok {
		err = b.AddBatch(context.Background(), keys, base, threads)
	} else {
		// Before AddBatch: threads goroutines calling Add.
		var wg sync.WaitGroup
		errs := make([]error, threads)
		for t := range threads {
			wg.Go(func() {
				for i := t; i < len(base); i += threads {
					if e := h.Add(uint32(i), base[i]); e != nil {
						errs[t] = e
						return
					}
				}
			})
		}
		wg.Wait()
		err = errors.Join(errs...)
	}
	return h, time.Since(w0), cpuTime() - c0, err
}

func recall(h *vectorindex.HNSW, queries [][]float32, truth [][]uint32, k int) (float64, error) {
	hit := 0
	for i, q := range queries {
		res, err := h.Search(q, k, nil)
		if err != nil {
			return 0, err
		}
		want := truth[i]
		for _, r := range res {
			for _, t := range want {
				if r.Key == t {
					hit++
					break
				}
			}
		}
	}
	return float64(hit) / float64(len(queries)*k), nil
}

// qps times passes over all queries on this goroutine and returns the
// median queries per second of process CPU time.
func qps(h *vectorindex.HNSW, queries [][]float32, k, passes int) (float64, error) {
	var rates []float64
	for range passes {
		c0 := cpuTime()
		for _, q := range queries {
			if _, err := h.Search(q, k, nil); err != nil {
				return 0, err
			}
		}
		rates = append(rates, float64(len(queries))/(cpuTime()-c0).Seconds())
	}
	return median(rates), nil
}

func median(s []float64) float64 {
	s = append([]float64(nil), s...)
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// efGrid is the ef sweep shared with hnswlib_run.py.
var efGrid = []int{10, 12, 14, 16, 18, 20, 24, 28, 32, 36, 40, 48, 56, 64, 72, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512, 640, 768, 1024}

type result struct {
	Lib        string             `json:"lib"`
	N          int                `json:"n"`
	Build1CPU  float64            `json:"build1_cpu_s"`
	Build1Wall float64            `json:"build1_wall_s"`
	Build2CPU  float64            `json:"build2_cpu_s"`
	Build2Wall float64            `json:"build2_wall_s"`
	Recall     map[string]float64 `json:"recall"`
	Ef         int                `json:"ef"`
	RecallAtEf float64            `json:"recall_at_ef"`
	Recall2    float64            `json:"recall_at_ef_2thread"`
	QPS        float64            `json:"qps"`
}

func bench(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	dir := fs.String("data", "", "directory written by gen")
	target := fs.Float64("target", 0.95, "recall@k to reach")
	passes := fs.Int("passes", 3, "timed passes over the queries (median)")
	skip2 := fs.Bool("skip2", false, "skip the two-thread build")
	only2 := fs.Bool("only2", false, "only time the two-thread build")
	m16 := fs.Int("m", 16, "M")
	efc := fs.Int("efc", 200, "efConstruction")
	if err := fs.Parse(args); err != nil {
		return err
	}
	m, base, queries, truth, err := readSet(*dir)
	if err != nil {
		return err
	}
	cfg := vectorindex.HNSWConfig{M: *m16, EfConstruction: *efc}
	res := result{Lib: "paperrec", N: m.N, Recall: map[string]float64{}}
	var h2 *vectorindex.HNSW
	if !*skip2 {
		h, wall, cpu, err := build(base, cfg, 2)
		if err != nil {
			return err
		}
		res.Build2Wall, res.Build2CPU = wall.Seconds(), cpu.Seconds()
		h2 = h
	}
	if *only2 {
		return json.NewEncoder(stdout).Encode(res)
	}
	h, wall, cpu, err := build(base, cfg, 1)
	if err != nil {
		return err
	}
	res.Build1Wall, res.Build1CPU = wall.Seconds(), cpu.Seconds()
	for _, ef := range efGrid {
		h.SetEfSearch(ef)
		r, err := recall(h, queries, truth, m.K)
		if err != nil {
			return err
		}
		res.Recall[strconv.Itoa(ef)] = r
		if r >= *target {
			res.Ef, res.RecallAtEf = ef, r
			break
		}
	}
	if res.Ef == 0 {
		return fmt.Errorf("recall %.2f not reached at ef %d", *target, efGrid[len(efGrid)-1])
	}
	h.SetEfSearch(res.Ef)
	if res.QPS, err = qps(h, queries, m.K, *passes); err != nil {
		return err
	}
	if h2 != nil {
		h2.SetEfSearch(res.Ef)
		if res.Recall2, err = recall(h2, queries, truth, m.K); err != nil {
			return err
		}
	}
	return json.NewEncoder(stdout).Encode(res)
}

// mem builds a graph of n generated vectors (no ground truth needed) and
// reports the live heap per vector after the build and the peak resident
// set of the process.
func mem(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("mem", flag.ContinueOnError)
	n := fs.Int("n", 100000, "vectors")
	dim := fs.Int("dim", 256, "dimensions")
	threads := fs.Int("threads", 2, "build threads")
	if err := fs.Parse(args); err != nil {
		return err
	}
	debug.SetGCPercent(100)
	base := clustered(1, *n, *dim, 200, 1)
	// The input vectors are the caller's; count them out of the index's
	// share by measuring from here.
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	// Reset the peak resident set (VmHWM) to the current one, so that the
	// peak below is the build's.
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	rss0 := rssKB("VmRSS")
	h, wall, cpu, err := build(base, vectorindex.HNSWConfig{}, *threads)
	if err != nil {
		return err
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	live := float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(*n)
	peak := rssKB("VmHWM")
	out := map[string]any{
		"n": *n, "dim": *dim, "threads": *threads,
		"build_wall_s": wall.Seconds(), "build_cpu_s": cpu.Seconds(),
		"live_heap_B_per_vector":       live,
		"input_B_per_vector":           float64(4 * *dim),
		"rss_before_build_MB":          float64(rss0) / 1024,
		"peak_rss_MB":                  float64(peak) / 1024,
		"peak_rss_growth_B_per_vector": float64(peak-rss0) * 1024 / float64(*n),
	}
	runtime.KeepAlive(h)
	runtime.KeepAlive(base)
	return json.NewEncoder(stdout).Encode(out)
}

// rssKB reads a VmRSS-style field of /proc/self/status, in KiB.
func rssKB(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			v, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return v
		}
	}
	return 0
}
