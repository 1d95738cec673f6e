package bind

import (
	"slices"
	"strconv"
	"strings"

	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/sql/logical"
	"github.com/batchrun/batchrun/sql/parser"
)

// Subqueries are decorrelated into joins, as DuckDB and most engines do
// for the common forms:
//
//	EXISTS (q)            semi join of the outer rows with q on q's
//	NOT EXISTS (q)        anti join      correlated equalities
//	x IN (q)              semi join on x = q's column (and the correlation)
//	x NOT IN (q)          anti join on x = q's column, then SQL's NULL rule
//	(q) in an expression  left join with q grouped by its correlated
//	                      columns (a cross join when uncorrelated)

// subqueryCond joins the WHERE condition c, which holds a subquery, into
// in.
func (b *binder) subqueryCond(in *relation, sc *scope, c parser.Expr) (*relation, error) {
	not := false
	target := c
	if u, ok := c.(*parser.UnaryExpr); ok && u.Op == "NOT" {
		switch u.X.(type) {
		case *parser.ExistsExpr, *parser.InSubqueryExpr:
			not, target = true, u.X
		}
	}
	switch e := target.(type) {
	case *parser.ExistsExpr:
		return b.existsJoin(in, sc, e, not)
	case *parser.InSubqueryExpr:
		return b.inJoin(in, sc, e, not != e.Not)
	}
	x := &exprCtx{b: b, sc: sc, in: in}
	pred, err := x.predicate(c)
	if err != nil {
		return nil, err
	}
	return filtered(x.in, pred, c)
}

// existsJoin is [NOT] EXISTS (q): a semi (anti) join on q's correlation.
func (b *binder) existsJoin(in *relation, sc *scope, e *parser.ExistsExpr, anti bool) (*relation, error) {
	sub, err := b.queryCorr(e.Query, sc)
	if err != nil {
		return nil, err
	}
	if len(sub.corr) == 0 {
		return b.uncorrelatedExists(in, sub.relation, anti, e)
	}
	return b.semiJoin(in, sub, nil, nil, anti, e)
}

// semiJoin joins in with sub on sub's correlation plus the key pairs
// given (left column, right column), keeping the rows of in that have a
// match (anti: none). Correlated conditions other than equalities, and
// extra, are the join's residual condition.
func (b *binder) semiJoin(in *relation, sub *bound, pairs [][2]string, extra spec.Expr, anti bool, at parser.Node) (*relation, error) {
	js := spec.JoinStep{Type: spec.SemiJoin, Broadcast: sub.rel.Bytes < BroadcastBelow}
	if anti {
		js.Type = spec.AntiJoin
	}
	for _, p := range pairs {
		js.LeftKeys, js.RightKeys = append(js.LeftKeys, p[0]), append(js.RightKeys, p[1])
	}
	var residual []spec.Expr
	for _, c := range sub.corr {
		lk, rk, ok := keyPair(c, in.rel.Schema, sub.rel.Schema)
		if !ok {
			residual = append(residual, c) // Q21's l2.l_suppkey <> l1.l_suppkey
			continue
		}
		js.LeftKeys, js.RightKeys = append(js.LeftKeys, lk), append(js.RightKeys, rk)
	}
	if extra != nil {
		residual = append(residual, extra)
	}
	js.Where = andAll(residual)
	js.Broadcast = js.Broadcast || js.Keyless()
	right := sub.rel
	if len(js.LeftKeys) > 0 && in.rel.Bytes*2 < right.Bytes {
		// Fewer outer rows than subquery rows: the subquery's rows whose
		// keys no outer row has cannot matter (TPC-H Q4, Q21, Q22).
		var err error
		if right, err = b.narrowBy(right, js.RightKeys, in.rel, js.LeftKeys); err != nil {
			return nil, planError(at, err)
		}
		js.Broadcast = right.Bytes < BroadcastBelow
	}
	rel, err := placeSemi(in.rel, right, js, "decorrelated subquery at "+posText(at))
	if err != nil {
		return nil, planError(at, err)
	}
	return &relation{rel: rel, cols: in.cols}, nil
}

// uncorrelatedExists keeps all rows of in when sub has a row (anti: when
// it has none): a cross join with sub's row count, then a filter.
func (b *binder) uncorrelatedExists(in, sub *relation, anti bool, at parser.Node) (*relation, error) {
	n := b.fresh("exists_count")
	cnt, err := logical.Aggregate(sub.rel, nil, []spec.Agg{{Func: spec.AggCount, Alias: n}})
	if err != nil {
		return nil, planError(at, err)
	}
	rel, err := b.crossJoin(in.rel, cnt, spec.InnerJoin)
	if err != nil {
		return nil, planError(at, err)
	}
	op := spec.OpGt
	if anti {
		op = spec.OpEq
	}
	pred := &spec.Binary{Op: op, L: &spec.Column{Name: n}, R: &spec.Literal{Type: spec.Int64}}
	return filtered(&relation{rel: rel, cols: in.cols}, pred, at)
}

