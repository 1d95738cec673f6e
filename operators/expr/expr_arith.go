package expr

import (
	"math"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/jobs/spec"
)

// numeric is the element type of numeric arrays.
type numeric interface{ int64 | float64 }

func specType[T numeric]() spec.Type {
	var z T
	if _, ok := any(z).(int64); ok {
		return spec.Int64
	}
	return spec.Float64
}

// evalPair evaluates two operands; on error nothing is left to release.
func evalPair(b *evalBatch, care []byte, l, r exprNode) (exprVec, exprVec, error) {
	lv, err := l.eval(b, care)
	if err != nil {
		return exprVec{}, exprVec{}, err
	}
	rv, err := r.eval(b, care)
	if err != nil {
		lv.release()
		return exprVec{}, exprVec{}, err
	}
	return lv, rv, nil
}

// arithNode is l op r for + - * / % with result type typ. The operands
// keep their own types (lt, rt): an int64 operand of a float64 operation is
// converted inside the loop, never materialized as a float64 array.
type arithNode struct {
	op     spec.BinaryOp
	l, r   exprNode
	typ    spec.Type
	lt, rt spec.Type
}

func (n *arithNode) eval(b *evalBatch, care []byte) (exprVec, error) {
	l, r, err := evalPair(b, care, n.l, n.r)
	if err != nil {
		return exprVec{}, err
	}
	defer l.release()
	defer r.release()
	if l.isNullC() || r.isNullC() {
		return exprVec{}, nil
	}
	switch {
	case n.typ == spec.Int64:
		return arith[int64, int64, int64](b, n.op, l, r), nil
	case n.lt == spec.Int64 && n.rt == spec.Int64:
		return arith[float64, int64, int64](b, n.op, l, r), nil
	case n.lt == spec.Int64:
		return arith[float64, int64, float64](b, n.op, l, r), nil
	case n.rt == spec.Int64:
		return arith[float64, float64, int64](b, n.op, l, r), nil
	}
	return arith[float64, float64, float64](b, n.op, l, r), nil
}

// arith computes l op r into values of type O from operands of types A and
// B; a constant operand is broadcast without being materialized. Division
// and modulo by zero give NULL.
func arith[O, A, B numeric](b *evalBatch, op spec.BinaryOp, l, r exprVec) exprVec {
	var a []A
	var c []B
	var ca, cc O
	if l.isConst() {
		ca = O(constAs[A](l.c))
	} else {
		a = fixedValues[A](l.arr)
	}
	if r.isConst() {
		cc = O(constAs[B](r.c))
		if cc == 0 && (op == spec.OpDiv || op == spec.OpMod) {
			return exprVec{}
		}
	} else {
		c = fixedValues[B](r.arr)
	}
	if l.isConst() && r.isConst() {
		out := []O{0}
		arithLoop(op, out, []O{ca}, []O{cc}, 0, 0)
		return constVec(constFrom(out[0]))
	}
	valid := b.andValidity(l, r)
	buf, out := allocFixed[O](b)
	arithLoop(op, out, a, c, ca, cc)
	if c != nil && (op == spec.OpDiv || op == spec.OpMod) {
		valid = nullWhereZero(b, valid, c)
	}
	return arrVec(b.newArray(specType[O](), valid, buf))
}

func arithLoop[O, A, B numeric](op spec.BinaryOp, out []O, a []A, c []B, ca, cc O) {
	switch op {
	case spec.OpAdd:
		addLoop(out, a, c, ca, cc)
	case spec.OpSub:
		subLoop(out, a, c, ca, cc)
	case spec.OpMul:
		mulLoop(out, a, c, ca, cc)
	case spec.OpDiv:
		divLoop(out, a, c, ca, cc)
	case spec.OpMod:
		modLoop(out, a, c, ca, cc)
	}
}

// The loops below take either slice a or constant ca on the left, and
// either slice c or constant cc on the right, converting to the output
// type O; out has the batch's length.

