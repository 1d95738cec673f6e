package expr

import (
	"encoding/binary"
	"unsafe"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/jobs/spec"
)

// cmpNode is l op r for = <> < <= > >= over operands of types lt and rt
// whose common type is typ: int64, float64 or string (bools are compared
// as int64). An int64 operand compared with a float64 one is converted
// inside the loop.
type cmpNode struct {
	op     spec.BinaryOp
	l, r   exprNode
	typ    spec.Type
	lt, rt spec.Type
}

// flipped is the operator that gives the same result with the operands
// swapped.
func flipped(op spec.BinaryOp) spec.BinaryOp {
	switch op {
	case spec.OpLt:
		return spec.OpGt
	case spec.OpLe:
		return spec.OpGe
	case spec.OpGt:
		return spec.OpLt
	case spec.OpGe:
		return spec.OpLe
	}
	return op
}

func (n *cmpNode) eval(b *evalBatch, care []byte) (exprVec, error) {
	l, r, err := evalPair(b, care, n.l, n.r)
	if err != nil {
		return exprVec{}, err
	}
	defer l.release()
	defer r.release()
	if l.isNullC() || r.isNullC() {
		return exprVec{}, nil
	}
	op := n.op
	if l.isConst() && r.isConst() {
		return constVec(exprConst{valid: true, b: cmpScalar(n, l.c, r.c)}), nil
	}
	lt, rt := n.lt, n.rt
	if l.isConst() {
		l, r, op, lt, rt = r, l, flipped(op), rt, lt
	}
	valid := b.andValidity(l, r)
	var vals *memory.Buffer
	switch {
	case n.typ == spec.String:
		vals = cmpStrings(b, op, l, r)
	case n.typ == spec.Int64:
		vals = cmpNumbers[int64, int64, int64](b, op, l, r)
	case lt == spec.Int64:
		vals = cmpNumbers[float64, int64, float64](b, op, l, r)
	case rt == spec.Int64:
		vals = cmpNumbers[float64, float64, int64](b, op, l, r)
	default:
		vals = cmpNumbers[float64, float64, float64](b, op, l, r)
	}
	return arrVec(b.newArray(spec.Bool, valid, vals)), nil
}

func cmpScalar(n *cmpNode, x, y exprConst) bool {
	switch n.typ {
	case spec.Int64:
		return cmpOrdered(n.op, x.i, y.i)
	case spec.Float64:
		xf, yf := x.f, y.f
		if n.lt == spec.Int64 {
			xf = float64(x.i)
		}
		if n.rt == spec.Int64 {
			yf = float64(y.i)
		}
		return cmpOrdered(n.op, xf, yf)
	}
	return cmpOrdered(n.op, x.s, y.s)
}

func cmpOrdered[T int64 | float64 | string](op spec.BinaryOp, x, y T) bool {
	switch op {
	case spec.OpEq:
		return x == y
	case spec.OpNe:
		return x != y
	case spec.OpLt:
		return x < y
	case spec.OpLe:
		return x <= y
	case spec.OpGt:
		return x > y
	}
	return x >= y
}

// cmpNumbers compares array l (of A) with array or constant r (of B) as
// values of C into a bitmap. Each operator reduces to one of = < <= with
// the operands in some order; <> is the inverted =.
func cmpNumbers[C, A, B numeric](b *evalBatch, op spec.BinaryOp, l, r exprVec) *memory.Buffer {
	buf, out := b.allocBytes(bitmapLen(b.n))
	a := fixedValues[A](l.arr)[:b.n]
	if r.isConst() {
		c := C(constAs[B](r.c))
		switch op {
		case spec.OpEq, spec.OpNe:
			eqAS(out, a, c)
		case spec.OpLt:
			ltAS(out, a, c)
		case spec.OpLe:
			leAS(out, a, c)
		case spec.OpGt:
			ltSA(out, c, a)
		case spec.OpGe:
			leSA(out, c, a)
		}
	} else {
		c := fixedValues[B](r.arr)[:b.n]
		switch op {
		case spec.OpEq, spec.OpNe:
			eqAA[C](out, a, c)
		case spec.OpLt:
			ltAA[C](out, a, c)
		case spec.OpLe:
			leAA[C](out, a, c)
		case spec.OpGt:
			ltAA[C](out, c, a)
		case spec.OpGe:
			leAA[C](out, c, a)
		}
	}
	if op == spec.OpNe {
		for i := range out {
			out[i] = ^out[i]
		}
	}
	return buf
}

