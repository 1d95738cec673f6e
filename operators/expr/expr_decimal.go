package expr

import (
	"fmt"
	"math"
	"math/bits"
	"strconv"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/jobs/spec"
)

// Decimals, dates and timestamps are int64 arrays (see spec.Type): this
// file holds the conversions between them and the decimal arithmetic. A
// decimal result that does not fit its precision is an EvalError on the
// rows in care and NULL on the others, as a failed cast is; it never wraps.

// pow10f holds 10^0 .. 10^18 as float64 (all exact).
var pow10f = func() (p [19]float64) {
	for i := range p {
		p[i] = float64(spec.Pow10(i))
	}
	return p
}()

// convertInt converts v between int64, decimals, date and timestamp (the
// types whose values are int64): a decimal's scale up (checked) or down
// (rounded half away from zero), an int64 to a decimal, a decimal to an
// int64 (rounded), a date to its midnight and a timestamp to its date. ok
// is false when the result does not fit.
func convertInt(v int64, from, to spec.Type) (int64, bool) {
	switch {
	case from == spec.Date && to == spec.Timestamp:
		return spec.MulOverflows(v, spec.MicrosPerDay)
	case from == spec.Timestamp && to == spec.Date:
		q, _ := spec.FloorDivMod(v, spec.MicrosPerDay)
		return q, true
	case to == spec.Int64:
		return spec.DivRound(v, spec.Pow10(from.Scale())), true
	}
	r, ok := spec.Rescale(v, from.Scale(), to.Scale())
	return r, ok && spec.DecimalFits(r, to.Precision())
}

// decimalFloat is decimal v of the given scale as a float64.
func decimalFloat(v int64, scale int) float64 { return float64(v) / pow10f[scale] }

// floatDecimal rounds f to a decimal of type t, half away from zero.
func floatDecimal(f float64, t spec.Type) (int64, bool) {
	r := math.Round(f * pow10f[t.Scale()])
	if !(math.Abs(r) < pow10f[t.Precision()]) {
		return 0, false
	}
	return int64(r), true
}

// convertInts is convertInt over an array. A value that does not fit is an
// error on the rows in care and NULL on the others.
func convertInts(b *evalBatch, a arrow.Array, from, to spec.Type, care []byte) (arrow.Array, error) {
	buf, out := allocFixed[int64](b)
	in := fixedValues[int64](a)[:len(out)]
	bad := false
	switch {
	case from.IsDecimal() && to.IsDecimal() && from.Scale() == to.Scale():
		bound := spec.Pow10(to.Precision())
		for i, v := range in {
			out[i] = v
			bad = bad || v >= bound || v <= -bound
		}
	default:
		for i, v := range in {
			r, ok := convertInt(v, from, to)
			out[i], bad = r, bad || !ok
		}
	}
	valid := b.validity(a)
	if !bad {
		return b.newArray(to, valid, buf), nil
	}
	valid, err := b.failRows(valid, care, func(i int) error {
		if _, ok := convertInt(in[i], from, to); ok {
			return nil
		}
		return castError(string(appendIntText(nil, in[i], from)), to, strconv.ErrRange)
	})
	if err != nil {
		buf.Release()
		return nil, err
	}
	return b.newArray(to, valid, buf), nil
}

// failRows finds the valid rows where check fails: the first in care is
// the error (valid is then released); the others become NULL. It returns
// the new validity.
func (b *evalBatch) failRows(valid *memory.Buffer, care []byte, check func(i int) error) (*memory.Buffer, error) {
	var vbits []byte // valid's bits, once it is a private copy
	for i := 0; i < b.n; i++ {
		if valid != nil && !testBit(valid.Bytes(), i) {
			continue
		}
		err := check(i)
		if err == nil {
			continue
		}
		if care == nil || testBit(care, i) {
			releaseIfSet(valid)
			return nil, err
		}
		if vbits == nil {
			valid, vbits = b.mutableValidity(valid)
		}
		unsetBit(vbits, i)
	}
	return valid, nil
}

