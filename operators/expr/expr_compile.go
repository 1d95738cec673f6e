package expr

import (
	"fmt"

	"github.com/batchrun/batchrun/jobs/spec"
)

// exprCompiler turns a type-checked spec.Expr into evaluation nodes. Operands
// are converted to one type before an operation (int64 to float64 for mixed
// arithmetic, bool to int64 for comparisons), and every expression of type
// Null compiles to a NULL constant of the type its parent needs.
type exprCompiler struct {
	in spec.Schema
}

// compile compiles e so that it yields values of type want.
func (c *exprCompiler) compile(e spec.Expr, want spec.Type) (exprNode, error) {
	t, err := spec.TypeOf(e, c.in)
	if err != nil {
		return nil, err
	}
	if t == spec.Null {
		return &constNode{}, nil
	}
	n, err := c.compileNode(e, t)
	if err != nil {
		return nil, err
	}
	if want != t && want != spec.Null && !sameValues(t, want) {
		n = &castNode{x: n, from: t, to: want}
	}
	return n, nil
}

// sameValues reports whether every value of type from is, as it is, a
// value of type to: a decimal of the same scale and no larger precision.
func sameValues(from, to spec.Type) bool {
	return from.IsDecimal() && to.IsDecimal() && from.Scale() == to.Scale() && from.Precision() <= to.Precision()
}

// compileScaled compiles e, of type t (int64 or a decimal), to int64
// values at the given scale, saturating instead of failing (for
// comparisons: see rescaleNode).
func (c *exprCompiler) compileScaled(e spec.Expr, t spec.Type, scale int) (exprNode, error) {
	n, err := c.compile(e, t)
	if err != nil || t == spec.Null || scale == t.Scale() {
		return n, err
	}
	return &rescaleNode{x: n, mul: spec.Pow10(scale - t.Scale())}, nil
}

func (c *exprCompiler) compileNode(e spec.Expr, t spec.Type) (exprNode, error) {
	switch e := e.(type) {
	case *spec.Column:
		return &colNode{idx: c.in.Index(e.Name), name: e.Name, typ: t}, nil
	case *spec.Literal:
		return &constNode{c: literalScalar(e)}, nil
	case *spec.Unary:
		return c.compileUnary(e, t)
	case *spec.Binary:
		return c.compileBinary(e, t)
	case *spec.In:
		return c.compileIn(e)
	case *spec.IsNull:
		xt, _ := spec.TypeOf(e.X, c.in)
		x, err := c.compile(e.X, xt)
		return &isNullNode{x: x, not: e.Not}, err
	case *spec.Like:
		return c.compileLike(e)
	case *spec.Call:
		return c.compileCall(e, t)
	case *spec.Case:
		return c.compileCase(e, t)
	case *spec.Cast:
		return c.compileCast(e)
	}
	return nil, fmt.Errorf("operators: cannot compile %T", e)
}

func (c *exprCompiler) compileUnary(e *spec.Unary, t spec.Type) (exprNode, error) {
	x, err := c.compile(e.X, t)
	if err != nil {
		return nil, err
	}
	if e.Op == spec.OpNot {
		return &notNode{x: x}, nil
	}
	return &negNode{x: x, typ: t}, nil
}

// operands compiles l and r to type t.
func (c *exprCompiler) operands(l, r spec.Expr, t spec.Type) (exprNode, exprNode, error) {
	ln, err := c.compile(l, t)
	if err != nil {
		return nil, nil, err
	}
	rn, err := c.compile(r, t)
	return ln, rn, err
}