func addLoop[O, A, B numeric](out []O, a []A, c []B, ca, cc O) {
	switch {
	case a == nil:
		c = c[:len(out)]
		for i := range out {
			out[i] = ca + O(c[i])
		}
	case c == nil:
		a = a[:len(out)]
		for i := range out {
			out[i] = O(a[i]) + cc
		}
	default:
		a, c = a[:len(out)], c[:len(out)]
		for i := range out {
			out[i] = O(a[i]) + O(c[i])
		}
	}
}

func subLoop[O, A, B numeric](out []O, a []A, c []B, ca, cc O) {
	switch {
	case a == nil:
		c = c[:len(out)]
		for i := range out {
			out[i] = ca - O(c[i])
		}
	case c == nil:
		a = a[:len(out)]
		for i := range out {
			out[i] = O(a[i]) - cc
		}
	default:
		a, c = a[:len(out)], c[:len(out)]
		for i := range out {
			out[i] = O(a[i]) - O(c[i])
		}
	}
}

func mulLoop[O, A, B numeric](out []O, a []A, c []B, ca, cc O) {
	switch {
	case a == nil:
		c = c[:len(out)]
		for i := range out {
			out[i] = ca * O(c[i])
		}
	case c == nil:
		a = a[:len(out)]
		for i := range out {
			out[i] = O(a[i]) * cc
		}
	default:
		a, c = a[:len(out)], c[:len(out)]
		for i := range out {
			out[i] = O(a[i]) * O(c[i])
		}
	}
}

// divLoop divides; a zero divisor yields a placeholder the caller nulls.
func divLoop[O, A, B numeric](out []O, a []A, c []B, ca, cc O) {
	switch {
	case a == nil:
		c = c[:len(out)]
		for i := range out {
			d := O(c[i])
			if d == 0 {
				d = 1
			}
			out[i] = ca / d
		}
	case c == nil:
		a = a[:len(out)]
		for i := range out {
			out[i] = O(a[i]) / cc
		}
	default:
		a, c = a[:len(out)], c[:len(out)]
		for i := range out {
			d := O(c[i])
			if d == 0 {
				d = 1
			}
			out[i] = O(a[i]) / d
		}
	}
}

// modLoop is the remainder with the sign of the dividend (truncated
// division, as in SQL and Go; math.Mod for floats). A zero divisor yields a
// placeholder the caller nulls.
func modLoop[O, A, B numeric](out []O, a []A, c []B, ca, cc O) {
	_, isFloat := any(out).([]float64)
	for i := range out {
		x, d := ca, cc
		if a != nil {
			x = O(a[i])
		}
		if c != nil {
			d = O(c[i])
		}
		switch {
		case d == 0:
			out[i] = 0
		case isFloat:
			out[i] = O(math.Mod(float64(x), float64(d)))
		default:
			out[i] = O(int64(x) % int64(d))
		}
	}
}

// nullWhereZero clears the validity of rows whose divisor is zero.
func nullWhereZero[T numeric](b *evalBatch, valid *memory.Buffer, d []T) *memory.Buffer {
	zero := -1
	for i, v := range d[:b.n] {
		if v == 0 {
			zero = i
			break
		}
	}
	if zero < 0 {
		return valid
	}
	valid, bits := b.mutableValidity(valid)
	for i := zero; i < b.n; i++ {
		if d[i] == 0 {
			unsetBit(bits, i)
		}
	}
	return valid
}

// negNode is -x.
type negNode struct {
	x   exprNode
	typ spec.Type
}

func (n *negNode) eval(b *evalBatch, care []byte) (exprVec, error) {
	x, err := n.x.eval(b, care)
	if err != nil || x.isNullC() {
		return x, err
	}
	defer x.release()
	if x.isConst() {
		return constVec(exprConst{valid: true, i: -x.c.i, f: -x.c.f}), nil
	}
	if n.typ.Physical() == spec.Int64 {
		return arrVec(negate[int64](b, x)), nil
	}
	return arrVec(negate[float64](b, x)), nil
}

func negate[T numeric](b *evalBatch, x exprVec) arrow.Array {
	buf, out := allocFixed[T](b)
	in := fixedValues[T](x.arr)[:len(out)]
	for i := range out {
		out[i] = -in[i]
	}
	return b.newArray(specType[T](), b.validity(x.arr), buf)
}

