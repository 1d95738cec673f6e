package expr

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unsafe"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/jobs/spec"
)

// castNode is CAST(x AS to) between the types spec.Castable allows; it
// also promotes operands to the type an operation needs (int64 to float64
// or to a decimal, a decimal to another scale, a date to a timestamp, bools
// to int64).
type castNode struct {
	x        exprNode
	from, to spec.Type
	// try is TRY_CAST: a value that does not convert is NULL. The kernels
	// already make a row NULL rather than fail where the caller does not
	// care about it (an arm of a CASE not taken); TRY_CAST cares about
	// none.
	try bool
}

func (n *castNode) eval(b *evalBatch, care []byte) (exprVec, error) {
	x, err := n.x.eval(b, care)
	if err != nil || x.isNullC() {
		return x, err
	}
	defer x.release()
	if x.isConst() {
		c, err := castScalar(x.c, n.from, n.to)
		if err != nil && n.try {
			return constVec(exprConst{}), nil
		}
		return constVec(c), err
	}
	if n.try {
		buf, none := b.allocBits(0)
		defer buf.Release()
		care = none
	}
	var arr arrow.Array
	switch {
	case n.to == spec.String:
		arr, err = castToString(b, x.arr, n.from)
	case n.from == spec.String:
		arr, err = castFromString(b, x.arr, n.to, care)
	case n.from.IsDecimal() && n.to == spec.Float64:
		arr = decimalToFloat(b, x.arr, n.from.Scale())
	case n.from == spec.Float64 && n.to.IsDecimal():
		arr, err = floatToDecimal(b, x.arr, n.to, care)
	case n.from.Physical() == spec.Int64 && n.to.Physical() == spec.Int64:
		arr, err = convertInts(b, x.arr, n.from, n.to, care)
	case n.to == spec.Bool:
		arr = castToBool(b, x.arr, n.from)
	case n.from == spec.Bool:
		arr = castFromBool(b, x.arr, n.to)
	case n.to == spec.Float64:
		arr = intToFloat(b, x.arr)
	default:
		arr, err = floatToInt(b, x.arr, care)
	}
	return arrVec(arr), err
}

// castScalar casts a non-NULL constant.
func castScalar(c exprConst, from, to spec.Type) (exprConst, error) {
	switch {
	case from == spec.String:
		return parseScalar(c.s, to)
	case to == spec.String:
		return exprConst{valid: true, s: string(appendValue(nil, c, from))}, nil
	case from.IsDecimal() && to == spec.Float64:
		return exprConst{valid: true, f: decimalFloat(c.i, from.Scale())}, nil
	case from == spec.Float64 && to.IsDecimal():
		v, ok := floatDecimal(c.f, to)
		if !ok {
			return exprConst{}, castError(string(appendFloatText(nil, c.f)), to, strconv.ErrRange)
		}
		return exprConst{valid: true, i: v}, nil
	case from.Physical() == spec.Int64 && to.Physical() == spec.Int64:
		v, ok := convertInt(c.i, from, to)
		if !ok {
			return exprConst{}, castError(string(appendValue(nil, c, from)), to, strconv.ErrRange)
		}
		return exprConst{valid: true, i: v}, nil
	}
	var f float64
	switch from {
	case spec.Bool:
		if c.b {
			f = 1
		}
	case spec.Int64:
		f = float64(c.i)
	case spec.Float64:
		f = c.f
	}
	out := exprConst{valid: true, b: f != 0, f: f, i: int64(f)}
	switch {
	case to == spec.String:
		out.s = string(appendValue(nil, c, from))
	case from == spec.Int64:
		out.i = c.i
	case to == spec.Int64:
		i, ok := roundToInt(f)
		if !ok {
			return exprConst{}, castError(strconv.FormatFloat(f, 'g', -1, 64), to, strconv.ErrRange)
		}
		out.i = i
	}
	return out, nil
}

// appendValue appends the text form of a non-string value.
func appendValue(dst []byte, c exprConst, t spec.Type) []byte {
	switch t {
	case spec.Bool:
		return strconv.AppendBool(dst, c.b)
	case spec.Int64:
		return strconv.AppendInt(dst, c.i, 10)
	case spec.Float64:
		return appendFloatText(dst, c.f)
	}
	return appendIntText(dst, c.i, t)
}

