package operators

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators/arrowx"
	"github.com/zeebo/xxh3"
)

// Hashing. The hash functions are fixed (no per-process seed), so equal keys
// hash equally in every process; tables use the low bits for the slot and
// the high 32 bits as a tag. Byte keys (a string, or a tuple encoded into
// one byte string) are hashed with XXH3, the function shuffle hashes
// strings with; 8-byte keys are mixed with mix64.

// mix64 is a strong 64-bit finalizer (murmur3 fmix64).
func mix64(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

// floatKey canonicalizes a float64 for grouping and joining: -0 equals 0
// and every NaN equals every other NaN.
func floatKey(f float64) uint64 {
	if f == 0 {
		return 0
	}
	if f != f {
		return 0x7ff8000000000000
	}
	return math.Float64bits(f)
}

// keyKind selects how a table stores a tuple of key columns.
type keyKind uint8

const (
	// keysFixed: one int64 or float64 column, stored as 8-byte words.
	keysFixed keyKind = iota
	// keysString: one string column, stored as its bytes.
	keysString
	// keysRow: any other tuple, each row encoded into one byte string:
	// per column a tag byte (0 null, 1 valid) then 8 bytes (int64, float64
	// key bits), 1 byte (bool) or a 4-byte length and the bytes (string).
	keysRow
)

// keyCodec turns the key columns of a batch into hashed keys.
type keyCodec struct {
	types []spec.Type
	kind  keyKind
}

// newKeyCodec encodes keys of the given types by their physical types: a
// date, a timestamp or a decimal is keyed as its int64 (the decimals of one
// column share a scale).
func newKeyCodec(logical []spec.Type) (keyCodec, error) {
	types := make([]spec.Type, len(logical))
	for i, t := range logical {
		if t == spec.Null {
			return keyCodec{}, fmt.Errorf("operators: cannot use a column of type null as a key")
		}
		types[i] = t.Physical()
	}
	c := keyCodec{types: types, kind: keysRow}
	if len(types) == 1 {
		switch types[0] {
		case spec.Int64, spec.Float64:
			c.kind = keysFixed
		case spec.String:
			c.kind = keysString
		}
	}
	return c, nil
}

// batchKeys holds the keys of one batch. It is reused across batches.
type batchKeys struct {
	n     int
	hash  []uint64
	fixed []uint64 // keysFixed
	data  []byte   // keysString (the array's buffer) and keysRow (owned)
	offs  []int32  // n+1 offsets into data
	// null[i] is true when any key column of row i is null; nil when no
	// row has one.
	null []bool

	own  []byte  // keysRow encoding buffer
	owno []int32 // keysRow offsets
	pos  []int32 // keysRow per-row write cursors
}

func (k *batchKeys) key(i int) []byte { return k.data[k.offs[i]:k.offs[i+1]] }

// prepare fills k from the key columns of one batch.
func (c *keyCodec) prepare(cols []arrowx.ColView, n int, k *batchKeys) error {
	k.n = n
	k.hash = sizedSlice(k.hash, n)
	k.null = k.null[:0]
	for i := range cols {
		if cols[i].Nulls > 0 {
			k.markNulls(&cols[i])
		}
	}
	switch c.kind {
	case keysFixed:
		k.prepareFixed(&cols[0])
	case keysString:
		k.data, k.offs = cols[0].Data, cols[0].Offs
		for i := 0; i < n; i++ {
			k.hash[i] = xxh3.Hash(k.data[k.offs[i]:k.offs[i+1]])
		}
	default:
		if err := k.encodeRows(cols); err != nil {
			return err
		}
		for i := 0; i < n; i++ {
			k.hash[i] = xxh3.Hash(k.data[k.offs[i]:k.offs[i+1]])
		}
	}
	if len(k.null) == 0 {
		k.null = nil
	}
	return nil
}

func (k *batchKeys) markNulls(v *arrowx.ColView) {
	if len(k.null) == 0 {
		k.null = sizedSlice(k.null[:0], k.n)
		clear(k.null)
	}
	for i := 0; i < k.n; i++ {
		if v.IsNull(i) {
			k.null[i] = true
		}
	}
}

func (k *batchKeys) prepareFixed(v *arrowx.ColView) {
	k.fixed = sizedSlice(k.fixed, k.n)
	if v.Typ == spec.Int64 {
		for i, x := range v.I64[:k.n] {
			k.fixed[i] = uint64(x)
			k.hash[i] = mix64(uint64(x))
		}
	} else {
		for i, x := range v.F64[:k.n] {
			b := floatKey(x)
			k.fixed[i] = b
			k.hash[i] = mix64(b)
		}
	}
}

// encodeRows encodes every row's key tuple, column by column: one pass
// sizes each row, then each column writes its part at a per-row cursor.
func (k *batchKeys) encodeRows(cols []arrowx.ColView) error {
	n := k.n
	k.owno = sizedSlice(k.owno, n+1)
	sizes := k.owno[1:]
	clear(sizes)
	for ci := range cols {
		addEncodedSizes(&cols[ci], sizes)
	}
	total := int64(0)
	k.owno[0] = 0
	for i := 1; i <= n; i++ {
		total += int64(k.owno[i])
		if total > math.MaxInt32 {
			return fmt.Errorf("operators: key columns of %d bytes are too large for one batch", total)
		}
		k.owno[i] = int32(total)
	}
	k.own = sizedSlice(k.own, int(total))
	k.pos = sizedSlice(k.pos, n)
	copy(k.pos, k.owno[:n])
	for ci := range cols {
		encodeColumn(&cols[ci], k.own, k.pos)
	}
	k.data, k.offs = k.own, k.owno
	return nil
}

func addEncodedSizes(v *arrowx.ColView, sizes []int32) {
	for i := range sizes {
		sizes[i]++ // tag
		if v.IsNull(i) {
			continue
		}
		switch v.Typ {
		case spec.Int64, spec.Float64:
			sizes[i] += 8
		case spec.Bool:
			sizes[i]++
		case spec.String:
			sizes[i] += 4 + v.Offs[i+1] - v.Offs[i]
		}
	}
}

func encodeColumn(v *arrowx.ColView, out []byte, pos []int32) {
	for i, p := range pos {
		if v.IsNull(i) {
			out[p] = 0
			pos[i] = p + 1
			continue
		}
		out[p] = 1
		p++
		switch v.Typ {
		case spec.Int64:
			binary.LittleEndian.PutUint64(out[p:], uint64(v.I64[i]))
			p += 8
		case spec.Float64:
			binary.LittleEndian.PutUint64(out[p:], floatKey(v.F64[i]))
			p += 8
		case spec.Bool:
			out[p] = 0
			if v.BoolAt(i) {
				out[p] = 1
			}
			p++
		case spec.String:
			s := v.Str(i)
			binary.LittleEndian.PutUint32(out[p:], uint32(len(s)))
			p += 4 + int32(copy(out[p+4:], s))
		}
		pos[i] = p
	}
}

// sizedSlice returns s with length n, reusing its array when it is big enough.
func sizedSlice[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]T, n, max(n, 2*cap(s)))
}
