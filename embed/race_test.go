//go:build race

package embed

// raceEnabled reports a -race build, whose tests use smaller corpora to stay fast.
const raceEnabled = true