func decimalToFloat(b *evalBatch, a arrow.Array, scale int) arrow.Array {
	buf, out := allocFixed[float64](b)
	in := fixedValues[int64](a)[:len(out)]
	p := pow10f[scale]
	for i, v := range in {
		out[i] = float64(v) / p
	}
	return b.newArray(spec.Float64, b.validity(a), buf)
}

func floatToDecimal(b *evalBatch, a arrow.Array, to spec.Type, care []byte) (arrow.Array, error) {
	buf, out := allocFixed[int64](b)
	in := fixedValues[float64](a)[:len(out)]
	bad := false
	for i, f := range in {
		v, ok := floatDecimal(f, to)
		out[i], bad = v, bad || !ok
	}
	valid := b.validity(a)
	if bad {
		var err error
		valid, err = b.failRows(valid, care, func(i int) error {
			if _, ok := floatDecimal(in[i], to); ok {
				return nil
			}
			return castError(string(appendFloatText(nil, in[i])), to, strconv.ErrRange)
		})
		if err != nil {
			buf.Release()
			return nil, err
		}
	}
	return b.newArray(to, valid, buf), nil
}

// decArithNode is l op r for + - * % with a decimal result typ. For + - %
// the operands are first brought to typ's scale (lmul, rmul: 10^k, or 1);
// for * the scales add up. An int64 operand is a decimal of scale 0.
type decArithNode struct {
	op         spec.BinaryOp
	l, r       exprNode
	lmul, rmul int64
	typ        spec.Type
	lt, rt     spec.Type
	text       string // the expression, for errors
}

func newDecArithNode(op spec.BinaryOp, l, r exprNode, lt, rt, typ spec.Type, text string) *decArithNode {
	n := &decArithNode{op: op, l: l, r: r, lmul: 1, rmul: 1, typ: typ, lt: lt, rt: rt, text: text}
	if op != spec.OpMul {
		n.lmul = spec.Pow10(typ.Scale() - lt.Scale())
		n.rmul = spec.Pow10(typ.Scale() - rt.Scale())
	}
	return n
}

func (n *decArithNode) eval(b *evalBatch, care []byte) (exprVec, error) {
	l, r, err := evalPair(b, care, n.l, n.r)
	if err != nil {
		return exprVec{}, err
	}
	defer l.release()
	defer r.release()
	if l.isNullC() || r.isNullC() {
		return exprVec{}, nil
	}
	a, am := intOperand(l)
	c, cm := intOperand(r)
	if n.op == spec.OpMod && r.isConst() && r.c.i == 0 {
		return exprVec{}, nil
	}
	if l.isConst() && r.isConst() {
		v, ok, zero := n.one(a[0], c[0])
		switch {
		case zero:
			return exprVec{}, nil
		case !ok:
			return exprVec{}, n.overflow(a[0], c[0])
		}
		return constVec(exprConst{valid: true, i: v}), nil
	}
	buf, out := allocFixed[int64](b)
	bad := n.loop(out, a, c, am, cm)
	valid := b.andValidity(l, r)
	if n.op == spec.OpMod && !r.isConst() {
		valid = nullWhereZero(b, valid, c[:b.n])
	}
	if bad {
		valid, err = b.failRows(valid, care, func(i int) error {
			x, y := a[i&am], c[i&cm]
			if _, ok, _ := n.one(x, y); ok {
				return nil
			}
			return n.overflow(x, y)
		})
		if err != nil {
			buf.Release()
			return exprVec{}, err
		}
	}
	return arrVec(b.newArray(n.typ, valid, buf)), nil
}

// intOperand returns the values of an int64 operand and the index mask of
// its rows: row i is vals[i&mask], so a constant (mask 0) is broadcast.
func intOperand(v exprVec) ([]int64, int) {
	if v.isConst() {
		return []int64{v.c.i}, 0
	}
	return fixedValues[int64](v.arr), -1
}

