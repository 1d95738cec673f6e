package expr

import (
	"math/bits"

	"github.com/batchrun/batchrun/jobs/spec"
)

// loop computes every row of a decimal + - * % into out and reports
// whether some row may have overflowed. When the largest magnitudes of the
// operands cannot overflow (the usual case: a price times a discount is
// far from 18 digits), it runs a loop without checks.
func (n *decArithNode) loop(out, a, c []int64, am, cm int) bool {
	bound := uint64(spec.Pow10(n.typ.Precision()))
	ma, mc := maxAbs(a[:min(len(a), len(out))]), maxAbs(c[:min(len(c), len(out))])
	switch n.op {
	case spec.OpMul:
		if hi, lo := bits.Mul64(ma, mc); hi == 0 && lo < bound {
			mulFast(out, a, c, am, cm)
			return false
		}
		return decMulLoop(out, a, c, am, cm, bound)
	case spec.OpAdd, spec.OpSub:
		if fitsScaled(ma, n.lmul, mc, n.rmul, bound) {
			cmul := n.rmul
			if n.op == spec.OpSub {
				cmul = -cmul
			}
			addFast(out, a, c, am, cm, n.lmul, cmul)
			return false
		}
		return decAddLoop(out, a, c, am, cm, n.lmul, n.rmul, n.op == spec.OpSub, bound)
	}
	return n.modLoop(out, a, c, am, cm)
}

// maxAbs bounds |v| for every v of vs: it is at least the largest and
// less than twice it (an OR of the magnitudes, which needs no branch).
func maxAbs(vs []int64) uint64 {
	var m0, m1, m2, m3 uint64
	i := 0
	for ; i+4 <= len(vs); i += 4 {
		v := vs[i : i+4 : i+4]
		m0 |= abs64(v[0])
		m1 |= abs64(v[1])
		m2 |= abs64(v[2])
		m3 |= abs64(v[3])
	}
	for _, v := range vs[i:] {
		m0 |= abs64(v)
	}
	return m0 | m1 | m2 | m3
}

// fitsScaled reports whether x*xm + y*ym stays under bound for any
// |x| <= mx and |y| <= my.
func fitsScaled(mx uint64, xm int64, my uint64, ym int64, bound uint64) bool {
	hx, lx := bits.Mul64(mx, uint64(xm))
	hy, ly := bits.Mul64(my, uint64(ym))
	s, carry := bits.Add64(lx, ly, 0)
	return hx == 0 && hy == 0 && carry == 0 && s < bound
}

// mulFast sets out[i] = a[i&am] * c[i&cm], for operands known not to
// overflow.
func mulFast(out, a, c []int64, am, cm int) {
	switch {
	case am == 0:
		k, c := a[0], c[:len(out)]
		for i := range out {
			out[i] = k * c[i]
		}
	case cm == 0:
		k, a := c[0], a[:len(out)]
		for i := range out {
			out[i] = a[i] * k
		}
	default:
		a, c := a[:len(out)], c[:len(out)]
		for i := range out {
			out[i] = a[i] * c[i]
		}
	}
}

// addFast sets out[i] = a[i&am]*amul + c[i&cm]*cmul, for operands known
// not to overflow.
func addFast(out, a, c []int64, am, cm int, amul, cmul int64) {
	switch {
	case am == 0:
		k, c := a[0]*amul, c[:len(out)]
		for i := range out {
			out[i] = k + c[i]*cmul
		}
	case cm == 0:
		k, a := c[0]*cmul, a[:len(out)]
		for i := range out {
			out[i] = a[i]*amul + k
		}
	default:
		a, c := a[:len(out)], c[:len(out)]
		for i := range out {
			out[i] = a[i]*amul + c[i]*cmul
		}
	}
}
