package arrowx

import (
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/bitutil"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/jobs/spec"
)

// ColView is a typed, read-only view of one array, so that kernels run typed
// loops over raw slices instead of calling methods per row. Row i of the
// array is I64[i], F64[i], bit Voff+i of Bits, or Data[Offs[i]:Offs[i+1]].
type ColView struct {
	Typ   spec.Type
	N     int
	Nulls int
	valid []byte // validity bitmap (bit Voff+i); nil when there are no nulls
	Voff  int
	I64   []int64
	F64   []float64
	Bits  []byte  // bool values (bit Voff+i)
	Offs  []int32 // string offsets, N+1 entries, absolute into Data
	Data  []byte  // string bytes: the whole data buffer
}

// ViewOf returns the typed view of a. It fails on an Arrow type that no spec
// type maps to.
func ViewOf(a arrow.Array) (ColView, error) {
	d := a.Data()
	v := ColView{N: a.Len(), Nulls: a.NullN(), Voff: d.Offset()}
	if v.Nulls > 0 {
		v.valid = a.NullBitmapBytes()
	}
	if v.N == 0 { // buffers of an empty array may be absent
		t, err := SpecType(a.DataType())
		v.Typ, v.Nulls, v.Offs = t, 0, []int32{0}
		return v, err
	}
	switch a := a.(type) {
	case *array.Int64:
		v.Typ, v.I64 = spec.Int64, a.Int64Values()
	case *array.Float64:
		v.Typ, v.F64 = spec.Float64, a.Float64Values()
	case *array.Boolean:
		v.Typ = spec.Bool
		if b := d.Buffers()[1]; b != nil {
			v.Bits = b.Bytes()
		}
	case *array.String:
		v.Typ, v.Offs = spec.String, a.ValueOffsets()
		if b := d.Buffers()[2]; b != nil {
			v.Data = b.Bytes()
		}
	case *array.Null:
		v.Typ, v.Nulls, v.valid = spec.Null, v.N, nil
	default:
		return v, fmt.Errorf("operators: unsupported arrow type %s", a.DataType())
	}
	return v, nil
}

// ViewsOf returns the views of the columns idx of rec.
func ViewsOf(rec arrow.Record, idx []int, views []ColView) ([]ColView, error) {
	views = views[:0]
	for _, i := range idx {
		v, err := ViewOf(rec.Column(i))
		if err != nil {
			return nil, err
		}
		views = append(views, v)
	}
	return views, nil
}

// IsNull reports whether row i is null.
func (v *ColView) IsNull(i int) bool {
	if v.Typ == spec.Null {
		return true
	}
	return v.valid != nil && !bitutil.BitIsSet(v.valid, v.Voff+i)
}

// BoolAt returns the bool value of row i (false for a null row's slot).
func (v *ColView) BoolAt(i int) bool { return bitutil.BitIsSet(v.Bits, v.Voff+i) }

// Str returns the bytes of string row i.
func (v *ColView) Str(i int) []byte { return v.Data[v.Offs[i]:v.Offs[i+1]] }

// NewBuffer allocates a buffer of n bytes from mem.
func NewBuffer(mem memory.Allocator, n int) *memory.Buffer {
	b := memory.NewResizableBuffer(mem)
	b.Resize(n)
	return b
}

// NewBitmap allocates a bitmap of n bits from mem, all set to set (the
// padding bits of the last byte are zero).
func NewBitmap(mem memory.Allocator, n int, set bool) *memory.Buffer {
	b := NewBuffer(mem, int(bitutil.BytesForBits(int64(n))))
	bs := b.Bytes()
	clear(bs)
	if set {
		bitutil.SetBitsTo(bs, 0, int64(n), true)
	}
	return b
}

