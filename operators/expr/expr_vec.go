package expr

import (
	"slices"
	"unsafe"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/bitutil"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators/arrowx"
)

// This file holds the evaluator's plumbing: the value a node returns for a
// batch (exprVec), buffer allocation from the caller's allocator, validity
// bitmaps and a string array writer.

// exprConst is a constant of a node's type; valid false is NULL.
type exprConst struct {
	valid bool
	i     int64
	f     float64
	s     string
	b     bool
}

// exprVec is what a node yields for one batch: an array of the batch's length
// that the receiver releases, or, when arr is nil, the constant c on every
// row. Constants are never materialized unless Eval must return one.
type exprVec struct {
	arr arrow.Array
	c   exprConst
}

func (v exprVec) isConst() bool    { return v.arr == nil }
func (v exprVec) isNullC() bool    { return v.arr == nil && !v.c.valid }
func constVec(c exprConst) exprVec { return exprVec{c: c} }
func arrVec(a arrow.Array) exprVec { return exprVec{arr: a} }

func (v exprVec) release() {
	if v.arr != nil {
		v.arr.Release()
	}
}

// hasNulls reports whether v is an array with at least one null.
func (v exprVec) hasNulls() bool { return v.arr != nil && v.arr.NullN() > 0 }

// evalBatch is the context of one Eval call.
type evalBatch struct {
	rec arrow.Record
	n   int
	mem memory.Allocator
}

func bitmapLen(n int) int { return (n + 7) / 8 }

func testBit(bits []byte, i int) bool { return bits[i>>3]&(1<<(uint(i)&7)) != 0 }

func unsetBit(bits []byte, i int) { bits[i>>3] &^= 1 << (uint(i) & 7) }

// allocBytes allocates an n-byte buffer from the batch's allocator.
func (b *evalBatch) allocBytes(n int) (*memory.Buffer, []byte) {
	buf := memory.NewResizableBuffer(b.mem)
	buf.Resize(n)
	return buf, buf.Bytes()
}

// allocBits allocates a bitmap of the batch's length, every byte set to fill.
func (b *evalBatch) allocBits(fill byte) (*memory.Buffer, []byte) {
	buf, bits := b.allocBytes(bitmapLen(b.n))
	for i := range bits {
		bits[i] = fill
	}
	return buf, bits
}

// allocFixed allocates a buffer of n values of T.
func allocFixed[T int64 | float64](b *evalBatch) (*memory.Buffer, []T) {
	buf, raw := b.allocBytes(b.n * 8)
	if b.n == 0 {
		return buf, nil
	}
	return buf, unsafe.Slice((*T)(unsafe.Pointer(&raw[0])), b.n)
}

// fixedValues returns the typed values of an int64 or float64 array.
func fixedValues[T int64 | float64](a arrow.Array) []T {
	switch a := a.(type) {
	case *array.Int64:
		return any(a.Int64Values()).([]T)
	case *array.Float64:
		return any(a.Float64Values()).([]T)
	}
	panic("operators: values of " + a.DataType().String())
}

// constAs returns the constant of type T held by c.
func constAs[T int64 | float64](c exprConst) T {
	var z T
	if _, ok := any(z).(int64); ok {
		return any(c.i).(T)
	}
	return any(c.f).(T)
}

func constFrom[T int64 | float64](v T) exprConst {
	switch v := any(v).(type) {
	case int64:
		return exprConst{valid: true, i: v}
	case float64:
		return exprConst{valid: true, f: v}
	}
	return exprConst{}
}

// validity returns a's validity bitmap with row 0 at bit 0, retained, or nil
// when a has no nulls. It shares a's buffer when a is not sliced.
func (b *evalBatch) validity(a arrow.Array) *memory.Buffer {
	if a == nil || a.NullN() == 0 {
		return nil
	}
	buf := a.Data().Buffers()[0]
	if off := a.Data().Offset(); off != 0 {
		out, bits := b.allocBits(0)
		bitutil.CopyBitmap(buf.Bytes(), off, b.n, bits, 0)
		return out
	}
	buf.Retain()
	return buf
}

