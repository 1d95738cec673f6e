package shuffle

import (
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/bitutil"
	"github.com/apache/arrow/go/v17/arrow/memory"
)

// colBuf accumulates selected rows of one column for one consumer, with
// typed gather loops over the raw buffers (no per-value builder calls).
type colBuf interface {
	// gather appends rows idx of src (same type as the column).
	gather(src arrow.Array, idx []int32)
	// finish returns the rows gathered so far as an array and starts
	// empty (keeping its buffers' capacity if reuse, which is only safe
	// when the array is released before the next gather).
	finish(reuse bool) arrow.Array
	// reserve makes room for rows more rows like those of src.
	reserve(rows int, src arrow.Array)
	// size is the Arrow bytes held.
	size() int64
	release()
}

func newColBuf(mem memory.Allocator, t arrow.DataType) (colBuf, error) {
	switch t.ID() {
	case arrow.INT64, arrow.UINT64, arrow.FLOAT64, arrow.TIMESTAMP, arrow.DATE64, arrow.DURATION:
		return &fixedBuf[uint64]{typ: t, valid: bitBuf{mem: mem}, vals: rawBuf{mem: mem}}, nil
	case arrow.INT32, arrow.UINT32, arrow.FLOAT32, arrow.DATE32, arrow.TIME32:
		return &fixedBuf[uint32]{typ: t, valid: bitBuf{mem: mem}, vals: rawBuf{mem: mem}}, nil
	case arrow.STRING, arrow.BINARY:
		return &stringBuf{typ: t, valid: bitBuf{mem: mem}, offs: rawBuf{mem: mem}, data: rawBuf{mem: mem}}, nil
	case arrow.BOOL:
		return &boolBuf{valid: bitBuf{mem: mem}, vals: bitBuf{mem: mem}}, nil
	}
	return nil, fmt.Errorf("shuffle: cannot re-partition a column of type %s", t)
}

// rawBuf is a growable allocator buffer; n bytes are used.
type rawBuf struct {
	mem memory.Allocator
	b   *memory.Buffer
	n   int
}

// grow makes room for extra more bytes and returns the whole buffer.
func (r *rawBuf) grow(extra int) []byte {
	if r.b == nil {
		r.b = memory.NewResizableBuffer(r.mem)
	}
	if need := r.n + extra; need > r.b.Cap() {
		r.b.Reserve(max(need, 2*r.b.Cap(), 4096))
	}
	return r.b.Buf()
}

// take returns the buffer (length n) to hand to an array, keeping a
// reference for reuse if reuse.
func (r *rawBuf) take(reuse bool) *memory.Buffer {
	if r.b == nil {
		return nil
	}
	b := r.b
	b.ResizeNoShrink(r.n)
	r.n = 0
	if reuse {
		b.Retain()
	} else {
		r.b = nil
	}
	return b
}

func (r *rawBuf) release() {
	if r.b != nil {
		r.b.Release()
		r.b, r.n = nil, 0
	}
}

// bitBuf is a growable bitmap of n bits. For validity, it is only
// materialized (all previous bits set) once a null arrives.
type bitBuf struct {
	raw   rawBuf
	mem   memory.Allocator
	n     int
	on    bool
	nulls int
}

func (v *bitBuf) bits(extra int) []byte {
	if v.raw.mem == nil {
		v.raw.mem = v.mem
	}
	b := v.raw.grow(int(bitutil.BytesForBits(int64(v.n+extra))) - v.raw.n)
	v.raw.n = int(bitutil.BytesForBits(int64(v.n + extra)))
	return b
}

// gatherValidity appends the validity of rows idx of src, n rows already
// held.
func (v *bitBuf) gatherValidity(src arrow.Array, idx []int32) {
	if src.NullN() == 0 {
		if v.on {
			b := v.bits(len(idx))
			for j := range idx {
				bitutil.SetBit(b, v.n+j)
			}
		}
		v.n += len(idx)
		return
	}
	if !v.on {
		v.on = true
		held := v.n
		v.n = 0
		b := v.bits(held)
		for j := 0; j < held; j++ {
			bitutil.SetBit(b, j)
		}
		v.n = held
	}
	b := v.bits(len(idx))
	for j, i := range idx {
		ok := src.IsValid(int(i))
		bitutil.SetBitTo(b, v.n+j, ok)
		if !ok {
			v.nulls++
		}
	}
	v.n += len(idx)
}

func (v *bitBuf) take(reuse bool) (*memory.Buffer, int) {
	nulls := v.nulls
	var b *memory.Buffer
	if v.on {
		b = v.raw.take(reuse)
	}
	v.n, v.on, v.nulls = 0, false, 0
	return b, nulls
}

// fixedBuf holds a fixed-width column, values as raw words of W bytes.
type fixedBuf[W uint32 | uint64] struct {
	typ   arrow.DataType
	valid bitBuf
	vals  rawBuf
	rows  int
}

