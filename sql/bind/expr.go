package bind

import (
	"strings"

	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/sql/parser"
)

// exprCtx binds expressions in one place of a query: over a scope, and
// after GROUP BY over the groups (agg).
type exprCtx struct {
	b   *binder
	sc  *scope
	agg *aggCtx
	// win maps the block's window calls to their columns, once the window
	// steps are planned (for the select list and ORDER BY).
	win map[*parser.FuncCall]string
	// in is the relation the expression is evaluated over; a scalar
	// subquery is joined into it. Nil where subqueries are not allowed.
	in *relation
	// outer collects the columns of enclosing queries the expression names
	// (a correlated subquery's conditions); deep is set when one is more
	// than one query out.
	outer []column
	deep  bool
}

// schema is the columns an expression bound here can read: the input's
// plan columns and, for correlation, the enclosing scopes' columns.
func (x *exprCtx) schema() spec.Schema {
	var s spec.Schema
	if x.in != nil {
		s = append(s, x.in.rel.Schema...)
	}
	for sc := x.sc; sc != nil; sc = sc.outer {
		for _, c := range sc.cols {
			if s.Index(c.internal) < 0 {
				s = append(s, spec.Field{Name: c.internal, Type: c.typ})
			}
		}
	}
	return s
}

// typed binds e and checks its type, which it returns.
func (x *exprCtx) typed(e parser.Expr) (spec.Expr, spec.Type, error) {
	out, err := x.bind(e)
	if err != nil {
		return nil, spec.Null, err
	}
	t, err := spec.TypeOf(out, x.schema())
	if err != nil {
		return nil, spec.Null, planError(e, err)
	}
	return out, t, nil
}

// bind translates e into a spec expression over internal column names.
func (x *exprCtx) bind(e parser.Expr) (spec.Expr, error) {
	if fc, ok := e.(*parser.FuncCall); ok && fc.Over != nil && x.win != nil {
		if col, ok := x.win[fc]; ok {
			return &spec.Column{Name: col}, nil
		}
	}
	if x.agg != nil {
		if col, ok := x.agg.lookup(e); ok {
			return &spec.Column{Name: col}, nil
		}
	}
	switch e := e.(type) {
	case *parser.ColumnRef:
		return x.column(e)
	case *parser.NumberLit:
		return numberLiteral(e)
	case *parser.StringLit:
		return &spec.Literal{Type: spec.String, Str: e.Value}, nil
	case *parser.BoolLit:
		return &spec.Literal{Type: spec.Bool, Bool: e.Value}, nil
	case *parser.NullLit:
		return &spec.Literal{Type: spec.Null}, nil
	case *parser.TypedLit:
		return typedLiteral(e)
	case *parser.IntervalLit:
		return nil, errorf(e, "an interval is supported only added to or subtracted from a date constant")
	case *parser.UnaryExpr:
		return x.unary(e)
	case *parser.BinaryExpr:
		return x.binary(e)
	case *parser.IsExpr:
		return x.is(e)
	case *parser.IsDistinctExpr:
		return x.isDistinct(e)
	case *parser.BetweenExpr:
		return x.between(e)
	case *parser.InListExpr:
		return x.inList(e)
	case *parser.LikeExpr:
		return x.like(e)
	case *parser.CaseExpr:
		return x.caseExpr(e)
	case *parser.CastExpr:
		return x.cast(e)
	case *parser.ExtractExpr:
		v, err := x.bind(e.X)
		if err != nil {
			return nil, err
		}
		unit := &spec.Literal{Type: spec.String, Str: strings.ToLower(e.Field)}
		return &spec.Call{Func: "date_part", Args: []spec.Expr{unit, v}}, nil
	case *parser.FuncCall:
		return x.call(e)
	case *parser.SubqueryExpr:
		return x.scalarSubquery(e)
	case *parser.ExistsExpr, *parser.InSubqueryExpr:
		return nil, errorf(e, "EXISTS and IN with a subquery are supported only as conditions of WHERE joined by AND")
	case *parser.Star:
		return nil, errorf(e, "* is allowed only in a select list or count(*)")
	}
	return nil, errorf(e, "unsupported expression %s", parser.Format(e))
}

