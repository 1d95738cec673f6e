package operators

import (
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/bitutil"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/jobs/spec"
)

// colView is a typed, read-only view of one array, so that kernels run typed
// loops over raw slices instead of calling methods per row. Row i of the
// array is i64[i], f64[i], bit voff+i of bits, or data[offs[i]:offs[i+1]].
type colView struct {
	typ   spec.Type
	n     int
	nulls int
	valid []byte // validity bitmap (bit voff+i); nil when there are no nulls
	voff  int
	i64   []int64
	f64   []float64
	bits  []byte  // bool values (bit voff+i)
	offs  []int32 // string offsets, n+1 entries, absolute into data
	data  []byte  // string bytes: the whole data buffer
}

// viewOf returns the typed view of a. It fails on an Arrow type that no spec
// type maps to.
func viewOf(a arrow.Array) (colView, error) {
	d := a.Data()
	v := colView{n: a.Len(), nulls: a.NullN(), voff: d.Offset()}
	if v.nulls > 0 {
		v.valid = a.NullBitmapBytes()
	}
	if v.n == 0 { // buffers of an empty array may be absent
		t, err := SpecType(a.DataType())
		v.typ, v.nulls, v.offs = t, 0, []int32{0}
		return v, err
	}
	switch a := a.(type) {
	case *array.Int64:
		v.typ, v.i64 = spec.Int64, a.Int64Values()
	case *array.Float64:
		v.typ, v.f64 = spec.Float64, a.Float64Values()
	case *array.Boolean:
		v.typ = spec.Bool
		if b := d.Buffers()[1]; b != nil {
			v.bits = b.Bytes()
		}
	case *array.String:
		v.typ, v.offs = spec.String, a.ValueOffsets()
		if b := d.Buffers()[2]; b != nil {
			v.data = b.Bytes()
		}
	case *array.Null:
		v.typ, v.nulls, v.valid = spec.Null, v.n, nil
	default:
		return v, fmt.Errorf("operators: unsupported arrow type %s", a.DataType())
	}
	return v, nil
}

// viewsOf returns the views of the columns idx of rec.
func viewsOf(rec arrow.Record, idx []int, views []colView) ([]colView, error) {
	views = views[:0]
	for _, i := range idx {
		v, err := viewOf(rec.Column(i))
		if err != nil {
			return nil, err
		}
		views = append(views, v)
	}
	return views, nil
}

// isNull reports whether row i is null.
func (v *colView) isNull(i int) bool {
	if v.typ == spec.Null {
		return true
	}
	return v.valid != nil && !bitutil.BitIsSet(v.valid, v.voff+i)
}

// boolAt returns the bool value of row i (false for a null row's slot).
func (v *colView) boolAt(i int) bool { return bitutil.BitIsSet(v.bits, v.voff+i) }

// str returns the bytes of string row i.
func (v *colView) str(i int) []byte { return v.data[v.offs[i]:v.offs[i+1]] }

// newBuffer allocates a buffer of n bytes from mem.
func newBuffer(mem memory.Allocator, n int) *memory.Buffer {
	b := memory.NewResizableBuffer(mem)
	b.Resize(n)
	return b
}

// newBitmap allocates a bitmap of n bits from mem, all set to set (the
// padding bits of the last byte are zero).
func newBitmap(mem memory.Allocator, n int, set bool) *memory.Buffer {
	b := newBuffer(mem, int(bitutil.BytesForBits(int64(n))))
	bs := b.Bytes()
	clear(bs)
	if set {
		bitutil.SetBitsTo(bs, 0, int64(n), true)
	}
	return b
}

// newArray wraps buffers (validity, values[, data]) into an array of type t
// and takes over the caller's references to them. valid may be nil.
func newArray(t spec.Type, n, nulls int, bufs ...*memory.Buffer) arrow.Array {
	if t == spec.Null {
		for _, b := range bufs {
			if b != nil {
				b.Release()
			}
		}
		return array.NewNull(n)
	}
	d := array.NewData(ArrowType(t), n, bufs, nil, nulls, 0)
	for _, b := range bufs {
		if b != nil {
			b.Release()
		}
	}
	a := array.MakeFromData(d)
	d.Release()
	return a
}

// newRecord builds a record over cols and releases the caller's references
// to cols.
func newRecord(schema *arrow.Schema, cols []arrow.Array, n int) arrow.Record {
	rec := array.NewRecord(schema, cols, int64(n))
	for _, c := range cols {
		c.Release()
	}
	return rec
}

// releaseAll releases every non-nil array of as.
func releaseAll(as []arrow.Array) {
	for _, a := range as {
		if a != nil {
			a.Release()
		}
	}
}