// The comparison loops convert to C and pack eight results into each byte
// of out.

func eqAA[C, A, B numeric](out []byte, a []A, c []B) {
	for j := 0; j < len(a); j += 8 {
		x, y := a[j:min(j+8, len(a))], c[j:min(j+8, len(a))]
		y = y[:len(x)]
		var w byte
		for k, v := range x {
			w |= boolByte(C(v) == C(y[k])) << k
		}
		out[j>>3] = w
	}
}

func eqAS[C, A numeric](out []byte, a []A, c C) {
	for j := 0; j < len(a); j += 8 {
		var w byte
		for k, v := range a[j:min(j+8, len(a))] {
			w |= boolByte(C(v) == c) << k
		}
		out[j>>3] = w
	}
}

func ltAA[C, A, B numeric](out []byte, a []A, c []B) {
	for j := 0; j < len(a); j += 8 {
		x, y := a[j:min(j+8, len(a))], c[j:min(j+8, len(a))]
		y = y[:len(x)]
		var w byte
		for k, v := range x {
			w |= boolByte(C(v) < C(y[k])) << k
		}
		out[j>>3] = w
	}
}

func ltAS[C, A numeric](out []byte, a []A, c C) {
	for j := 0; j < len(a); j += 8 {
		var w byte
		for k, v := range a[j:min(j+8, len(a))] {
			w |= boolByte(C(v) < c) << k
		}
		out[j>>3] = w
	}
}

// ltSA is c < a[i].
func ltSA[C, A numeric](out []byte, c C, a []A) {
	for j := 0; j < len(a); j += 8 {
		var w byte
		for k, v := range a[j:min(j+8, len(a))] {
			w |= boolByte(c < C(v)) << k
		}
		out[j>>3] = w
	}
}

func leAA[C, A, B numeric](out []byte, a []A, c []B) {
	for j := 0; j < len(a); j += 8 {
		x, y := a[j:min(j+8, len(a))], c[j:min(j+8, len(a))]
		y = y[:len(x)]
		var w byte
		for k, v := range x {
			w |= boolByte(C(v) <= C(y[k])) << k
		}
		out[j>>3] = w
	}
}

func leAS[C, A numeric](out []byte, a []A, c C) {
	for j := 0; j < len(a); j += 8 {
		var w byte
		for k, v := range a[j:min(j+8, len(a))] {
			w |= boolByte(C(v) <= c) << k
		}
		out[j>>3] = w
	}
}

// leSA is c <= a[i].
func leSA[C, A numeric](out []byte, c C, a []A) {
	for j := 0; j < len(a); j += 8 {
		var w byte
		for k, v := range a[j:min(j+8, len(a))] {
			w |= boolByte(c <= C(v)) << k
		}
		out[j>>3] = w
	}
}

// boolByte is 1 for true; the compiler turns it into a flag move, not a branch.
func boolByte(b bool) byte {
	var u byte
	if b {
		u = 1
	}
	return u
}

