package vectorindex

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"math"
	"math/rand/v2"
)

// File format, version 1, all integers little endian:
//
//	magic    "PRVI"
//	kind     1 byte: 'E' (Exact) or 'H' (HNSW)
//	version  1 byte: 1
//	reserved 2 bytes: 0
//	dim      uint32
//	n        uint32: vectors (Exact) or nodes including tombstones (HNSW)
//	Exact:   keys [n]uint32, vectors [n*dim]float32 (unit or zero length)
//	HNSW:    m uint32, efConstruction uint32, efSearch uint32, seed int64,
//	         rng [20]byte (math/rand/v2 PCG state), entry uint32,
//	         maxLevel int32 (-1 if empty), keys [n]uint32,
//	         levels [n]uint8 (bit 7 set: tombstone), vectors [n*dim]float32,
//	         level-0 blocks [n*(2m+1)]uint32 (count, then 2m slots),
//	         upper blocks [sum(levels)*(m+1)]uint32 in id order
//	crc      uint32: CRC-32C (Castagnoli) of every byte before it
const (
	magic         = "PRVI"
	formatVersion = 1
	kindExact     = 'E'
	kindHNSW      = 'H'
	rngStateLen   = 20
	deletedFlag   = 0x80
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// encoder writes little-endian values through a buffer, hashing and counting
// them. The first error sticks.
type encoder struct {
	w   *bufio.Writer
	cw  countingWriter
	crc hash.Hash32
	buf [8]byte
	err error
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func newEncoder(w io.Writer) *encoder {
	e := &encoder{crc: crc32.New(castagnoli)}
	e.cw.w = w
	e.w = bufio.NewWriterSize(&e.cw, 1<<16)
	return e
}

func (e *encoder) bytes(p []byte) {
	if e.err != nil {
		return
	}
	e.crc.Write(p)
	_, e.err = e.w.Write(p)
}

func (e *encoder) u32(v uint32) {
	binary.LittleEndian.PutUint32(e.buf[:4], v)
	e.bytes(e.buf[:4])
}

func (e *encoder) u64(v uint64) {
	binary.LittleEndian.PutUint64(e.buf[:], v)
	e.bytes(e.buf[:])
}

func (e *encoder) u32s(s []uint32) {
	var chunk [4096]byte
	for len(s) > 0 && e.err == nil {
		n := min(len(s), len(chunk)/4)
		for i, v := range s[:n] {
			binary.LittleEndian.PutUint32(chunk[4*i:], v)
		}
		e.bytes(chunk[:4*n])
		s = s[n:]
	}
}

func (e *encoder) f32s(s []float32) {
	var chunk [4096]byte
	for len(s) > 0 && e.err == nil {
		n := min(len(s), len(chunk)/4)
		for i, v := range s[:n] {
			binary.LittleEndian.PutUint32(chunk[4*i:], math.Float32bits(v))
		}
		e.bytes(chunk[:4*n])
		s = s[n:]
	}
}

func (e *encoder) header(kind byte, dim, n int) {
	e.bytes([]byte{magic[0], magic[1], magic[2], magic[3], kind, formatVersion, 0, 0})
	e.u32(uint32(dim))
	e.u32(uint32(n))
}

// finish writes the checksum and flushes.
func (e *encoder) finish() (int64, error) {
	if e.err == nil {
		binary.LittleEndian.PutUint32(e.buf[:4], e.crc.Sum32())
		_, e.err = e.w.Write(e.buf[:4])
	}
	if e.err == nil {
		e.err = e.w.Flush()
	}
	return e.cw.n, e.err
}

// decoder reads little-endian values, hashing them. It never reads past the
// trailer and allocates in proportion to the bytes actually read, so a
// forged length cannot make it allocate more than the stream holds. The
// first error sticks; truncation becomes ErrCorrupt.
type decoder struct {
	r   io.Reader
	crc hash.Hash32
	buf []byte
	err error
}

func newDecoder(r io.Reader) *decoder {
	return &decoder{r: r, crc: crc32.New(castagnoli), buf: make([]byte, 1<<15)}
}

// read fills p from the stream.
func (d *decoder) read(p []byte) bool {
	if d.err != nil {
		return false
	}
	if _, err := io.ReadFull(d.r, p); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			err = fmt.Errorf("truncated: %w", ErrCorrupt)
		}
		d.err = err
		return false
	}
	d.crc.Write(p)
	return true
}

