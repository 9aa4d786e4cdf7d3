package recommend_test

import (
	"bytes"
	"context"
	"fmt"

	"github.com/paperrec/paperrec/data"
	"github.com/paperrec/paperrec/models"
	"github.com/paperrec/paperrec/recommend"
)

// The README's "Use it as a library" snippet.
func ExampleService_Related() {
	ctx := context.Background()
	res, err := models.ParseListing(bytes.NewReader(data.Listing), data.ListingName, models.ParseOptions{})
	if err != nil {
		panic(err)
	}
	corpus, err := models.NewCorpus(res.Papers)
	if err != nil {
		panic(err)
	}
	svc, err := recommend.New(ctx, corpus, recommend.Config{SkipThemes: true})
	if err != nil {
		panic(err)
	}
	items, err := svc.Related(ctx, "naturalness-and-fisher-information", recommend.Options{K: 3})
	if err != nil {
		panic(err)
	}
	for _, it := range items {
		fmt.Printf("%.3f %s\n", it.Score, it.Paper.Title)
		fmt.Printf("      shared: %v\n", it.Why.Keyphrases)
	}
	// Output:
	// 0.201 Quantification of high dimensional non-Gaussianities and its implication to Fisher analysis in cosmology
	//       shared: []
	// 0.195 Universality of Neural Network Field Theory
	//       shared: [quantum field theory]
	// 0.173 QuanTA: Efficient High-Rank Fine-Tuning of LLMs with Quantum-Informed Tensor Adaptation
	//       shared: []
}
