package operators

import (
	"fmt"
	"math"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/bitutil"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators/arrowx"
)

// A row reference packs (chunk, row) into one uint64: chunk in the high 32
// bits, row in the low 32. nullRef stands for a null row (the unmatched side
// of a left join).
const nullRef = ^uint64(0)

func mkRef(chunk, row int) uint64 { return uint64(chunk)<<32 | uint64(uint32(row)) }

// gather builds the array of len(refs) values whose row k is chunks[c].row r
// for refs[k] = mkRef(c, r), or null for nullRef. All chunks have type t.
func gather(t spec.Type, chunks []arrowx.ColView, refs []uint64, mem memory.Allocator) (arrow.Array, error) {
	valid, nulls := gatherValidity(chunks, refs, mem)
	switch t.Physical() {
	case spec.Int64:
		vals := arrowx.NewBuffer(mem, len(refs)*8)
		gatherFixed(arrow.Int64Traits.CastFromBytes(vals.Bytes()), chunks, refs, i64Of)
		return arrowx.NewArray(t, len(refs), nulls, valid, vals), nil
	case spec.Float64:
		vals := arrowx.NewBuffer(mem, len(refs)*8)
		gatherFixed(arrow.Float64Traits.CastFromBytes(vals.Bytes()), chunks, refs, f64Of)
		return arrowx.NewArray(t, len(refs), nulls, valid, vals), nil
	case spec.Bool:
		vals := arrowx.NewBitmap(mem, len(refs), false)
		gatherBools(vals.Bytes(), chunks, refs)
		return arrowx.NewArray(t, len(refs), nulls, valid, vals), nil
	case spec.String:
		offs, data, err := gatherStrings(chunks, refs, mem)
		if err != nil {
			if valid != nil {
				valid.Release()
			}
			return nil, err
		}
		return arrowx.NewArray(t, len(refs), nulls, valid, offs, data), nil
	case spec.Null:
		return arrowx.NewArray(t, len(refs), len(refs), valid), nil
	}
	if valid != nil {
		valid.Release()
	}
	return nil, fmt.Errorf("operators: cannot gather type %s", t)
}

func i64Of(v *arrowx.ColView) []int64   { return v.I64 }
func f64Of(v *arrowx.ColView) []float64 { return v.F64 }

// gatherValidity returns the validity bitmap of the gathered rows, or nil
// when none is null.
func gatherValidity(chunks []arrowx.ColView, refs []uint64, mem memory.Allocator) (*memory.Buffer, int) {
	anyNull := false
	for i := range chunks {
		anyNull = anyNull || chunks[i].Nulls > 0
	}
	if !anyNull {
		for _, r := range refs {
			if r == nullRef {
				anyNull = true
				break
			}
		}
	}
	if !anyNull {
		return nil, 0
	}
	valid := arrowx.NewBitmap(mem, len(refs), false)
	vb := valid.Bytes()
	nulls := 0
	for k, r := range refs {
		if r == nullRef || chunks[r>>32].IsNull(int(uint32(r))) {
			nulls++
			continue
		}
		bitutil.SetBit(vb, k)
	}
	return valid, nulls
}

// gatherFixed fills out from fixed-width chunks. Null rows get zero.
func gatherFixed[T int64 | float64](out []T, chunks []arrowx.ColView, refs []uint64, vals func(*arrowx.ColView) []T) {
	if len(chunks) == 1 {
		src := vals(&chunks[0])
		for k, r := range refs {
			if r == nullRef {
				out[k] = 0
				continue
			}
			out[k] = src[uint32(r)]
		}
		return
	}
	srcs := make([][]T, len(chunks))
	for i := range chunks {
		srcs[i] = vals(&chunks[i])
	}
	for k, r := range refs {
		if r == nullRef {
			out[k] = 0
			continue
		}
		out[k] = srcs[r>>32][uint32(r)]
	}
}

func gatherBools(out []byte, chunks []arrowx.ColView, refs []uint64) {
	for k, r := range refs {
		if r != nullRef && chunks[r>>32].BoolAt(int(uint32(r))) {
			bitutil.SetBit(out, k)
		}
	}
}

// gatherStrings returns the offsets and data buffers of the gathered
// strings: one pass sizes the data, a second copies it.
func gatherStrings(chunks []arrowx.ColView, refs []uint64, mem memory.Allocator) (*memory.Buffer, *memory.Buffer, error) {
	offsBuf := arrowx.NewBuffer(mem, (len(refs)+1)*4)
	offs := arrow.Int32Traits.CastFromBytes(offsBuf.Bytes())
	total := 0
	for k, r := range refs {
		offs[k] = int32(total)
		if r == nullRef {
			continue
		}
		c, i := &chunks[r>>32], uint32(r)
		total += int(c.Offs[i+1] - c.Offs[i])
	}
	if total > math.MaxInt32 {
		offsBuf.Release()
		return nil, nil, fmt.Errorf("operators: string column of %d bytes is too large for one batch", total)
	}
	offs[len(refs)] = int32(total)
	dataBuf := arrowx.NewBuffer(mem, total)
	data := dataBuf.Bytes()
	for k, r := range refs {
		if r == nullRef {
			continue
		}
		c, i := &chunks[r>>32], uint32(r)
		copy(data[offs[k]:], c.Data[c.Offs[i]:c.Offs[i+1]])
	}
	return offsBuf, dataBuf, nil
}

// gatherRecord gathers every column of chunked records into one record.
// cols[j] lists the views of output column j, one per chunk.
func gatherRecord(schema *arrow.Schema, types []spec.Type, cols [][]arrowx.ColView, refs []uint64, mem memory.Allocator) (arrow.Record, error) {
	arrs := make([]arrow.Array, len(cols))
	for j := range cols {
		a, err := gather(types[j], cols[j], refs, mem)
		if err != nil {
			arrowx.ReleaseAll(arrs)
			return nil, err
		}
		arrs[j] = a
	}
	return arrowx.NewRecord(schema, arrs, len(refs)), nil
}
