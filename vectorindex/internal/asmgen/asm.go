// Command asmgen generates vectorindex's assembly with avo
// (github.com/mmcloughlin/avo). It is its own module, so that avo stays out
// of paperrec's module graph. Regenerate from this directory with
//
//	go run . -out ../../prefetch_amd64.s -stubs ../../prefetch_amd64.go -pkg vectorindex
package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
)

func main() {
	TEXT("prefetch", NOSPLIT, "func(p *uint32, lines int)")
	Pragma("noescape")
	Doc(
		"prefetch asks the CPU to load the lines cache lines (64 bytes each)",
		"starting at p into all cache levels (PREFETCHT0), without waiting for",
		"them. lines must be at least 1.",
	)
	p := Load(Param("p"), GP64())
	n := Load(Param("lines"), GP64())
	Label("loop")
	PREFETCHT0(Mem{Base: p})
	ADDQ(Imm(64), p)
	DECQ(n)
	JNZ(LabelRef("loop"))
	RET()
	Generate()
}
