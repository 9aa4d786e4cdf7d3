package themes

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkBuild builds the themes of synthetic corpora of 64-dimensional
// vectors; above ExactLimit papers it takes the micro-cluster path.
func BenchmarkBuild(b *testing.B) {
	for _, n := range []int{500, 2000, 6000} {
		in, _ := synthetic(corpusSpec{topics: n / 50, perTopic: 50, dim: 64, noise: 1, seed: 1})
		b.Run(fmt.Sprintf("papers=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Build(context.Background(), in, Config{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