func (x *exprCtx) column(ref *parser.ColumnRef) (spec.Expr, error) {
	c, depth, err := x.sc.lookup(ref)
	if err != nil {
		return nil, err
	}
	if depth > 0 {
		x.outer = append(x.outer, c)
		x.deep = x.deep || depth > 1
	} else if x.agg != nil && !x.agg.keys[c.internal] {
		return nil, errorf(ref, "column %q must appear in the GROUP BY clause or be used in an aggregate function", refText(ref))
	}
	return &spec.Column{Name: c.internal}, nil
}

func (x *exprCtx) unary(e *parser.UnaryExpr) (spec.Expr, error) {
	if n, ok := e.X.(*parser.NumberLit); ok && e.Op == "-" {
		return numberLiteral(&parser.NumberLit{Pos: n.Pos, Text: "-" + n.Text})
	}
	v, err := x.bind(e.X)
	if err != nil {
		return nil, err
	}
	switch e.Op {
	case "NOT":
		return &spec.Unary{Op: spec.OpNot, X: v}, nil
	case "-":
		return &spec.Unary{Op: spec.OpNeg, X: v}, nil
	}
	return v, nil
}

var binaryOps = map[string]spec.BinaryOp{
	"+": spec.OpAdd, "-": spec.OpSub, "*": spec.OpMul, "/": spec.OpDiv, "%": spec.OpMod,
	"=": spec.OpEq, "<>": spec.OpNe, "<": spec.OpLt, "<=": spec.OpLe, ">": spec.OpGt, ">=": spec.OpGe,
	"AND": spec.OpAnd, "OR": spec.OpOr, "||": spec.OpConcat,
}

func (x *exprCtx) binary(e *parser.BinaryExpr) (spec.Expr, error) {
	if iv, ok := e.R.(*parser.IntervalLit); ok && (e.Op == "+" || e.Op == "-") {
		return x.dateArith(e, iv)
	}
	op, ok := binaryOps[e.Op]
	if !ok {
		return nil, errorf(e, "unsupported operator %s", e.Op)
	}
	lr, err := x.bindAll(e.L, e.R)
	if err != nil {
		return nil, err
	}
	l, r := lr[0], lr[1]
	if op >= spec.OpEq && op <= spec.OpGe {
		l, r = x.coerce(l, r)
	}
	if op == spec.OpMul {
		l, r = x.trimmed(l, r), x.trimmed(r, l)
	}
	return &spec.Binary{Op: op, L: l, R: r}, nil
}

func (x *exprCtx) is(e *parser.IsExpr) (spec.Expr, error) {
	v, err := x.bind(e.X)
	if err != nil {
		return nil, err
	}
	var out spec.Expr
	switch e.What {
	case "NULL":
		return &spec.IsNull{X: v, Not: e.Not}, nil
	case "TRUE":
		out = &spec.Case{Whens: []spec.When{{Cond: v, Then: boolLit(true)}}, Else: boolLit(false)}
	default: // FALSE
		out = &spec.Case{Whens: []spec.When{{Cond: &spec.Unary{Op: spec.OpNot, X: v}, Then: boolLit(true)}}, Else: boolLit(false)}
	}
	if e.Not {
		out = &spec.Unary{Op: spec.OpNot, X: out}
	}
	return out, nil
}

// isDistinct is a IS [NOT] DISTINCT FROM b: a <> b where NULL equals NULL.
func (x *exprCtx) isDistinct(e *parser.IsDistinctExpr) (spec.Expr, error) {
	lr, err := x.bindAll(e.L, e.R)
	if err != nil {
		return nil, err
	}
	l, r := lr[0], lr[1]
	lNull, rNull := &spec.IsNull{X: l}, &spec.IsNull{X: r}
	var out spec.Expr = &spec.Case{Whens: []spec.When{
		{Cond: &spec.Binary{Op: spec.OpAnd, L: lNull, R: rNull}, Then: boolLit(false)},
		{Cond: &spec.Binary{Op: spec.OpOr, L: lNull, R: rNull}, Then: boolLit(true)},
	}, Else: &spec.Binary{Op: spec.OpNe, L: l, R: r}}
	if e.Not {
		out = &spec.Unary{Op: spec.OpNot, X: out}
	}
	return out, nil
}

func (x *exprCtx) between(e *parser.BetweenExpr) (spec.Expr, error) {
	vs, err := x.bindAll(e.X, e.Lo, e.Hi)
	if err != nil {
		return nil, err
	}
	v1, lo := x.coerce(vs[0], vs[1])
	v2, hi := x.coerce(vs[0], vs[2])
	var out spec.Expr = &spec.Binary{Op: spec.OpAnd,
		L: &spec.Binary{Op: spec.OpGe, L: v1, R: lo},
		R: &spec.Binary{Op: spec.OpLe, L: v2, R: hi}}
	if e.Not {
		out = &spec.Unary{Op: spec.OpNot, X: out}
	}
	return out, nil
}