// inJoin is x [NOT] IN (q).
func (b *binder) inJoin(in *relation, sc *scope, e *parser.InSubqueryExpr, not bool) (*relation, error) {
	sub, err := b.queryCorr(e.Query, sc)
	if err != nil {
		return nil, err
	}
	if len(sub.cols) != 1 {
		return nil, errorf(e, "the subquery of IN returns %d columns, want 1", len(sub.cols))
	}
	in, lcol, err := b.withColumn(in, sc, e.X)
	if err != nil {
		return nil, err
	}
	rcol := sub.cols[0].internal
	lt, rt := in.rel.Schema[in.rel.Schema.Index(lcol)].Type, sub.cols[0].typ
	if lt != rt {
		return nil, errorf(e, "IN compares %s with a subquery of %s", lt, rt)
	}
	pairs := [][2]string{{lcol, rcol}}
	switch {
	case !not:
		return b.semiJoin(in, sub, pairs, nil, false, e)
	case len(sub.corr) > 0:
		return b.semiJoin(in, sub, nil, notInMatch(lcol, rcol), true, e)
	}
	return b.notIn(in, sub, lcol, rcol, e)
}

// notInMatch is the residual condition of a correlated x NOT IN (q) as an
// anti join on q's correlation: an outer row is dropped by any of its q
// rows whose value equals x or is NULL, or by any q row at all when x is
// NULL. That is SQL's rule (NOT IN is true for an empty q, NULL when x or
// a value of q is NULL and x is not found) for each outer row's own q.
func notInMatch(lcol, rcol string) spec.Expr {
	x, y := &spec.Column{Name: lcol}, &spec.Column{Name: rcol}
	return &spec.Binary{Op: spec.OpOr,
		L: &spec.Binary{Op: spec.OpOr, L: &spec.Binary{Op: spec.OpEq, L: x, R: y}, R: &spec.IsNull{X: y}},
		R: &spec.IsNull{X: x}}
}

// notIn is x NOT IN (q) with SQL's NULL rule: true when q is empty; else
// NULL (the row is dropped) when x is NULL or q holds a NULL; else true
// when x is not in q. It joins in q's row and non-NULL counts, anti joins
// on x, and filters.
func (b *binder) notIn(in *relation, sub *bound, lcol, rcol string, at parser.Node) (*relation, error) {
	n, nn := b.fresh("in_rows"), b.fresh("in_values")
	stats, err := logical.Aggregate(sub.rel, nil, []spec.Agg{{Func: spec.AggCount, Alias: n}, {Func: spec.AggCount, Arg: rcol, Alias: nn}})
	if err != nil {
		return nil, planError(at, err)
	}
	withStats, err := b.crossJoin(in.rel, stats, spec.InnerJoin)
	if err != nil {
		return nil, planError(at, err)
	}
	anti, err := b.semiJoin(&relation{rel: withStats, cols: in.cols}, sub, [][2]string{{lcol, rcol}}, nil, true, at)
	if err != nil {
		return nil, err
	}
	col := func(name string) spec.Expr { return &spec.Column{Name: name} }
	pred := &spec.Binary{Op: spec.OpOr,
		L: &spec.Binary{Op: spec.OpEq, L: col(n), R: &spec.Literal{Type: spec.Int64}},
		R: &spec.Binary{Op: spec.OpAnd,
			L: &spec.IsNull{X: col(lcol), Not: true},
			R: &spec.Binary{Op: spec.OpEq, L: col(nn), R: col(n)}}}
	return filtered(anti, pred, at)
}

// withColumn returns in with e as a column (adding a select that computes
// it unless e is a column already) and the column's name.
func (b *binder) withColumn(in *relation, sc *scope, e parser.Expr) (*relation, string, error) {
	x := &exprCtx{b: b, sc: sc, in: in}
	v, _, err := x.typed(e)
	if err != nil {
		return nil, "", err
	}
	if c, ok := v.(*spec.Column); ok && x.in.rel.Schema.Index(c.Name) >= 0 {
		return x.in, c.Name, nil
	}
	name := b.fresh(exprName(e))
	cols := make([]spec.NamedExpr, 0, len(x.in.rel.Schema)+1)
	for _, f := range x.in.rel.Schema {
		cols = append(cols, spec.NamedExpr{Expr: &spec.Column{Name: f.Name}, Alias: f.Name})
	}
	rel, err := logical.Project(x.in.rel, append(cols, spec.NamedExpr{Expr: v, Alias: name}))
	if err != nil {
		return nil, "", planError(e, err)
	}
	rel.Bytes = x.in.rel.Bytes
	return &relation{rel: rel, cols: x.in.cols}, name, nil
}