// one computes x op y for one row; zero reports a zero divisor of %.
func (n *decArithNode) one(x, y int64) (v int64, ok, zero bool) {
	if n.op == spec.OpMod && y == 0 {
		return 0, true, true
	}
	out := []int64{0}
	bad := n.loop(out, []int64{x}, []int64{y}, 0, 0)
	return out[0], !bad, false
}

func (n *decArithNode) overflow(x, y int64) error {
	return &EvalError{Msg: fmt.Sprintf("%s overflows %s (at %s %s %s)", n.text, n.typ,
		appendIntText(nil, x, n.lt), n.op, appendIntText(nil, y, n.rt))}
}

// abs64 is |v| as a uint64 (2^63 for math.MinInt64), without a branch.
func abs64(v int64) uint64 {
	m := v >> 63
	return uint64((v ^ m) - m)
}

// decMulLoop sets out[i] = a[i&am] * c[i&cm] and reports whether some
// product has an absolute value of bound or more (or overflows int64).
func decMulLoop(out, a, c []int64, am, cm int, bound uint64) bool {
	var bad uint64
	for i := range out {
		x, y := a[i&am], c[i&cm]
		hi, lo := bits.Mul64(abs64(x), abs64(y))
		s := (x ^ y) >> 63
		out[i] = (int64(lo) ^ s) - s
		bad |= hi | boolU64(lo >= bound)
	}
	return bad != 0
}

// decAddLoop sets out[i] = a[i&am]*amul ± c[i&cm]*cmul and reports whether
// some result has an absolute value of bound or more (or overflows int64).
func decAddLoop(out, a, c []int64, am, cm int, amul, cmul int64, sub bool, bound uint64) bool {
	var bad uint64
	if amul == 1 && cmul == 1 {
		// Operands of at most 18 digits cannot wrap; one out of that range
		// (an int64 operand) is an overflow too.
		const lim = 1e18
		if sub {
			for i := range out {
				x, y := a[i&am], c[i&cm]
				v := x - y
				out[i] = v
				bad |= boolU64(abs64(v) >= bound) | boolU64(abs64(x) >= lim) | boolU64(abs64(y) >= lim)
			}
		} else {
			for i := range out {
				x, y := a[i&am], c[i&cm]
				v := x + y
				out[i] = v
				bad |= boolU64(abs64(v) >= bound) | boolU64(abs64(x) >= lim) | boolU64(abs64(y) >= lim)
			}
		}
		return bad != 0
	}
	alim, clim := uint64(math.MaxInt64/amul), uint64(math.MaxInt64/cmul)
	for i := range out {
		x, y := a[i&am], c[i&cm]
		bad |= boolU64(abs64(x) > alim) | boolU64(abs64(y) > clim)
		x, y = x*amul, y*cmul
		if sub {
			y = -y
		}
		v := x + y
		bad |= uint64((v^x)&(v^y)) >> 63
		bad |= boolU64(abs64(v) >= bound)
		out[i] = v
	}
	return bad != 0
}

// modLoop sets out[i] to the remainder of the operands brought to one
// scale (the sign of the dividend, as int64 %); a zero divisor gives 0,
// which the caller nulls.
func (n *decArithNode) modLoop(out, a, c []int64, am, cm int) bool {
	var bad uint64
	alim, clim := uint64(math.MaxInt64/n.lmul), uint64(math.MaxInt64/n.rmul)
	for i := range out {
		x, y := a[i&am], c[i&cm]
		bad |= boolU64(abs64(x) > alim) | boolU64(abs64(y) > clim)
		x, y = x*n.lmul, y*n.rmul
		if y == 0 {
			out[i] = 0
			continue
		}
		out[i] = x % y
	}
	return bad != 0
}

func boolU64(b bool) uint64 {
	var u uint64
	if b {
		u = 1
	}
	return u
}