// appendIntText appends the text form of a date, a timestamp or a decimal.
func appendIntText(dst []byte, v int64, t spec.Type) []byte {
	switch t {
	case spec.Date:
		return spec.AppendDate(dst, v)
	case spec.Timestamp:
		return spec.AppendTimestamp(dst, v)
	case spec.Int64:
		return strconv.AppendInt(dst, v, 10)
	}
	return spec.AppendDecimal(dst, v, t.Scale())
}

// appendFloatText formats f in the shortest form that reads back exactly,
// keeping a ".0" on whole numbers ("1.0", "2.5", "1e+21").
func appendFloatText(dst []byte, f float64) []byte {
	start := len(dst)
	dst = strconv.AppendFloat(dst, f, 'g', -1, 64)
	for _, c := range dst[start:] {
		if c == '.' || c == 'e' || c == 'N' || c == 'I' {
			return dst
		}
	}
	return append(dst, '.', '0')
}

// roundToInt rounds f half away from zero; ok is false out of int64 range.
func roundToInt(f float64) (int64, bool) {
	r := math.Round(f)
	if !(r >= -(1<<63) && r < 1<<63) {
		return 0, false
	}
	return int64(r), true
}

func castError(v string, to spec.Type, err error) error {
	if ne, ok := err.(*strconv.NumError); ok {
		err = ne.Err
	}
	return &EvalError{Msg: fmt.Sprintf("cast %q to %s: %v", v, to, err)}
}

// parseScalar parses s, trimmed of spaces, as a value of type to.
func parseScalar(s string, to spec.Type) (exprConst, error) {
	t := strings.TrimSpace(s)
	var parse func([]byte) (int64, error)
	switch to.Kind() {
	case spec.Date:
		parse = spec.ParseDate
	case spec.Timestamp:
		parse = spec.ParseTimestamp
	case spec.Decimal:
		parse = func(b []byte) (int64, error) { return spec.ParseDecimal(b, to) }
	}
	if parse != nil {
		v, err := parse(unsafe.Slice(unsafe.StringData(t), len(t)))
		if err != nil {
			return exprConst{}, castError(s, to, err)
		}
		return exprConst{valid: true, i: v}, nil
	}
	switch to {
	case spec.Int64:
		v, err := strconv.ParseInt(t, 10, 64)
		if err != nil {
			return exprConst{}, castError(s, to, err)
		}
		return exprConst{valid: true, i: v}, nil
	case spec.Float64:
		v, err := strconv.ParseFloat(t, 64)
		if err != nil {
			return exprConst{}, castError(s, to, err)
		}
		return exprConst{valid: true, f: v}, nil
	case spec.Bool:
		v, ok := parseBoolText(t)
		if !ok {
			return exprConst{}, castError(s, to, strconv.ErrSyntax)
		}
		return exprConst{valid: true, b: v}, nil
	}
	return exprConst{valid: true, s: s}, nil
}

// parseBoolText accepts true/false, t/f, yes/no, y/n and 1/0 in any case.
func parseBoolText(s string) (bool, bool) {
	for _, w := range [...]string{"true", "t", "yes", "y", "1"} {
		if strings.EqualFold(s, w) {
			return true, true
		}
	}
	for _, w := range [...]string{"false", "f", "no", "n", "0"} {
		if strings.EqualFold(s, w) {
			return false, true
		}
	}
	return false, false
}

func intToFloat(b *evalBatch, a arrow.Array) arrow.Array {
	buf, out := allocFixed[float64](b)
	in := fixedValues[int64](a)[:len(out)]
	for i, v := range in {
		out[i] = float64(v)
	}
	return b.newArray(spec.Float64, b.validity(a), buf)
}

