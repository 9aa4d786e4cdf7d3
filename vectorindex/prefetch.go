package vectorindex

//go:generate sh -c "cd internal/asmgen && go run . -out ../../prefetch_amd64.s -stubs ../../prefetch_amd64.go -pkg vectorindex"

// A search prefetches the lines of each unvisited neighbour's record that
// hold its vector, key and flags (17 of the 19 lines of a 256-dimensional
// record), at most maxPrefetchLines. CPU time of one search at ef 48 on
// 100k 256-dimensional vectors (the issue 11 set), four rounds each:
// no prefetch 230-288 µs; 4 lines 191-222; 8 lines 182-198; 12 lines
// 159-189; 16 lines 146-174. A second run: 8 lines 144-168, 16 lines
// 133-142, 17 lines 131-149, 19 lines (the links too) 138-156. At 20k:
// 57-61 µs without, 48-51 with 8 or 16 lines.
const maxPrefetchLines = 32