// mathNode is abs, floor, ceil or round(x[, digits]). round rounds half
// away from zero; negative digits round to tens, hundreds, ...
type mathNode struct {
	fn     string
	x      exprNode
	digits exprNode // nil: 0
	typ    spec.Type
}

func newMathNode(fn string, args []exprNode, t spec.Type) exprNode {
	if t == spec.Int64 && (fn == "floor" || fn == "ceil" || fn == "round" && len(args) == 1) {
		return args[0]
	}
	n := &mathNode{fn: fn, x: args[0], typ: t, digits: &constNode{c: exprConst{valid: true}}}
	if len(args) > 1 {
		n.digits = args[1]
	}
	return n
}

func (n *mathNode) eval(b *evalBatch, care []byte) (exprVec, error) {
	x, d, err := evalPair(b, care, n.x, n.digits)
	if err != nil {
		return exprVec{}, err
	}
	defer x.release()
	defer d.release()
	if x.isNullC() || d.isNullC() {
		return exprVec{}, nil
	}
	var ds []int64
	if !d.isConst() {
		ds = fixedValues[int64](d.arr)
	}
	if x.isConst() && d.isConst() {
		outI, outF := []int64{0}, []float64{0}
		mathInt(n.fn, outI, []int64{x.c.i}, nil, d.c.i)
		mathFloat(n.fn, outF, []float64{x.c.f}, nil, d.c.i)
		return constVec(exprConst{valid: true, i: outI[0], f: outF[0]}), nil
	}
	if x.isConst() {
		arr, err := b.materialize(n.typ, x.c)
		if err != nil {
			return exprVec{}, err
		}
		x.arr = arr
	}
	valid := b.andValidity(x, d)
	if n.typ.Physical() == spec.Int64 {
		buf, out := allocFixed[int64](b)
		mathInt(n.fn, out, fixedValues[int64](x.arr), ds, d.c.i)
		return arrVec(b.newArray(n.typ, valid, buf)), nil
	}
	buf, out := allocFixed[float64](b)
	mathFloat(n.fn, out, fixedValues[float64](x.arr), ds, d.c.i)
	return arrVec(b.newArray(n.typ, valid, buf)), nil
}

// mathInt applies abs or round to x; digits are ds[i], or cd when ds is nil.
func mathInt(fn string, out, x, ds []int64, cd int64) {
	x = x[:len(out)]
	if fn == "abs" {
		for i, v := range x {
			if v < 0 {
				v = -v
			}
			out[i] = v
		}
		return
	}
	for i, v := range x {
		d := cd
		if ds != nil {
			d = ds[i]
		}
		out[i] = roundInt(v, d)
	}
}

func mathFloat(fn string, out, x []float64, ds []int64, cd int64) {
	x = x[:len(out)]
	switch fn {
	case "abs":
		for i, v := range x {
			out[i] = math.Abs(v)
		}
	case "floor":
		for i, v := range x {
			out[i] = math.Floor(v)
		}
	case "ceil":
		for i, v := range x {
			out[i] = math.Ceil(v)
		}
	case "round":
		if ds == nil && cd == 0 {
			for i, v := range x {
				out[i] = math.Round(v)
			}
			return
		}
		for i, v := range x {
			d := cd
			if ds != nil {
				d = ds[i]
			}
			out[i] = roundFloat(v, d)
		}
	}
}

// roundInt rounds x to a multiple of 10^-d, half away from zero.
func roundInt(x, d int64) int64 {
	if d >= 0 {
		return x
	}
	if d < -18 {
		return 0
	}
	p := int64(1)
	for ; d < 0; d++ {
		p *= 10
	}
	q, r := x/p, x%p
	switch {
	case r > 0 && r >= p-r:
		q++
	case r < 0 && -r >= p+r:
		q--
	}
	return q * p
}

// roundFloat rounds x to d decimal digits, half away from zero.
func roundFloat(x float64, d int64) float64 {
	switch {
	case d > 308:
		return x
	case d < -308:
		return 0
	case d >= 0:
		p := math.Pow10(int(d))
		if y := x * p; !math.IsInf(y, 0) {
			return math.Round(y) / p
		}
		return x
	}
	p := math.Pow10(int(-d))
	return math.Round(x/p) * p
}
