package expr

import (
	"math"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/jobs/spec"
)

// strFunc is lower, upper, trim, ltrim or rtrim of a string, chosen once
// at compile time and run by a strToStrNode. Case mapping is
// Unicode-aware with an ASCII fast path; trimming removes Unicode white
// space. A zero strWriter grows on the Go heap.
func strFunc(name string) func(w *strWriter, s string) {
	switch name {
	case "trim":
		return func(w *strWriter, s string) { w.appendString(strings.TrimSpace(s)) }
	case "ltrim":
		return func(w *strWriter, s string) { w.appendString(strings.TrimLeftFunc(s, unicode.IsSpace)) }
	case "rtrim":
		return func(w *strWriter, s string) { w.appendString(strings.TrimRightFunc(s, unicode.IsSpace)) }
	case "lower":
		return func(w *strWriter, s string) { w.appendCase(s, 'A', 'Z', unicode.ToLower) }
	}
	return func(w *strWriter, s string) { w.appendCase(s, 'a', 'z', unicode.ToUpper) }
}

// appendCase appends s with its letters mapped by to; lo..hi are the ASCII
// letters to maps.
func (w *strWriter) appendCase(s string, lo, hi byte, to func(rune) rune) {
	w.grow(len(s))
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c >= lo && c <= hi {
				c ^= 0x20
			}
			w.data = append(w.data, c)
		}
		return
	}
	for _, r := range s {
		w.grow(utf8.UTFMax)
		w.data = utf8.AppendRune(w.data, to(r))
	}
}

// lengthNode is length(s) in characters.
type lengthNode struct{ x exprNode }

func (n *lengthNode) eval(b *evalBatch, care []byte) (exprVec, error) {
	x, err := n.x.eval(b, care)
	if err != nil || x.isNullC() {
		return x, err
	}
	defer x.release()
	if x.isConst() {
		return constVec(exprConst{valid: true, i: int64(utf8.RuneCountInString(x.c.s))}), nil
	}
	offs, data := stringParts(x.arr)
	buf, out := allocFixed[int64](b)
	for i := range out {
		out[i] = int64(utf8.RuneCount(bytesRow(offs, data, i)))
	}
	return arrVec(b.newArray(spec.Int64, b.validity(x.arr), buf)), nil
}

// substrNode is substr(s, start[, count]): count characters from the 1-based
// position start. As in PostgreSQL, positions before 1 still count toward
// count, and a negative count gives an empty string.
type substrNode struct {
	s, start, count exprNode // count nil: to the end
}

func newSubstrNode(args []exprNode) exprNode {
	n := &substrNode{s: args[0], start: args[1]}
	if len(args) > 2 {
		n.count = args[2]
	}
	return n
}

func (n *substrNode) eval(b *evalBatch, care []byte) (exprVec, error) {
	s, start, err := evalPair(b, care, n.s, n.start)
	if err != nil {
		return exprVec{}, err
	}
	defer s.release()
	defer start.release()
	count := constVec(exprConst{valid: true, i: math.MaxInt64})
	if n.count != nil {
		if count, err = n.count.eval(b, care); err != nil {
			return exprVec{}, err
		}
		defer count.release()
	}
	if s.isNullC() || start.isNullC() || count.isNullC() {
		return exprVec{}, nil
	}
	if s.isConst() && start.isConst() && count.isConst() {
		return constVec(exprConst{valid: true, s: substrRunes(s.c.s, start.c.i, count.c.i)}), nil
	}
	if s.isConst() {
		arr, err := b.materialize(spec.String, s.c)
		if err != nil {
			return exprVec{}, err
		}
		s.arr = arr
	}
	return n.loop(b, s, start, count)
}