func (f *fixedBuf[W]) gather(src arrow.Array, idx []int32) {
	d := src.Data()
	var w W
	width := int(unsafeSizeof(w))
	in := castWords[W](d.Buffers()[1].Bytes())[d.Offset():]
	out := castWords[W](f.vals.grow(len(idx) * width))[f.rows:]
	out = out[:len(idx)]
	for j, i := range idx {
		out[j] = in[i]
	}
	f.vals.n += len(idx) * width
	f.valid.gatherValidity(src, idx)
	f.rows += len(idx)
}

func (f *fixedBuf[W]) finish(reuse bool) arrow.Array {
	valid, nulls := f.valid.take(reuse)
	vals := f.vals.take(reuse)
	data := array.NewData(f.typ, f.rows, []*memory.Buffer{valid, vals}, nil, nulls, 0)
	f.rows = 0
	return releaseBuffers(data, valid, vals)
}

func (f *fixedBuf[W]) reserve(rows int, _ arrow.Array) {
	var w W
	f.vals.grow(rows * int(unsafeSizeof(w)))
}

func (f *fixedBuf[W]) size() int64 { return int64(f.vals.n + f.valid.raw.n) }
func (f *fixedBuf[W]) release()    { f.vals.release(); f.valid.raw.release() }

// stringBuf holds a string or binary column (int32 offsets).
type stringBuf struct {
	typ   arrow.DataType
	valid bitBuf
	offs  rawBuf
	data  rawBuf
	rows  int
}

func (s *stringBuf) gather(src arrow.Array, idx []int32) {
	d := src.Data()
	offs := castWords[uint32](d.Buffers()[1].Bytes())[d.Offset():]
	var in []byte
	if b := d.Buffers()[2]; b != nil {
		in = b.Bytes()
	}
	total := 0
	for _, i := range idx {
		total += int(offs[i+1] - offs[i])
	}
	if s.rows == 0 {
		castWords[uint32](s.offs.grow(4))[0] = 0
		s.offs.n = 4
	}
	outOffs := castWords[uint32](s.offs.grow(4 * len(idx)))[s.rows+1:]
	outOffs = outOffs[:len(idx)]
	out := s.data.grow(total)
	pos := s.data.n
	for j, i := range idx {
		pos += copy(out[pos:], in[offs[i]:offs[i+1]])
		outOffs[j] = uint32(pos)
	}
	s.data.n = pos
	s.offs.n += 4 * len(idx)
	s.valid.gatherValidity(src, idx)
	s.rows += len(idx)
}

func (s *stringBuf) finish(reuse bool) arrow.Array {
	if s.rows == 0 {
		castWords[uint32](s.offs.grow(4))[0] = 0
		s.offs.n = 4
	}
	valid, nulls := s.valid.take(reuse)
	offs, data := s.offs.take(reuse), s.data.take(reuse)
	d := array.NewData(s.typ, s.rows, []*memory.Buffer{valid, offs, data}, nil, nulls, 0)
	s.rows = 0
	return releaseBuffers(d, valid, offs, data)
}

func (s *stringBuf) reserve(rows int, src arrow.Array) {
	s.offs.grow(4 * (rows + 1))
	if d := src.Data(); src.Len() > 0 && d.Buffers()[2] != nil {
		offs := castWords[uint32](d.Buffers()[1].Bytes())[d.Offset():]
		avg := int(offs[src.Len()]-offs[0])/src.Len() + 1
		s.data.grow(rows * avg)
	}
}

func (s *stringBuf) size() int64 { return int64(s.offs.n + s.data.n + s.valid.raw.n) }
func (s *stringBuf) release() {
	s.offs.release()
	s.data.release()
	s.valid.raw.release()
}

// boolBuf holds a boolean column.
type boolBuf struct {
	valid bitBuf
	vals  bitBuf
}

func (b *boolBuf) gather(src arrow.Array, idx []int32) {
	a := src.(*array.Boolean)
	out := b.vals.bits(len(idx))
	for j, i := range idx {
		bitutil.SetBitTo(out, b.vals.n+j, a.Value(int(i)))
	}
	b.vals.n += len(idx)
	b.valid.gatherValidity(src, idx)
}

func (b *boolBuf) finish(reuse bool) arrow.Array {
	rows := b.vals.n
	valid, nulls := b.valid.take(reuse)
	vals := b.vals.raw.take(reuse)
	if vals == nil {
		vals = memory.NewBufferBytes(nil)
	}
	b.vals.n = 0
	d := array.NewData(arrow.FixedWidthTypes.Boolean, rows, []*memory.Buffer{valid, vals}, nil, nulls, 0)
	return releaseBuffers(d, valid, vals)
}

func (b *boolBuf) reserve(int, arrow.Array) {}

func (b *boolBuf) size() int64 { return int64(b.vals.raw.n + b.valid.raw.n) }
func (b *boolBuf) release()    { b.vals.raw.release(); b.valid.raw.release() }

// releaseBuffers makes an array of data and drops the references the
// buffers were taken with (the array holds its own).
func releaseBuffers(data arrow.ArrayData, bufs ...*memory.Buffer) arrow.Array {
	arr := array.MakeFromData(data)
	data.Release()
	for _, b := range bufs {
		if b != nil {
			b.Release()
		}
	}
	return arr
}
