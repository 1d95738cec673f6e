package bind

import (
	"strings"

	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/sql/logical"
	"github.com/batchrun/batchrun/sql/parser"
)

// block is one SELECT being bound.
type block struct {
	b     *binder
	sel   *parser.Select
	sc    *scope
	in    *relation // the plan so far
	agg   *aggCtx
	win   map[*parser.FuncCall]string // window call -> its column
	corr  []spec.Expr
	inner map[string]bool // the block's own columns (for corr)
}

// selectBlock binds one SELECT: FROM and WHERE (joins, filters,
// subqueries), GROUP BY and aggregates, HAVING, the select list, DISTINCT,
// and the keys of the query's ORDER BY.
func (b *binder) selectBlock(sel *parser.Select, outer *scope, orderBy []*parser.OrderItem) (*bound, []spec.SortKey, error) {
	if len(sel.From) == 0 {
		return nil, nil, errorf(sel, "SELECT without FROM is not supported")
	}
	k := &block{b: b, sel: sel, sc: &scope{outer: outer}, inner: map[string]bool{}}
	if err := k.fromWhere(); err != nil {
		return nil, nil, err
	}
	calls, err := collectAggregates(k.aggNodes(orderBy)...)
	if err != nil {
		return nil, nil, err
	}
	grouped := len(calls) > 0 || len(sel.GroupBy) > 0
	if grouped {
		keys, err := k.corrKeys()
		if err != nil {
			return nil, nil, err
		}
		if err := k.narrow(); err != nil {
			return nil, nil, err
		}
		if k.in, k.agg, err = b.aggregate(sel, calls, k.in, k.sc, keys); err != nil {
			return nil, nil, err
		}
	}
	if sel.Having != nil {
		if err := k.having(); err != nil {
			return nil, nil, err
		}
	}
	wins, err := collectWindows(k.aggNodes(orderBy)...)
	if err != nil {
		return nil, nil, err
	}
	if len(wins) > 0 {
		if k.win, err = k.windows(wins); err != nil {
			return nil, nil, err
		}
	}
	out, sortKeys, err := k.project(orderBy)
	if err != nil {
		return nil, nil, err
	}
	return &bound{relation: out, corr: k.corr, grouped: grouped && len(k.corr) > 0}, sortKeys, nil
}

// aggNodes are the parts of the block where aggregates may appear.
func (k *block) aggNodes(orderBy []*parser.OrderItem) []parser.Node {
	var nodes []parser.Node
	for _, it := range k.sel.Items {
		nodes = append(nodes, it.Expr)
	}
	if k.sel.Having != nil {
		nodes = append(nodes, k.sel.Having)
	}
	for _, o := range orderBy {
		nodes = append(nodes, o.Expr)
	}
	return nodes
}

// fromWhere binds FROM and WHERE: each condition goes to the table it
// reads, or becomes a join key, or is applied once its tables are joined;
// conditions on the enclosing query are kept as the block's correlation;
// conditions with subqueries are joined in last.
func (k *block) fromWhere() error {
	items, onConds, err := k.b.from(k.sel.From)
	if err != nil {
		return err
	}
	for _, it := range items {
		k.sc.cols = append(k.sc.cols, it.cols...)
	}
	for _, c := range k.sc.cols {
		k.inner[c.internal] = true
	}
	var (
		conds    []boundConj
		deferred []parser.Expr
	)
	for _, c := range append(onConds, conjuncts(k.sel.Where)...) {
		if hasSubquery(c) {
			deferred = append(deferred, c)
			continue
		}
		x := &exprCtx{b: k.b, sc: k.sc}
		e, err := x.predicate(c)
		if err != nil {
			return err
		}
		if x.deep {
			return errorf(c, "a subquery may name columns of the query right around it only")
		}
		if len(x.outer) > 0 {
			k.corr = append(k.corr, e)
			continue
		}
		conds = append(conds, boundConj{e: e, at: c})
	}
	if k.in, err = k.b.joinAll(items, conds); err != nil {
		return err
	}
	for _, c := range deferred {
		if k.in, err = k.b.subqueryCond(k.in, k.sc, c); err != nil {
			return err
		}
	}
	return nil
}

