package bind

import (
	"strings"

	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/sql/logical"
	"github.com/batchrun/batchrun/sql/parser"
)

var aggFuncs = map[string]spec.AggFunc{
	"count": spec.AggCount, "sum": spec.AggSum, "avg": spec.AggAvg, "min": spec.AggMin,
	"max": spec.AggMax, "any_value": spec.AggAnyValue, "first": spec.AggFirst,
}

// isAggregate reports whether fc is an aggregate call (not a window one).
func isAggregate(fc *parser.FuncCall) bool {
	_, ok := aggFuncs[strings.ToLower(fc.Name.Name)]
	return ok && fc.Over == nil
}

// aggCtx is what expressions after GROUP BY may read: the aggregates'
// results, the grouping expressions, and the grouping columns.
type aggCtx struct {
	calls  map[*parser.FuncCall]string // aggregate call -> its result column
	groups map[string]string           // a grouping expression's text -> its column
	keys   map[string]bool             // columns the groups keep
}

// lookup finds e among the aggregates and grouping expressions.
func (a *aggCtx) lookup(e parser.Expr) (string, bool) {
	if fc, ok := e.(*parser.FuncCall); ok {
		if c, ok := a.calls[fc]; ok {
			return c, true
		}
	}
	switch e.(type) {
	case *parser.NumberLit, *parser.StringLit, *parser.BoolLit, *parser.NullLit, *parser.TypedLit:
		return "", false
	}
	c, ok := a.groups[parser.Format(e)]
	return c, ok
}

// callKind says which calls a collector gathers (aggregates, window
// calls) and where inside one another of its kind is an error.
type callKind struct {
	is     func(*parser.FuncCall) bool
	inside func(*parser.FuncCall) []parser.Node
	nested string // the error for a call inside another
}

var (
	aggregateCalls = callKind{is: isAggregate, inside: argNodes, nested: "aggregate calls cannot be nested"}
	windowCalls    = callKind{
		is:     func(fc *parser.FuncCall) bool { return fc.Over != nil },
		inside: func(fc *parser.FuncCall) []parser.Node { return append(argNodes(fc), fc.Over) },
		nested: "window functions cannot be nested",
	}
)

// collectAggregates lists the aggregate calls in nodes, outside subqueries.
func collectAggregates(nodes ...parser.Node) ([]*parser.FuncCall, error) {
	return collectCalls(aggregateCalls, nodes...)
}

// collectCalls lists the calls of kind k in nodes, outside subqueries (but
// in the left side of x IN (subquery)).
func collectCalls(k callKind, nodes ...parser.Node) ([]*parser.FuncCall, error) {
	var (
		out []*parser.FuncCall
		err error
	)
	for _, n := range nodes {
		if n == nil {
			continue
		}
		parser.Inspect(n, func(n parser.Node) bool {
			switch n := n.(type) {
			case *parser.SubqueryExpr, *parser.ExistsExpr, *parser.Query:
				return false
			case *parser.InSubqueryExpr:
				if more, e := collectCalls(k, n.X); e == nil {
					out = append(out, more...)
				}
				return false
			case *parser.FuncCall:
				if !k.is(n) {
					return true
				}
				if inner, _ := collectCalls(k, k.inside(n)...); len(inner) > 0 && err == nil {
					err = errorf(inner[0], "%s", k.nested)
				}
				out = append(out, n)
				return false
			}
			return true
		})
	}
	return out, err
}

func argNodes(fc *parser.FuncCall) []parser.Node {
	var out []parser.Node
	for _, a := range fc.Args {
		out = append(out, a)
	}
	if fc.Filter != nil {
		out = append(out, fc.Filter)
	}
	return out
}

// grouping is an aggregation being planned: the pre-projection of the
// keys and arguments, then the aggregate.
type grouping struct {
	x    *exprCtx
	pre  []spec.NamedExpr
	keys []string
	aggs []spec.Agg
	ctx  *aggCtx
	seen map[string]string // an aggregate call's text -> its column
	// hints name an aggregate's column after the select item's alias when
	// the item is the call itself.
	hints map[*parser.FuncCall]string
}

// column returns a column of the pre-projection holding e.
func (g *grouping) column(e spec.Expr, name string) string {
	if c, ok := e.(*spec.Column); ok {
		for _, p := range g.pre {
			if p.Alias == c.Name {
				return c.Name
			}
		}
		g.pre = append(g.pre, spec.NamedExpr{Expr: e, Alias: c.Name})
		return c.Name
	}
	col := g.x.b.fresh(name)
	g.pre = append(g.pre, spec.NamedExpr{Expr: e, Alias: col})
	return col
}

