package recommend

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"time"

	"github.com/paperrec/paperrec/embed"
	"github.com/paperrec/paperrec/models"
	"github.com/paperrec/paperrec/themes"
	"github.com/paperrec/paperrec/vectorindex"
)

// A snapshot is an engine's state in one file, so that identical replicas
// load the same engine instead of each rebuilding it. It is written and
// read as a stream of frames, so neither side holds the file in memory:
//
//	"paperrec snapshot\n"   magic, 18 bytes
//	version                 uint32, little endian (2)
//	frames                  kind (1 byte), length (uint64), CRC-32C of the
//	                        payload (uint32), payload; in this order:
//	  'H'  header: configuration, counts, removed positions, authors (gob)
//	  'P', 'L', 'S'         keyphrase, TF-IDF and LSA models (gob)
//	  'p'  up to snapshotChunk papers (gob), as many frames as needed
//	  'd'  their sparse vectors and ids (gob), as many frames as needed
//	  'T'  themes (gob), when built
//	  'G'  the index, which holds the dense vectors, in vectorindex's own
//	       checked format: an HNSW graph, or an exact index's vectors;
//	       written and read as a stream, never held whole
//	  'E'  end, empty
//	SHA-256                 32 bytes, over everything before it
//
// Each frame's CRC is checked before its payload is decoded, and the
// trailer guards the whole; nothing may follow it. Both WriteSnapshot and
// ReadSnapshot return the SHA-256 of the whole file (what sha256sum
// prints), which names the snapshot: replicas compare it to be sure they
// serve the same one.

const (
	snapshotMagic   = "paperrec snapshot\n"
	snapshotVersion = 2
	// snapshotChunk is how many papers one frame holds: a few MB.
	snapshotChunk = 4096
	// maxFrame bounds a decoded frame's payload (the graph frame is
	// streamed and checked by its own reader instead).
	maxFrame = 1 << 30
)

// Frame kinds, in file order.
const (
	frameHeader  = 'H'
	framePhrases = 'P'
	frameLex     = 'L'
	frameLSA     = 'S'
	framePapers  = 'p'
	frameDocs    = 'd'
	frameThemes  = 'T'
	frameGraph   = 'G'
	frameEnd     = 'E'
)

// ErrBadSnapshot wraps every reason a snapshot cannot be loaded: not a
// snapshot, another version, truncated, damaged, or followed by other
// bytes.
var ErrBadSnapshot = errors.New("bad snapshot")

