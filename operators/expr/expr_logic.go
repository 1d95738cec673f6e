package expr

import (
	"math/bits"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/bitutil"
	"github.com/batchrun/batchrun/jobs/spec"
)

// boolBits returns the values and validity (nil: no nulls) of a bool exprVec
// as bitmaps with row 0 at bit 0. A constant or a sliced array is expanded
// into scratch memory; the result must not be written to.
func (b *evalBatch) boolBits(v exprVec) (vals, valid []byte) {
	if v.isConst() {
		vals = scratchBits(b.n, v.c.valid && v.c.b)
		if !v.c.valid {
			valid = scratchBits(b.n, false)
		}
		return vals, valid
	}
	d := v.arr.Data()
	vals = alignBits(d.Buffers()[1].Bytes(), d.Offset(), b.n)
	if v.arr.NullN() > 0 {
		valid = alignBits(d.Buffers()[0].Bytes(), d.Offset(), b.n)
	}
	return vals, valid
}

func alignBits(bits []byte, off, n int) []byte {
	if off%8 == 0 {
		return bits[off/8:]
	}
	out := make([]byte, bitmapLen(n))
	bitutil.CopyBitmap(bits, off, n, out, 0)
	return out
}

// scratchBits returns a scratch bitmap of n bits all set to on; the bits past
// n in the last byte are zero.
func scratchBits(n int, on bool) []byte {
	out := make([]byte, bitmapLen(n))
	if on {
		for i := range out {
			out[i] = 0xFF
		}
		if r := n % 8; r != 0 {
			out[len(out)-1] = 1<<r - 1
		}
	}
	return out
}

func noBitsSet(bits []byte) bool {
	for _, w := range bits {
		if w != 0 {
			return false
		}
	}
	return true
}

// logicNode is l AND r, or l OR r, in three-valued logic.
type logicNode struct {
	or       bool
	l, r     exprNode
	rMayFail bool // r can fail: evaluate it only where l does not decide
}

func (n *logicNode) eval(b *evalBatch, care []byte) (exprVec, error) {
	l, err := n.l.eval(b, care)
	if err != nil {
		return exprVec{}, err
	}
	defer l.release()
	// FALSE AND r is FALSE, TRUE OR r is TRUE: r is not needed.
	if l.isConst() && l.c.valid && l.c.b == n.or {
		return l, nil
	}
	lv, lm := b.boolBits(l)
	rcare := care
	if n.rMayFail {
		rcare = scratchBits(b.n, true)
		if care != nil {
			copy(rcare, care)
		}
		for i := range rcare {
			decided := lv[i] ^ 0xFF // FALSE decides AND
			if n.or {
				decided = lv[i]
			}
			if lm != nil {
				decided &= lm[i]
			}
			rcare[i] &^= decided
		}
	}
	r, err := n.r.eval(b, rcare)
	if err != nil {
		return exprVec{}, err
	}
	defer r.release()
	rv, rm := b.boolBits(r)
	return arrVec(b.logic(n.or, lv, lm, rv, rm)), nil
}

// logic combines two bool bitmaps. For AND the result is FALSE where either
// side is FALSE, NULL where otherwise either is NULL; OR likewise with TRUE.
// The value bits of NULL rows are don't-care, which the formulas tolerate.
func (b *evalBatch) logic(or bool, lv, lm, rv, rm []byte) arrow.Array {
	valsBuf, vals := b.allocBytes(bitmapLen(b.n))
	for i := range vals {
		if or {
			vals[i] = lv[i] | rv[i]
		} else {
			vals[i] = lv[i] & rv[i]
		}
	}
	if lm == nil && rm == nil {
		return b.newArray(spec.Bool, nil, valsBuf)
	}
	validBuf, valid := b.allocBytes(bitmapLen(b.n))
	for i := range valid {
		lmi, rmi := byte(0xFF), byte(0xFF)
		if lm != nil {
			lmi = lm[i]
		}
		if rm != nil {
			rmi = rm[i]
		}
		l, r := lv[i], rv[i]
		if !or {
			l, r = ^l, ^r // a known FALSE decides AND
		}
		valid[i] = lmi&rmi | lmi&l | rmi&r
	}
	return b.newArray(spec.Bool, validBuf, valsBuf)
}

// notNode is NOT x.
type notNode struct{ x exprNode }

func (n *notNode) eval(b *evalBatch, care []byte) (exprVec, error) {
	x, err := n.x.eval(b, care)
	if err != nil || x.isNullC() {
		return x, err
	}
	defer x.release()
	if x.isConst() {
		return constVec(exprConst{valid: true, b: !x.c.b}), nil
	}
	xv, _ := b.boolBits(x)
	buf, vals := b.allocBytes(bitmapLen(b.n))
	for i := range vals {
		vals[i] = ^xv[i]
	}
	return arrVec(b.newArray(spec.Bool, b.validity(x.arr), buf)), nil
}