func (d *decoder) u32() uint32 {
	if !d.read(d.buf[:4]) {
		return 0
	}
	return binary.LittleEndian.Uint32(d.buf)
}

func (d *decoder) u64() uint64 {
	if !d.read(d.buf[:8]) {
		return 0
	}
	return binary.LittleEndian.Uint64(d.buf)
}

// chunked reads n elements of size bytes each, growing the result only as
// data arrives.
func chunked[T any](d *decoder, n, size int, conv func([]byte) T) []T {
	if d.err != nil || n <= 0 {
		return nil
	}
	out := make([]T, 0, min(n, len(d.buf)/size))
	for n > 0 && d.err == nil {
		c := min(n, len(d.buf)/size)
		p := d.buf[:c*size]
		if !d.read(p) {
			break
		}
		for i := range c {
			out = append(out, conv(p[i*size:]))
		}
		n -= c
	}
	return out
}

func (d *decoder) u32s(n int) []uint32 {
	return chunked(d, n, 4, binary.LittleEndian.Uint32)
}

func (d *decoder) f32s(n int) []float32 {
	return chunked(d, n, 4, func(b []byte) float32 { return math.Float32frombits(binary.LittleEndian.Uint32(b)) })
}

func (d *decoder) u8s(n int) []uint8 {
	return chunked(d, n, 1, func(b []byte) uint8 { return b[0] })
}

// u32sInto fills dst from the stream.
func (d *decoder) u32sInto(dst []uint32) {
	for len(dst) > 0 && d.err == nil {
		c := min(len(dst), len(d.buf)/4)
		p := d.buf[:4*c]
		if !d.read(p) {
			return
		}
		for i := range c {
			dst[i] = binary.LittleEndian.Uint32(p[4*i:])
		}
		dst = dst[c:]
	}
}

// f32sInto fills dst from the stream.
func (d *decoder) f32sInto(dst []float32) {
	for len(dst) > 0 && d.err == nil {
		c := min(len(dst), len(d.buf)/4)
		p := d.buf[:4*c]
		if !d.read(p) {
			return
		}
		for i := range c {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(p[4*i:]))
		}
		dst = dst[c:]
	}
}

// header reads and checks the fixed header and returns dim and n.
func (d *decoder) header(kind byte) (dim, n int) {
	var h [8]byte
	if !d.read(h[:]) {
		return 0, 0
	}
	switch {
	case string(h[:4]) != magic:
		d.fail("bad magic %q", h[:4])
	case h[4] != kind:
		d.fail("kind %q, want %q", h[4], kind)
	case h[5] != formatVersion:
		d.fail("unsupported version %d", h[5])
	case h[6] != 0 || h[7] != 0:
		d.fail("reserved bytes set")
	}
	dim, n = int(d.u32()), int(d.u32())
	if d.err == nil && (dim < 1 || dim > maxDim) {
		d.fail("dimension %d", dim)
	}
	if d.err == nil && n > math.MaxInt32 {
		d.fail("count %d", n)
	}
	if d.err != nil {
		return 0, 0
	}
	return dim, n
}

// fail records a format error unless an error is already recorded.
func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf(format+": %w", append(args, ErrCorrupt)...)
	}
}

// finish reads the trailer and checks the checksum.
func (d *decoder) finish() error {
	if d.err != nil {
		return d.err
	}
	sum := d.crc.Sum32()
	var t [4]byte
	if _, err := io.ReadFull(d.r, t[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("truncated: %w", ErrCorrupt)
		}
		return err
	}
	if binary.LittleEndian.Uint32(t[:]) != sum {
		return fmt.Errorf("checksum mismatch: %w", ErrCorrupt)
	}
	return nil
}

// checkUnit checks that a vector is finite and of unit or zero length, as
// Add stores them.
func checkUnit(v []float32) error {
	var ss float64
	for _, x := range v {
		f := float64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return errors.New("non-finite component")
		}
		ss += f * f
	}
	if ss != 0 && math.Abs(ss-1) > 1e-3 {
		return fmt.Errorf("squared norm %g", ss)
	}
	return nil
}

