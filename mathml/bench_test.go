package mathml

import (
	"bytes"
	"runtime"
	"testing"

	"github.com/dop251/goja"

	"github.com/paperrec/paperrec/data"
	"github.com/paperrec/paperrec/models"
)

// listingTexts returns the bundled listing's titles and abstracts.
func listingTexts(b testing.TB) (titles, abstracts []string) {
	res, err := models.ParseListing(bytes.NewReader(data.Listing), data.ListingName, models.ParseOptions{})
	if err != nil {
		b.Fatal(err)
	}
	for _, p := range res.Papers {
		titles = append(titles, p.Title)
		abstracts = append(abstracts, p.Abstract)
	}
	return titles, abstracts
}

// BenchmarkStartup is what the first expression pays: compiling KaTeX and
// loading it into a runtime.
func BenchmarkStartup(b *testing.B) {
	b.Run("compile", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := goja.Compile("katex.min.js", katexSource+renderSource, true); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("runtime", func(b *testing.B) {
		e := newEngine(1, 16)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := e.newVM(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCorpus renders the bundled listing: cold (a new engine each
// time: start-up, every expression rendered once) and cached.
func BenchmarkCorpus(b *testing.B) {
	titles, abstracts := listingTexts(b)
	sets := []struct {
		name  string
		texts []string
	}{{"titles", titles}, {"abstracts", abstracts}, {"all", append(append([]string{}, titles...), abstracts...)}}
	for _, s := range sets {
		b.Run(s.name+"/cold", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				e := newEngine(0, cacheSize)
				for _, t := range s.texts {
					render(t, e.math)
				}
			}
		})
		b.Run(s.name+"/cached", func(b *testing.B) {
			e := newEngine(0, cacheSize)
			for _, t := range s.texts {
				render(t, e.math)
			}
			b.ReportAllocs()
			for b.Loop() {
				for _, t := range s.texts {
					render(t, e.math)
				}
			}
		})
	}
}

// BenchmarkExpression is one expression rendered by KaTeX, uncached.
func BenchmarkExpression(b *testing.B) {
	for _, tex := range []string{`d>2`, `{T\overline{T}}`, `M_{\rm halo}(z=0)\approx 10^{10}\,M_\odot`} {
		b.Run(tex, func(b *testing.B) {
			e := newEngine(1, 16)
			e.run(tex, false) // start the runtime
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.run(tex, false); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMemory reports the heap one runtime holds, and the heap of a
// cache filled with the listing's expressions.
func BenchmarkMemory(b *testing.B) {
	titles, abstracts := listingTexts(b)
	heap := func() float64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return float64(m.HeapAlloc)
	}
	for b.Loop() {
		e := newEngine(1, cacheSize)
		e.program() // compiled, not yet loaded
		h0 := heap()
		v, err := e.newVM()
		if err != nil {
			b.Fatal(err)
		}
		h1 := heap()
		e.idle <- v
		for _, t := range append(titles, abstracts...) {
			render(t, e.math)
		}
		h2 := heap()
		b.ReportMetric(h1-h0, "B/runtime")
		b.ReportMetric(h2-h1, "B/cache")
		b.ReportMetric(float64(e.cache.Len()), "expressions")
		runtime.KeepAlive(v)
	}
}
