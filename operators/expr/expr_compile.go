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
	if want != t && want != spec.Null {
		n = &castNode{x: n, from: t, to: want}
	}
	return n, nil
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
		l, err := c.compile(e.L, lt)
		if err != nil {
			return nil, err
		}
		r, err := c.compile(e.R, rt)
		return &arithNode{op: e.Op, l: l, r: r, typ: t, lt: lt, rt: rt}, err
	case spec.OpAnd, spec.OpOr:
		l, r, err := c.operands(e.L, e.R, spec.Bool)
		return &logicNode{or: e.Op == spec.OpOr, l: l, r: r, rMayFail: c.mayFail(e.R)}, err
	case spec.OpConcat:
		l, r, err := c.operands(e.L, e.R, spec.String)
		return &concatNode{args: []exprNode{l, r}}, err
	}
	ot, _ := spec.Unify(lt, rt)
	switch ot {
	case spec.Null:
		return &constNode{}, nil
	case spec.Bool:
		ot, lt, rt = spec.Int64, spec.Int64, spec.Int64 // FALSE < TRUE
	}
	l, err := c.compile(e.L, lt)
	if err != nil {
		return nil, err
	}
	r, err := c.compile(e.R, rt)
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
	x, err := c.compile(e.X, ot)
	if err != nil {
		return nil, err
	}
	n := &inNode{x: x, typ: ot, not: e.Not}
	for _, v := range e.List {
		n.add(v.(*spec.Literal))
	}
	return n, nil
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
		// error of the expression, found before any row is read.
		v, err := castScalar(k.c, from, e.To)
		if err != nil {
			return nil, err
		}
		return &constNode{c: v}, nil
	}
	return &castNode{x: x, from: from, to: e.To}, nil
}

func (c *exprCompiler) compileCall(e *spec.Call, t spec.Type) (exprNode, error) {
	switch e.Func {
	case "nullif":
		return c.compileNullif(e)
	case "split_part", "regexp_like", "date_part", "date_trunc", "parse_time", "format_time":
		return c.compileLiteralArgCall(e)
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
// only casts that parse strings or narrow floats can.
func (c *exprCompiler) mayFail(e spec.Expr) bool {
	switch e := e.(type) {
	case *spec.Cast:
		from, _ := spec.TypeOf(e.X, c.in)
		if from == spec.String && e.To != spec.String || from == spec.Float64 && e.To == spec.Int64 {
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