func (n *substrNode) loop(b *evalBatch, s, start, count exprVec) (exprVec, error) {
	var starts, counts []int64
	if !start.isConst() {
		starts = fixedValues[int64](start.arr)
	}
	if !count.isConst() {
		counts = fixedValues[int64](count.arr)
	}
	valid := andValidity3(b, s, start, count)
	offs, data := stringParts(s.arr)
	w := newStrWriter(b, int(offs[b.n]-offs[0]))
	for i := 0; i < b.n; i++ {
		st, ct := start.c.i, count.c.i
		if starts != nil {
			st = starts[i]
		}
		if counts != nil {
			ct = counts[i]
		}
		w.appendString(substrRunes(strRow(offs, data, i), st, ct))
		w.end(i)
	}
	arr, err := w.finish(valid)
	return arrVec(arr), err
}

// substrRunes returns count characters of s from the 1-based position start.
func substrRunes(s string, start, count int64) string {
	if count < 0 {
		return ""
	}
	end := int64(math.MaxInt64) // exclusive, 1-based
	if start <= 0 || count <= math.MaxInt64-start {
		end = start + count
	}
	start = max(start, 1)
	if end <= start {
		return ""
	}
	from, to := -1, len(s)
	pos := int64(1)
	for i := range s {
		if pos == start {
			from = i
		}
		if pos == end {
			to = i
			break
		}
		pos++
	}
	if from < 0 {
		return ""
	}
	return s[from:to]
}

// andValidity3 is the validity of a result that is NULL where any of three
// operands is.
func andValidity3(b *evalBatch, x, y, z exprVec) *memory.Buffer {
	v := b.andValidity(x, y)
	if !z.hasNulls() {
		return v
	}
	if v == nil {
		return b.validity(z.arr)
	}
	v, bits := b.mutableValidity(v)
	zb := b.validBits(z)
	for i := range bits {
		bits[i] &= zb[i]
	}
	return v
}

// concatNode is a || b (NULL if any argument is) or, with skipNulls,
// concat(a, ...) which treats NULL as ”.
type concatNode struct {
	args      []exprNode
	skipNulls bool
}

func (n *concatNode) eval(b *evalBatch, care []byte) (exprVec, error) {
	vals := make([]exprVec, 0, len(n.args))
	defer func() { releaseVecs(vals) }()
	allConst := true
	for _, a := range n.args {
		v, err := a.eval(b, care)
		if err != nil {
			return exprVec{}, err
		}
		if v.isNullC() && !n.skipNulls {
			v.release()
			return exprVec{}, nil
		}
		vals = append(vals, v)
		allConst = allConst && v.isConst()
	}
	arms := strArms(b, vals)
	if allConst {
		var sb strings.Builder
		for i := range arms {
			s, _ := arms[i].at(0)
			sb.WriteString(s)
		}
		return constVec(exprConst{valid: true, s: sb.String()}), nil
	}
	size := 0
	for _, v := range vals {
		if v.isConst() {
			size += len(v.c.s) * b.n
		} else {
			offs, _ := stringParts(v.arr)
			size += int(offs[b.n] - offs[0])
		}
	}
	return n.build(b, vals, arms, size)
}

func (n *concatNode) build(b *evalBatch, vals []exprVec, arms []strArm, size int) (exprVec, error) {
	var valid *memory.Buffer
	var vbits []byte
	for _, v := range vals {
		if n.skipNulls || !v.hasNulls() {
			continue
		}
		if valid == nil {
			valid = b.validity(v.arr)
			vbits = valid.Bytes()
			continue
		}
		valid, vbits = b.mutableValidity(valid)
		for i, w := range b.validBits(v)[:len(vbits)] {
			vbits[i] &= w
		}
	}
	w := newStrWriter(b, size)
	for i := 0; i < b.n; i++ {
		if vbits == nil || testBit(vbits, i) {
			for k := range arms {
				if s, ok := arms[k].at(i); ok {
					w.appendString(s)
				}
			}
		}
		w.end(i)
	}
	arr, err := w.finish(valid)
	return arrVec(arr), err
}