// predicate binds a condition and checks that it is boolean.
func (x *exprCtx) predicate(c parser.Expr) (spec.Expr, error) {
	e, t, err := x.typed(c)
	if err != nil {
		return nil, err
	}
	if t != spec.Bool && t != spec.Null {
		return nil, errorf(c, "condition has type %s, want bool", t)
	}
	return e, nil
}

// corrKeys are the block's own columns its correlated conditions compare
// for equality with outer columns: an aggregating subquery groups by them.
func (k *block) corrKeys() ([]string, error) {
	var keys []string
	for _, e := range k.corr {
		eq, ok := e.(*spec.Binary)
		l, lok := colName(eq, true)
		r, rok := colName(eq, false)
		if !ok || eq.Op != spec.OpEq || !lok || !rok || k.inner[l] == k.inner[r] {
			return nil, errorf(k.sel, "a correlated subquery with aggregates may compare its columns with outer ones only by = (got %s)", e)
		}
		if k.inner[r] {
			l = r
		}
		keys = append(keys, l)
	}
	return keys, nil
}

// narrow keeps, of the rows a correlated aggregating subquery reads, those
// whose correlated columns match some outer row (a semi join with the
// outer rows' distinct keys, placed as placeSemi places it), when the
// outer rows are estimated fewer than the subquery's: DuckDB's delim join,
// a "magic set". TPC-H Q17 then averages the quantities of the few parts
// it asks about, not of all of them.
func (k *block) narrow() error {
	outer := k.sc.outer
	if outer == nil || outer.rows == nil || len(k.corr) == 0 || outer.rows.Bytes >= k.in.rel.Bytes {
		return nil
	}
	var inner, outerCols []string
	for _, e := range k.corr {
		eq := e.(*spec.Binary) // an equality of two columns: corrKeys checked
		in, _ := colName(eq, true)
		out, _ := colName(eq, false)
		if k.inner[out] {
			in, out = out, in
		}
		i, o := k.in.rel.Schema.Index(in), outer.rows.Schema.Index(out)
		if i < 0 || o < 0 || k.in.rel.Schema[i].Type != outer.rows.Schema[o].Type {
			return nil // a column of a scope further out, or types to convert
		}
		inner, outerCols = append(inner, in), append(outerCols, out)
	}
	rel, err := k.b.narrowBy(k.in.rel, inner, outer.rows, outerCols)
	if err != nil {
		return planError(k.sel, err)
	}
	k.in = &relation{rel: rel, cols: k.in.cols}
	return nil
}

// narrowBy keeps the rows of rel whose columns keys equal the columns
// outerKeys of some row of outer: a semi join with outer's distinct keys
// (broadcast when small), placed by placeSemi. Only rows that can meet
// an outer row are left for what joins them to it.
func (b *binder) narrowBy(rel *logical.Rel, keys []string, outer *logical.Rel, outerKeys []string) (*logical.Rel, error) {
	js := spec.JoinStep{Type: spec.SemiJoin, LeftKeys: keys}
	cols := make([]spec.NamedExpr, len(outerKeys))
	for i, o := range outerKeys {
		cols[i] = spec.NamedExpr{Expr: &spec.Column{Name: o}, Alias: b.fresh(o)}
		js.RightKeys = append(js.RightKeys, cols[i].Alias)
	}
	distinct, err := logical.Project(outer, cols)
	if err == nil {
		distinct, err = logical.Distinct(distinct)
	}
	if err != nil {
		return nil, err
	}
	js.Broadcast = distinct.Bytes < BroadcastBelow
	return placeSemi(rel, distinct, js, "the outer rows' keys")
}

func colName(b *spec.Binary, left bool) (string, bool) {
	if b == nil {
		return "", false
	}
	side := b.R
	if left {
		side = b.L
	}
	c, ok := side.(*spec.Column)
	if !ok {
		return "", false
	}
	return c.Name, true
}

func (k *block) having() error {
	x := &exprCtx{b: k.b, sc: k.sc, agg: k.agg, in: k.in}
	if k.agg == nil {
		x.agg = &aggCtx{keys: map[string]bool{}}
	}
	pred, err := x.predicate(k.sel.Having)
	if err != nil {
		return err
	}
	rel, err := logical.Filter(x.in.rel, pred)
	if err != nil {
		return planError(k.sel.Having, err)
	}
	k.in = &relation{rel: rel, cols: k.in.cols}
	return nil
}