// andValidity is the validity of an operation that is null where either
// operand is; constants must be non-null.
func (b *evalBatch) andValidity(x, y exprVec) *memory.Buffer {
	xn, yn := x.hasNulls(), y.hasNulls()
	switch {
	case !xn && !yn:
		return nil
	case !yn:
		return b.validity(x.arr)
	case !xn:
		return b.validity(y.arr)
	}
	out, bits := b.allocBits(0)
	bitutil.BitmapAnd(x.arr.NullBitmapBytes(), y.arr.NullBitmapBytes(),
		int64(x.arr.Data().Offset()), int64(y.arr.Data().Offset()), bits, 0, int64(b.n))
	return out
}

// mutableValidity returns a validity bitmap the caller may clear bits in:
// a copy of valid, which it releases (valid may be shared with an input),
// or an all-valid bitmap when valid is nil.
func (b *evalBatch) mutableValidity(valid *memory.Buffer) (*memory.Buffer, []byte) {
	out, bits := b.allocBits(0xFF)
	if valid != nil {
		copy(bits, valid.Bytes())
		valid.Release()
	}
	return out, bits
}

// newArray wraps buffers into an array of type t, taking over the
// references: buffers[0] is the validity bitmap (nil: no nulls).
func (b *evalBatch) newArray(t spec.Type, buffers ...*memory.Buffer) arrow.Array {
	nulls := 0
	if buffers[0] != nil {
		nulls = array.UnknownNullCount
	}
	data := array.NewData(arrowx.ArrowType(t), b.n, buffers, nil, nulls, 0)
	for _, buf := range buffers {
		if buf != nil {
			buf.Release()
		}
	}
	arr := array.MakeFromData(data)
	data.Release()
	return arr
}

// strings returns the offsets (absolute, n+1 of them) and the whole data
// buffer of a string array.
func stringParts(a arrow.Array) ([]int32, []byte) {
	s := a.(*array.String)
	var data []byte
	if buf := s.Data().Buffers()[2]; buf != nil {
		data = buf.Bytes()
	}
	return s.ValueOffsets(), data
}

// strRow returns row i of a string array as a string sharing its memory.
func strRow(offs []int32, data []byte, i int) string {
	o0, o1 := offs[i], offs[i+1]
	if o0 == o1 {
		return ""
	}
	return unsafe.String(&data[o0], int(o1-o0))
}

// bytesRow returns row i of a string array as bytes sharing its memory.
func bytesRow(offs []int32, data []byte, i int) []byte {
	return data[offs[i]:offs[i+1]:offs[i+1]]
}

// strWriter builds a string array of the batch's length row by row into
// buffers from the batch's allocator.
type strWriter struct {
	b          *evalBatch
	offBuf     *memory.Buffer
	dataBuf    *memory.Buffer
	offs       []int32
	data       []byte
	overflowed bool
}

func newStrWriter(b *evalBatch, dataHint int) *strWriter {
	w := &strWriter{b: b, dataBuf: memory.NewResizableBuffer(b.mem)}
	var raw []byte
	w.offBuf, raw = b.allocBytes((b.n + 1) * 4)
	w.offs = unsafe.Slice((*int32)(unsafe.Pointer(&raw[0])), b.n+1)
	w.offs[0] = 0
	w.grow(dataHint)
	return w
}

// grow makes room for extra more bytes.
func (w *strWriter) grow(extra int) {
	need := len(w.data) + extra
	if need <= cap(w.data) {
		return
	}
	if w.dataBuf == nil { // a scratch writer for constants
		w.data = slices.Grow(w.data, extra)
		return
	}
	w.dataBuf.Reserve(max(need, 2*cap(w.data), 64))
	w.data = w.dataBuf.Buf()[:len(w.data)]
}

func (w *strWriter) appendString(s string) {
	w.grow(len(s))
	w.data = append(w.data, s...)
}

// end closes row i: its value is everything appended since row i-1.
func (w *strWriter) end(i int) {
	if len(w.data) > 1<<31-1 {
		w.overflowed = true
	}
	w.offs[i+1] = int32(len(w.data))
}

// finish returns the array; valid is taken over (nil: no nulls).
func (w *strWriter) finish(valid *memory.Buffer) (arrow.Array, error) {
	if w.overflowed {
		if valid != nil {
			valid.Release()
		}
		w.release()
		return nil, errStringOverflow
	}
	w.dataBuf.ResizeNoShrink(len(w.data))
	return w.b.newArray(spec.String, valid, w.offBuf, w.dataBuf), nil
}

func (w *strWriter) release() {
	w.offBuf.Release()
	w.dataBuf.Release()
}
