package expr

import (
	"errors"
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators/arrowx"
)

// Expression evaluation is vectorized: CompileExpr turns a spec.Expr into a
// tree of typed nodes once, and Eval runs each node over whole arrays with
// typed loops on the arrays' raw buffers. Semantics:
//
//   - NULL propagates: arithmetic, comparisons, ||, casts and scalar
//     functions are NULL where an input is NULL (concat and coalesce skip
//     NULLs). AND, OR and NOT use three-valued logic: FALSE AND NULL is FALSE,
//     TRUE OR NULL is TRUE.
//   - Division and modulo by zero give NULL (int and float alike); int64 / int64
//     is float64. int64 overflow in + - * wraps around; a decimal result
//     that does not fit its precision is an EvalError (expr_decimal.go).
//   - Dates, timestamps and decimals are int64 arrays: operands of
//     different scales are rescaled (comparisons saturate, so that a value
//     too large for the other scale still compares right), a date compared
//     with a timestamp is its midnight, and date arithmetic is int64
//     arithmetic on days.
//   - x IN (list) is NULL when x is NULL, or when x matches nothing and the
//     list holds a NULL.
//   - CAST(string AS int64|float64|bool|date|timestamp|decimal) trims spaces
//     and fails on text that does not parse, naming the value;
//     CAST(float64 AS int64), a decimal to a smaller scale or to int64, and
//     a float64 to a decimal round half away from zero; a value that does not
//     fit the target is an error. A failing row that the expression does
//     not need (an unselected CASE arm, the right side of AND after FALSE,
//     a coalesce argument after a non-NULL one) is not an error.
//   - CAST(... AS string) writes ints in decimal, floats in the shortest form
//     that reads back exactly with ".0" on whole numbers ("3.0", "1e+21"),
//     bools as true/false. CAST(string AS bool) takes true/false, t/f,
//     yes/no, y/n, 1/0 in any case.
//   - String functions count characters (runes); substr is 1-based and, as
//     in PostgreSQL, positions before 1 count toward its length. trim
//     removes Unicode white space; lower and upper map Unicode letters one
//     rune to one rune (upper('ß') stays 'ß').
//   - round rounds half away from zero; round(int64, digits) stays int64.
//
// Constants are never materialized per batch: a literal operand of an
// arithmetic or comparison is broadcast inside the loop, and an expression
// over constants only is computed once per batch as a constant. A literal
// IN list becomes, once, a set (a map, or packed keys for short strings).

// errStringOverflow is returned when a string result outgrows int32 offsets.
var errStringOverflow = errors.New("operators: string result larger than 2 GiB in one batch")

// exprNode is one operation of a compiled expression. eval computes it for every
// row of b; care, when not nil, is a bitmap of the rows whose value matters:
// a node may return anything (but not an error) for the other rows.
type exprNode interface {
	eval(b *evalBatch, care []byte) (exprVec, error)
}

// CompiledExpr is a spec.Expr bound to an input schema, evaluated on whole
// batches. It is safe for use by one goroutine at a time.
type CompiledExpr struct {
	typ  spec.Type
	root exprNode
	ncol int
}

// CompileExpr binds e to the input schema in. The schema's column i is
// column i of every batch later passed to Eval.
func CompileExpr(e spec.Expr, in spec.Schema) (*CompiledExpr, error) {
	t, err := spec.TypeOf(e, in)
	if err != nil {
		return nil, err
	}
	c := &exprCompiler{in: in}
	root, err := c.compile(e, t)
	if err != nil {
		return nil, err
	}
	return &CompiledExpr{typ: t, root: root, ncol: len(in)}, nil
}

// Type is the expression's result type.
func (c *CompiledExpr) Type() spec.Type { return c.typ }

// Eval evaluates the expression over every row of rec and returns an array
// of rec.NumRows() values of Type(). The caller releases the result.
func (c *CompiledExpr) Eval(rec arrow.Record, mem memory.Allocator) (arrow.Array, error) {
	if int(rec.NumCols()) != c.ncol {
		return nil, fmt.Errorf("operators: eval: batch has %d columns, expression was compiled for %d", rec.NumCols(), c.ncol)
	}
	b := &evalBatch{rec: rec, n: int(rec.NumRows()), mem: mem}
	v, err := c.root.eval(b, nil)
	if err != nil {
		return nil, err
	}
	if v.isConst() {
		return b.materialize(c.typ, v.c)
	}
	return v.arr, nil
}

// materialize returns an array holding c on every row.
func (b *evalBatch) materialize(t spec.Type, c exprConst) (arrow.Array, error) {
	if t == spec.Null {
		return array.NewNull(b.n), nil
	}
	var valid *memory.Buffer
	if !c.valid {
		valid, _ = b.allocBits(0)
	}
	switch t.Physical() {
	case spec.Int64:
		return constFixed(b, valid, c.i), nil
	case spec.Float64:
		return constFixed(b, valid, c.f), nil
	case spec.Bool:
		fill := byte(0)
		if c.b {
			fill = 0xFF
		}
		vals, _ := b.allocBits(fill)
		return b.newArray(t, valid, vals), nil
	}
	w := newStrWriter(b, b.n*len(c.s))
	for i := 0; i < b.n; i++ {
		w.appendString(c.s)
		w.end(i)
	}
	return w.finish(valid)
}

func constFixed[T int64 | float64](b *evalBatch, valid *memory.Buffer, v T) arrow.Array {
	buf, out := allocFixed[T](b)
	for i := range out {
		out[i] = v
	}
	var z T
	t := spec.Float64
	if _, ok := any(z).(int64); ok {
		t = spec.Int64
	}
	return b.newArray(t, valid, buf)
}

// colNode yields a column of the batch, without copying.
type colNode struct {
	idx  int
	name string
	typ  spec.Type
}

func (n *colNode) eval(b *evalBatch, _ []byte) (exprVec, error) {
	col := b.rec.Column(n.idx)
	if col.DataType().ID() != arrowx.ArrowType(n.typ).ID() {
		return exprVec{}, fmt.Errorf("operators: column %q is %s in the batch, want %s", n.name, col.DataType(), n.typ)
	}
	col.Retain()
	return arrVec(col), nil
}

// constNode yields a constant; the zero constNode is NULL of any type.
type constNode struct{ c exprConst }

func (n *constNode) eval(*evalBatch, []byte) (exprVec, error) { return constVec(n.c), nil }

func literalScalar(l *spec.Literal) exprConst {
	return exprConst{valid: l.Type != spec.Null, i: l.Int, f: l.Float, s: l.Str, b: l.Bool}
}