// project binds the select list, then the ORDER BY keys (adding a hidden
// column for a key that is not an output column) and the columns the
// correlation needs, then DISTINCT.
func (k *block) project(orderBy []*parser.OrderItem) (*relation, []spec.SortKey, error) {
	x := &exprCtx{b: k.b, sc: k.sc, agg: k.agg, in: k.in, win: k.win}
	p := &projection{b: k.b}
	for _, it := range k.sel.Items {
		if err := k.item(x, p, it); err != nil {
			return nil, nil, err
		}
	}
	visible := len(p.out)
	keys, err := k.orderKeys(x, p, orderBy)
	if err != nil {
		return nil, nil, err
	}
	for _, e := range k.corr {
		for _, name := range columnsOf(e) {
			if k.inner[name] {
				p.hidden(name)
			}
		}
	}
	rel, err := logical.Project(x.in.rel, p.cols)
	if err != nil {
		return nil, nil, planError(k.sel, err)
	}
	if k.sel.Distinct {
		if rel, err = logical.Distinct(rel); err != nil {
			return nil, nil, planError(k.sel, err)
		}
	}
	return &relation{rel: rel, cols: p.out[:visible]}, keys, nil
}

// projection is a select list being built.
type projection struct {
	b    *binder
	cols []spec.NamedExpr
	out  []column
}

// add appends e as an output column named name.
func (p *projection) add(e spec.Expr, name string, t spec.Type) {
	internal := ""
	if c, ok := e.(*spec.Column); ok && !p.has(c.Name) {
		internal = c.Name
	} else {
		internal = p.b.fresh(strings.ToLower(name))
	}
	p.cols = append(p.cols, spec.NamedExpr{Expr: e, Alias: internal})
	p.out = append(p.out, column{name: name, internal: internal, typ: t})
}

// hidden passes the column name through unless the list has it.
func (p *projection) hidden(name string) {
	if !p.has(name) {
		p.cols = append(p.cols, spec.NamedExpr{Expr: &spec.Column{Name: name}, Alias: name})
	}
}

func (p *projection) has(name string) bool {
	for _, c := range p.cols {
		if c.Alias == name {
			return true
		}
	}
	return false
}

// item binds one select item: an expression or a star.
func (k *block) item(x *exprCtx, p *projection, it *parser.SelectItem) error {
	star, ok := it.Expr.(*parser.Star)
	if !ok {
		e, t, err := x.typed(it.Expr)
		if err != nil {
			return err
		}
		name := exprName(it.Expr)
		if it.Alias != nil {
			name = it.Alias.Name
		}
		p.add(e, name, t)
		return nil
	}
	if k.agg != nil {
		return errorf(star, "SELECT * with GROUP BY or aggregates is not supported")
	}
	n := 0
	for _, c := range k.sc.cols {
		if star.Table != nil && !nameEq(star.Table[len(star.Table)-1], c.table) || star.Table == nil && c.qualifiedOnly || excluded(star, c.name) {
			continue
		}
		p.add(&spec.Column{Name: c.internal}, c.name, c.typ)
		n++
	}
	if n == 0 {
		return errorf(star, "* matches no column")
	}
	return nil
}

func excluded(star *parser.Star, name string) bool {
	for _, id := range star.Exclude {
		if nameEq(id, name) {
			return true
		}
	}
	return false
}

// orderKeys resolves ORDER BY: an output column by position, alias or the
// same expression, else an expression over the block's columns, added as
// a hidden column.
func (k *block) orderKeys(x *exprCtx, p *projection, items []*parser.OrderItem) ([]spec.SortKey, error) {
	keys := make([]spec.SortKey, 0, len(items))
	for _, it := range items {
		col := outputColumn(p.out, it.Expr)
		if col == nil {
			col = sameExpr(k.sel, p.out, it.Expr)
		}
		name := ""
		if col != nil {
			name = col.internal
		} else {
			if k.sel.Distinct {
				return nil, errorf(it, "with SELECT DISTINCT, ORDER BY expressions must appear in the select list")
			}
			e, t, err := x.typed(it.Expr)
			if err != nil {
				return nil, err
			}
			p.add(e, exprName(it.Expr), t)
			name = p.out[len(p.out)-1].internal
		}
		keys = append(keys, sortKey(it, name))
	}
	return keys, nil
}

