package bind

import (
	"math"
	"slices"
	"strconv"

	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/sql/logical"
	"github.com/batchrun/batchrun/sql/parser"
)

// bound is a bound query. A subquery that names columns of the query
// around it has corr: its conditions on them, over its own output columns
// (kept in rel's plan though not in its visible columns) and the outer
// ones. grouped says the subquery aggregated by its correlated columns, so
// it has at most one row for each of their values.
type bound struct {
	*relation
	corr    []spec.Expr
	grouped bool
}

// query binds an uncorrelated query.
func (b *binder) query(q *parser.Query, outer *scope) (*relation, error) {
	out, err := b.queryCorr(q, outer)
	if err != nil {
		return nil, err
	}
	if len(out.corr) > 0 {
		return nil, errorf(q, "a correlated subquery is supported only in WHERE (EXISTS, IN or a comparison)")
	}
	return out.relation, nil
}

// queryCorr binds q, a subquery of the query whose scope is outer (nil at
// the top), and returns its correlation.
func (b *binder) queryCorr(q *parser.Query, outer *scope) (*bound, error) {
	if len(q.With) > 0 {
		if err := b.with(q.With); err != nil {
			return nil, err
		}
		defer func() { b.ctes = b.ctes[:len(b.ctes)-1] }()
	}
	var (
		out  *bound
		keys []spec.SortKey
		err  error
	)
	switch body := q.Body.(type) {
	case *parser.Select:
		out, keys, err = b.selectBlock(body, outer, q.OrderBy)
	case *parser.SetOp:
		var r *relation
		if r, err = b.setOp(body); err == nil {
			out = &bound{relation: r}
			keys, err = outputSortKeys(r, q.OrderBy)
		}
	case *parser.Query:
		if out, err = b.queryCorr(body, outer); err == nil {
			keys, err = outputSortKeys(out.relation, q.OrderBy)
		}
	}
	if err != nil {
		return nil, err
	}
	if len(out.corr) > 0 && (q.Limit != nil || q.Offset != nil) {
		return nil, errorf(q, "LIMIT in a correlated subquery is not supported")
	}
	return out, b.orderAndLimit(q, out.relation, keys)
}

// with binds the CTEs of one WITH, each seeing the ones before it.
func (b *binder) with(ctes []*parser.CTE) error {
	scope := map[string]*cte{}
	b.ctes = append(b.ctes, scope)
	for _, c := range ctes {
		r, err := b.query(c.Query, nil)
		if err != nil {
			return err
		}
		if r, err = renameColumns(r, c.Columns, c.Name); err != nil {
			return err
		}
		scope[c.Name.Name] = &cte{rel: r.withTable(c.Name.Name)}
	}
	return nil
}

// renameColumns applies a column alias list: (a, b) renames the first
// columns in order.
func renameColumns(r *relation, names []*parser.Ident, at parser.Node) (*relation, error) {
	if len(names) == 0 {
		return r, nil
	}
	if len(names) > len(r.cols) {
		return nil, errorf(at, "%d column names given for %d columns", len(names), len(r.cols))
	}
	out := &relation{rel: r.rel, cols: append([]column(nil), r.cols...)}
	for i, n := range names {
		out.cols[i].name = n.Name
	}
	return out, nil
}

// orderAndLimit sorts r by keys and applies LIMIT and OFFSET.
func (b *binder) orderAndLimit(q *parser.Query, r *relation, keys []spec.SortKey) error {
	var err error
	if len(keys) > 0 {
		if r.rel, err = logical.Sort(r.rel, keys); err != nil {
			return planError(q, err)
		}
	}
	if q.Limit == nil && q.Offset == nil {
		return nil
	}
	n, offset := int64(math.MaxInt64), int64(0)
	if q.Limit != nil {
		var ok bool
		if n, ok = constInt(q.Limit); !ok {
			return errorf(q.Limit, "LIMIT must be a whole number >= 0")
		}
	}
	if q.Offset != nil {
		var ok bool
		if offset, ok = constInt(q.Offset); !ok {
			return errorf(q.Offset, "OFFSET must be a whole number >= 0")
		}
	}
	r.rel, err = logical.Limit(r.rel, n, offset)
	return planError(q, err)
}

