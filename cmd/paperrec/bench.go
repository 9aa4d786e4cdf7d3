package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/paperrec/paperrec/data"
	"github.com/paperrec/paperrec/models"
	"github.com/paperrec/paperrec/recommend"
	"github.com/paperrec/paperrec/vectorindex"
)

// benchResult is the one line paperrec bench prints: the headline figures
// of docs/performance.md, reproducible with one command.
type benchResult struct {
	Docs         int     `json:"docs"`
	Index        string  `json:"index"`
	Themes       int     `json:"themes"`
	BuildSeconds float64 `json:"build_seconds"`
	// PeakRSSBytes is the process's peak resident memory after the build
	// (VmHWM), before the bench builds anything of its own.
	PeakRSSBytes int64   `json:"peak_rss_bytes"`
	HeapBytes    uint64  `json:"heap_bytes"`
	Queries      int     `json:"queries"`
	RecallAt10   float64 `json:"recall_at_10"`
	HNSWQPS      float64 `json:"hnsw_qps"`
	ExactQPS     float64 `json:"exact_qps"`
	RelatedP50MS float64 `json:"related_p50_ms"`
	RelatedP99MS float64 `json:"related_p99_ms"`
	// StageSeconds is the wall time of each step of the build, and
	// StageHeapBytes the most live heap (as the last GC marked it) seen
	// during it, sampled every 50 ms.
	StageSeconds   map[string]float64 `json:"stage_seconds"`
	StageHeapBytes map[string]uint64  `json:"stage_heap_bytes"`
}