// rescaleNode multiplies int64 values by mul, saturating at the int64
// range instead of failing. It aligns the scales of the operands of a
// comparison: a value that overflows int64 when rescaled is larger in
// magnitude than any 18-digit decimal, so the saturated value compares the
// same.
type rescaleNode struct {
	x   exprNode
	mul int64
}

func (n *rescaleNode) eval(b *evalBatch, care []byte) (exprVec, error) {
	x, err := n.x.eval(b, care)
	if err != nil || x.isNullC() {
		return x, err
	}
	defer x.release()
	if x.isConst() {
		return constVec(exprConst{valid: true, i: rescaleSat(x.c.i, n.mul)}), nil
	}
	buf, out := allocFixed[int64](b)
	for i, v := range fixedValues[int64](x.arr)[:len(out)] {
		out[i] = rescaleSat(v, n.mul)
	}
	return arrVec(b.newArray(spec.Int64, b.validity(x.arr), buf)), nil
}

// rescaleSat is v * mul, saturated to the int64 range.
func rescaleSat(v, mul int64) int64 {
	r, ok := spec.MulOverflows(v, mul)
	switch {
	case ok:
		return r
	case v < 0:
		return math.MinInt64
	}
	return math.MaxInt64
}

// decRoundNode is floor, ceil or round of a decimal: the value divided by
// 10^drop (rounded down, up, or half away from zero), times unit (10^-n
// for round(x, n) with n < 0, else 1), of type typ.
type decRoundNode struct {
	fn   string
	x    exprNode
	drop int
	unit int64
	xt   spec.Type // the argument's type
	typ  spec.Type
	text string
}

func newDecRoundNode(fn string, x exprNode, xt, typ spec.Type, digits int64, text string) *decRoundNode {
	n := &decRoundNode{fn: fn, x: x, drop: xt.Scale() - typ.Scale(), unit: 1, xt: xt, typ: typ, text: text}
	if digits < 0 {
		n.drop = xt.Scale() + int(min(-digits, 19))
		if -digits <= 18 {
			n.unit = spec.Pow10(int(-digits))
		}
	}
	return n
}

func (n *decRoundNode) one(v int64) (int64, bool) {
	if n.drop > 18 {
		return 0, true
	}
	var r int64
	switch n.fn {
	case "floor":
		r, _ = spec.FloorDivMod(v, spec.Pow10(n.drop))
	case "ceil":
		q, m := spec.FloorDivMod(v, spec.Pow10(n.drop))
		r = q + int64(boolU64(m != 0))
	default:
		r = spec.DivRound(v, spec.Pow10(n.drop))
	}
	r, ok := spec.MulOverflows(r, n.unit)
	return r, ok && spec.DecimalFits(r, n.typ.Precision())
}

func (n *decRoundNode) eval(b *evalBatch, care []byte) (exprVec, error) {
	x, err := n.x.eval(b, care)
	if err != nil || x.isNullC() {
		return x, err
	}
	defer x.release()
	fail := func(v int64) error {
		return &EvalError{Msg: fmt.Sprintf("%s overflows %s (at %s)", n.text, n.typ, appendIntText(nil, v, n.xt))}
	}
	if x.isConst() {
		v, ok := n.one(x.c.i)
		if !ok {
			return exprVec{}, fail(x.c.i)
		}
		return constVec(exprConst{valid: true, i: v}), nil
	}
	buf, out := allocFixed[int64](b)
	in := fixedValues[int64](x.arr)[:len(out)]
	bad := false
	for i, v := range in {
		r, ok := n.one(v)
		out[i], bad = r, bad || !ok
	}
	valid := b.validity(x.arr)
	if bad {
		valid, err = b.failRows(valid, care, func(i int) error {
			if _, ok := n.one(in[i]); ok {
				return nil
			}
			return fail(in[i])
		})
		if err != nil {
			buf.Release()
			return exprVec{}, err
		}
	}
	return arrVec(b.newArray(n.typ, valid, buf)), nil
}
