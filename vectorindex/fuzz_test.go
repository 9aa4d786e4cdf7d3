package vectorindex

import (
	"bytes"
	"errors"
	"testing"
)

// The fuzz targets try each input twice: as given, which the checksum
// almost always rejects, and with the checksum recomputed, which reaches the
// structural checks. Whatever reads without error must then serve searches,
// adds and deletes without panicking and re-encode to the bytes it came
// from.

func FuzzReadExact(f *testing.F) {
	f.Add(smallExact(f))
	f.Add(encode(f, NewExact(1)))
	f.Add([]byte("PRVIE\x01\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, b := range [][]byte{data, withCRC(data)} {
			r := bytes.NewReader(b)
			x, err := ReadExact(r)
			if err != nil {
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("error %v does not wrap ErrCorrupt", err)
				}
				continue
			}
			if again := encode(t, x); !bytes.Equal(again, b[:len(b)-r.Len()]) {
				t.Fatal("re-encoding differs from the input")
			}
			q := make([]float32, x.Dim())
			q[0] = 1
			if _, err := x.Search(q, 3, nil); err != nil {
				t.Fatal(err)
			}
			if err := x.Add(7, q); err != nil {
				t.Fatal(err)
			}
			x.Delete(7)
		}
	})
}

func FuzzReadHNSW(f *testing.F) {
	f.Add(smallHNSW(f))
	f.Add(encode(f, NewHNSW(1, HNSWConfig{})))
	h := NewHNSW(2, HNSWConfig{M: 2})
	for i, v := range clustered(3, 12, 2, 2, 1) {
		mustAdd(f, h, uint32(i), v)
	}
	h.Delete(3)
	f.Add(encode(f, h))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, b := range [][]byte{data, withCRC(data)} {
			r := bytes.NewReader(b)
			h, err := ReadHNSW(r)
			if err != nil {
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("error %v does not wrap ErrCorrupt", err)
				}
				continue
			}
			if again := encode(t, h); !bytes.Equal(again, b[:len(b)-r.Len()]) {
				t.Fatal("re-encoding differs from the input")
			}
			q := make([]float32, h.Dim())
			q[0] = 1
			for _, accept := range []func(uint32) bool{nil, func(k uint32) bool { return k%2 == 0 }} {
				res, err := h.Search(q, 5, accept)
				if err != nil {
					t.Fatal(err)
				}
				checkResults(t, res, 5, func(k uint32) bool { _, ok := h.ids[k]; return ok })
			}
			for key := range h.ids {
				h.Delete(key)
				break
			}
			if err := h.Add(1<<31, q); err != nil {
				t.Fatal(err)
			}
			if _, err := h.Search(q, 5, nil); err != nil {
				t.Fatal(err)
			}
		}
	})
}
