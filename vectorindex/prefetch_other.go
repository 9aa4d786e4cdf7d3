//go:build !amd64

package vectorindex

// prefetch does nothing without the amd64 assembly.
func prefetch(p *uint32, lines int) {}
