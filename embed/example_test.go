package embed_test

import (
	"fmt"
	"strings"

	"github.com/paperrec/paperrec/embed"
)

func ExampleAnalyze() {
	toks := embed.Analyze(`We propose equivariant neural networks for $\Lambda$CDM galaxies \citep{smith20}, end-to-end.`)
	var b strings.Builder
	for i, t := range toks {
		switch {
		case i == 0:
		case t.Break: // a stop word or punctuation came between
			b.WriteString(" | ")
		default:
			b.WriteString(" ")
		}
		b.WriteString(t.Term)
	}
	fmt.Println(b.String())
	// Output: equivariant neural network | lambdacdm galaxy | end | end
}

func ExamplePhrases_SegmentDoc() {
	// Each line lists three phrases; the line alone does not say where they
	// part, the corpus does.
	docs := []embed.PhraseDoc{
		{Line: "neural networks dark matter symmetry"},
		{Line: "dark matter gravitational waves neural networks"},
		{Line: "gravitational waves symmetry dark matter"},
		{Line: "symmetry neural networks gravitational waves"},
		{Line: "neural networks symmetry dark matter"},
	}
	ph := embed.LearnPhrases(docs, embed.PhraseConfig{})
	fmt.Println(strings.Join(ph.Segment("Gravitational Waves Neural Networks Symmetry"), " | "))
	fmt.Println(strings.Join(ph.SegmentDoc(embed.PhraseDoc{
		Line:     "halo mass function emulator design dark matter",
		Abstract: "We propose an emulator design for the halo mass function.",
	}), " | "))
	// Output:
	// gravitational waves | neural networks | symmetry
	// halo mass function | emulator design | dark matter
}