// scalarSubquery binds (q) in an expression: q's one column, joined into
// the relation the expression reads. A correlated q must aggregate (it is
// grouped by its correlated columns and left joined on them); an
// uncorrelated one is cross joined (left: no row gives NULL).
func (x *exprCtx) scalarSubquery(e *parser.SubqueryExpr) (spec.Expr, error) {
	if x.in == nil {
		return nil, errorf(e, "a subquery is not allowed here")
	}
	x.sc.rows = x.in.rel
	sub, err := x.b.queryCorr(e.Query, x.sc)
	x.sc.rows = nil
	if err != nil {
		return nil, err
	}
	if len(sub.cols) != 1 {
		return nil, errorf(e, "a scalar subquery returns %d columns, want 1", len(sub.cols))
	}
	var rel *logical.Rel
	if len(sub.corr) == 0 {
		rel, err = x.b.crossJoin(x.in.rel, sub.rel, spec.LeftJoin)
	} else {
		if !sub.grouped {
			return nil, errorf(e, "a correlated scalar subquery must aggregate (one row for each outer row)")
		}
		rel, err = x.b.correlatedJoin(x.in, sub, e)
	}
	if err != nil {
		return nil, planError(e, err)
	}
	x.in.rel = rel
	var out spec.Expr = &spec.Column{Name: sub.cols[0].internal}
	if len(sub.corr) > 0 && isCount(e.Query) {
		// An outer row no group joined has a count of 0, not NULL (the
		// "count bug" of decorrelation).
		out = &spec.Call{Func: "coalesce", Args: []spec.Expr{out, &spec.Literal{Type: spec.Int64}}}
	}
	return out, nil
}

// isCount reports whether q is SELECT count(...) FROM ...: the one form
// whose value over no rows is not NULL that the binder corrects.
func isCount(q *parser.Query) bool {
	sel, ok := q.Body.(*parser.Select)
	if !ok || len(sel.Items) != 1 || len(sel.GroupBy) > 0 {
		return false
	}
	f, ok := sel.Items[0].Expr.(*parser.FuncCall)
	return ok && f.Over == nil && strings.EqualFold(f.Name.Name, "count")
}

func (b *binder) correlatedJoin(in *relation, sub *bound, at parser.Node) (*logical.Rel, error) {
	js := spec.JoinStep{Type: spec.LeftJoin, Broadcast: sub.rel.Bytes < BroadcastBelow}
	for _, c := range sub.corr {
		lk, rk, ok := keyPair(c, in.rel.Schema, sub.rel.Schema)
		if !ok {
			return nil, errorf(at, "the subquery's condition %s is not supported: compare its columns with outer ones by = only", c)
		}
		js.LeftKeys, js.RightKeys = append(js.LeftKeys, lk), append(js.RightKeys, rk)
	}
	rel, err := logical.Join(in.rel, sub.rel, js)
	if err == nil {
		rel.Note = "decorrelated subquery at " + posText(at)
	}
	return rel, err
}

// placeSemi joins left with right by the semi or anti join js, below the
// inner joins left is made of where that keeps it as useful: into an
// input holding every left column js reads, when that input is no larger
// than the join's estimated output (the join does not shrink it, so
// filtering it first saves the join work; TPC-H Q18's IN narrows orders
// before they meet lineitem). A join that shrinks the input (a filtered
// dimension, Q21) runs first instead.
// note is the semi join's, for explain.
func placeSemi(left, right *logical.Rel, js spec.JoinStep, note string) (*logical.Rel, error) {
	if left.Step.Kind == spec.KindJoin && left.Step.Join.Type == spec.InnerJoin {
		need := slices.Clone(js.LeftKeys)
		for _, c := range spec.ExprColumns(js.Where) {
			if right.Schema.Index(c) < 0 {
				need = append(need, c)
			}
		}
		for i, child := range left.Inputs {
			if child.Bytes > left.Bytes || !hasColumns(child.Schema, need) {
				continue
			}
			pushed, err := placeSemi(child, right, js, note)
			if err != nil {
				return nil, err
			}
			inputs := slices.Clone(left.Inputs)
			inputs[i] = pushed
			return logical.Join(inputs[0], inputs[1], *left.Step.Join)
		}
	}
	r, err := logical.Join(left, right, js)
	if err == nil {
		r.Note = note
	}
	return r, err
}

func hasColumns(s spec.Schema, names []string) bool {
	for _, n := range names {
		if s.Index(n) < 0 {
			return false
		}
	}
	return true
}

func posText(n parser.Node) string {
	p := n.Position()
	return strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Col)
}
