package vectorindex_test

import (
	"bytes"
	"context"
	"fmt"

	"github.com/paperrec/paperrec/vectorindex"
)

func ExampleHNSW() {
	idx := vectorindex.NewHNSW(3, vectorindex.HNSWConfig{}) // defaults: M 16, EfConstruction 200, EfSearch 64
	papers := map[uint32][]float32{
		1: {1, 0, 0},
		2: {0.9, 0.1, 0},
		3: {0, 1, 0},
		4: {0, 0, 1},
	}
	for key := uint32(1); key <= 4; key++ {
		if err := idx.Add(key, papers[key]); err != nil {
			fmt.Println(err)
			return
		}
	}
	res, err := idx.Search([]float32{1, 0.05, 0}, 2, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range res {
		fmt.Printf("paper %d at distance %.4f\n", r.Key, r.Distance)
	}

	// Only papers with an odd key.
	res, _ = idx.Search([]float32{1, 0.05, 0}, 2, func(key uint32) bool { return key%2 == 1 })
	for _, r := range res {
		fmt.Printf("odd paper %d at distance %.4f\n", r.Key, r.Distance)
	}

	// Save and load.
	var buf bytes.Buffer
	if _, err := idx.WriteTo(&buf); err != nil {
		fmt.Println(err)
		return
	}
	loaded, err := vectorindex.ReadHNSW(&buf)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(loaded.Len(), loaded.Dim())
	// Output:
	// paper 1 at distance 0.0012
	// paper 2 at distance 0.0018
	// odd paper 1 at distance 0.0012
	// odd paper 3 at distance 0.9501
	// 4 3
}

func ExampleExact() {
	idx := vectorindex.NewExact(2)
	idx.Add(10, []float32{1, 0})
	idx.Add(20, []float32{0, 2}) // stored as {0, 1}
	idx.Add(30, []float32{-1, 0})
	res, _ := idx.Search([]float32{1, 1}, 3, nil)
	for _, r := range res {
		fmt.Printf("%d %.4f\n", r.Key, r.Distance)
	}
	_, err := idx.Search([]float32{1, 1, 1}, 3, nil)
	fmt.Println(err)
	// Output:
	// 10 0.2929
	// 20 0.2929
	// 30 1.7071
	// got 3, want 2: vector dimension mismatch
}

func ExampleHNSW_AddBatch() {
	idx := vectorindex.NewHNSW(3, vectorindex.HNSWConfig{})
	keys := []uint32{1, 2, 3, 4}
	vecs := [][]float32{{1, 0, 0}, {0.9, 0.1, 0}, {0, 1, 0}, {0, 0, 1}}
	// Link the batch with GOMAXPROCS workers; searches may run meanwhile.
	if err := idx.AddBatch(context.Background(), keys, vecs, 0); err != nil {
		fmt.Println(err)
		return
	}
	res, _ := idx.Search([]float32{1, 0.05, 0}, 2, nil)
	fmt.Println(len(res), res[0].Key, res[1].Key)

	// Vector returns the stored, normalised copy: read it, never write it.
	v, ok := idx.Vector(2)
	fmt.Printf("%v %.4f %.4f\n", ok, v[0], v[1])
	// Output:
	// 2 1 2
	// true 0.9939 0.1104
}