// snapshotHeader is the 'H' frame.
type snapshotHeader struct {
	Config  Config
	Seq     uint64
	Stats   BuildStats
	Papers  int
	Removed []uint32
	Authors []author
	Themes  bool
	// Index is the index the 'G' frame holds: IndexExact or IndexHNSW.
	Index IndexKind
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// frameWriter writes frames to a writer that also feeds the checksum.
type frameWriter struct {
	w   io.Writer
	buf bytes.Buffer
	err error
}

// value writes one gob-encoded value as a frame.
func (fw *frameWriter) value(kind byte, v any) {
	if fw.err != nil {
		return
	}
	fw.buf.Reset()
	if err := gob.NewEncoder(&fw.buf).Encode(v); err != nil {
		fw.err = fmt.Errorf("frame %q: %w", kind, err)
		return
	}
	fw.frame(kind, fw.buf.Bytes())
}

// stream writes a frame whose payload write produces, without holding
// it: a first pass counts the bytes and their CRC, a second writes them,
// so write must produce the same bytes twice.
func (fw *frameWriter) stream(kind byte, write func(io.Writer) (int64, error)) {
	if fw.err != nil {
		return
	}
	sum := crc32.New(castagnoli)
	size, err := write(sum)
	if err != nil {
		fw.err = fmt.Errorf("frame %q: %w", kind, err)
		return
	}
	var head [13]byte
	head[0] = kind
	binary.LittleEndian.PutUint64(head[1:], uint64(size))
	binary.LittleEndian.PutUint32(head[9:], sum.Sum32())
	if _, err := fw.w.Write(head[:]); err != nil {
		fw.err = err
		return
	}
	n, err := write(fw.w)
	switch {
	case err != nil:
		fw.err = fmt.Errorf("frame %q: %w", kind, err)
	case n != size:
		fw.err = fmt.Errorf("frame %q: %d bytes, then %d", kind, size, n)
	}
}

func (fw *frameWriter) frame(kind byte, payload []byte) {
	if fw.err != nil {
		return
	}
	var head [13]byte
	head[0] = kind
	binary.LittleEndian.PutUint64(head[1:], uint64(len(payload)))
	binary.LittleEndian.PutUint32(head[9:], crc32.Checksum(payload, castagnoli))
	if _, err := fw.w.Write(head[:]); err != nil {
		fw.err = err
		return
	}
	_, fw.err = fw.w.Write(payload)
}

// WriteSnapshot writes the service to w and returns the SHA-256 of all the
// bytes written. The same state always writes the same bytes.
func (s *Service) WriteSnapshot(w io.Writer) ([32]byte, error) {
	var digest [32]byte
	sum := sha256.New()
	bw := bufio.NewWriterSize(io.MultiWriter(w, sum), 1<<16)
	fw := &frameWriter{w: bw}
	bw.WriteString(snapshotMagic)
	binary.Write(bw, binary.LittleEndian, uint32(snapshotVersion))

	st := s.st
	head := snapshotHeader{Config: st.Config, Seq: st.Seq, Stats: st.Stats, Papers: len(st.Papers),
		Removed: st.Removed, Authors: st.Authors, Themes: st.Themes != nil}
	head.Config.TFIDF.Analyzer, head.Config.Progress = nil, nil
	head.Stats.Duration = 0 // not part of the engine; keeps the bytes reproducible
	var index io.WriterTo
	switch x := s.line.index.(type) {
	case *vectorindex.HNSW:
		head.Index, index = IndexHNSW, x
	case *vectorindex.Exact:
		head.Index, index = IndexExact, x
	default:
		return digest, fmt.Errorf("write snapshot: index %T cannot be saved", s.line.index)
	}
	fw.value(frameHeader, &head)
	fw.value(framePhrases, st.Phrases)
	fw.value(frameLex, st.Lex)
	fw.value(frameLSA, st.LSA)
	for lo := 0; lo < len(st.Papers); lo += snapshotChunk {
		fw.value(framePapers, st.Papers[lo:min(lo+snapshotChunk, len(st.Papers))])
	}
	chunk := make([]doc, 0, snapshotChunk)
	for lo := 0; lo < len(st.Docs); lo += snapshotChunk {
		chunk = chunk[:0]
		for _, d := range st.Docs[lo:min(lo+snapshotChunk, len(st.Docs))] {
			d.Dense = nil // the index frame holds it
			chunk = append(chunk, d)
		}
		fw.value(frameDocs, chunk)
	}
	if st.Themes != nil {
		fw.value(frameThemes, st.Themes)
	}
	fw.stream(frameGraph, index.WriteTo)
	fw.frame(frameEnd, nil)
	if fw.err == nil {
		fw.err = bw.Flush()
	}
	if fw.err != nil {
		return digest, fmt.Errorf("write snapshot: %w", fw.err)
	}
	trailer := sum.Sum(nil)
	if _, err := w.Write(trailer); err != nil {
		return digest, fmt.Errorf("write snapshot: %w", err)
	}
	sum.Write(trailer)
	copy(digest[:], sum.Sum(nil))
	return digest, nil
}

// frameReader reads frames from the snapshot, feeding the checksum.
type frameReader struct {
	r   io.Reader // tees into the checksum
	buf []byte
}

// next reads the next frame header and checks its kind against want.
func (fr *frameReader) next(want ...byte) (kind byte, size uint64, crc uint32, err error) {
	var head [13]byte
	if _, err := io.ReadFull(fr.r, head[:]); err != nil {
		return 0, 0, 0, fmt.Errorf("frame header: %w", noEOF(err))
	}
	kind, size, crc = head[0], binary.LittleEndian.Uint64(head[1:]), binary.LittleEndian.Uint32(head[9:])
	for _, k := range want {
		if kind == k {
			return kind, size, crc, nil
		}
	}
	return 0, 0, 0, fmt.Errorf("frame %q where %q was expected", kind, want)
}

// payload reads a frame's payload whole and checks its CRC.
func (fr *frameReader) payload(kind byte, size uint64, crc uint32) ([]byte, error) {
	if size > maxFrame {
		return nil, fmt.Errorf("frame %q: %d bytes is more than %d", kind, size, maxFrame)
	}
	if uint64(cap(fr.buf)) < size {
		fr.buf = make([]byte, size)
	}
	b := fr.buf[:size]
	if _, err := io.ReadFull(fr.r, b); err != nil {
		return nil, fmt.Errorf("frame %q: %w", kind, noEOF(err))
	}
	if crc32.Checksum(b, castagnoli) != crc {
		return nil, fmt.Errorf("frame %q: CRC mismatch", kind)
	}
	return b, nil
}

// value reads the next frame, of kind want, into v.
func (fr *frameReader) value(want byte, v any) error {
	kind, size, crc, err := fr.next(want)
	if err != nil {
		return err
	}
	return fr.decode(kind, size, crc, v)
}

func (fr *frameReader) decode(kind byte, size uint64, crc uint32, v any) error {
	b, err := fr.payload(kind, size, crc)
	if err != nil {
		return err
	}
	r := bytes.NewReader(b)
	if err := gob.NewDecoder(r).Decode(v); err != nil {
		return fmt.Errorf("frame %q: %v", kind, err)
	}
	if r.Len() != 0 {
		return fmt.Errorf("frame %q: %d bytes after its value", kind, r.Len())
	}
	return nil
}

// noEOF reports a short read as such.
func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// ReadSnapshot loads a service written by WriteSnapshot. It checks the
// magic, the version, every frame's CRC, the counts, the SHA-256 trailer
// and that nothing follows it, and returns the SHA-256 of the whole file so
// that replicas can confirm they serve the same snapshot.
func ReadSnapshot(ctx context.Context, r io.Reader) (*Service, [32]byte, error) {
	start := time.Now()
	var digest [32]byte
	sum := sha256.New()
	fr := &frameReader{r: io.TeeReader(r, sum)}
	st, index, err := readState(ctx, fr)
	if err != nil {
		return nil, digest, fmt.Errorf("%w: %v", ErrBadSnapshot, err)
	}
	content := sum.Sum(nil)
	var trailer [32]byte
	if _, err := io.ReadFull(r, trailer[:]); err != nil {
		return nil, digest, fmt.Errorf("%w: checksum: %v", ErrBadSnapshot, noEOF(err))
	}
	if subtle.ConstantTimeCompare(trailer[:], content) != 1 {
		return nil, digest, fmt.Errorf("%w: checksum mismatch: the file says %x, its content hashes to %x", ErrBadSnapshot, trailer, content)
	}
	if n, _ := io.Copy(io.Discard, io.LimitReader(r, 1<<20)); n > 0 {
		return nil, digest, fmt.Errorf("%w: %d or more bytes after the checksum", ErrBadSnapshot, n)
	}
	sum.Write(trailer[:])
	copy(digest[:], sum.Sum(nil))
	if err := ctx.Err(); err != nil {
		return nil, digest, err
	}
	s, err := assemble(st, index)
	if err != nil {
		return nil, digest, fmt.Errorf("%w: %v", ErrBadSnapshot, err)
	}
	s.st.Stats.Duration = time.Since(start)
	return s, digest, nil
}

// readState reads the frames of a snapshot after its magic.
func readState(ctx context.Context, fr *frameReader) (state, Index, error) {
	var st state
	head := make([]byte, len(snapshotMagic)+4)
	if _, err := io.ReadFull(fr.r, head); err != nil {
		return st, nil, fmt.Errorf("header: %v", noEOF(err))
	}
	if string(head[:len(snapshotMagic)]) != snapshotMagic {
		return st, nil, errors.New("not a paperrec snapshot")
	}
	if v := binary.LittleEndian.Uint32(head[len(snapshotMagic):]); v != snapshotVersion {
		return st, nil, fmt.Errorf("version %d, this paperrec reads version %d", v, snapshotVersion)
	}
	var h snapshotHeader
	if err := fr.value(frameHeader, &h); err != nil {
		return st, nil, err
	}
	if h.Papers < 0 || h.Papers > 1<<31 {
		return st, nil, fmt.Errorf("header: %d papers", h.Papers)
	}
	st = state{Config: h.Config, Seq: h.Seq, Stats: h.Stats, Removed: h.Removed, Authors: h.Authors,
		Phrases: new(embed.Phrases), Lex: new(embed.TFIDF), LSA: new(embed.LSA)}
	for _, m := range []struct {
		kind byte
		v    any
	}{{framePhrases, st.Phrases}, {frameLex, st.Lex}, {frameLSA, st.LSA}} {
		if err := fr.value(m.kind, m.v); err != nil {
			return st, nil, err
		}
	}
	st.Papers = make([]models.Paper, 0, min(h.Papers, 1<<16))
	for len(st.Papers) < h.Papers {
		var chunk []models.Paper
		if err := fr.value(framePapers, &chunk); err != nil {
			return st, nil, err
		}
		st.Papers = append(st.Papers, chunk...)
	}
	st.Docs = make([]doc, 0, min(h.Papers, 1<<16))
	for len(st.Docs) < h.Papers {
		var chunk []doc
		if err := fr.value(frameDocs, &chunk); err != nil {
			return st, nil, err
		}
		st.Docs = append(st.Docs, chunk...)
		if err := ctx.Err(); err != nil {
			return st, nil, err
		}
	}
	if len(st.Papers) != h.Papers || len(st.Docs) != h.Papers {
		return st, nil, fmt.Errorf("%d papers and %d vectors, the header says %d", len(st.Papers), len(st.Docs), h.Papers)
	}
	if h.Themes {
		st.Themes = new(themes.Model)
		if err := fr.value(frameThemes, st.Themes); err != nil {
			return st, nil, err
		}
	} else if !st.Config.SkipThemes {
		return st, nil, errors.New("themes missing")
	}
	kind, size, crc, err := fr.next(frameGraph)
	if err != nil {
		return st, nil, err
	}
	// The index frame is read as a stream, its CRC checked at its end.
	sum := crc32.New(castagnoli)
	body := io.TeeReader(io.LimitReader(fr.r, int64(size)), sum)
	var index Index
	switch h.Index {
	case IndexHNSW:
		index, err = vectorindex.ReadHNSW(body)
	case IndexExact:
		index, err = vectorindex.ReadExact(body)
	default:
		err = fmt.Errorf("unknown index %q", h.Index)
	}
	if err != nil {
		return st, nil, fmt.Errorf("frame %q: %w", kind, err)
	}
	if n, _ := io.Copy(io.Discard, body); n > 0 || sum.Sum32() != crc {
		return st, nil, fmt.Errorf("frame %q: CRC mismatch or %d bytes after the index", kind, n)
	}
	if _, size, _, err := fr.next(frameEnd); err != nil || size != 0 {
		return st, nil, cmp.Or(err, errors.New("end frame: not empty"))
	}
	return st, index, nil
}
