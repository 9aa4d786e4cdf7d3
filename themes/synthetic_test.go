package themes

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/paperrec/paperrec/models"
)

// syllables make up the pseudo-words of synthetic topics: letters only, so
// that the analyzer keeps them as words.
var syllables = []string{"ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "pu", "da", "fe", "go", "hi", "ju", "bo"}

// topicWord returns the j-th word of topic t.
func topicWord(t, j int) string {
	return syllables[t%16] + syllables[(t/16+j)%16] + syllables[(j*7+3)%16] + "x"
}

// corpusSpec describes a synthetic corpus: topics of papers whose unit
// vectors are their topic's centre plus noise, and stray papers with random
// vectors and text.
type corpusSpec struct {
	topics, perTopic, stray, dim int
	noise                        float64
	seed                         uint64
}

// synthetic returns the corpus and each paper's topic (-1 for a stray one).
func synthetic(s corpusSpec) (Input, []int) {
	rng := rand.New(rand.NewPCG(s.seed, 11))
	unit := func(v []float64) []float32 {
		n := 0.0
		for _, x := range v {
			n += x * x
		}
		out := make([]float32, len(v))
		for i, x := range v {
			out[i] = float32(x / math.Sqrt(n))
		}
		return out
	}
	gauss := func() []float64 {
		v := make([]float64, s.dim)
		for i := range v {
			v[i] = rng.NormFloat64()
		}
		return v
	}
	centres := make([][]float32, s.topics)
	for t := range centres {
		centres[t] = unit(gauss())
	}
	var in Input
	var truth []int
	years := []int{2021, 2022, 2023, 2024}
	areas := []models.Category{models.Astrophysics, models.FoundationalAI, models.TheoreticalPhysics}
	add := func(topic int) {
		i := len(in.Papers)
		var vec []float32
		var words func(j int) string
		if topic >= 0 {
			v := gauss()
			for d := range v {
				v[d] = float64(centres[topic][d]) + s.noise*v[d]/math.Sqrt(float64(s.dim))
			}
			vec = unit(v)
			words = func(j int) string { return topicWord(topic, j) }
		} else {
			vec = unit(gauss())
			words = func(j int) string { return topicWord(100+i, j) }
		}
		w := func() string { return words(rng.IntN(12)) }
		sentence := func() string {
			return fmt.Sprintf("We relate %s %s to the %s of %s in %s models of %s %s.",
				w(), w(), w(), w(), w(), w(), w())
		}
		first := sentence()
		p := models.Paper{
			ID:       fmt.Sprintf("paper-%04d", i),
			Title:    fmt.Sprintf("%s of %s %s", w(), words(0), words(1)),
			Abstract: first + " " + sentence() + " This is the third sentence of " + w() + ". " + sentence(),
			Keywords: []string{words(0) + " " + words(1), words(2) + " " + words(3), w()},
			Category: areas[max(0, topic)%len(areas)],
			Date:     models.Date{Year: years[rng.IntN(len(years))]},
		}
		p.Title = strings.ToUpper(p.Title[:1]) + p.Title[1:]
		in.Papers = append(in.Papers, p)
		in.Vectors = append(in.Vectors, vec)
		truth = append(truth, topic)
	}
	for t := range s.topics {
		for range s.perTopic {
			add(t)
		}
	}
	for range s.stray {
		add(-1)
	}
	// Shuffle, so that corpus order says nothing about topics.
	perm := rng.Perm(len(in.Papers))
	out := Input{Papers: make([]models.Paper, len(perm)), Vectors: make([][]float32, len(perm))}
	outTruth := make([]int, len(perm))
	for to, from := range perm {
		out.Papers[to] = in.Papers[from]
		out.Vectors[to] = in.Vectors[from]
		outTruth[to] = truth[from]
	}
	return out, outTruth
}