func constInt(e parser.Expr) (int64, bool) {
	n, ok := e.(*parser.NumberLit)
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseInt(n.Text, 10, 64)
	return v, err == nil && v >= 0
}

// ordinal reads ORDER BY 2 / GROUP BY 2.
func ordinal(n *parser.NumberLit) (int, bool) {
	v, err := strconv.Atoi(n.Text)
	return v, err == nil && v >= 1
}

// outputSortKeys resolves ORDER BY against a query's output columns only
// (by name or position): what a set operation's ORDER BY can name.
func outputSortKeys(r *relation, items []*parser.OrderItem) ([]spec.SortKey, error) {
	keys := make([]spec.SortKey, 0, len(items))
	for _, it := range items {
		c := outputColumn(r.cols, it.Expr)
		if c == nil {
			return nil, errorf(it, "ORDER BY of a set operation must name an output column")
		}
		keys = append(keys, sortKey(it, c.internal))
	}
	return keys, nil
}

// outputColumn finds the output column e names by position or name.
func outputColumn(cols []column, e parser.Expr) *column {
	switch e := e.(type) {
	case *parser.NumberLit:
		if n, ok := ordinal(e); ok && n <= len(cols) {
			return &cols[n-1]
		}
	case *parser.ColumnRef:
		if len(e.Parts) != 1 {
			return nil
		}
		for i := range cols {
			if nameEq(e.Parts[0], cols[i].name) {
				return &cols[i]
			}
		}
	}
	return nil
}

// sortKey is one ORDER BY key. Without NULLS FIRST or LAST, NULLs come
// last in either direction, as in DuckDB; the key says so only where the
// engine's default (NULL as the smallest value) differs.
func sortKey(it *parser.OrderItem, col string) spec.SortKey {
	k := spec.SortKey{Column: col, Desc: it.Desc}
	if first := it.Nulls == parser.NullsFirst; first != k.NullsBefore() {
		k.Nulls = spec.NullsLast
		if first {
			k.Nulls = spec.NullsFirst
		}
	}
	return k
}

// setOp binds UNION, INTERSECT and EXCEPT, with or without ALL: both
// sides' columns are cast to common types and renamed to the left side's
// names.
func (b *binder) setOp(op *parser.SetOp) (*relation, error) {
	sides := make([]*relation, 2)
	for i, s := range []parser.SetExpr{op.Left, op.Right} {
		r, err := b.query(&parser.Query{Pos: s.Position(), Body: s}, nil)
		if err != nil {
			return nil, err
		}
		sides[i] = r
	}
	out, err := b.setColumns(op, sides[0], sides[1])
	if err != nil {
		return nil, err
	}
	var marks []string
	copyCol := ""
	if op.Op != "UNION" {
		marks = []string{b.fresh("left_rows"), b.fresh("right_rows")}
		if op.All {
			copyCol = b.fresh("copy")
		}
	}
	rels := make([]*logical.Rel, 2)
	for i, side := range sides {
		if rels[i], err = aligned(side, out, marks, i); err == nil && copyCol != "" {
			rels[i], err = numbered(rels[i], out, copyCol)
		}
		if err != nil {
			return nil, planError(op, err)
		}
	}
	u, err := logical.Union(rels, op.Op == "UNION" && !op.All)
	if err != nil {
		return nil, planError(op, err)
	}
	if marks != nil {
		if u, err = setFilter(op.Op, u, out, copyCol, marks); err != nil {
			return nil, planError(op, err)
		}
	}
	return &relation{rel: u, cols: out}, nil
}

