package expr

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/batchrun/batchrun/jobs/spec"
)

// Functions with literal settings (see spec's check_funcs.go): the setting
// is prepared once at compile time (a compiled pattern, a unit), and each
// node runs one typed loop over the batch through one of the evalXToY
// helpers below. parse_time and format_time take int64 unix seconds, in
// UTC; the date functions are in expr_date.go.

func (c *exprCompiler) compileLiteralArgCall(e *spec.Call) (exprNode, error) {
	lit := func(i int) *spec.Literal { return e.Args[i].(*spec.Literal) }
	switch e.Func {
	case "split_part":
		x, err := c.compile(e.Args[0], spec.String)
		sep, n := lit(1).Str, int(lit(2).Int)
		return &strToStrNode{x: x, f: func(w *strWriter, s string) { w.appendString(splitPart(s, sep, n)) }}, err
	case "regexp_like":
		x, err := c.compile(e.Args[0], spec.String)
		re := regexp.MustCompile(lit(1).Str) // spec.TypeOf compiled it already
		return &strToBoolNode{x: x, f: re.MatchString}, err
	case "parse_time":
		x, err := c.compile(e.Args[0], spec.String)
		layout := lit(1).Str
		return &strToIntNode{x: x, f: func(s string) (int64, bool) {
			t, err := time.Parse(layout, s)
			return t.Unix(), err == nil
		}}, err
	case "format_time":
		x, err := c.compile(e.Args[0], spec.Int64)
		layout := lit(1).Str
		return &intToStrNode{x: x, f: func(w *strWriter, ts int64) {
			w.grow(len(layout) + 16)
			w.data = time.Unix(ts, 0).UTC().AppendFormat(w.data, layout)
		}}, err
	case "date_part", "date_trunc", "date_add":
		return c.compileDateFunc(e)
	}
	return nil, fmt.Errorf("operators: unknown function %q", e.Func)
}

// splitPart is the n-th (1-based) piece of s split by sep, or "" when s
// has fewer pieces (as PostgreSQL's split_part).
func splitPart(s, sep string, n int) string {
	for ; n > 1; n-- {
		i := strings.Index(s, sep)
		if i < 0 {
			return ""
		}
		s = s[i+len(sep):]
	}
	if i := strings.Index(s, sep); i >= 0 {
		return s[:i]
	}
	return s
}

// strToStrNode maps each non-null string through f.
type strToStrNode struct {
	x exprNode
	f func(w *strWriter, s string)
}

func (n *strToStrNode) eval(b *evalBatch, care []byte) (exprVec, error) {
	x, err := n.x.eval(b, care)
	if err != nil || x.isNullC() {
		return x, err
	}
	defer x.release()
	if x.isConst() {
		w := &strWriter{}
		n.f(w, x.c.s)
		return constVec(exprConst{valid: true, s: string(w.data)}), nil
	}
	offs, data := stringParts(x.arr)
	valid := b.validBits(x)
	w := newStrWriter(b, int(offs[b.n]-offs[0]))
	for i := 0; i < b.n; i++ {
		if valid == nil || testBit(valid, i) {
			n.f(w, strRow(offs, data, i))
		}
		w.end(i)
	}
	arr, err := w.finish(b.validity(x.arr))
	return arrVec(arr), err
}

// strToBoolNode maps each non-null string through a predicate.
type strToBoolNode struct {
	x exprNode
	f func(s string) bool
}

func (n *strToBoolNode) eval(b *evalBatch, care []byte) (exprVec, error) {
	x, err := n.x.eval(b, care)
	if err != nil || x.isNullC() {
		return x, err
	}
	defer x.release()
	if x.isConst() {
		return constVec(exprConst{valid: true, b: n.f(x.c.s)}), nil
	}
	offs, data := stringParts(x.arr)
	valid := b.validBits(x)
	buf, bits := b.allocBits(0)
	for i := 0; i < b.n; i++ {
		if (valid == nil || testBit(valid, i)) && n.f(strRow(offs, data, i)) {
			bits[i>>3] |= 1 << (uint(i) & 7)
		}
	}
	return arrVec(b.newArray(spec.Bool, b.validity(x.arr), buf)), nil
}

// strToIntNode maps each non-null string through f; ok false gives NULL.
type strToIntNode struct {
	x exprNode
	f func(s string) (int64, bool)
}

func (n *strToIntNode) eval(b *evalBatch, care []byte) (exprVec, error) {
	x, err := n.x.eval(b, care)
	if err != nil || x.isNullC() {
		return x, err
	}
	defer x.release()
	if x.isConst() {
		v, ok := n.f(x.c.s)
		return constVec(exprConst{valid: ok, i: v}), nil
	}
	offs, data := stringParts(x.arr)
	validBuf, valid := b.mutableValidity(b.validity(x.arr))
	buf, out := allocFixed[int64](b)
	for i := range out {
		if !testBit(valid, i) {
			continue
		}
		v, ok := n.f(strRow(offs, data, i))
		out[i] = v
		if !ok {
			unsetBit(valid, i)
		}
	}
	return arrVec(b.newArray(spec.Int64, validBuf, buf)), nil
}

// intToIntNode maps each int64 through f (nulls stay null).
type intToIntNode struct {
	x exprNode
	f func(int64) int64
}

func (n *intToIntNode) eval(b *evalBatch, care []byte) (exprVec, error) {
	x, err := n.x.eval(b, care)
	if err != nil || x.isNullC() {
		return x, err
	}
	defer x.release()
	if x.isConst() {
		return constVec(exprConst{valid: true, i: n.f(x.c.i)}), nil
	}
	in := fixedValues[int64](x.arr)
	buf, out := allocFixed[int64](b)
	for i, v := range in[:b.n] {
		out[i] = n.f(v)
	}
	return arrVec(b.newArray(spec.Int64, b.validity(x.arr), buf)), nil
}

// intToStrNode formats each non-null int64 with f.
type intToStrNode struct {
	x exprNode
	f func(w *strWriter, v int64)
}

func (n *intToStrNode) eval(b *evalBatch, care []byte) (exprVec, error) {
	x, err := n.x.eval(b, care)
	if err != nil || x.isNullC() {
		return x, err
	}
	defer x.release()
	if x.isConst() {
		w := &strWriter{}
		n.f(w, x.c.i)
		return constVec(exprConst{valid: true, s: string(w.data)}), nil
	}
	in := fixedValues[int64](x.arr)
	valid := b.validBits(x)
	w := newStrWriter(b, b.n*20)
	for i := 0; i < b.n; i++ {
		if valid == nil || testBit(valid, i) {
			n.f(w, in[i])
		}
		w.end(i)
	}
	arr, err := w.finish(b.validity(x.arr))
	return arrVec(arr), err
}