// floatToInt rounds half away from zero; a value out of range is an error
// on the rows in care and NULL on the others.
func floatToInt(b *evalBatch, a arrow.Array, care []byte) (arrow.Array, error) {
	buf, out := allocFixed[int64](b)
	valid := b.validity(a)
	var vbits []byte // valid's bits, once it is a private copy
	in := fixedValues[float64](a)[:len(out)]
	for i, v := range in {
		r, ok := roundToInt(v)
		out[i] = r
		if ok || valid != nil && !testBit(valid.Bytes(), i) {
			continue
		}
		if care == nil || testBit(care, i) {
			buf.Release()
			releaseIfSet(valid)
			return nil, castError(strconv.FormatFloat(v, 'g', -1, 64), spec.Int64, strconv.ErrRange)
		}
		if vbits == nil {
			valid, vbits = b.mutableValidity(valid)
		}
		unsetBit(vbits, i)
	}
	return b.newArray(spec.Int64, valid, buf), nil
}

func releaseIfSet(buf *memory.Buffer) {
	if buf != nil {
		buf.Release()
	}
}

func castToBool(b *evalBatch, a arrow.Array, from spec.Type) arrow.Array {
	buf, out := b.allocBits(0)
	if from == spec.Int64 {
		for i, v := range fixedValues[int64](a)[:b.n] {
			out[i>>3] |= boolByte(v != 0) << (uint(i) & 7)
		}
	} else {
		for i, v := range fixedValues[float64](a)[:b.n] {
			out[i>>3] |= boolByte(v != 0) << (uint(i) & 7)
		}
	}
	return b.newArray(spec.Bool, b.validity(a), buf)
}

func castFromBool(b *evalBatch, a arrow.Array, to spec.Type) arrow.Array {
	bits, _ := b.boolBits(arrVec(a))
	if to == spec.Int64 {
		buf, out := allocFixed[int64](b)
		for i := range out {
			out[i] = int64(boolByte(testBit(bits, i)))
		}
		return b.newArray(to, b.validity(a), buf)
	}
	buf, out := allocFixed[float64](b)
	for i := range out {
		out[i] = float64(boolByte(testBit(bits, i)))
	}
	return b.newArray(to, b.validity(a), buf)
}

func castToString(b *evalBatch, a arrow.Array, from spec.Type) (arrow.Array, error) {
	w := newStrWriter(b, b.n*8)
	var bits []byte
	if from == spec.Bool {
		bits, _ = b.boolBits(arrVec(a))
	}
	var ints []int64
	var floats []float64
	switch from.Physical() {
	case spec.Int64:
		ints = fixedValues[int64](a)
	case spec.Float64:
		floats = fixedValues[float64](a)
	}
	valid := b.validBits(arrVec(a))
	for i := 0; i < b.n; i++ {
		if valid == nil || testBit(valid, i) {
			w.grow(40)
			switch {
			case from == spec.Bool:
				w.data = strconv.AppendBool(w.data, testBit(bits, i))
			case ints != nil:
				w.data = appendIntText(w.data, ints[i], from)
			default:
				w.data = appendFloatText(w.data, floats[i])
			}
		}
		w.end(i)
	}
	return w.finish(b.validity(a))
}

// castFromString parses every valid row. Text that does not parse is an
// error on the rows in care and NULL on the others.
func castFromString(b *evalBatch, a arrow.Array, to spec.Type, care []byte) (arrow.Array, error) {
	offs, data := stringParts(a)
	valid := b.validity(a)
	var buf *memory.Buffer
	var ints []int64
	var floats []float64
	var bits []byte
	switch to.Physical() {
	case spec.Int64:
		buf, ints = allocFixed[int64](b)
	case spec.Float64:
		buf, floats = allocFixed[float64](b)
	default:
		buf, bits = b.allocBits(0)
	}
	var vbits []byte // valid's bits, once it is a private copy
	for i := 0; i < b.n; i++ {
		if valid != nil && !testBit(valid.Bytes(), i) {
			continue
		}
		v, err := parseScalar(strRow(offs, data, i), to)
		if err != nil {
			if care == nil || testBit(care, i) {
				buf.Release()
				releaseIfSet(valid)
				return nil, err
			}
			if vbits == nil {
				valid, vbits = b.mutableValidity(valid)
			}
			unsetBit(vbits, i)
			continue
		}
		switch {
		case ints != nil:
			ints[i] = v.i
		case floats != nil:
			floats[i] = v.f
		default:
			bits[i>>3] |= boolByte(v.b) << (uint(i) & 7)
		}
	}
	return b.newArray(to, valid, buf), nil
}