// NewArray wraps buffers (validity, values[, data]) into an array of type t
// and takes over the caller's references to them. valid may be nil.
func NewArray(t spec.Type, n, nulls int, bufs ...*memory.Buffer) arrow.Array {
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

// NewRecord builds a record over cols and releases the caller's references
// to cols.
func NewRecord(schema *arrow.Schema, cols []arrow.Array, n int) arrow.Record {
	rec := array.NewRecord(schema, cols, int64(n))
	for _, c := range cols {
		c.Release()
	}
	return rec
}

// ReleaseAll releases every non-nil array of as.
func ReleaseAll(as []arrow.Array) {
	for _, a := range as {
		if a != nil {
			a.Release()
		}
	}
}

// ColBuilder appends values of one type straight into allocator buffers.
// Its capacity in rows is fixed by Reset; string bytes grow as needed. A
// null's value slot is zero. The typed fields are written directly by hot
// loops: I64[N] = v; N++.
type ColBuilder struct {
	Typ     spec.Type
	mem     memory.Allocator
	N, cap  int
	nullPos []int32 // rows that are null, turned into a bitmap by Finish

	vals *memory.Buffer
	I64  []int64
	F64  []float64
	bits []byte
	offs []int32

	data  *memory.Buffer
	bytes []byte // data's whole capacity; dlen bytes used
	Dlen  int
}

// NewColBuilder returns a builder of arrays of type t; Typ keeps the
// logical type (a date builder fills I64).
func NewColBuilder(t spec.Type, mem memory.Allocator) *ColBuilder {
	return &ColBuilder{Typ: t, mem: mem}
}

// Reset readies the builder for a new array of at most capRows rows.
func (b *ColBuilder) Reset(capRows int) {
	b.N, b.cap, b.nullPos, b.Dlen = 0, capRows, b.nullPos[:0], 0
	switch b.Typ.Physical() {
	case spec.Int64:
		b.vals = NewBuffer(b.mem, capRows*8)
		b.I64 = arrow.Int64Traits.CastFromBytes(b.vals.Bytes())
	case spec.Float64:
		b.vals = NewBuffer(b.mem, capRows*8)
		b.F64 = arrow.Float64Traits.CastFromBytes(b.vals.Bytes())
	case spec.Bool:
		b.vals = NewBitmap(b.mem, capRows, false)
		b.bits = b.vals.Bytes()
	case spec.String:
		b.vals = NewBuffer(b.mem, (capRows+1)*4)
		b.offs = arrow.Int32Traits.CastFromBytes(b.vals.Bytes())
		b.offs[0] = 0
		b.data = NewBuffer(b.mem, 0)
		b.data.Reserve(capRows * 8)
		b.bytes = b.data.Buf()
	}
}

// AppendNull appends a null.
func (b *ColBuilder) AppendNull() {
	b.nullPos = append(b.nullPos, int32(b.N))
	switch b.Typ.Physical() {
	case spec.Int64:
		b.I64[b.N] = 0
	case spec.Float64:
		b.F64[b.N] = 0
	case spec.String:
		b.offs[b.N+1] = int32(b.Dlen)
	}
	b.N++
}

// AppendBytes appends a string value.
func (b *ColBuilder) AppendBytes(p []byte) {
	if b.Dlen+len(p) > len(b.bytes) {
		b.grow(len(p))
	}
	b.Dlen += copy(b.bytes[b.Dlen:], p)
	b.N++
	b.offs[b.N] = int32(b.Dlen)
}

// AppendString appends a string value.
func (b *ColBuilder) AppendString(p string) {
	if b.Dlen+len(p) > len(b.bytes) {
		b.grow(len(p))
	}
	b.Dlen += copy(b.bytes[b.Dlen:], p)
	b.N++
	b.offs[b.N] = int32(b.Dlen)
}

func (b *ColBuilder) grow(extra int) {
	c := max(2*len(b.bytes), b.Dlen+extra, 64)
	b.data.Reserve(c)
	b.bytes = b.data.Buf()
}

// AppendBool appends a bool value.
func (b *ColBuilder) AppendBool(v bool) {
	if v {
		bitutil.SetBit(b.bits, b.N)
	}
	b.N++
}

// Finish returns the array of the rows appended since reset; the builder
// must be Reset before it is used again.
func (b *ColBuilder) Finish() arrow.Array {
	var valid *memory.Buffer
	if len(b.nullPos) > 0 {
		valid = NewBitmap(b.mem, b.N, true)
		vb := valid.Bytes()
		for _, p := range b.nullPos {
			bitutil.ClearBit(vb, int(p))
		}
	}
	n, nulls := b.N, len(b.nullPos)
	var a arrow.Array
	switch b.Typ.Physical() {
	case spec.Int64, spec.Float64:
		b.vals.Resize(n * 8)
		a = NewArray(b.Typ, n, nulls, valid, b.vals)
	case spec.Bool:
		b.vals.Resize(int(bitutil.BytesForBits(int64(n))))
		a = NewArray(b.Typ, n, nulls, valid, b.vals)
	case spec.String:
		b.vals.Resize((n + 1) * 4)
		b.data.Resize(b.Dlen)
		a = NewArray(b.Typ, n, nulls, valid, b.vals, b.data)
	default:
		a = NewArray(b.Typ, n, nulls, valid)
	}
	b.vals, b.data, b.I64, b.F64, b.bits, b.offs, b.bytes = nil, nil, nil, nil, nil, nil, nil
	return a
}

// Truncate drops the values appended after row n (a row that failed half
// way through).
func (b *ColBuilder) Truncate(n int) {
	for len(b.nullPos) > 0 && int(b.nullPos[len(b.nullPos)-1]) >= n {
		b.nullPos = b.nullPos[:len(b.nullPos)-1]
	}
	switch b.Typ.Physical() {
	case spec.Bool:
		for i := n; i < b.N; i++ {
			bitutil.ClearBit(b.bits, i)
		}
	case spec.String:
		b.Dlen = int(b.offs[n])
	}
	b.N = n
}

// Release frees the buffers of an unfinished builder.
func (b *ColBuilder) Release() {
	if b.vals != nil {
		b.vals.Release()
	}
	if b.data != nil {
		b.data.Release()
	}
	b.vals, b.data = nil, nil
}
