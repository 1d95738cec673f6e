package expr

import (
	"github.com/apache/arrow/go/v17/arrow"
	"github.com/batchrun/batchrun/jobs/spec"
)

// selectArms builds the result of CASE and coalesce: row i takes its value from
// vals[pick[i]]. It takes over nothing: the caller still releases vals,
// except an entry it returns whole, which it zeroes.
func selectArms(b *evalBatch, t spec.Type, pick []uint16, vals []exprVec) (exprVec, error) {
	if k, ok := uniformPick(pick); ok {
		v := vals[k]
		vals[k] = exprVec{}
		return v, nil
	}
	switch t.Physical() {
	case spec.Int64:
		return arrVec(selectFixed[int64](b, pick, vals)), nil
	case spec.Float64:
		return arrVec(selectFixed[float64](b, pick, vals)), nil
	case spec.Bool:
		return arrVec(selectBool(b, pick, vals)), nil
	}
	arr, err := selectStrings(b, pick, vals)
	return arrVec(arr), err
}

// uniformPick reports whether every row picks the same entry.
func uniformPick(pick []uint16) (uint16, bool) {
	if len(pick) == 0 {
		return 0, false
	}
	for _, k := range pick[1:] {
		if k != pick[0] {
			return 0, false
		}
	}
	return pick[0], true
}

// fixedArm is one gather source of int64 or float64 values: an array (vals,
// with valid nil when it has no nulls) or a constant (c, cvalid).
type fixedArm[T numeric] struct {
	vals   []T
	valid  []byte
	c      T
	cvalid bool
}

func selectFixed[T numeric](b *evalBatch, pick []uint16, vals []exprVec) arrow.Array {
	arms := make([]fixedArm[T], len(vals))
	for k, v := range vals {
		if v.isConst() {
			arms[k] = fixedArm[T]{c: constAs[T](v.c), cvalid: v.c.valid}
		} else {
			arms[k] = fixedArm[T]{vals: fixedValues[T](v.arr), valid: b.validBits(v)}
		}
	}
	buf, out := allocFixed[T](b)
	validBuf, valid := b.allocBits(0xFF)
	nulls := false
	for i, k := range pick[:len(out)] {
		a := &arms[k]
		ok := a.cvalid
		if a.vals != nil {
			out[i] = a.vals[i]
			ok = a.valid == nil || testBit(a.valid, i)
		} else {
			out[i] = a.c
		}
		if !ok {
			unsetBit(valid, i)
			nulls = true
		}
	}
	if !nulls {
		validBuf.Release()
		validBuf = nil
	}
	return b.newArray(specType[T](), validBuf, buf)
}

func selectBool(b *evalBatch, pick []uint16, vals []exprVec) arrow.Array {
	type boolArm struct{ vals, valid []byte }
	arms := make([]boolArm, len(vals))
	for k, v := range vals {
		arms[k].vals, arms[k].valid = b.boolBits(v)
	}
	buf, out := b.allocBits(0)
	validBuf, valid := b.allocBits(0xFF)
	nulls := false
	for i, k := range pick[:b.n] {
		a := &arms[k]
		if a.valid != nil && !testBit(a.valid, i) {
			unsetBit(valid, i)
			nulls = true
		} else if testBit(a.vals, i) {
			out[i>>3] |= 1 << (uint(i) & 7)
		}
	}
	if !nulls {
		validBuf.Release()
		validBuf = nil
	}
	return b.newArray(spec.Bool, validBuf, buf)
}

// strArm is one gather source of strings: an array or a constant.
type strArm struct {
	offs   []int32
	data   []byte
	valid  []byte
	c      string
	cvalid bool
}

func strArms(b *evalBatch, vals []exprVec) []strArm {
	arms := make([]strArm, len(vals))
	for k, v := range vals {
		if v.isConst() {
			arms[k] = strArm{c: v.c.s, cvalid: v.c.valid}
		} else {
			offs, data := stringParts(v.arr)
			arms[k] = strArm{offs: offs, data: data, valid: b.validBits(v), cvalid: true}
		}
	}
	return arms
}

// at returns row i of the arm and whether it is valid.
func (a *strArm) at(i int) (string, bool) {
	if a.offs == nil {
		return a.c, a.cvalid
	}
	if a.valid != nil && !testBit(a.valid, i) {
		return "", false
	}
	return strRow(a.offs, a.data, i), true
}

func selectStrings(b *evalBatch, pick []uint16, vals []exprVec) (arrow.Array, error) {
	arms := strArms(b, vals)
	size := 0
	for i, k := range pick[:b.n] {
		s, _ := arms[k].at(i)
		size += len(s)
	}
	w := newStrWriter(b, size)
	validBuf, valid := b.allocBits(0xFF)
	nulls := false
	for i, k := range pick[:b.n] {
		s, ok := arms[k].at(i)
		if ok {
			w.appendString(s)
		} else {
			unsetBit(valid, i)
			nulls = true
		}
		w.end(i)
	}
	if !nulls {
		validBuf.Release()
		validBuf = nil
	}
	return w.finish(validBuf)
}
