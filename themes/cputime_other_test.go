//go:build !unix

package themes_test

import "time"

// cpuTime is unknown here: BenchmarkBuildBundled reports wall time only.
func cpuTime() time.Duration { return 0 }
