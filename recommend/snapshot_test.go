package recommend

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/paperrec/paperrec/data"
	"github.com/paperrec/paperrec/embed"
	"github.com/paperrec/paperrec/models"

	"github.com/google/go-cmp/cmp"
)

func snapshotBytes(t testing.TB, s *Service) ([]byte, [32]byte) {
	t.Helper()
	var buf bytes.Buffer
	sum, err := s.WriteSnapshot(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), sum
}

// sameAnswers checks that two services answer alike.
func sameAnswers(t *testing.T, a, b *Service) {
	t.Helper()
	ctx := context.Background()
	for _, p := range a.AllPapers()[:50] {
		x, _ := a.Related(ctx, p.ID, Options{K: 10, Diversity: 0.2})
		y, err := b.Related(ctx, p.ID, Options{K: 10, Diversity: 0.2})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(x, y); diff != "" {
			t.Fatalf("related %s differs after loading (-built +loaded):\n%s", p.ID, diff)
		}
	}
	x, _ := a.Search(ctx, "normalizing flows for lattice gauge theory", Options{K: 10})
	y, _ := b.Search(ctx, "normalizing flows for lattice gauge theory", Options{K: 10})
	if diff := cmp.Diff(x, y); diff != "" {
		t.Errorf("search differs (-built +loaded):\n%s", diff)
	}
	ja, _ := json.Marshal(a.Themes())
	jb, _ := json.Marshal(b.Themes())
	if !bytes.Equal(ja, jb) {
		t.Error("themes differ after loading")
	}
	if diff := cmp.Diff(a.Map(), b.Map()); diff != "" {
		t.Errorf("map differs (-built +loaded):\n%s", diff)
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	s := bundled(t)
	raw, sum := snapshotBytes(t, s)
	loaded, got, err := ReadSnapshot(context.Background(), bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if got != sum {
		t.Errorf("checksum read %x, written %x", got, sum)
	}
	sameAnswers(t, s, loaded)
	// The same engine always writes the same bytes, and so does an
	// independent build of the same corpus: replicas can compare checksums.
	again, sum2 := snapshotBytes(t, loaded)
	if sum2 != sum || !bytes.Equal(again, raw) {
		t.Error("writing a loaded snapshot changed its bytes")
	}
	rebuilt, err := New(context.Background(), s.Corpus(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, sum3 := snapshotBytes(t, rebuilt); sum3 != sum {
		t.Error("two builds of the same corpus give different snapshots")
	}
}

func TestSnapshotHNSW(t *testing.T) {
	h, err := New(context.Background(), bundled(t).Corpus(), Config{Index: IndexHNSW, SkipThemes: true})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := snapshotBytes(t, h)
	loaded, _, err := ReadSnapshot(context.Background(), bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if loaded.Themes() != nil {
		t.Error("themes appeared in a snapshot built without them")
	}
	ctx := context.Background()
	for _, p := range h.AllPapers()[:30] {
		x, _ := h.Related(ctx, p.ID, Options{K: 10})
		y, _ := loaded.Related(ctx, p.ID, Options{K: 10})
		if diff := cmp.Diff(x, y); diff != "" {
			t.Fatalf("related %s differs after loading (-built +loaded):\n%s", p.ID, diff)
		}
	}
}

func TestSnapshotRejectsDamage(t *testing.T) {
	raw, _ := snapshotBytes(t, bundled(t))
	flip := func(at int) []byte {
		b := bytes.Clone(raw)
		b[at] ^= 0x40
		return b
	}
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"not a snapshot", []byte("574 papers\nTheoretical Physics Mar 2, 2026\n")},
		{"other version", func() []byte { b := bytes.Clone(raw); b[len(snapshotMagic)] = 9; return b }()},
		{"truncated payload", raw[:len(raw)/2]},
		{"no checksum", raw[:len(raw)-32]},
		{"byte flipped in the payload", flip(len(raw) / 2)},
		{"byte flipped in the checksum", flip(len(raw) - 1)},
		{"byte flipped in the length", flip(len(snapshotMagic) + 5)},
		{"trailing bytes", append(bytes.Clone(raw), '\n')},
		{"a second snapshot after the first", append(bytes.Clone(raw), raw...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := ReadSnapshot(context.Background(), bytes.NewReader(tt.data))
			if !errors.Is(err, ErrBadSnapshot) {
				t.Errorf("err = %v, want ErrBadSnapshot", err)
			}
		})
	}
}

// TestSnapshotMessages checks that what an operator reads names the
// problem: whole hashes on a mismatch, the count of trailing bytes.
func TestSnapshotMessages(t *testing.T) {
	raw, _ := snapshotBytes(t, small(t))
	damaged := bytes.Clone(raw)
	damaged[len(damaged)-1] ^= 1
	_, _, err := ReadSnapshot(context.Background(), bytes.NewReader(damaged))
	if err == nil || !regexp.MustCompile(`says [0-9a-f]{64}, its content hashes to [0-9a-f]{64}$`).MatchString(err.Error()) {
		t.Errorf("checksum mismatch: %v, want both whole hashes", err)
	}
	_, _, err = ReadSnapshot(context.Background(), bytes.NewReader(append(bytes.Clone(raw), "xyz"...)))
	if err == nil || !strings.Contains(err.Error(), "3 or more bytes after the checksum") {
		t.Errorf("trailing bytes: %v", err)
	}
}

// small is a service over the first 80 bundled papers, cheap enough for
// fuzzing its snapshot.
func small(t testing.TB) *Service {
	t.Helper()
	res, err := models.ParseListing(bytes.NewReader(data.Listing), data.ListingName, models.ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := models.NewCorpus(res.Papers[:80])
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(context.Background(), c, Config{Index: IndexHNSW, LSA: embed.LSAConfig{Dims: 16}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// FuzzReadSnapshot checks that no input makes the reader panic, and that
// whatever it accepts is a usable engine.
func FuzzReadSnapshot(f *testing.F) {
	raw, _ := snapshotBytes(f, small(f))
	f.Add(raw)
	f.Add(raw[:len(raw)/3])
	f.Add([]byte(snapshotMagic))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, _, err := ReadSnapshot(context.Background(), bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrBadSnapshot) {
				t.Fatalf("err = %v, want ErrBadSnapshot", err)
			}
			return
		}
		for _, p := range s.AllPapers()[:min(3, s.Len())] {
			if _, err := s.Related(context.Background(), p.ID, Options{K: 3}); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func BenchmarkReadSnapshot(b *testing.B) {
	var buf bytes.Buffer
	if _, err := bundled(b).WriteSnapshot(&buf); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := ReadSnapshot(context.Background(), bytes.NewReader(buf.Bytes())); err != nil {
			b.Fatal(err)
		}
	}
}
