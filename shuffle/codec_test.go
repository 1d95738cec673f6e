package shuffle

import (
	"bytes"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
)

func TestCodecRoundTrip(t *testing.T) {
	for c := Codec(0); c < numCodecs; c++ {
		t.Run(c.String(), func(t *testing.T) {
			mem := checked(t)
			in := []arrow.Record{
				genAllTypes(mem, 0, 1000, 7),
				genAllTypes(mem, 1000, 1, 0),
				genAllTypes(mem, 1001, 0, 0),
				genAllTypes(mem, 2000, 300, 2),
			}
			sliced := in[0].NewSlice(13, 500) // non-zero offsets
			in = append(in, sliced)
			defer releaseAll(in)
			enc, err := NewEncoder(allTypesSchema, Options{Codec: c, Allocator: mem})
			if err != nil {
				t.Fatal(err)
			}
			var vals [][]byte
			for _, r := range in {
				v, err := enc.Encode(r)
				if err != nil {
					t.Fatal(err)
				}
				vals = append(vals, bytes.Clone(v))
			}
			enc.Close()
			dec, err := NewDecoder(allTypesSchema, mem)
			if err != nil {
				t.Fatal(err)
			}
			defer dec.Close()
			var out []arrow.Record
			for _, v := range vals {
				r, err := dec.Decode(v)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, r) // still valid after the next Decode
			}
			defer releaseAll(out)
			for i := range in {
				if !array.RecordEqual(in[i], out[i]) {
					t.Errorf("record %d differs after a round trip", i)
				}
			}
			checkRows(t, "all", rowStrings(out...), rowStrings(in...))
		})
	}
}

func TestCodecBadValues(t *testing.T) {
	mem := checked(t)
	dec, err := NewDecoder(allTypesSchema, mem)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	rec := genAllTypes(mem, 0, 10, 3)
	defer rec.Release()
	enc, _ := NewEncoder(allTypesSchema, Options{Codec: Zstd, Allocator: mem})
	good, _ := enc.Encode(rec)
	good = bytes.Clone(good)
	enc.Close()
	for _, c := range []struct {
		name string
		v    []byte
		want string
	}{
		{"empty", nil, "empty value"},
		{"tag", []byte{9, 1, 2}, "unknown value tag 9"},
		{"zstd", append([]byte{tagZstd}, 1, 2, 3, 4), "shuffle: decode"},
		{"plain", []byte{tagPlain, 0xff, 0xff, 0xff, 0xff, 100, 0, 0, 0}, "out of range"},
		{"truncated", good[:len(good)/2], "shuffle: decode"},
	} {
		_, err := dec.Decode(c.v)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Decode = %v, want an error containing %q", c.name, err, c.want)
		}
	}
	// The decoder still works after errors.
	r, err := dec.Decode(good)
	if err != nil || !array.RecordEqual(r, rec) {
		t.Fatalf("Decode after errors: %v", err)
	}
	r.Release()
}

func TestParseCodec(t *testing.T) {
	for c := Codec(0); c < numCodecs; c++ {
		if got, err := ParseCodec(c.String()); got != c || err != nil {
			t.Errorf("ParseCodec(%q) = %v, %v, want %v", c.String(), got, err, c)
		}
	}
	if _, err := ParseCodec("gzip"); err == nil {
		t.Error("ParseCodec(gzip) succeeded")
	}
}