func (c *exprCompiler) compileBinary(e *spec.Binary, t spec.Type) (exprNode, error) {
	lt, _ := spec.TypeOf(e.L, c.in)
	rt, _ := spec.TypeOf(e.R, c.in)
	switch e.Op {
	case spec.OpAdd, spec.OpSub, spec.OpMul, spec.OpDiv, spec.OpMod:
		return c.compileArith(e, t, lt, rt)
	case spec.OpAnd, spec.OpOr:
		l, r, err := c.operands(e.L, e.R, spec.Bool)
		return &logicNode{or: e.Op == spec.OpOr, l: l, r: r, rMayFail: c.mayFail(e.R)}, err
	case spec.OpConcat:
		l, r, err := c.operands(e.L, e.R, spec.String)
		return &concatNode{args: []exprNode{l, r}}, err
	}
	return c.compileCmp(e, lt, rt)
}

// compileArith compiles l op r for + - * / %. The operands keep their own
// types where the kernel converts inside its loop (int64 with float64) or
// rescales (decimals); a decimal operand of a float64 operation is cast to
// float64 first.
func (c *exprCompiler) compileArith(e *spec.Binary, t, lt, rt spec.Type) (exprNode, error) {
	if t == spec.Float64 {
		if lt.IsDecimal() {
			lt = spec.Float64
		}
		if rt.IsDecimal() {
			rt = spec.Float64
		}
	}
	l, err := c.compile(e.L, lt)
	if err != nil {
		return nil, err
	}
	r, err := c.compile(e.R, rt)
	if err != nil {
		return nil, err
	}
	if t.IsDecimal() {
		return newDecArithNode(e.Op, l, r, lt, rt, t, e.String()), nil
	}
	return &arithNode{op: e.Op, l: l, r: r, typ: t.Physical(), lt: lt.Physical(), rt: rt.Physical()}, nil
}

// compileCmp compiles a comparison. Operands of different types are
// brought to a common representation: decimals (and int64s) to one scale,
// a date to a timestamp, a decimal compared with a float64 to float64;
// bools compare as int64. Dates, timestamps and decimals then compare as
// int64.
func (c *exprCompiler) compileCmp(e *spec.Binary, lt, rt spec.Type) (exprNode, error) {
	ot, _ := spec.Unify(lt, rt)
	var l, r exprNode
	var err, errR error
	switch {
	case ot == spec.Null:
		return &constNode{}, nil
	case ot == spec.Bool:
		ot, lt, rt = spec.Int64, spec.Int64, spec.Int64 // FALSE < TRUE
	case ot.IsDecimal():
		l, err = c.compileScaled(e.L, lt, ot.Scale())
		r, errR = c.compileScaled(e.R, rt, ot.Scale())
		ot, lt, rt = spec.Int64, spec.Int64, spec.Int64
	case ot == spec.Timestamp || ot == spec.Date:
		l, err = c.compile(e.L, ot)
		r, errR = c.compile(e.R, ot)
		ot, lt, rt = spec.Int64, spec.Int64, spec.Int64
	case ot == spec.Float64:
		if lt.IsDecimal() {
			lt = spec.Float64
		}
		if rt.IsDecimal() {
			rt = spec.Float64
		}
	}
	if l == nil {
		l, err = c.compile(e.L, lt)
		r, errR = c.compile(e.R, rt)
	}
	if err == nil {
		err = errR
	}
	return &cmpNode{op: e.Op, l: l, r: r, typ: ot, lt: lt, rt: rt}, err
}