// cmpStrings compares string array l with string array or constant r.
func cmpStrings(b *evalBatch, op spec.BinaryOp, l, r exprVec) *memory.Buffer {
	buf, out := b.allocBits(0)
	lo, ld := stringParts(l.arr)
	if r.isConst() {
		c := r.c.s
		if k, ok := shortKey(c); ok && (op == spec.OpEq || op == spec.OpNe) {
			eqShort(out, lo, ld, []uint64{k})
		} else {
			for i := 0; i < b.n; i++ {
				if cmpOrdered(op, strRow(lo, ld, i), c) {
					out[i>>3] |= 1 << (uint(i) & 7)
				}
			}
		}
		if op == spec.OpNe && len(c) <= shortMax {
			for i := range out {
				out[i] = ^out[i]
			}
		}
		return buf
	}
	ro, rd := stringParts(r.arr)
	for i := 0; i < b.n; i++ {
		if cmpOrdered(op, strRow(lo, ld, i), strRow(ro, rd, i)) {
			out[i>>3] |= 1 << (uint(i) & 7)
		}
	}
	return buf
}

// A short string (at most 7 bytes) packs into one uint64 key: its bytes
// little-endian in the low 7 bytes and its length in the top byte, so that
// comparing it with a row costs one load and one integer compare.
const shortMax = 7

func shortKey(s string) (uint64, bool) {
	if len(s) > shortMax {
		return 0, false
	}
	return rowKey([]byte(s), 0, int32(len(s))), true
}

// rowKey is the key of data[o0:o1]; a row longer than shortMax bytes gets a
// key no short string has.
func rowKey(data []byte, o0, o1 int32) uint64 {
	n := o1 - o0
	m := min(n, shortMax)
	var key uint64
	if int(o0)+8 <= len(data) {
		key = binary.LittleEndian.Uint64(data[o0:]) & (1<<(8*uint(m)) - 1)
	} else {
		for i := int32(0); i < m; i++ {
			key |= uint64(data[o0+i]) << (8 * uint(i))
		}
	}
	return key | uint64(min(n, 255))<<56
}

// eqShort sets the bit of every row whose key is in keys (one or more);
// out must be zeroed. Rows whose 8-byte load stays within data are done
// eight at a time with unchecked loads and no branches on the data.
func eqShort(out []byte, offs []int32, data []byte, keys []uint64) {
	rows := len(offs) - 1
	fast := rows
	for fast > 0 && int(offs[fast-1])+8 > len(data) {
		fast--
	}
	fast &^= 7
	base := unsafe.Pointer(unsafe.SliceData(data))
	// Offsets never decrease in a valid array; the clamp keeps the loads
	// inside data even for a corrupt one.
	lim := uint32(max(len(data)-8, 0))
	// The first two keys (most lists have one or two) are unrolled.
	c0, c1, rest := keys[0], keys[min(1, len(keys)-1)], keys[min(2, len(keys)):]
	for j := 0; j < fast; j += 8 {
		o := offs[j : j+9 : j+9]
		var w byte
		for k := 0; k < 8; k++ {
			o0, n := min(uint32(o[k]), lim), o[k+1]-o[k]
			key := *(*uint64)(unsafe.Add(base, o0))&(1<<(8*uint(min(n, shortMax)))-1) | uint64(min(n, 255))<<56
			hit := boolByte(key == c0) | boolByte(key == c1)
			for _, c := range rest {
				hit |= boolByte(key == c)
			}
			w |= hit << k
		}
		out[j>>3] = w
	}
	for i := fast; i < rows; i++ {
		key := rowKey(data, offs[i], offs[i+1])
		for _, c := range keys {
			if key == c {
				out[i>>3] |= 1 << (uint(i) & 7)
			}
		}
	}
}

// inSetMin is the list length from which IN looks values up in a map
// rather than scanning the list.
const inSetMin = 8

// inNode is x [NOT] IN (literals...), with the literals converted to typ
// (int64, float64 or string) once at compile time.
type inNode struct {
	x       exprNode
	typ     spec.Type
	not     bool
	hasNull bool

	ints     []int64
	floats   []float64
	strs     []string
	intSet   map[int64]struct{}
	floatSet map[float64]struct{}
	strSet   map[string]struct{}
	short    []uint64 // keys of strs, when all are short (see shortList)
}