func (x *exprCtx) inList(e *parser.InListExpr) (spec.Expr, error) {
	v, err := x.bind(e.X)
	if err != nil {
		return nil, err
	}
	list := make([]spec.Expr, len(e.List))
	for i, item := range e.List {
		if list[i], err = x.bind(item); err != nil {
			return nil, err
		}
		_, list[i] = x.coerce(v, list[i])
	}
	return &spec.In{X: v, List: list, Not: e.Not}, nil
}

func (x *exprCtx) caseExpr(e *parser.CaseExpr) (spec.Expr, error) {
	var operand spec.Expr
	if e.Operand != nil {
		var err error
		if operand, err = x.bind(e.Operand); err != nil {
			return nil, err
		}
	}
	out := &spec.Case{Whens: make([]spec.When, len(e.Whens))}
	for i, w := range e.Whens {
		cond, err := x.bind(w.Cond)
		if err != nil {
			return nil, err
		}
		if operand != nil {
			l, r := x.coerce(operand, cond)
			cond = &spec.Binary{Op: spec.OpEq, L: l, R: r}
		}
		then, err := x.bind(w.Result)
		if err != nil {
			return nil, err
		}
		out.Whens[i] = spec.When{Cond: cond, Then: then}
	}
	if e.Else != nil {
		var err error
		if out.Else, err = x.bind(e.Else); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (x *exprCtx) cast(e *parser.CastExpr) (spec.Expr, error) {
	v, err := x.bind(e.X)
	if err != nil {
		return nil, err
	}
	t, err := sqlType(e.Type)
	if err != nil {
		return nil, err
	}
	if lit, ok := v.(*spec.Literal); ok && lit.Type == spec.String {
		// CAST('1998-09-02' AS date) is a date constant, which a scan
		// can compare with its statistics.
		if c, ok := literalAs(lit.Str, t); ok && c.Type == t {
			return c, nil
		}
	}
	return &spec.Cast{X: v, To: t, Try: e.Try}, nil
}

func boolLit(v bool) *spec.Literal { return &spec.Literal{Type: spec.Bool, Bool: v} }

// scalarFuncs maps SQL function names to the steps' functions of the same
// meaning.
var scalarFuncs = map[string]string{
	"abs": "abs", "ceil": "ceil", "ceiling": "ceil", "coalesce": "coalesce", "concat": "concat",
	"date_part": "date_part", "date_trunc": "date_trunc", "floor": "floor", "length": "length",
	"lower": "lower", "ltrim": "ltrim", "nullif": "nullif", "round": "round", "rtrim": "rtrim",
	"split_part": "split_part", "substr": "substr", "substring": "substr", "trim": "trim",
	"upper": "upper", "regexp_matches": "regexp_like", "regexp_like": "regexp_like",
	"char_length": "length", "strlen": "length",
}

func (x *exprCtx) call(e *parser.FuncCall) (spec.Expr, error) {
	name := strings.ToLower(e.Name.Name)
	if e.Over != nil {
		return nil, errorf(e, "a window function is allowed only in the select list and ORDER BY")
	}
	if isAggregate(e) {
		return nil, errorf(e, "aggregate %s is not allowed here", name)
	}
	fn, ok := scalarFuncs[name]
	if !ok {
		return nil, errorf(e.Name, "unknown function %s%s", name, suggest(name, funcList()))
	}
	if e.Distinct || e.Filter != nil || e.Star {
		return nil, errorf(e, "DISTINCT, FILTER and * apply only to aggregates, not to %s", name)
	}
	args, err := x.bindAll(e.Args...)
	if err != nil {
		return nil, err
	}
	return &spec.Call{Func: fn, Args: args}, nil
}

// bindAll binds es in order, stopping at the first error.
func (x *exprCtx) bindAll(es ...parser.Expr) ([]spec.Expr, error) {
	out := make([]spec.Expr, len(es))
	for i, e := range es {
		var err error
		if out[i], err = x.bind(e); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func funcList() []string {
	var out []string
	for k := range scalarFuncs {
		out = append(out, k)
	}
	return append(out, "count", "sum", "avg", "min", "max")
}