// compileIn builds a set for a list of literals and rewrites any other list
// into x = a OR x = b ...
func (c *exprCompiler) compileIn(e *spec.In) (exprNode, error) {
	ot, _ := spec.TypeOf(e.X, c.in)
	lits := true
	for _, v := range e.List {
		t, _ := spec.TypeOf(v, c.in)
		ot, _ = spec.Unify(ot, t)
		_, ok := v.(*spec.Literal)
		lits = lits && ok
	}
	if ot == spec.Null {
		return &constNode{}, nil
	}
	if !lits || ot == spec.Bool {
		var or spec.Expr
		for _, v := range e.List {
			eq := &spec.Binary{Op: spec.OpEq, L: e.X, R: v}
			if or == nil {
				or = eq
			} else {
				or = &spec.Binary{Op: spec.OpOr, L: or, R: eq}
			}
		}
		if e.Not {
			or = &spec.Unary{Op: spec.OpNot, X: or}
		}
		return c.compile(or, spec.Bool)
	}
	xt, _ := spec.TypeOf(e.X, c.in)
	var x exprNode
	var err error
	if ot.IsDecimal() {
		x, err = c.compileScaled(e.X, xt, ot.Scale())
	} else {
		x, err = c.compile(e.X, ot)
	}
	if err != nil {
		return nil, err
	}
	n := &inNode{x: x, typ: ot.Physical(), not: e.Not}
	for _, v := range e.List {
		n.add(inValue(v.(*spec.Literal), ot))
	}
	return n, nil
}

// inValue is literal l as a value of the IN list's type t; a decimal or an
// int64 in a decimal list saturates as in comparisons.
func inValue(l *spec.Literal, t spec.Type) exprConst {
	v := literalScalar(l)
	switch {
	case l.Type == spec.Null || l.Type == t:
	case t.IsDecimal():
		v.i = rescaleSat(l.Int, spec.Pow10(t.Scale()-l.Type.Scale()))
	case t == spec.Timestamp:
		v.i = rescaleSat(l.Int, spec.MicrosPerDay)
	case t == spec.Float64 && l.Type == spec.Int64:
		v.f = float64(l.Int)
	case t == spec.Float64 && l.Type.IsDecimal():
		v.f = decimalFloat(l.Int, l.Type.Scale())
	}
	return v
}

func (c *exprCompiler) compileCase(e *spec.Case, t spec.Type) (exprNode, error) {
	n := &caseNode{typ: t}
	for _, w := range e.Whens {
		cond, err := c.compile(w.Cond, spec.Bool)
		if err != nil {
			return nil, err
		}
		then, err := c.compile(w.Then, t)
		if err != nil {
			return nil, err
		}
		n.conds = append(n.conds, cond)
		n.arms = append(n.arms, then)
	}
	n.arms = append(n.arms, &constNode{})
	if e.Else != nil {
		els, err := c.compile(e.Else, t)
		if err != nil {
			return nil, err
		}
		n.arms[len(n.arms)-1] = els
	}
	return n, nil
}

func (c *exprCompiler) compileCast(e *spec.Cast) (exprNode, error) {
	from, _ := spec.TypeOf(e.X, c.in)
	if from == spec.Null {
		return &constNode{}, nil
	}
	x, err := c.compile(e.X, from)
	if err != nil || from == e.To {
		return x, err
	}
	if k, ok := x.(*constNode); ok && k.c.valid {
		// A literal is cast once, here: one that does not convert is an
		// error of the expression, found before any row is read (NULL
		// for TRY_CAST).
		v, err := castScalar(k.c, from, e.To)
		if err != nil && e.Try {
			return &constNode{}, nil
		}
		if err != nil {
			return nil, err
		}
		return &constNode{c: v}, nil
	}
	return &castNode{x: x, from: from, to: e.To, try: e.Try}, nil
}