// isNullNode is x IS [NOT] NULL; it is never NULL.
type isNullNode struct {
	x   exprNode
	not bool
}

func (n *isNullNode) eval(b *evalBatch, care []byte) (exprVec, error) {
	x, err := n.x.eval(b, care)
	if err != nil {
		return exprVec{}, err
	}
	defer x.release()
	if x.isConst() || x.arr.NullN() == 0 {
		isNull := x.isConst() && !x.c.valid
		return constVec(exprConst{valid: true, b: isNull != n.not}), nil
	}
	d := x.arr.Data()
	buf, vals := b.allocBits(0)
	bitutil.CopyBitmap(d.Buffers()[0].Bytes(), d.Offset(), b.n, vals, 0)
	if !n.not {
		for i := range vals {
			vals[i] = ^vals[i]
		}
	}
	return arrVec(b.newArray(spec.Bool, nil, buf)), nil
}

// caseNode is CASE WHEN conds[i] THEN arms[i] ... ELSE arms[len(conds)]
// END. A condition is evaluated only on the rows that no earlier one took,
// and an arm only on the rows it takes.
type caseNode struct {
	conds []exprNode
	arms  []exprNode
	typ   spec.Type
	pick  []uint16 // scratch: the arm of each row
}

func (n *caseNode) eval(b *evalBatch, care []byte) (exprVec, error) {
	rem := scratchBits(b.n, true)
	if care != nil {
		copy(rem, care)
	}
	n.pick = resetPick(n.pick, b.n, uint16(len(n.conds)))
	vals := make([]exprVec, len(n.arms))
	defer releaseVecs(vals)
	for k, cond := range n.conds {
		if noBitsSet(rem) {
			return selectArms(b, n.typ, n.pick, vals)
		}
		cv, err := cond.eval(b, rem)
		if err != nil {
			return exprVec{}, err
		}
		cvals, cvalid := b.boolBits(cv)
		taken := make([]byte, len(rem))
		for i := range taken {
			taken[i] = rem[i] & cvals[i]
			if cvalid != nil {
				taken[i] &= cvalid[i]
			}
			rem[i] &^= taken[i]
		}
		cv.release()
		if noBitsSet(taken) {
			continue
		}
		setPick(n.pick, taken, uint16(k))
		if vals[k], err = n.arms[k].eval(b, taken); err != nil {
			return exprVec{}, err
		}
	}
	if !noBitsSet(rem) {
		var err error
		if vals[len(n.conds)], err = n.arms[len(n.conds)].eval(b, rem); err != nil {
			return exprVec{}, err
		}
	}
	return selectArms(b, n.typ, n.pick, vals)
}

func resetPick(pick []uint16, n int, k uint16) []uint16 {
	if cap(pick) < n {
		pick = make([]uint16, n)
	}
	pick = pick[:n]
	for i := range pick {
		pick[i] = k
	}
	return pick
}

// setPick sets pick[i] = k for every bit i set in set.
func setPick(pick []uint16, set []byte, k uint16) {
	for j, w := range set {
		for ; w != 0; w &= w - 1 {
			i := j*8 + bits.TrailingZeros8(w)
			if i < len(pick) {
				pick[i] = k
			}
		}
	}
}

func releaseVecs(vs []exprVec) {
	for _, v := range vs {
		v.release()
	}
}

// coalesceNode is the first non-NULL of args, row by row.
type coalesceNode struct {
	args []exprNode
	typ  spec.Type
	pick []uint16
}

func (n *coalesceNode) eval(b *evalBatch, care []byte) (exprVec, error) {
	rem := scratchBits(b.n, true)
	if care != nil {
		copy(rem, care)
	}
	none := uint16(len(n.args))
	n.pick = resetPick(n.pick, b.n, none)
	vals := make([]exprVec, len(n.args)+1) // vals[none] stays NULL
	defer releaseVecs(vals)
	for k, arg := range n.args {
		if noBitsSet(rem) {
			break
		}
		v, err := arg.eval(b, rem)
		if err != nil {
			return exprVec{}, err
		}
		if k == 0 && !v.isConst() && v.arr.NullN() == 0 {
			return v, nil
		}
		vals[k] = v
		got := rem
		if valid := b.validBits(v); valid != nil {
			got = make([]byte, len(rem))
			for i := range got {
				got[i] = rem[i] & valid[i]
			}
		} else if v.isNullC() {
			continue
		}
		setPick(n.pick, got, uint16(k))
		for i := range rem {
			rem[i] &^= got[i]
		}
	}
	return selectArms(b, n.typ, n.pick, vals)
}

// validBits returns the validity of v as a bitmap with row 0 at bit 0; nil
// when v is a constant or has no nulls.
func (b *evalBatch) validBits(v exprVec) []byte {
	if v.isConst() || v.arr.NullN() == 0 {
		return nil
	}
	d := v.arr.Data()
	return alignBits(d.Buffers()[0].Bytes(), d.Offset(), b.n)
}
