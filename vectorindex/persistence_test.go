package vectorindex

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"math"
	"runtime"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func encode(t testing.TB, w io.WriterTo) []byte {
	t.Helper()
	var buf bytes.Buffer
	n, err := w.WriteTo(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(buf.Len()) {
		t.Fatalf("WriteTo returned %d, wrote %d bytes", n, buf.Len())
	}
	return buf.Bytes()
}

// withCRC returns a copy of b with its trailer recomputed, so that a test
// can reach the checks behind the checksum.
func withCRC(b []byte) []byte {
	b = bytes.Clone(b)
	if len(b) >= 4 {
		binary.LittleEndian.PutUint32(b[len(b)-4:], crc32.Checksum(b[:len(b)-4], castagnoli))
	}
	return b
}

func TestExactRoundTrip(t *testing.T) {
	s := recallData()
	data := encode(t, s.exact)
	x, err := ReadExact(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if x.Len() != s.exact.Len() || x.Dim() != s.exact.Dim() {
		t.Fatalf("Len, Dim = %d, %d; want %d, %d", x.Len(), x.Dim(), s.exact.Len(), s.exact.Dim())
	}
	if diff := cmp.Diff(s.truth, searchAll(t, x, s.queries, recallK, nil)); diff != "" {
		t.Errorf("results after round trip (-want +got):\n%s", diff)
	}
	if again := encode(t, x); !bytes.Equal(data, again) {
		t.Error("re-encoding a read index gives different bytes")
	}
}

func TestHNSWRoundTrip(t *testing.T) {
	t.Parallel()
	s := recallData()
	h := clone(t, defaultGraph())
	for key := uint32(0); key < recallN; key += 7 {
		h.Delete(key)
	}
	h.SetEfSearch(40)
	data := encode(t, h)
	got, err := ReadHNSW(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if got.Len() != h.Len() || got.Dim() != h.Dim() || got.efSearch.Load() != 40 {
		t.Fatalf("Len, Dim, ef = %d, %d, %d; want %d, %d, 40", got.Len(), got.Dim(), got.efSearch.Load(), h.Len(), h.Dim())
	}
	for _, accept := range []func(uint32) bool{nil, func(k uint32) bool { return k%3 == 0 }} {
		want := searchAll(t, h, s.queries, recallK, accept)
		if diff := cmp.Diff(want, searchAll(t, got, s.queries, recallK, accept)); diff != "" {
			t.Errorf("results after round trip (-want +got):\n%s", diff)
		}
	}
	if again := encode(t, got); !bytes.Equal(data, again) {
		t.Error("re-encoding a read graph gives different bytes")
	}
	// The level generator's state is saved too: both copies keep growing
	// identically.
	extra := clustered(99, 300, recallDim, 5, 1)
	for i, v := range extra {
		mustAdd(t, h, uint32(recallN+i), v)
		mustAdd(t, got, uint32(recallN+i), v)
	}
	if !bytes.Equal(encode(t, h), encode(t, got)) {
		t.Error("a read graph grows differently from its original")
	}
}

func TestEmptyRoundTrip(t *testing.T) {
	x, err := ReadExact(bytes.NewReader(encode(t, NewExact(3))))
	if err != nil || x.Len() != 0 || x.Dim() != 3 {
		t.Fatalf("ReadExact(empty) = %v, %v", x, err)
	}
	h, err := ReadHNSW(bytes.NewReader(encode(t, NewHNSW(3, HNSWConfig{M: 5, Seed: 4}))))
	if err != nil || h.Len() != 0 || h.Dim() != 3 || h.m != 5 || h.seed != 4 {
		t.Fatalf("ReadHNSW(empty) = %v, %v", h, err)
	}
	mustAdd(t, h, 1, []float32{1, 2, 3})
	if res, _ := h.Search([]float32{1, 2, 3}, 1, nil); len(res) != 1 {
		t.Fatalf("Search after Add to read empty graph = %v", res)
	}
}

// TestReadStopsAtTrailer reads two indexes from one stream.
func TestReadStopsAtTrailer(t *testing.T) {
	x := NewExact(2)
	mustAdd(t, x, 1, []float32{1, 0})
	h := NewHNSW(2, HNSWConfig{})
	mustAdd(t, h, 2, []float32{0, 1})
	stream := bytes.NewReader(append(encode(t, x), encode(t, h)...))
	if _, err := ReadExact(stream); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadHNSW(stream); err != nil {
		t.Fatal(err)
	}
	if stream.Len() != 0 {
		t.Fatalf("%d bytes left", stream.Len())
	}
}

// smallExact and smallHNSW are the streams the corruption tests edit.
func smallExact(t testing.TB) []byte {
	x := NewExact(4)
	for i, v := range clustered(21, 5, 4, 2, 1) {
		mustAdd(t, x, uint32(10+i), v)
	}
	return encode(t, x)
}

// smallHNSW has nodes 0..199 with every fifth deleted; node 0 is live.
func smallHNSW(t testing.TB) []byte {
	h := NewHNSW(4, HNSWConfig{M: 4, EfConstruction: 16})
	for i, v := range clustered(22, 200, 4, 3, 1) {
		mustAdd(t, h, uint32(i), v)
	}
	for i := uint32(1); i < 200; i += 5 {
		h.Delete(i)
	}
	return encode(t, h)
}

// Offsets into smallHNSW's stream (dim 4, M 4, 200 nodes).
const (
	hOffM        = 16
	hOffRNG      = 36
	hOffEntry    = 56
	hOffMaxLevel = 60
	hOffKeys     = 64
	hOffLevels   = hOffKeys + 4*200
	hOffVecs     = hOffLevels + 200
	hOffLinks0   = hOffVecs + 4*4*200
	hStride0     = 2*4 + 1
)

func put32(b []byte, off int, v uint32) { binary.LittleEndian.PutUint32(b[off:], v) }

func TestReadCorrupt(t *testing.T) {
	ex, hn := smallExact(t), smallHNSW(t)
	readExact := func(b []byte) error { _, err := ReadExact(bytes.NewReader(b)); return err }
	readHNSW := func(b []byte) error { _, err := ReadHNSW(bytes.NewReader(b)); return err }
	// upperNode finds a node above level 0 and the offset of its level-1
	// block in hn.
	upperNode := func() (id, off int) {
		up := hOffLinks0 + 4*200*hStride0
		for id := range 200 {
			if l := int(hn[hOffLevels+id] &^ deletedFlag); l > 0 {
				return id, up
			} else {
				up += 4 * l * 5
			}
		}
		t.Fatal("no upper node")
		return 0, 0
	}
	tests := []struct {
		name   string
		read   func([]byte) error
		src    []byte
		edit   func(b []byte) []byte
		reason string
	}{
		{name: "exact empty input", read: readExact, src: ex, edit: func(b []byte) []byte { return nil }},
		{name: "exact truncated header", read: readExact, src: ex, edit: func(b []byte) []byte { return b[:6] }},
		{name: "exact truncated body", read: readExact, src: ex, edit: func(b []byte) []byte { return b[:len(b)/2] }},
		{name: "exact truncated trailer", read: readExact, src: ex, edit: func(b []byte) []byte { return b[:len(b)-1] }},
		{name: "exact flipped bit", read: readExact, src: ex, edit: func(b []byte) []byte { b[40] ^= 1; return b }},
		{name: "exact bad magic", read: readExact, src: ex, edit: func(b []byte) []byte { b[0] = 'X'; return withCRC(b) }},
		{name: "exact given hnsw", read: readExact, src: hn, edit: func(b []byte) []byte { return b }},
		{name: "exact version 2", read: readExact, src: ex, edit: func(b []byte) []byte { b[5] = 2; return withCRC(b) }},
		{name: "exact reserved set", read: readExact, src: ex, edit: func(b []byte) []byte { b[7] = 1; return withCRC(b) }},
		{name: "exact dim 0", read: readExact, src: ex, edit: func(b []byte) []byte { put32(b, 8, 0); return withCRC(b) }},
		{name: "exact dim too large", read: readExact, src: ex, edit: func(b []byte) []byte { put32(b, 8, maxDim+1); return withCRC(b) }},
		{
			name: "exact count beyond data", read: readExact, src: ex,
			edit:   func(b []byte) []byte { put32(b, 12, 6); return withCRC(b) },
			reason: "the decoder runs out of bytes",
		},
		{name: "exact duplicate key", read: readExact, src: ex, edit: func(b []byte) []byte { put32(b, 20, 10); return withCRC(b) }},
		{
			name: "exact NaN component", read: readExact, src: ex,
			edit: func(b []byte) []byte { put32(b, 16+4*5, math.Float32bits(float32(math.NaN()))); return withCRC(b) },
		},
		{name: "hnsw empty input", read: readHNSW, src: hn, edit: func(b []byte) []byte { return nil }},
		{name: "hnsw given exact", read: readHNSW, src: ex, edit: func(b []byte) []byte { return b }},
		{name: "hnsw truncated links", read: readHNSW, src: hn, edit: func(b []byte) []byte { return b[:hOffLinks0+100] }},
		{name: "hnsw truncated trailer", read: readHNSW, src: hn, edit: func(b []byte) []byte { return b[:len(b)-3] }},
		{name: "hnsw trailing byte lost", read: readHNSW, src: hn, edit: func(b []byte) []byte { return b[:len(b)-1] }},
		{name: "hnsw flipped bit", read: readHNSW, src: hn, edit: func(b []byte) []byte { b[hOffLinks0+9] ^= 0x10; return b }},
		{name: "hnsw M 1", read: readHNSW, src: hn, edit: func(b []byte) []byte { put32(b, hOffM, 1); return withCRC(b) }},
		{
			name: "hnsw M 5", read: readHNSW, src: hn,
			edit:   func(b []byte) []byte { put32(b, hOffM, 5); return withCRC(b) },
			reason: "the block sizes no longer match the stream",
		},
		{name: "hnsw rng state", read: readHNSW, src: hn, edit: func(b []byte) []byte { b[hOffRNG] = 'x'; return withCRC(b) }},
		{name: "hnsw entry out of range", read: readHNSW, src: hn, edit: func(b []byte) []byte { put32(b, hOffEntry, 200); return withCRC(b) }},
		{
			name: "hnsw max level too high", read: readHNSW, src: hn,
			edit: func(b []byte) []byte { b[hOffMaxLevel]++; return withCRC(b) },
		},
		{
			name: "hnsw max level -2", read: readHNSW, src: hn,
			edit: func(b []byte) []byte { put32(b, hOffMaxLevel, math.MaxUint32-1); return withCRC(b) },
		},
		{
			name: "hnsw duplicate live key", read: readHNSW, src: hn,
			edit:   func(b []byte) []byte { put32(b, hOffKeys+4*2, 0); return withCRC(b) },
			reason: "nodes 0 and 2 are live",
		},
		{
			name: "hnsw link out of range", read: readHNSW, src: hn,
			edit: func(b []byte) []byte { put32(b, hOffLinks0+4, 200); return withCRC(b) },
		},
		{
			name: "hnsw self link", read: readHNSW, src: hn,
			edit: func(b []byte) []byte { put32(b, hOffLinks0+4, 0); return withCRC(b) },
		},
		{
			name: "hnsw link count over cap", read: readHNSW, src: hn,
			edit: func(b []byte) []byte { put32(b, hOffLinks0, hStride0); return withCRC(b) },
		},
		{
			name: "hnsw upper link to level-0 node", read: readHNSW, src: hn,
			edit: func(b []byte) []byte {
				_, off := upperNode()
				low := 0
				for hn[hOffLevels+low]&^deletedFlag != 0 {
					low++
				}
				put32(b, off, 1)
				put32(b, off+4, uint32(low))
				return withCRC(b)
			},
		},
		{
			name: "hnsw level above max", read: readHNSW, src: hn,
			edit:   func(b []byte) []byte { b[hOffLevels+3] = b[hOffLevels+3]&deletedFlag | 9; return withCRC(b) },
			reason: "also shifts the upper blocks, so the stream ends early",
		},
		{
			name: "hnsw all tombstones", read: readHNSW, src: hn,
			edit: func(b []byte) []byte {
				for id := range 200 {
					b[hOffLevels+id] |= deletedFlag
				}
				return withCRC(b)
			},
		},
		{
			name: "exact vector not unit length", read: readExact, src: ex,
			edit: func(b []byte) []byte { put32(b, 16+4*5+4, math.Float32bits(2)); return withCRC(b) },
		},
		{
			name: "hnsw infinite component", read: readHNSW, src: hn,
			edit: func(b []byte) []byte { put32(b, hOffVecs+8, math.Float32bits(float32(math.Inf(1)))); return withCRC(b) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.read(tt.edit(bytes.Clone(tt.src)))
			if !errors.Is(err, ErrCorrupt) {
				t.Errorf("error = %v, want ErrCorrupt %s", err, tt.reason)
			}
		})
	}
	// The unedited streams are fine.
	if err := readExact(ex); err != nil {
		t.Errorf("ReadExact(valid) = %v", err)
	}
	if err := readHNSW(hn); err != nil {
		t.Errorf("ReadHNSW(valid) = %v", err)
	}
}

type failingReader struct{ err error }

func (r failingReader) Read([]byte) (int, error) { return 0, r.err }

func TestReadPassesIOErrors(t *testing.T) {
	boom := errors.New("disk on fire")
	ex, hn := smallExact(t), smallHNSW(t)
	for name, read := range map[string]func(io.Reader) error{
		"exact": func(r io.Reader) error { _, err := ReadExact(r); return err },
		"hnsw":  func(r io.Reader) error { _, err := ReadHNSW(r); return err },
	} {
		src := ex
		if name == "hnsw" {
			src = hn
		}
		err := read(io.MultiReader(bytes.NewReader(src[:100]), failingReader{boom}))
		if !errors.Is(err, boom) || errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: error = %v, want %v and not ErrCorrupt", name, err, boom)
		}
	}
}

type failingWriter struct{ n int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.n < len(p) {
		n := w.n
		w.n = 0
		return n, io.ErrShortWrite
	}
	w.n -= len(p)
	return len(p), nil
}

func TestWriteToReportsErrors(t *testing.T) {
	h := NewHNSW(8, HNSWConfig{})
	for i, v := range clustered(5, 3000, 8, 4, 1) {
		mustAdd(t, h, uint32(i), v)
	}
	n, err := h.WriteTo(&failingWriter{n: 70000})
	if !errors.Is(err, io.ErrShortWrite) || n != 70000 {
		t.Errorf("WriteTo = %d, %v; want 70000, ErrShortWrite", n, err)
	}
}

// TestReadHugeHeader checks that a header promising 2^31 vectors of 65536
// components does not make the reader allocate for them.
func TestReadHugeHeader(t *testing.T) {
	for _, kind := range []byte{kindExact, kindHNSW} {
		b := []byte{'P', 'R', 'V', 'I', kind, formatVersion, 0, 0}
		b = binary.LittleEndian.AppendUint32(b, maxDim)
		b = binary.LittleEndian.AppendUint32(b, math.MaxInt32)
		b = append(b, make([]byte, 1000)...)
		if kind == kindHNSW {
			b[16] = 16 // M
			b[20] = 200
			b[24] = 64
			b[28] = 1 // seed
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, err1 := ReadExact(bytes.NewReader(b))
		_, err2 := ReadHNSW(bytes.NewReader(b))
		runtime.ReadMemStats(&after)
		if !errors.Is(err1, ErrCorrupt) || !errors.Is(err2, ErrCorrupt) {
			t.Errorf("kind %c: errors %v, %v; want ErrCorrupt", kind, err1, err2)
		}
		if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
			t.Errorf("kind %c: allocated %d bytes for a %d-byte stream", kind, got, len(b))
		}
	}
}