// aggregate plans GROUP BY and the aggregate calls of a select block over
// in. extraKeys are columns to group by as well (a correlated subquery's
// inner columns). It returns the aggregated relation and the context to
// bind the rest of the block in.
func (b *binder) aggregate(sel *parser.Select, calls []*parser.FuncCall, in *relation, sc *scope, extraKeys []string) (*relation, *aggCtx, error) {
	g := &grouping{
		x:     &exprCtx{b: b, sc: sc, in: in},
		ctx:   &aggCtx{calls: map[*parser.FuncCall]string{}, groups: map[string]string{}, keys: map[string]bool{}},
		seen:  map[string]string{},
		hints: map[*parser.FuncCall]string{},
	}
	for _, it := range sel.Items {
		if fc, ok := it.Expr.(*parser.FuncCall); ok && it.Alias != nil {
			g.hints[fc] = it.Alias.Name
		}
	}
	for _, ge := range sel.GroupBy {
		if err := g.groupKey(sel, ge); err != nil {
			return nil, nil, err
		}
	}
	for _, k := range extraKeys {
		if !g.ctx.keys[k] {
			g.keys = append(g.keys, g.column(&spec.Column{Name: k}, k))
			g.ctx.keys[k] = true
		}
	}
	for _, call := range calls {
		if err := g.addCall(call); err != nil {
			return nil, nil, err
		}
	}
	rel := in.rel
	if g.computes() {
		var err error
		if rel, err = logical.Project(rel, g.pre); err != nil {
			return nil, nil, planError(sel, err)
		}
	}
	agg, err := logical.Aggregate(rel, g.keys, g.aggs)
	if err != nil {
		return nil, nil, planError(sel, err)
	}
	return &relation{rel: agg, cols: in.cols}, g.ctx, nil
}

// computes reports whether the pre-projection computes anything; when it
// only passes columns through, the aggregate reads its input directly.
func (g *grouping) computes() bool {
	for _, p := range g.pre {
		if c, ok := p.Expr.(*spec.Column); !ok || c.Name != p.Alias {
			return true
		}
	}
	return false
}

// groupKey adds one GROUP BY item: an expression, a select item's alias or
// its 1-based position.
func (g *grouping) groupKey(sel *parser.Select, ge parser.Expr) error {
	target := ge
	if item := selectItemFor(sel, ge, g.x.sc); item != nil {
		target = item.Expr
	}
	e, _, err := g.x.typed(target)
	if err != nil {
		return err
	}
	col := g.column(e, exprName(target))
	if !g.ctx.keys[col] {
		g.keys = append(g.keys, col)
		g.ctx.keys[col] = true
	}
	g.ctx.groups[parser.Format(target)] = col
	g.ctx.groups[parser.Format(ge)] = col
	return nil
}

// selectItemFor returns the select item a GROUP BY item names by position
// or by alias (an alias only when no input column has that name).
func selectItemFor(sel *parser.Select, e parser.Expr, sc *scope) *parser.SelectItem {
	switch e := e.(type) {
	case *parser.NumberLit:
		if n, ok := ordinal(e); ok && n <= len(sel.Items) {
			return sel.Items[n-1]
		}
	case *parser.ColumnRef:
		if len(e.Parts) != 1 {
			return nil
		}
		if _, _, err := sc.lookup(e); err == nil {
			return nil
		}
		for _, it := range sel.Items {
			if it.Alias != nil && nameEq(e.Parts[0], it.Alias.Name) {
				return it
			}
		}
	}
	return nil
}

// addCall plans one aggregate call; calls written alike share a column.
func (g *grouping) addCall(call *parser.FuncCall) error {
	text := parser.Format(call)
	if col, ok := g.seen[text]; ok {
		g.ctx.calls[call] = col
		return nil
	}
	name := strings.ToLower(call.Name.Name)
	fn := aggFuncs[name]
	if call.Distinct {
		if fn != spec.AggCount {
			return errorf(call, "%s(DISTINCT ...) is not supported (count(DISTINCT ...) is)", name)
		}
		fn = spec.AggCountDistinct
	}
	hint := g.hints[call]
	if hint == "" {
		hint = aggName(call)
	}
	agg := spec.Agg{Func: fn, Alias: g.x.b.fresh(hint)}
	arg, err := g.argument(call)
	if err != nil {
		return err
	}
	if arg != nil {
		agg.Arg = g.column(arg, hint+"_arg")
	} else if fn != spec.AggCount {
		return errorf(call, "%s needs an argument", name)
	}
	g.aggs = append(g.aggs, agg)
	g.ctx.calls[call] = agg.Alias
	g.seen[text] = agg.Alias
	return nil
}

// argument binds an aggregate's argument; FILTER (WHERE c) makes it
// CASE WHEN c THEN arg END. count(*) has none (nil) unless filtered.
func (g *grouping) argument(call *parser.FuncCall) (spec.Expr, error) {
	var arg spec.Expr
	switch {
	case call.Star:
		if call.Filter != nil {
			arg = &spec.Literal{Type: spec.Int64, Int: 1}
		}
	case len(call.Args) != 1:
		return nil, errorf(call, "%s takes one argument", call.Name.Name)
	default:
		var err error
		if arg, _, err = g.x.typed(call.Args[0]); err != nil {
			return nil, err
		}
	}
	if call.Filter != nil {
		cond, _, err := g.x.typed(call.Filter)
		if err != nil {
			return nil, err
		}
		arg = &spec.Case{Whens: []spec.When{{Cond: cond, Then: arg}}}
	}
	return arg, nil
}

// aggName is the column name DuckDB gives an unaliased aggregate.
func aggName(call *parser.FuncCall) string {
	if call.Star {
		return "count_star()"
	}
	return exprName(call)
}
