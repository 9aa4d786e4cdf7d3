package main

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/paperrec/paperrec/models"
)

// sentenceEnd splits an abstract into sentences, as docs/bench/gencorpus.py
// does.
var sentenceEnd = regexp.MustCompile(`[.!?]\s+`)

// synthesize returns n papers for scale benchmarks, seeded: each recombines
// the sentences of two abstracts of one area and one of any area, under a
// title cut from the first's, so that vocabulary and topic structure look
// like the source's (the Go twin of docs/bench/gencorpus.py).
func synthesize(src []models.Paper, n int, seed uint64) []models.Paper {
	rng := rand.New(rand.NewPCG(seed, 42))
	byArea := map[models.Category][]int{}
	for i, p := range src {
		byArea[p.Category] = append(byArea[p.Category], i)
	}
	areas := make([]models.Category, 0, len(byArea))
	for a := range byArea {
		areas = append(areas, a)
	}
	slices.Sort(areas)
	sentences := make([][]string, len(src))
	for i, p := range src {
		sentences[i] = splitKeep(p.Abstract)
	}
	out := make([]models.Paper, n)
	for i := range out {
		area := areas[rng.IntN(len(areas))]
		pool := byArea[area]
		a, b := pool[rng.IntN(len(pool))], pool[rng.IntN(len(pool))]
		parents := []int{a, b, rng.IntN(len(src))}
		var sents []string
		for _, p := range parents {
			s := sentences[p]
			for _, k := range rng.Perm(len(s))[:max(1, len(s)/2)] {
				sents = append(sents, s[k])
			}
		}
		rng.Shuffle(len(sents), func(x, y int) { sents[x], sents[y] = sents[y], sents[x] })
		words := strings.Fields(src[a].Title)
		other := strings.Fields(src[b].Title)
		title := strings.Join(words[:min(len(words), 4+rng.IntN(6))], " ") + " " + other[rng.IntN(len(other))]
		d := src[a].Date
		out[i] = models.Paper{ID: fmt.Sprintf("syn%07d", i), Title: title, Abstract: strings.Join(sents[:min(8, len(sents))], " "),
			Category: area, Date: models.Date{Year: d.Year, Month: time.Month(1 + rng.IntN(12)), Day: 1 + rng.IntN(28)}}
	}
	return out
}

// splitKeep splits text after each sentence end, keeping the punctuation.
func splitKeep(text string) []string {
	var out []string
	last := 0
	for _, m := range sentenceEnd.FindAllStringIndex(text, -1) {
		out = append(out, strings.TrimSpace(text[last:m[0]+1]))
		last = m[1]
	}
	if rest := strings.TrimSpace(text[last:]); rest != "" {
		out = append(out, rest)
	}
	return out
}