// WriteTo writes the index in the format read by [ReadExact] and returns the
// number of bytes written. Searches may run while it writes; Add and Delete
// wait.
func (x *Exact) WriteTo(w io.Writer) (int64, error) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	e := newEncoder(w)
	e.header(kindExact, x.dim, len(x.slot))
	for s, key := range x.keys {
		if !x.isHole(s) {
			e.u32(key)
		}
	}
	for s := range x.keys {
		if !x.isHole(s) {
			e.f32s(x.vecs.vec(s))
		}
	}
	n, err := e.finish()
	if err != nil {
		return n, fmt.Errorf("write exact index: %w", err)
	}
	return n, nil
}

// ReadExact reads an index written by [Exact.WriteTo]. A malformed, truncated
// or checksum-failing stream gives an error wrapping [ErrCorrupt]. It reads
// nothing past the checksum.
func ReadExact(r io.Reader) (*Exact, error) {
	x, err := readExact(r)
	if err != nil {
		return nil, fmt.Errorf("read exact index: %w", err)
	}
	return x, nil
}

func readExact(r io.Reader) (*Exact, error) {
	d := newDecoder(r)
	dim, n := d.header(kindExact)
	keys := d.u32s(n)
	if d.err != nil {
		return nil, d.err
	}
	x := NewExact(dim)
	// Vectors are allocated as their bytes arrive.
	for range n {
		s := x.vecs.alloc()
		if d.f32sInto(x.vecs.vec(s)); d.err != nil {
			return nil, d.err
		}
	}
	if err := d.finish(); err != nil {
		return nil, err
	}
	x.keys = keys
	x.holes = make([]uint64, (n+63)/64)
	x.slot = make(map[uint32]int32, n)
	for s, k := range keys {
		if err := checkUnit(x.vecs.vec(s)); err != nil {
			return nil, fmt.Errorf("vector %d: %v: %w", s, err, ErrCorrupt)
		}
		if _, dup := x.slot[k]; dup {
			return nil, fmt.Errorf("duplicate key %d: %w", k, ErrCorrupt)
		}
		x.slot[k] = int32(s)
	}
	return x, nil
}

// WriteTo writes the graph in the format read by [ReadHNSW] and returns the
// number of bytes written. Searches may run while it writes; Add, AddBatch
// and Delete wait, and it waits for them.
func (h *HNSW) WriteTo(w io.Writer) (int64, error) {
	h.writeMu.Lock()
	defer h.writeMu.Unlock()
	h.mu.RLock()
	defer h.mu.RUnlock()
	state, err := h.rng.MarshalBinary()
	if err != nil || len(state) != rngStateLen {
		return 0, fmt.Errorf("write hnsw index: rng state of %d bytes: %v", len(state), err)
	}
	n := h.nodes.n
	e := newEncoder(w)
	e.header(kindHNSW, h.dim, n)
	e.u32(uint32(h.m))
	e.u32(uint32(h.efConstruction))
	e.u32(uint32(min(h.efSearch.Load(), math.MaxInt32)))
	e.u64(uint64(h.seed))
	e.bytes(state)
	entry, maxLevel := h.loadTop()
	e.u32(entry)
	e.u32(uint32(int32(maxLevel)))
	buf := make([]uint32, 0, 1024)
	for id := range uint32(n) {
		if buf = append(buf, h.key(id)); len(buf) == cap(buf) {
			e.u32s(buf)
			buf = buf[:0]
		}
	}
	e.u32s(buf)
	levels := make([]byte, 0, 4096)
	for id := range uint32(n) {
		l := byte(h.level(id))
		if h.isDeleted(id) {
			l |= deletedFlag
		}
		if levels = append(levels, l); len(levels) == cap(levels) {
			e.bytes(levels)
			levels = levels[:0]
		}
	}
	e.bytes(levels)
	for id := range uint32(n) {
		e.f32s(h.vec(id))
	}
	for id := range uint32(n) {
		e.u32s(h.block(id, 0))
	}
	for id := range uint32(n) {
		if l := h.level(id); l > 0 {
			e.u32s(h.upper.block(h.nodes.rec(id)[h.dim+2], l*(h.m+1)))
		}
	}
	written, err := e.finish()
	if err != nil {
		return written, fmt.Errorf("write hnsw index: %w", err)
	}
	return written, nil
}