func (e *env) benchCmd() *cobra.Command {
	var (
		docs, queries int
		index         string
		skipThemes    bool
		asJSON        bool
		seed          uint64
		cpuProfile    string
	)
	cmd := &cobra.Command{
		Use:   "bench --docs N",
		Short: "Build an engine over N synthetic papers and measure it: build time, memory, index recall and speed, related latency",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if docs < 1 {
				return usageError{fmt.Errorf("--docs %d: want at least 1", docs)}
			}
			if queries < 1 {
				return usageError{fmt.Errorf("--queries %d: want at least 1", queries)}
			}
			kind := recommend.IndexKind(index)
			if kind != recommend.IndexExact && kind != recommend.IndexHNSW {
				return usageError{fmt.Errorf("--index %q: want exact or hnsw", index)}
			}
			res, err := models.ParseListing(bytes.NewReader(data.Listing), data.ListingName, models.ParseOptions{})
			if err != nil {
				return err
			}
			papers := synthesize(res.Papers, docs, seed)
			corpus, err := models.NewCorpus(papers)
			if err != nil {
				return err
			}
			papers = nil
			runtime.GC()
			ctx := cmd.Context()
			if cpuProfile != "" {
				f, err := os.Create(cpuProfile)
				if err != nil {
					return err
				}
				if err := pprof.StartCPUProfile(f); err != nil {
					return err
				}
			}
			start := time.Now()
			draw, finish := e.progress()
			stages := map[string]float64{}
			heaps := map[string]uint64{}
			var mu sync.Mutex
			stage, since := "", start
			progress := func(p recommend.Progress) {
				mu.Lock()
				if p.Stage != stage {
					if stage != "" {
						stages[stage] += time.Since(since).Seconds()
					}
					stage, since = p.Stage, time.Now()
				}
				mu.Unlock()
				if draw != nil {
					draw(p)
				}
			}
			sampled := make(chan struct{})
			stopSampling := make(chan struct{})
			go func() {
				defer close(sampled)
				t := time.NewTicker(50 * time.Millisecond)
				defer t.Stop()
				samples := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
				for {
					select {
					case <-stopSampling:
						return
					case <-t.C:
					}
					metrics.Read(samples)
					mu.Lock()
					if v := samples[0].Value.Uint64(); v > heaps[stage] {
						heaps[stage] = v
					}
					mu.Unlock()
				}
			}()
			svc, err := recommend.New(ctx, corpus, recommend.Config{Index: kind, SkipThemes: skipThemes, Progress: progress})
			finish()
			close(stopSampling)
			<-sampled
			pprof.StopCPUProfile()
			if err != nil {
				return err
			}
			r := benchResult{Docs: docs, Index: index, BuildSeconds: time.Since(start).Seconds(), PeakRSSBytes: peakRSS(), StageSeconds: stages, StageHeapBytes: heaps}
			if t := svc.Themes(); t != nil {
				r.Themes = len(t.Themes())
			}
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			r.HeapBytes = ms.HeapAlloc
			e.log.Info("built", "docs", docs, "seconds", r.BuildSeconds, "peak_rss", r.PeakRSSBytes)

			// Queries: the vectors of papers drawn with a fixed seed.
			vecs := svc.Vectors()
			rng := rand.New(rand.NewPCG(seed, 7))
			qs := make([]int, min(queries, len(vecs)))
			for i := range qs {
				qs[i] = rng.IntN(len(vecs))
			}
			r.Queries = len(qs)
			// The index the service answers with.
			got := make([][]vectorindex.Result, len(qs))
			start = time.Now()
			for i, q := range qs {
				if got[i], err = svc.Neighbours(vecs[q], 10); err != nil {
					return err
				}
			}
			r.HNSWQPS = float64(len(qs)) / time.Since(start).Seconds()
			// The truth: an exact scan of the same vectors.
			exact := vectorindex.NewExact(len(vecs[0]))
			for i, v := range vecs {
				if err := exact.Add(uint32(i), v); err != nil {
					return err
				}
			}
			hits := 0
			start = time.Now()
			for i, q := range qs {
				want, err := exact.Search(vecs[q], 10, nil)
				if err != nil {
					return err
				}
				for _, w := range want {
					if slices.ContainsFunc(got[i], func(g vectorindex.Result) bool { return g.Key == w.Key }) {
						hits++
					}
				}
			}
			r.ExactQPS = float64(len(qs)) / time.Since(start).Seconds()
			r.RecallAt10 = float64(hits) / float64(10*len(qs))
			exact = nil

			// Related lookups, one at a time, with explanations.
			all := svc.AllPapers()
			lat := make([]time.Duration, len(qs))
			for i, q := range qs {
				t := time.Now()
				if _, err := svc.Related(ctx, all[q].ID, recommend.Options{K: 10}); err != nil {
					return err
				}
				lat[i] = time.Since(t)
			}
			slices.Sort(lat)
			pct := func(p float64) float64 {
				return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
			}
			r.RelatedP50MS, r.RelatedP99MS = pct(0.50), pct(0.99)
			if asJSON {
				return json.NewEncoder(e.stdout).Encode(r)
			}
			w := bufio.NewWriter(e.stdout)
			fmt.Fprintf(w, "docs %d (%s index, %d themes)\nbuild %.1f s, peak RSS %.2f GB, heap after build %.2f GB\n",
				r.Docs, r.Index, r.Themes, r.BuildSeconds, float64(r.PeakRSSBytes)/1e9, float64(r.HeapBytes)/1e9)
			fmt.Fprintf(w, "index: recall@10 %.3f, %.0f queries/s (exact scan %.0f/s), %d queries\n", r.RecallAt10, r.HNSWQPS, r.ExactQPS, r.Queries)
			fmt.Fprintf(w, "related: p50 %.2f ms, p99 %.2f ms\n", r.RelatedP50MS, r.RelatedP99MS)
			for _, st := range []string{"keyphrases", "features", "latent", "index", "themes"} {
				if sec, ok := r.StageSeconds[st]; ok {
					fmt.Fprintf(w, "  %-10s %6.1f s, live heap up to %4.0f MB\n", st, sec, float64(r.StageHeapBytes[st])/1e6)
				}
			}
			return w.Flush()
		},
	}
	cmd.Flags().IntVar(&docs, "docs", 10000, "synthetic papers to build over")
	cmd.Flags().IntVar(&queries, "queries", 1000, "queries to measure with")
	cmd.Flags().StringVar(&index, "index", "hnsw", "index: exact or hnsw")
	cmd.Flags().BoolVar(&skipThemes, "skip-themes", false, "build no themes")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON line")
	cmd.Flags().Uint64Var(&seed, "seed", 1, "seed of the corpus and the queries")
	cmd.Flags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the build to this file (go tool pprof)")
	return cmd
}

// peakRSS returns the process's peak resident set size in bytes (Linux's
// VmHWM), 0 where it cannot be read.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}
