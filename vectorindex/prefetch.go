package vectorindex

//go:generate sh -c "cd internal/asmgen && go run . -out ../../prefetch_amd64.s -stubs ../../prefetch_amd64.go -pkg vectorindex"

// maxPrefetchLines caps the cache lines prefetched per node: at 20k
// 256-dimensional vectors, prefetching the first 1, 2, 4, 8 or 16 of a
// vector's 16 lines took a search from 57-61 µs of CPU (no prefetch) to
// 50, 52, 50-53, 49 and 48-51 µs; the hardware prefetcher streams the rest.
const maxPrefetchLines = 8