// setColumns is the columns of a set operation of l and r: l's names,
// the two sides' common types.
func (b *binder) setColumns(op *parser.SetOp, l, r *relation) ([]column, error) {
	if len(l.cols) != len(r.cols) {
		return nil, errorf(op, "%s sides have %d and %d columns", op.Op, len(l.cols), len(r.cols))
	}
	out := make([]column, len(l.cols))
	for i := range l.cols {
		t, ok := spec.Unify(l.cols[i].typ, r.cols[i].typ)
		if !ok {
			return nil, errorf(op, "%s column %d: %s and %s have no common type", op.Op, i+1, l.cols[i].typ, r.cols[i].typ)
		}
		out[i] = column{name: l.cols[i].name, internal: b.fresh(l.cols[i].name), typ: t}
	}
	return out, nil
}

// aligned projects side (the i-th of a set operation) onto the columns
// out, and, for INTERSECT and EXCEPT, the marks: 1 in this side's mark
// and NULL in the other's, so that a count of each tells which sides
// hold a row.
func aligned(side *relation, out []column, marks []string, i int) (*logical.Rel, error) {
	cols := make([]spec.NamedExpr, len(out), len(out)+len(marks))
	for j, c := range side.cols {
		var e spec.Expr = &spec.Column{Name: c.internal}
		if c.typ != out[j].typ {
			e = &spec.Cast{X: e, To: out[j].typ}
		}
		cols[j] = spec.NamedExpr{Expr: e, Alias: out[j].internal}
	}
	for m, name := range marks {
		var e spec.Expr = &spec.Cast{X: &spec.Literal{Type: spec.Null}, To: spec.Int64}
		if m == i {
			e = &spec.Literal{Type: spec.Int64, Int: 1}
		}
		cols = append(cols, spec.NamedExpr{Expr: e, Alias: name})
	}
	return logical.Project(side.rel, cols)
}

// numbered adds to each row of rel its copy number among the rows equal
// on out (1, 2, ...): INTERSECT ALL and EXCEPT ALL then compare (row,
// copy) pairs, so a row the left has 3 times and the right twice is in
// INTERSECT ALL twice and in EXCEPT ALL once.
func numbered(rel *logical.Rel, out []column, copyCol string) (*logical.Rel, error) {
	w := spec.WindowStep{Funcs: []spec.WindowFunc{{Func: spec.WinRowNumber, Alias: copyCol}}}
	for _, c := range out {
		w.PartitionBy = append(w.PartitionBy, c.internal)
	}
	return logical.Window(rel, w)
}

// setFilter finishes INTERSECT or EXCEPT over the union u of the marked
// sides: one group per distinct row (NULLs equal, as set operations
// compare them), and per copy for ALL (copyCol), kept when both sides
// have it (INTERSECT) or only the left does (EXCEPT).
func setFilter(op string, u *logical.Rel, out []column, copyCol string, marks []string) (*logical.Rel, error) {
	keys := make([]string, len(out))
	for i, c := range out {
		keys[i] = c.internal
	}
	groupBy := keys
	if copyCol != "" {
		groupBy = append(slices.Clone(keys), copyCol)
	}
	aggs := []spec.Agg{{Func: spec.AggCount, Arg: marks[0], Alias: marks[0]}, {Func: spec.AggCount, Arg: marks[1], Alias: marks[1]}}
	g, err := logical.Aggregate(u, groupBy, aggs)
	if err != nil {
		return nil, err
	}
	count := func(i int, op spec.BinaryOp) spec.Expr {
		return &spec.Binary{Op: op, L: &spec.Column{Name: marks[i]}, R: &spec.Literal{Type: spec.Int64}}
	}
	right := count(1, spec.OpGt)
	if op == "EXCEPT" {
		right = count(1, spec.OpEq)
	}
	f, err := logical.Filter(g, &spec.Binary{Op: spec.OpAnd, L: count(0, spec.OpGt), R: right})
	if err != nil {
		return nil, err
	}
	cols := make([]spec.NamedExpr, len(keys))
	for i, k := range keys {
		cols[i] = spec.NamedExpr{Expr: &spec.Column{Name: k}, Alias: k}
	}
	return logical.Project(f, cols)
}