func (c *exprCompiler) compileCall(e *spec.Call, t spec.Type) (exprNode, error) {
	switch e.Func {
	case "nullif":
		return c.compileNullif(e)
	case "split_part", "regexp_like", "date_part", "date_trunc", "date_add", "parse_time", "format_time":
		return c.compileLiteralArgCall(e)
	case "abs", "floor", "ceil", "round":
		if xt, _ := spec.TypeOf(e.Args[0], c.in); xt.IsDecimal() {
			return c.compileDecimalMath(e, xt, t)
		}
	}
	args := make([]exprNode, len(e.Args))
	for i, a := range e.Args {
		want := t
		switch e.Func {
		case "lower", "upper", "trim", "ltrim", "rtrim", "length", "concat":
			want = spec.String
		case "substr", "substring", "round":
			want = []spec.Type{t, spec.Int64, spec.Int64}[i]
		}
		var err error
		if args[i], err = c.compile(a, want); err != nil {
			return nil, err
		}
	}
	switch e.Func {
	case "lower", "upper", "trim", "ltrim", "rtrim":
		return &strToStrNode{x: args[0], f: strFunc(e.Func)}, nil
	case "length":
		return &lengthNode{x: args[0]}, nil
	case "substr", "substring":
		return newSubstrNode(args), nil
	case "concat":
		return &concatNode{args: args, skipNulls: true}, nil
	case "abs", "floor", "ceil", "round":
		return newMathNode(e.Func, args, t), nil
	case "coalesce":
		return &coalesceNode{args: args, typ: t}, nil
	}
	return nil, fmt.Errorf("operators: unknown function %q", e.Func)
}

// compileDecimalMath compiles abs, floor, ceil and round of a decimal of
// type xt into type t (see spec.TypeOf).
func (c *exprCompiler) compileDecimalMath(e *spec.Call, xt, t spec.Type) (exprNode, error) {
	x, err := c.compile(e.Args[0], xt)
	if err != nil {
		return nil, err
	}
	if e.Func == "abs" {
		return &mathNode{fn: "abs", x: x, typ: t, digits: &constNode{c: exprConst{valid: true}}}, nil
	}
	var digits int64
	if len(e.Args) > 1 {
		digits = e.Args[1].(*spec.Literal).Int
	}
	if len(e.Args) > 1 && digits >= int64(xt.Scale()) {
		return x, nil
	}
	return newDecRoundNode(e.Func, x, xt, t, digits, e.String()), nil
}

// compileNullif rewrites nullif(a, b) into CASE WHEN a = b THEN NULL ELSE a END.
func (c *exprCompiler) compileNullif(e *spec.Call) (exprNode, error) {
	t, _ := spec.TypeOf(e.Args[0], c.in)
	cs := &spec.Case{
		Whens: []spec.When{{Cond: &spec.Binary{Op: spec.OpEq, L: e.Args[0], R: e.Args[1]}, Then: &spec.Literal{}}},
		Else:  e.Args[0],
	}
	return c.compile(cs, t)
}

// mayFail reports whether evaluating e can return an error for some row:
// only casts that parse strings, narrow floats or convert to a decimal or
// a timestamp can, and expressions with decimal results (an overflow).
func (c *exprCompiler) mayFail(e spec.Expr) bool {
	if t, _ := spec.TypeOf(e, c.in); t.IsDecimal() {
		switch e.(type) {
		case *spec.Column, *spec.Literal:
		default:
			return true
		}
	}
	switch e := e.(type) {
	case *spec.Cast:
		from, _ := spec.TypeOf(e.X, c.in)
		if from == spec.String && e.To != spec.String || from == spec.Float64 && e.To == spec.Int64 || e.To == spec.Timestamp {
			return true
		}
		return c.mayFail(e.X)
	case *spec.Unary:
		return c.mayFail(e.X)
	case *spec.Binary:
		return c.mayFail(e.L) || c.mayFail(e.R)
	case *spec.In:
		return c.mayFail(e.X) || c.anyMayFail(e.List...)
	case *spec.IsNull:
		return c.mayFail(e.X)
	case *spec.Like:
		return c.mayFail(e.X)
	case *spec.Call:
		return c.anyMayFail(e.Args...)
	case *spec.Case:
		for _, w := range e.Whens {
			if c.mayFail(w.Cond) || c.mayFail(w.Then) {
				return true
			}
		}
		return e.Else != nil && c.mayFail(e.Else)
	}
	return false
}

func (c *exprCompiler) anyMayFail(es ...spec.Expr) bool {
	for _, e := range es {
		if c.mayFail(e) {
			return true
		}
	}
	return false
}