// colBuilder appends values of one type straight into allocator buffers.
// Its capacity in rows is fixed by reset; string bytes grow as needed. A
// null's value slot is zero. The typed fields are written directly by hot
// loops: i64[n] = v; n++.
type colBuilder struct {
	typ     spec.Type
	mem     memory.Allocator
	n, cap  int
	nullPos []int32 // rows that are null, turned into a bitmap by finish

	vals *memory.Buffer
	i64  []int64
	f64  []float64
	bits []byte
	offs []int32

	data  *memory.Buffer
	bytes []byte // data's whole capacity; dlen bytes used
	dlen  int
}

func newColBuilder(t spec.Type, mem memory.Allocator) *colBuilder {
	return &colBuilder{typ: t, mem: mem}
}

// reset readies the builder for a new array of at most capRows rows.
func (b *colBuilder) reset(capRows int) {
	b.n, b.cap, b.nullPos, b.dlen = 0, capRows, b.nullPos[:0], 0
	switch b.typ {
	case spec.Int64:
		b.vals = newBuffer(b.mem, capRows*8)
		b.i64 = arrow.Int64Traits.CastFromBytes(b.vals.Bytes())
	case spec.Float64:
		b.vals = newBuffer(b.mem, capRows*8)
		b.f64 = arrow.Float64Traits.CastFromBytes(b.vals.Bytes())
	case spec.Bool:
		b.vals = newBitmap(b.mem, capRows, false)
		b.bits = b.vals.Bytes()
	case spec.String:
		b.vals = newBuffer(b.mem, (capRows+1)*4)
		b.offs = arrow.Int32Traits.CastFromBytes(b.vals.Bytes())
		b.offs[0] = 0
		b.data = newBuffer(b.mem, 0)
		b.data.Reserve(capRows * 8)
		b.bytes = b.data.Buf()
	}
}

// appendNull appends a null.
func (b *colBuilder) appendNull() {
	b.nullPos = append(b.nullPos, int32(b.n))
	switch b.typ {
	case spec.Int64:
		b.i64[b.n] = 0
	case spec.Float64:
		b.f64[b.n] = 0
	case spec.String:
		b.offs[b.n+1] = int32(b.dlen)
	}
	b.n++
}

// appendBytes appends a string value.
func (b *colBuilder) appendBytes(p []byte) {
	if b.dlen+len(p) > len(b.bytes) {
		b.grow(len(p))
	}
	b.dlen += copy(b.bytes[b.dlen:], p)
	b.n++
	b.offs[b.n] = int32(b.dlen)
}

// appendString appends a string value.
func (b *colBuilder) appendString(p string) {
	if b.dlen+len(p) > len(b.bytes) {
		b.grow(len(p))
	}
	b.dlen += copy(b.bytes[b.dlen:], p)
	b.n++
	b.offs[b.n] = int32(b.dlen)
}

func (b *colBuilder) grow(extra int) {
	c := max(2*len(b.bytes), b.dlen+extra, 64)
	b.data.Reserve(c)
	b.bytes = b.data.Buf()
}

// appendBool appends a bool value.
func (b *colBuilder) appendBool(v bool) {
	if v {
		bitutil.SetBit(b.bits, b.n)
	}
	b.n++
}

// finish returns the array of the rows appended since reset; the builder
// must be reset before it is used again.
func (b *colBuilder) finish() arrow.Array {
	var valid *memory.Buffer
	if len(b.nullPos) > 0 {
		valid = newBitmap(b.mem, b.n, true)
		vb := valid.Bytes()
		for _, p := range b.nullPos {
			bitutil.ClearBit(vb, int(p))
		}
	}
	n, nulls := b.n, len(b.nullPos)
	var a arrow.Array
	switch b.typ {
	case spec.Int64, spec.Float64:
		b.vals.Resize(n * 8)
		a = newArray(b.typ, n, nulls, valid, b.vals)
	case spec.Bool:
		b.vals.Resize(int(bitutil.BytesForBits(int64(n))))
		a = newArray(b.typ, n, nulls, valid, b.vals)
	case spec.String:
		b.vals.Resize((n + 1) * 4)
		b.data.Resize(b.dlen)
		a = newArray(b.typ, n, nulls, valid, b.vals, b.data)
	default:
		a = newArray(b.typ, n, nulls, valid)
	}
	b.vals, b.data, b.i64, b.f64, b.bits, b.offs, b.bytes = nil, nil, nil, nil, nil, nil, nil
	return a
}

// release frees the buffers of an unfinished builder.
func (b *colBuilder) release() {
	if b.vals != nil {
		b.vals.Release()
	}
	if b.data != nil {
		b.data.Release()
	}
	b.vals, b.data = nil, nil
}