// ReadHNSW reads a graph written by [HNSW.WriteTo]. A malformed, truncated or
// checksum-failing stream gives an error wrapping [ErrCorrupt]. It reads
// nothing past the checksum.
func ReadHNSW(r io.Reader) (*HNSW, error) {
	h, err := readHNSW(r)
	if err != nil {
		return nil, fmt.Errorf("read hnsw index: %w", err)
	}
	return h, nil
}

func readHNSW(r io.Reader) (*HNSW, error) {
	d := newDecoder(r)
	dim, n := d.header(kindHNSW)
	m, efc, efs := int(d.u32()), int(d.u32()), int(d.u32())
	seed := int64(d.u64())
	state := make([]byte, rngStateLen)
	d.read(state)
	entry, maxLevel := d.u32(), int(int32(d.u32()))
	if d.err == nil && (m < 2 || m > maxM || efc < m || efs < 1 || seed == 0) {
		d.fail("parameters m=%d efConstruction=%d efSearch=%d seed=%d", m, efc, efs, seed)
	}
	if d.err == nil && (maxLevel < -1 || maxLevel > maxLevelCap) {
		d.fail("max level %d", maxLevel)
	}
	keys := d.u32s(n)
	levels := d.u8s(n)
	for id, l := range levels {
		if int(l&^deletedFlag) > maxLevelCap {
			d.fail("node %d level %d", id, l&^deletedFlag)
			break
		}
	}
	if d.err != nil {
		return nil, d.err
	}
	h := NewHNSW(dim, HNSWConfig{M: m, EfConstruction: efc, EfSearch: efs, Seed: seed})
	rng := new(rand.PCG)
	if err := rng.UnmarshalBinary(state); err != nil {
		return nil, fmt.Errorf("rng state: %w", ErrCorrupt)
	}
	h.setRNG(rng)
	// Records are allocated as the vectors' bytes arrive, so a forged count
	// costs at most one chunk more than the stream holds.
	for id, l := range levels {
		var flags uint32
		if l&deletedFlag != 0 {
			flags = deletedBit
		}
		got := h.allocNode(keys[id], int(l&^deletedFlag), flags)
		if d.f32sInto(h.vec(got)); d.err != nil {
			return nil, d.err
		}
	}
	for id := range uint32(n) {
		if d.u32sInto(h.block(id, 0)); d.err != nil {
			return nil, d.err
		}
	}
	for id := range uint32(n) {
		if l := h.level(id); l > 0 {
			if d.u32sInto(h.upper.block(h.nodes.rec(id)[h.dim+2], l*(m+1))); d.err != nil {
				return nil, d.err
			}
		}
	}
	if err := d.finish(); err != nil {
		return nil, err
	}

	h.ids = make(map[uint32]uint32, n)
	top := -1
	for id := range uint32(n) {
		lv := h.level(id)
		top = max(top, lv)
		if h.isDeleted(id) {
			h.nDeleted++
			continue
		}
		if _, dup := h.ids[keys[id]]; dup {
			return nil, fmt.Errorf("duplicate key %d: %w", keys[id], ErrCorrupt)
		}
		h.ids[keys[id]] = id
	}
	if top != maxLevel || (n > 0 && (entry >= uint32(n) || h.level(entry) != maxLevel)) || (n == 0 && entry != 0) {
		return nil, fmt.Errorf("entry point %d at max level %d: %w", entry, maxLevel, ErrCorrupt)
	}
	if n > 0 && len(h.ids) == 0 {
		return nil, fmt.Errorf("only tombstones: %w", ErrCorrupt)
	}
	if maxLevel >= 0 {
		h.storeTop(entry, maxLevel)
	}
	for id := range uint32(n) {
		if err := checkUnit(h.vec(id)); err != nil {
			return nil, fmt.Errorf("vector %d: %v: %w", id, err, ErrCorrupt)
		}
		for l := 0; l <= h.level(id); l++ {
			b := h.block(id, l)
			if int(b[0]) > len(b)-1 {
				return nil, fmt.Errorf("node %d level %d: %d links: %w", id, l, b[0], ErrCorrupt)
			}
			for _, nb := range b[1 : 1+b[0]] {
				if nb >= uint32(n) || nb == id || h.level(nb) < l {
					return nil, fmt.Errorf("node %d level %d: bad link %d: %w", id, l, nb, ErrCorrupt)
				}
			}
		}
	}
	return h, nil
}
