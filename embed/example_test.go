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

func ExamplePhrases_Segment() {
	lines := []string{
		"neural networks dark matter",
		"dark matter gravitational waves symmetry",
		"gravitational waves neural networks",
		"symmetry neural networks",
		"neural networks symmetry",
		"dark matter symmetry",
		"neural networks symmetry gravitational waves",
	}
	ph := embed.LearnPhrases(lines, embed.PhraseConfig{})
	fmt.Println(strings.Join(ph.Segment("Gravitational Waves Neural Networks Symmetry Dark Matter"), " | "))
	// Output: gravitational waves | neural networks | symmetry | dark matter
}