// sameExpr finds the select item written as e.
func sameExpr(sel *parser.Select, out []column, e parser.Expr) *column {
	text := parser.Format(e)
	for i, it := range sel.Items {
		if i < len(out) && parser.Format(it.Expr) == text {
			return &out[i]
		}
	}
	return nil
}

// exprName is the column name DuckDB gives an unaliased select item.
func exprName(e parser.Expr) string {
	switch e := e.(type) {
	case *parser.ColumnRef:
		return e.Parts[len(e.Parts)-1].Name
	case *parser.FuncCall:
		if e.Star {
			return "count_star()"
		}
	}
	return parser.Format(e)
}

// conjuncts splits a condition at its top-level ANDs, after taking out of
// an OR the conditions all its branches share ((a AND b) OR (a AND c) is
// a AND (b OR c)), so a join key inside an OR is still a join key.
func conjuncts(e parser.Expr) []parser.Expr {
	if e == nil {
		return nil
	}
	if be, ok := e.(*parser.BinaryExpr); ok && be.Op == "AND" {
		return append(conjuncts(be.L), conjuncts(be.R)...)
	}
	if be, ok := e.(*parser.BinaryExpr); ok && be.Op == "OR" {
		return factorOr(be)
	}
	return []parser.Expr{e}
}

// factorOr takes the conjuncts common to every branch of an OR out of it.
func factorOr(or *parser.BinaryExpr) []parser.Expr {
	branches := orBranches(or)
	sets := make([][]parser.Expr, len(branches))
	for i, br := range branches {
		sets[i] = conjuncts(br)
	}
	var common []parser.Expr
	for _, c := range sets[0] {
		text := parser.Format(c)
		inAll := true
		for _, s := range sets[1:] {
			inAll = inAll && containsText(s, text)
		}
		if inAll {
			common = append(common, c)
		}
	}
	if len(common) == 0 {
		return []parser.Expr{or}
	}
	var rest parser.Expr
	for _, s := range sets {
		var branch parser.Expr
		for _, c := range s {
			if containsText(common, parser.Format(c)) {
				continue
			}
			branch = andOf(branch, c)
		}
		if branch == nil {
			return common // one branch is just the common part: the OR is true
		}
		rest = orOf(rest, branch, or.Pos)
	}
	return append(common, rest)
}

func orBranches(e parser.Expr) []parser.Expr {
	if be, ok := e.(*parser.BinaryExpr); ok && be.Op == "OR" {
		return append(orBranches(be.L), orBranches(be.R)...)
	}
	return []parser.Expr{e}
}

func containsText(list []parser.Expr, text string) bool {
	for _, c := range list {
		if parser.Format(c) == text {
			return true
		}
	}
	return false
}

func andOf(a, b parser.Expr) parser.Expr {
	if a == nil {
		return b
	}
	return &parser.BinaryExpr{Pos: b.Position(), Op: "AND", L: a, R: b}
}

func orOf(a, b parser.Expr, pos parser.Pos) parser.Expr {
	if a == nil {
		return b
	}
	return &parser.BinaryExpr{Pos: pos, Op: "OR", L: a, R: b}
}

// hasSubquery reports whether e holds a subquery.
func hasSubquery(e parser.Expr) bool {
	found := false
	parser.Inspect(e, func(n parser.Node) bool {
		switch n.(type) {
		case *parser.SubqueryExpr, *parser.ExistsExpr, *parser.InSubqueryExpr:
			found = true
		}
		return !found
	})
	return found
}

// columnsOf lists the columns e reads. Every expression the binder builds
// is of a kind spec.ColumnRefs knows, so its error cannot happen here.
func columnsOf(e spec.Expr) []string {
	var out []string
	_ = spec.ColumnRefs(e, func(name string) { out = append(out, name) })
	return out
}