// add adds one value of the list, already of the list's type (NULL when
// not valid).
func (n *inNode) add(v exprConst) {
	switch {
	case !v.valid:
		n.hasNull = true
	case n.typ == spec.Int64:
		n.ints = addToSet(n.ints, &n.intSet, v.i)
	case n.typ == spec.Float64:
		n.floats = addToSet(n.floats, &n.floatSet, v.f)
	default:
		n.strs = addToSet(n.strs, &n.strSet, v.s)
	}
}

func addToSet[T comparable](list []T, set *map[T]struct{}, v T) []T {
	list = append(list, v)
	if len(list) == inSetMin {
		*set = make(map[T]struct{}, len(list))
		for _, x := range list {
			(*set)[x] = struct{}{}
		}
	} else if *set != nil {
		(*set)[v] = struct{}{}
	}
	return list
}

func (n *inNode) eval(b *evalBatch, care []byte) (exprVec, error) {
	x, err := n.x.eval(b, care)
	if err != nil || x.isNullC() {
		return x, err
	}
	defer x.release()
	if x.isConst() {
		return constVec(n.constResult(x.c)), nil
	}
	buf, found := b.allocBits(0)
	switch n.typ {
	case spec.Int64:
		findNumbers(found, fixedValues[int64](x.arr)[:b.n], n.ints, n.intSet)
	case spec.Float64:
		findNumbers(found, fixedValues[float64](x.arr)[:b.n], n.floats, n.floatSet)
	default:
		n.findStrings(found, x.arr)
	}
	valid := b.validity(x.arr)
	if n.hasNull {
		// No match against a list holding NULL is NULL, not FALSE.
		var vbits []byte
		valid, vbits = b.mutableValidity(valid)
		for i := range vbits {
			vbits[i] &= found[i]
		}
	}
	if n.not {
		for i := range found {
			found[i] = ^found[i]
		}
	}
	return arrVec(b.newArray(spec.Bool, valid, buf)), nil
}

func (n *inNode) constResult(c exprConst) exprConst {
	var found bool
	switch n.typ {
	case spec.Int64:
		found = listHas(n.ints, c.i)
	case spec.Float64:
		found = listHas(n.floats, c.f)
	default:
		found = listHas(n.strs, c.s)
	}
	if !found && n.hasNull {
		return exprConst{}
	}
	return exprConst{valid: true, b: found != n.not}
}

func listHas[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// findNumbers sets the bit of every row of xs found in the list (or set).
func findNumbers[T numeric](found []byte, xs, list []T, set map[T]struct{}) {
	if set != nil {
		for i, v := range xs {
			if _, ok := set[v]; ok {
				found[i>>3] |= 1 << (uint(i) & 7)
			}
		}
		return
	}
	for i, v := range xs {
		for _, c := range list {
			if v == c {
				found[i>>3] |= 1 << (uint(i) & 7)
				break
			}
		}
	}
}

func (n *inNode) findStrings(found []byte, arr arrow.Array) {
	offs, data := stringParts(arr)
	if n.strSet == nil {
		if short := n.shortList(); short != nil {
			eqShort(found, offs, data, short)
			return
		}
	}
	for i := 0; i < len(offs)-1; i++ {
		s := strRow(offs, data, i)
		if n.strSet != nil {
			if _, ok := n.strSet[s]; ok {
				found[i>>3] |= 1 << (uint(i) & 7)
			}
			continue
		}
		for _, c := range n.strs {
			if s == c {
				found[i>>3] |= 1 << (uint(i) & 7)
				break
			}
		}
	}
}

// shortList returns the keys of the list's strings, or nil when one is
// longer than shortMax bytes.
func (n *inNode) shortList() []uint64 {
	if n.short == nil {
		n.short = []uint64{}
		for _, s := range n.strs {
			k, ok := shortKey(s)
			if !ok {
				break
			}
			n.short = append(n.short, k)
		}
	}
	if len(n.short) == 0 || len(n.short) != len(n.strs) {
		return nil
	}
	return n.short
}
