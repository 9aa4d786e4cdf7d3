package recommend

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/paperrec/paperrec/embed"
	"github.com/paperrec/paperrec/models"
	"github.com/paperrec/paperrec/themes"
	"github.com/paperrec/paperrec/vectorindex"
)

// A snapshot is a built service in one file, so that identical replicas
// load the same engine instead of each rebuilding it:
//
//	"paperrec snapshot\n"   magic, 18 bytes
//	version                 uint32, little endian (1)
//	payload length          uint64, little endian
//	payload                 encoding/gob of the fitted state
//	SHA-256                 32 bytes, over everything before it
//
// The trailer guards the content; both WriteSnapshot and ReadSnapshot
// return the SHA-256 of the whole file (what sha256sum prints), which names
// the snapshot: replicas compare it to be sure they serve the same one.

const (
	snapshotMagic   = "paperrec snapshot\n"
	snapshotVersion = 1
)

// ErrBadSnapshot wraps every reason a snapshot cannot be loaded: not a
// snapshot, another version, truncated, or a checksum that does not match.
var ErrBadSnapshot = errors.New("bad snapshot")

// snapshot is the gob payload.
type snapshot struct {
	Config  Config
	Papers  []models.Paper
	Phrases *embed.Phrases
	Lex     *embed.TFIDF
	LSA     *embed.LSA
	Docs    []docState
	// AuthorKeys and AuthorIDF are the authors by id and their weights.
	AuthorKeys []string
	AuthorIDF  []float64
	Themes     *themes.Model
	// HNSW holds the graph (vectorindex's own checked format); an exact
	// index is rebuilt from the dense vectors.
	HNSW  []byte
	Stats BuildStats
}

type docState struct {
	Idx     []uint32
	Val     []float32
	Shared  float64
	Dense   []float32
	Phrases []uint32
	Authors []int32
}

// WriteSnapshot writes the service to w and returns the SHA-256 of all the
// bytes written.
func (s *Service) WriteSnapshot(w io.Writer) ([32]byte, error) {
	snap := snapshot{Config: s.cfg, Papers: s.papers, Phrases: s.phrases, Lex: s.lex, LSA: s.lsa,
		Docs: make([]docState, len(s.docs)), AuthorKeys: s.authorKeys, AuthorIDF: s.authorIDF, Themes: s.themes, Stats: s.stats}
	snap.Config.TFIDF.Analyzer = nil
	snap.Stats.Duration = 0 // not part of the engine; keeps the bytes reproducible
	for i, d := range s.docs {
		snap.Docs[i] = docState{Idx: d.lex.Idx, Val: d.lex.Val, Shared: d.shared, Dense: d.dense, Phrases: d.phrases, Authors: d.authors}
	}
	if h, ok := s.index.(*vectorindex.HNSW); ok {
		var buf bytes.Buffer
		if _, err := h.WriteTo(&buf); err != nil {
			return [32]byte{}, fmt.Errorf("write snapshot: index: %w", err)
		}
		snap.HNSW = buf.Bytes()
	}
	var payload bytes.Buffer
	if err := gob.NewEncoder(&payload).Encode(&snap); err != nil {
		return [32]byte{}, fmt.Errorf("write snapshot: %w", err)
	}
	sum := sha256.New()
	bw := bufio.NewWriter(io.MultiWriter(w, sum))
	bw.WriteString(snapshotMagic)
	binary.Write(bw, binary.LittleEndian, uint32(snapshotVersion))
	binary.Write(bw, binary.LittleEndian, uint64(payload.Len()))
	bw.Write(payload.Bytes())
	if err := bw.Flush(); err != nil {
		return [32]byte{}, fmt.Errorf("write snapshot: %w", err)
	}
	trailer := sum.Sum(nil)
	if _, err := w.Write(trailer); err != nil {
		return [32]byte{}, fmt.Errorf("write snapshot: %w", err)
	}
	sum.Write(trailer)
	var digest [32]byte
	copy(digest[:], sum.Sum(nil))
	return digest, nil
}

