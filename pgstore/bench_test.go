package pgstore

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/paperrec/paperrec/data"
	"github.com/paperrec/paperrec/live"
	"github.com/paperrec/paperrec/models"
	"github.com/paperrec/paperrec/recommend"
)

// The benchmarks need PAPERREC_TEST_POSTGRES as the tests do; docs/scaling.md
// ("PostgreSQL store") quotes them.

// reportLatencies reports the median and 99th percentile of ds.
func reportLatencies(b *testing.B, ds []time.Duration) {
	slices.Sort(ds)
	at := func(q float64) float64 { return float64(ds[int(q*float64(len(ds)-1))].Microseconds()) }
	b.ReportMetric(at(0.5), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
}

// BenchmarkCommit commits one new paper a commit, from one writer or from
// eight goroutines on two Stores (two replicas), which take turns at the
// counter row.
func BenchmarkCommit(b *testing.B) {
	for _, writers := range []int{1, 8} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			ctx := context.Background()
			dsn, schema := newSchema(b)
			stores := []*Store{openStore(b, dsn, schema), openStore(b, dsn, schema)}
			var (
				mu  sync.Mutex
				ds  []time.Duration
				n   int
				err error
			)
			b.ReportAllocs()
			b.ResetTimer()
			var wg sync.WaitGroup
			for w := range writers {
				wg.Go(func() {
					for {
						mu.Lock()
						k := n
						n++
						mu.Unlock()
						if k >= b.N {
							return
						}
						id := fmt.Sprintf("w%d-%d", w, k)
						start := time.Now()
						_, cerr := stores[w%2].Commit(ctx, []models.Change{{Op: models.OpAdd, ID: id, Paper: paper(id)}})
						d := time.Since(start)
						mu.Lock()
						ds = append(ds, d)
						if cerr != nil {
							err = cerr
						}
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			reportLatencies(b, ds)
		})
	}
}

// bundled returns the papers of the bundled listing.
func bundled(b *testing.B) []models.Paper {
	res, err := models.ParseListing(bytes.NewReader(data.Listing), data.ListingName, models.ParseOptions{})
	if err != nil {
		b.Fatal(err)
	}
	return res.Papers
}

// BenchmarkSnapshot saves the bundled engine (574 papers, themes too, as
// `serve` builds it) into the store and loads it back.
func BenchmarkSnapshot(b *testing.B) {
	ctx := context.Background()
	dsn, schema := newSchema(b)
	s := openStore(b, dsn, schema)
	corpus, err := models.NewCorpus(bundled(b))
	if err != nil {
		b.Fatal(err)
	}
	svc, err := recommend.New(ctx, corpus, recommend.Config{})
	if err != nil {
		b.Fatal(err)
	}
	var size int
	// The baselines: the same snapshot written to and read from memory.
	var mem bytes.Buffer
	b.Run("write-memory", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			mem.Reset()
			if _, err := svc.WriteSnapshot(&mem); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("load-memory", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := recommend.ReadSnapshot(ctx, bytes.NewReader(mem.Bytes())); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("save", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.SaveSnapshot(ctx, 0, func(w io.Writer) ([32]byte, error) {
				cw := &countWriter{w: w}
				sum, err := svc.WriteSnapshot(cw)
				size = cw.n
				return sum, err
			}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(size)/1e6, "MB")
	})
	b.Run("load", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r, _, err := s.OpenSnapshot(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if _, _, err := recommend.ReadSnapshot(ctx, r); err != nil {
				b.Fatal(err)
			}
			r.Close()
		}
	})
	b.Run("read-bytes", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r, _, err := s.OpenSnapshot(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.Copy(io.Discard, r); err != nil {
				b.Fatal(err)
			}
			r.Close()
		}
	})
}

type countWriter struct {
	w io.Writer
	n int
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += n
	return n, err
}

// BenchmarkCatchUp measures a replica that starts 10,000 changes behind
// the snapshot of the bundled engine (10,000 new papers, derived from the
// bundled ones): reading the log alone, and opening an engine, which
// loads the snapshot and then folds every change in.
func BenchmarkCatchUp(b *testing.B) {
	const behind = 10000
	ctx := context.Background()
	dsn, schema := newSchema(b)
	s := openStore(b, dsn, schema)
	papers := bundled(b)
	if err := s.Seed(ctx, papers); err != nil {
		b.Fatal(err)
	}
	cfg := live.Config{RefitAfter: -1, Logger: quiet()}
	if _, err := live.Open(ctx, s, cfg); err != nil { // fits and saves the snapshot of change 0
		b.Fatal(err)
	}
	for k := 0; k < behind; k += 1000 {
		var batch []models.Change
		for j := k; j < k+1000; j++ {
			p := papers[j%len(papers)]
			p.ID = fmt.Sprintf("%s-%d", p.ID, j)
			batch = append(batch, models.Change{Op: models.OpPut, ID: p.ID, Paper: p})
		}
		if _, err := s.Commit(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("read-log", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var after uint64
			for {
				cs, err := s.Changes(ctx, after, 1000)
				if err != nil {
					b.Fatal(err)
				}
				if len(cs) == 0 {
					break
				}
				after = cs[len(cs)-1].Seq
			}
			if after != behind {
				b.Fatalf("read up to %d", after)
			}
		}
	})
	b.Run("engine", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			e, err := live.Open(ctx, s, cfg)
			if err != nil {
				b.Fatal(err)
			}
			if st := e.Status(); st.Seq != behind || st.FitSeq != 0 {
				b.Fatalf("opened %+v", st)
			}
		}
	})
}