// ReadSnapshot loads a service written by WriteSnapshot. It checks the
// magic, the version and the SHA-256 trailer, and returns the SHA-256 of
// the whole file so that replicas can confirm they serve the same snapshot.
func ReadSnapshot(ctx context.Context, r io.Reader) (*Service, [32]byte, error) {
	start := time.Now()
	var digest [32]byte
	sum := sha256.New()
	tr := io.TeeReader(r, sum)
	head := make([]byte, len(snapshotMagic)+4+8)
	if _, err := io.ReadFull(tr, head); err != nil {
		return nil, digest, fmt.Errorf("%w: header: %v", ErrBadSnapshot, err)
	}
	if string(head[:len(snapshotMagic)]) != snapshotMagic {
		return nil, digest, fmt.Errorf("%w: not a paperrec snapshot", ErrBadSnapshot)
	}
	if v := binary.LittleEndian.Uint32(head[len(snapshotMagic):]); v != snapshotVersion {
		return nil, digest, fmt.Errorf("%w: version %d, this paperrec reads version %d", ErrBadSnapshot, v, snapshotVersion)
	}
	size := binary.LittleEndian.Uint64(head[len(snapshotMagic)+4:])
	var snap snapshot
	payload := &countingReader{r: io.LimitReader(tr, int64(size))}
	if err := gob.NewDecoder(payload).Decode(&snap); err != nil {
		return nil, digest, fmt.Errorf("%w: payload: %v", ErrBadSnapshot, err)
	}
	if _, err := io.Copy(io.Discard, payload); err != nil || payload.n != int64(size) {
		return nil, digest, fmt.Errorf("%w: payload truncated at %d of %d bytes", ErrBadSnapshot, payload.n, size)
	}
	content := sum.Sum(nil)
	var trailer [32]byte
	if _, err := io.ReadFull(r, trailer[:]); err != nil {
		return nil, digest, fmt.Errorf("%w: checksum: %v", ErrBadSnapshot, err)
	}
	if subtle.ConstantTimeCompare(trailer[:], content) != 1 {
		return nil, digest, fmt.Errorf("%w: checksum mismatch (trailer %x, content %x)", ErrBadSnapshot, trailer[:8], content[:8])
	}
	sum.Write(trailer[:])
	copy(digest[:], sum.Sum(nil))
	if err := ctx.Err(); err != nil {
		return nil, digest, err
	}
	s, err := fromSnapshot(&snap)
	if err != nil {
		return nil, digest, fmt.Errorf("%w: %v", ErrBadSnapshot, err)
	}
	s.stats.Duration = time.Since(start)
	return s, digest, nil
}

func fromSnapshot(snap *snapshot) (*Service, error) {
	if snap.Lex == nil || snap.LSA == nil || snap.Phrases == nil {
		return nil, errors.New("missing models")
	}
	if len(snap.Docs) != len(snap.Papers) {
		return nil, fmt.Errorf("%d papers but %d vectors", len(snap.Papers), len(snap.Docs))
	}
	cfg, err := snap.Config.withDefaults()
	if err != nil {
		return nil, err
	}
	snap.Lex.SetAnalyzer(cfg.TFIDF.Analyzer)
	corpus, err := models.NewCorpus(snap.Papers)
	if err != nil {
		return nil, err
	}
	if len(snap.AuthorKeys) != len(snap.AuthorIDF) {
		return nil, fmt.Errorf("%d authors, %d weights", len(snap.AuthorKeys), len(snap.AuthorIDF))
	}
	s := &Service{cfg: cfg, corpus: corpus, papers: snap.Papers, phrases: snap.Phrases, lex: snap.Lex, lsa: snap.LSA,
		themes: snap.Themes, docs: make([]docVectors, len(snap.Docs)), stats: snap.Stats,
		authorKeys: snap.AuthorKeys, authorIDF: snap.AuthorIDF, authorID: make(map[string]int32, len(snap.AuthorKeys))}
	for id, a := range snap.AuthorKeys {
		s.authorID[a] = int32(id)
	}
	if !cfg.SkipThemes && s.themes == nil {
		return nil, errors.New("themes missing")
	}
	if s.themes != nil && len(s.themes.Layout()) != len(snap.Papers) {
		return nil, fmt.Errorf("themes cover %d papers, not %d", len(s.themes.Layout()), len(snap.Papers))
	}
	switch {
	case snap.HNSW != nil:
		h, err := vectorindex.ReadHNSW(bytes.NewReader(snap.HNSW))
		if err != nil {
			return nil, err
		}
		s.index = h
	default:
		s.index = vectorindex.NewExact(s.lsa.Dims())
	}
	for i, d := range snap.Docs {
		if len(d.Dense) != s.lsa.Dims() || len(d.Idx) != len(d.Val) {
			return nil, fmt.Errorf("paper %d: malformed vectors", i)
		}
		for _, f := range d.Idx {
			if int(f) >= s.lex.Len() {
				return nil, fmt.Errorf("paper %d: feature %d out of range", i, f)
			}
		}
		var norm float64
		for _, a := range d.Authors {
			if a < 0 || int(a) >= len(s.authorIDF) {
				return nil, fmt.Errorf("paper %d: author %d out of range", i, a)
			}
			norm += s.authorIDF[a] * s.authorIDF[a]
		}
		s.docs[i] = docVectors{lex: embed.Sparse{Idx: d.Idx, Val: d.Val}, shared: d.Shared, dense: d.Dense, phrases: d.Phrases,
			authors: d.Authors, authorNorm: math.Sqrt(norm)}
		if snap.HNSW == nil {
			if err := s.index.Add(uint32(i), d.Dense); err != nil {
				return nil, err
			}
		}
	}
	if s.index.Len() != len(snap.Papers) {
		return nil, fmt.Errorf("index holds %d papers, not %d", s.index.Len(), len(snap.Papers))
	}
	return s, nil
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
