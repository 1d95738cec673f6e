package bind

import (
	"cmp"
	"slices"

	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/sql/logical"
	"github.com/batchrun/batchrun/sql/parser"
)

// boundConj is one bound condition of a WHERE or an inner join's ON.
type boundConj struct {
	e  spec.Expr
	at parser.Node
}

// from binds a FROM list into the relations to join and the conditions of
// its inner joins (JOIN ... ON), which join like WHERE conditions.
func (b *binder) from(items []parser.TableExpr) ([]*relation, []parser.Expr, error) {
	var (
		rels  []*relation
		conds []parser.Expr
	)
	for _, te := range items {
		r, c, err := b.tableExpr(te)
		if err != nil {
			return nil, nil, err
		}
		rels, conds = append(rels, r...), append(conds, c...)
	}
	return rels, conds, nil
}

func (b *binder) tableExpr(te parser.TableExpr) ([]*relation, []parser.Expr, error) {
	switch te := te.(type) {
	case *parser.TableName:
		r, err := b.table(te)
		return []*relation{r}, nil, err
	case *parser.DerivedTable:
		r, err := b.query(te.Query, nil)
		if err != nil {
			return nil, nil, err
		}
		if te.Alias == nil {
			return []*relation{r.withTable("")}, nil, nil
		}
		r, err = renameColumns(r.withTable(te.Alias.Name.Name), te.Alias.Columns, te.Alias)
		return []*relation{r}, nil, err
	case *parser.Join:
		if te.Kind != parser.JoinInner && te.Kind != parser.JoinCross || len(te.Using) > 0 {
			r, err := b.outerJoin(te)
			return []*relation{r}, nil, err
		}
		l, lc, err := b.tableExpr(te.Left)
		if err != nil {
			return nil, nil, err
		}
		r, rc, err := b.tableExpr(te.Right)
		if err != nil {
			return nil, nil, err
		}
		return append(l, r...), append(append(lc, rc...), conjuncts(te.On)...), nil
	}
	return nil, nil, errorf(te, "unsupported FROM item")
}

// table binds a named table: a CTE in scope, else a step of the job. A
// table read a second time gets fresh column names (a select renames
// them), so that joining it with itself meets no name twice.
func (b *binder) table(tn *parser.TableName) (*relation, error) {
	name := tn.Name[len(tn.Name)-1]
	alias := name.Name
	if tn.Alias != nil {
		alias = tn.Alias.Name.Name
	}
	var r *relation
	if c := b.lookupCTE(name); c != nil {
		r = c.rel
		if c.reads++; c.reads > 1 {
			var err error
			if r, err = b.renamed(r); err != nil {
				return nil, planError(tn, err)
			}
		}
	} else {
		t, ok := b.cat.lookup(name)
		if !ok {
			return nil, errorf(tn, "unknown table %q%s", name.Name, suggest(name.Name, b.cat.names()))
		}
		var err error
		if r, err = b.scan(t); err != nil {
			return nil, planError(tn, err)
		}
	}
	r = r.withTable(alias)
	if tn.Alias != nil {
		return renameColumns(r, tn.Alias.Columns, tn.Alias)
	}
	return r, nil
}

func (b *binder) lookupCTE(name *parser.Ident) *cte {
	for i := len(b.ctes) - 1; i >= 0; i-- {
		for n, c := range b.ctes[i] {
			if nameEq(name, n) {
				return c
			}
		}
	}
	return nil
}

// scan is a read of table t, its columns renamed where their names are
// taken.
func (b *binder) scan(t Table) (*relation, error) {
	r := &relation{rel: logical.Table(t.ID, t.Schema, t.Bytes, t.Unique)}
	for _, f := range t.Schema {
		r.cols = append(r.cols, column{name: f.Name, internal: f.Name, typ: f.Type})
	}
	return b.renamed(r)
}

// renamed gives r's columns fresh internal names, adding a select that
// renames them unless every name was free.
func (b *binder) renamed(r *relation) (*relation, error) {
	out := &relation{rel: r.rel, cols: make([]column, len(r.cols))}
	cols := make([]spec.NamedExpr, len(r.cols))
	same := true
	for i, c := range r.cols {
		c2 := c
		c2.internal = b.fresh(c.internal)
		out.cols[i] = c2
		cols[i] = spec.NamedExpr{Expr: &spec.Column{Name: c.internal}, Alias: c2.internal}
		same = same && c2.internal == c.internal
	}
	if same {
		return out, nil
	}
	rel, err := logical.Project(r.rel, cols)
	if err != nil {
		return nil, err
	}
	rel.Bytes = r.rel.Bytes
	out.rel = rel
	return out, nil
}

// outerJoin binds LEFT, RIGHT and FULL joins: equalities between the two
// sides are the keys; a LEFT join's conditions on its right side alone
// filter the right side first (and a RIGHT join's on its left); the other
// conditions are the join's residual condition. A LEFT join may have no
// keys (it broadcasts its right side); RIGHT and FULL joins need one.
func (b *binder) outerJoin(j *parser.Join) (*relation, error) {
	left, err := b.joinSide(j.Left)
	if err != nil {
		return nil, err
	}
	right, err := b.joinSide(j.Right)
	if err != nil {
		return nil, err
	}
	typ := map[parser.JoinKind]spec.JoinType{parser.JoinInner: spec.InnerJoin, parser.JoinLeft: spec.LeftJoin, parser.JoinRight: spec.RightJoin, parser.JoinFull: spec.FullJoin}[j.Kind]
	js := spec.JoinStep{Type: typ}
	var merged []column
	if len(j.Using) > 0 {
		if merged, err = using(j, left, right, &js); err != nil {
			return nil, err
		}
	}
	cols := append(append(merged, left.cols...), right.cols...)
	if left, right, err = b.on(j, left, right, &js); err != nil {
		return nil, err
	}
	if len(js.LeftKeys) == 0 && typ.KeepsUnmatchedRight() {
		return nil, errorf(j, "%s needs an equality between the two sides in ON (each side's unmatched rows are kept)", j.Kind)
	}
	probe, build := oriented(left.rel, right.rel, &js)
	js.Broadcast = !js.Type.KeepsUnmatchedRight() && (build.Bytes < BroadcastBelow || len(js.LeftKeys) == 0)
	rel, err := logical.Join(probe, build, js)
	if err != nil {
		return nil, planError(j, err)
	}
	out := &relation{rel: rel, cols: cols}
	if typ == spec.FullJoin && len(merged) > 0 {
		return b.coalesced(out, len(merged), j)
	}
	return out, nil
}

// oriented returns the probe and build sides of an outer join of left and
// right: the larger side probes, so that the hash table holds the smaller
// (TPC-H Q13's customer LEFT JOIN orders builds on customer, as orders
// RIGHT JOIN customer), and a small side may be broadcast (big RIGHT JOIN
// small becomes small's LEFT JOIN). A join without keys keeps its sides.
func oriented(left, right *logical.Rel, js *spec.JoinStep) (*logical.Rel, *logical.Rel) {
	if len(js.LeftKeys) == 0 || right.Bytes <= left.Bytes {
		return left, right
	}
	switch js.Type {
	case spec.LeftJoin:
		js.Type = spec.RightJoin
	case spec.RightJoin:
		js.Type = spec.LeftJoin
	}
	js.LeftKeys, js.RightKeys = js.RightKeys, js.LeftKeys
	return right, left
}

// on binds j's ON conditions into js: equalities between the sides are
// keys; a condition on the side whose unmatched rows are not kept filters
// that side first; the others are the residual condition, tested on each
// pair (a row whose partners all fail it is unmatched, kept with NULLs
// by the outer side). It returns the sides, filtered.
func (b *binder) on(j *parser.Join, left, right *relation, js *spec.JoinStep) (*relation, *relation, error) {
	sc := &scope{cols: append(append([]column(nil), left.cols...), right.cols...)}
	var residual []spec.Expr
	for _, c := range conjuncts(j.On) {
		x := &exprCtx{b: b, sc: sc}
		e, err := x.predicate(c)
		if err != nil {
			return nil, nil, err
		}
		if lk, rk, ok := keyPair(e, left.rel.Schema, right.rel.Schema); ok {
			js.LeftKeys, js.RightKeys = append(js.LeftKeys, lk), append(js.RightKeys, rk)
			continue
		}
		inner, side := js.Type == spec.InnerJoin, refSide(e, left.rel.Schema, right.rel.Schema)
		switch {
		case side == 2 && (js.Type == spec.LeftJoin || inner):
			right, err = filtered(right, e, c)
		case side == 1 && (js.Type == spec.RightJoin || inner):
			left, err = filtered(left, e, c)
		default:
			residual = append(residual, e)
		}
		if err != nil {
			return nil, nil, err
		}
	}
	js.Where = andAll(residual)
	return left, right, nil
}

// using turns JOIN ... USING (k, ...) into key pairs of js and returns
// the merged columns: each k once, unqualified, the left side's value for
// inner and left joins and the right side's for right joins (a full
// join's is computed by coalesced). The sides' own k stay reachable as
// t.k only.
func using(j *parser.Join, left, right *relation, js *spec.JoinStep) ([]column, error) {
	var merged []column
	for _, id := range j.Using {
		l, err := usingColumn(left, id, "left")
		if err != nil {
			return nil, err
		}
		r, err := usingColumn(right, id, "right")
		if err != nil {
			return nil, err
		}
		if l.typ != r.typ {
			return nil, errorf(id, "USING column %q has type %s on the left and %s on the right", id.Name, l.typ, r.typ)
		}
		js.LeftKeys, js.RightKeys = append(js.LeftKeys, l.internal), append(js.RightKeys, r.internal)
		m := *l
		if js.Type == spec.RightJoin {
			m = *r
		}
		m.table, m.qualifiedOnly = "", false
		l.qualifiedOnly, r.qualifiedOnly = true, true
		merged = append(merged, m)
	}
	return merged, nil
}

// usingColumn finds the one column of side that USING names.
func usingColumn(side *relation, id *parser.Ident, which string) (*column, error) {
	var found *column
	for i := range side.cols {
		c := &side.cols[i]
		if c.qualifiedOnly || !nameEq(id, c.name) {
			continue
		}
		if found != nil {
			return nil, errorf(id, "USING column %q is ambiguous on the %s side", id.Name, which)
		}
		found = c
	}
	if found == nil {
		return nil, errorf(id, "USING column %q is not a column of the %s side%s", id.Name, which, suggest(id.Name, (&scope{cols: side.cols}).names()))
	}
	return found, nil
}

// coalesced adds a full join's merged USING columns, the first n of r's
// columns: COALESCE(left k, right k), whichever side the row came from.
func (b *binder) coalesced(r *relation, n int, at parser.Node) (*relation, error) {
	cols := make([]spec.NamedExpr, 0, len(r.rel.Schema)+n)
	for _, f := range r.rel.Schema {
		cols = append(cols, spec.NamedExpr{Expr: &spec.Column{Name: f.Name}, Alias: f.Name})
	}
	out := &relation{cols: slices.Clone(r.cols)}
	js := r.rel.Step.Join
	for i := range n {
		name := b.fresh(r.cols[i].name)
		e := &spec.Call{Func: "coalesce", Args: []spec.Expr{&spec.Column{Name: js.LeftKeys[i]}, &spec.Column{Name: js.RightKeys[i]}}}
		cols = append(cols, spec.NamedExpr{Expr: e, Alias: name})
		out.cols[i].internal = name
	}
	rel, err := logical.Project(r.rel, cols)
	if err != nil {
		return nil, planError(at, err)
	}
	rel.Bytes = r.rel.Bytes
	out.rel = rel
	return out, nil
}

// joinSide binds one side of an outer join as its own join problem.
func (b *binder) joinSide(te parser.TableExpr) (*relation, error) {
	items, conds, err := b.tableExpr(te)
	if err != nil {
		return nil, err
	}
	sc := &scope{}
	for _, it := range items {
		sc.cols = append(sc.cols, it.cols...)
	}
	var bc []boundConj
	for _, c := range conds {
		x := &exprCtx{b: b, sc: sc}
		e, err := x.predicate(c)
		if err != nil {
			return nil, err
		}
		bc = append(bc, boundConj{e: e, at: c})
	}
	return b.joinAll(items, bc)
}

func filtered(r *relation, e spec.Expr, at parser.Node) (*relation, error) {
	rel, err := logical.Filter(r.rel, e)
	if err != nil {
		return nil, planError(at, err)
	}
	return &relation{rel: rel, cols: r.cols}, nil
}

// keyPair reports whether e is left_col = right_col (in either order)
// with equal types, a join key.
func keyPair(e spec.Expr, left, right spec.Schema) (string, string, bool) {
	eq, ok := e.(*spec.Binary)
	if !ok || eq.Op != spec.OpEq {
		return "", "", false
	}
	a, aok := eq.L.(*spec.Column)
	c, cok := eq.R.(*spec.Column)
	if !aok || !cok {
		return "", "", false
	}
	if left.Index(a.Name) < 0 {
		a, c = c, a
	}
	li, ri := left.Index(a.Name), right.Index(c.Name)
	if li < 0 || ri < 0 || left[li].Type != right[ri].Type {
		return "", "", false
	}
	return a.Name, c.Name, true
}

// refSide says which schemas e reads: 1 left only, 2 right only, 3 both,
// 0 neither.
func refSide(e spec.Expr, left, right spec.Schema) int {
	side := 0
	for _, n := range columnsOf(e) {
		if left.Index(n) >= 0 {
			side |= 1
		} else if right.Index(n) >= 0 {
			side |= 2
		}
	}
	return side
}

// joinAll joins items with the conditions conds: each condition on one
// item filters it first; equalities between two items are join keys; the
// rest are tested as soon as the items they read are joined. The order is
// greedy operator ordering (Fegaras' GOO, bushy): repeatedly join the two
// connected parts whose join is estimated smallest, the larger as the
// probe side, the smaller broadcast when it is small; parts connected by
// no key are cross joined last, smallest first.
func (b *binder) joinAll(items []*relation, conds []boundConj) (*relation, error) {
	owner := map[string]int{}
	for i, it := range items {
		for _, n := range it.rel.Schema.Names() {
			owner[n] = i
		}
	}
	var rest, constant []boundConj
	for _, c := range conds {
		set := itemsOf(c.e, owner)
		if len(set) == 0 {
			constant = append(constant, c) // WHERE 1 = 0: on the result
			continue
		}
		if len(set) == 1 {
			var err error
			if items[set[0]], err = filtered(items[set[0]], c.e, c.at); err != nil {
				return nil, err
			}
			continue
		}
		for _, d := range implied(c.e, owner) {
			var err error
			if items[d.item], err = filtered(items[d.item], d.e, c.at); err != nil {
				return nil, err
			}
		}
		rest = append(rest, c)
	}
	g := &joinGraph{b: b, owner: owner, conds: rest}
	for i, it := range items {
		g.parts = append(g.parts, &part{rel: it.rel, items: []int{i}})
	}
	root, err := g.run()
	if err != nil {
		return nil, err
	}
	out := &relation{rel: root}
	for _, it := range items { // SELECT * order: FROM order
		out.cols = append(out.cols, it.cols...)
	}
	for _, c := range constant {
		if out, err = filtered(out, c.e, c.at); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// impliedFilter is a condition on one item that a condition on several
// implies.
type impliedFilter struct {
	item int
	e    spec.Expr
}

// implied lists, for an OR over several items, the condition it implies
// on each item that every branch restricts: the OR of those
// restrictions. TPC-H Q7's (n1 = 'FRANCE' AND n2 = 'GERMANY') OR (n1 =
// 'GERMANY' AND n2 = 'FRANCE') keeps two nations on each side before any
// join; Q19's branches narrow part and lineitem alike. The OR itself
// still applies once its items are joined.
func implied(e spec.Expr, owner map[string]int) []impliedFilter {
	branches := split(e, spec.OpOr)
	if len(branches) < 2 {
		return nil
	}
	var out []impliedFilter
	for _, i := range itemsOf(e, owner) {
		var or spec.Expr
		for _, br := range branches {
			var own []spec.Expr
			for _, c := range split(br, spec.OpAnd) {
				if set := itemsOf(c, owner); len(set) == 1 && set[0] == i {
					own = append(own, c)
				}
			}
			if len(own) == 0 {
				or = nil // a branch leaves item i free: nothing implied
				break
			}
			or = orAll(or, andAll(own))
		}
		if or != nil {
			out = append(out, impliedFilter{item: i, e: or})
		}
	}
	return out
}

// split lists the operands of a chain of op (AND or OR) in e.
func split(e spec.Expr, op spec.BinaryOp) []spec.Expr {
	if b, ok := e.(*spec.Binary); ok && b.Op == op {
		return append(split(b.L, op), split(b.R, op)...)
	}
	return []spec.Expr{e}
}

// orAll is a OR b, or b when a is nil.
func orAll(a, b spec.Expr) spec.Expr {
	if a == nil {
		return b
	}
	return &spec.Binary{Op: spec.OpOr, L: a, R: b}
}

// itemsOf lists the items whose columns e reads.
func itemsOf(e spec.Expr, owner map[string]int) []int {
	var set []int
	for _, n := range columnsOf(e) {
		if i, ok := owner[n]; ok && !slices.Contains(set, i) {
			set = append(set, i)
		}
	}
	return set
}

// joinGraph is a join being ordered: parts (items or joins of items) and
// the conditions between them not yet applied.
type joinGraph struct {
	b     *binder
	owner map[string]int
	conds []boundConj
	parts []*part
}

// part is a joined set of items.
type part struct {
	rel   *logical.Rel
	items []int
}

// candidate is a join of parts l (probe) and r (build) on keys.
type candidate struct {
	l, r int
	keys []boundConj
	size float64
}

func (g *joinGraph) run() (*logical.Rel, error) {
	for len(g.parts) > 1 {
		c, ok := g.best()
		if !ok {
			c = g.smallestPair()
		}
		if err := g.join(c); err != nil {
			return nil, err
		}
	}
	return g.parts[0].rel, nil
}

// best is the smallest estimated join of two parts connected by a key.
func (g *joinGraph) best() (candidate, bool) {
	var (
		out   candidate
		found bool
	)
	for i := range g.parts {
		for j := i + 1; j < len(g.parts); j++ {
			l, r := i, j
			if g.parts[r].rel.Bytes > g.parts[l].rel.Bytes {
				l, r = r, l
			}
			keys := g.keysBetween(l, r)
			if len(keys) == 0 {
				continue
			}
			c := candidate{l: l, r: r, keys: keys}
			c.size, _ = logical.JoinEstimate(g.parts[l].rel, g.parts[r].rel, g.joinStep(c))
			if !found || c.size < out.size {
				out, found = c, true
			}
		}
	}
	return out, found
}

// smallestPair is a cross join of the two smallest parts.
func (g *joinGraph) smallestPair() candidate {
	order := make([]int, len(g.parts))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Compare(g.parts[a].rel.Bytes, g.parts[b].rel.Bytes)
	})
	return candidate{l: order[1], r: order[0]}
}

// keysBetween lists the equalities between parts l and r usable as keys.
func (g *joinGraph) keysBetween(l, r int) []boundConj {
	var keys []boundConj
	for _, c := range g.conds {
		if _, _, ok := keyPair(c.e, g.parts[l].rel.Schema, g.parts[r].rel.Schema); ok {
			keys = append(keys, c)
		}
	}
	return keys
}

// joinStep is the join of candidate c's parts on its keys.
func (g *joinGraph) joinStep(c candidate) spec.JoinStep {
	left, right := g.parts[c.l].rel, g.parts[c.r].rel
	js := spec.JoinStep{Type: spec.InnerJoin, Broadcast: len(c.keys) == 0 || right.Bytes < BroadcastBelow}
	for _, k := range c.keys {
		lk, rk, _ := keyPair(k.e, left.Schema, right.Schema)
		js.LeftKeys, js.RightKeys = append(js.LeftKeys, lk), append(js.RightKeys, rk)
	}
	return js
}

// join joins candidate c's parts into one. The other conditions between
// them become the join's residual condition: a non-equi join tests its
// pairs as it makes them.
func (g *joinGraph) join(c candidate) error {
	js := g.joinStep(c)
	for _, k := range c.keys {
		g.drop(k)
	}
	merged := &part{items: append(slices.Clone(g.parts[c.l].items), g.parts[c.r].items...)}
	var (
		residual []spec.Expr
		at       parser.Node
	)
	for _, cond := range slices.Clone(g.conds) {
		if within(itemsOf(cond.e, g.owner), merged.items) {
			residual = append(residual, cond.e)
			at = cond.at
			g.drop(cond)
		}
	}
	js.Where = andAll(residual)
	if len(c.keys) > 0 {
		at = c.keys[0].at
	}
	rel, err := logical.Join(g.parts[c.l].rel, g.parts[c.r].rel, js)
	if err != nil {
		if at == nil { // a cross join of valid relations cannot fail
			return err
		}
		return planError(at, err)
	}
	merged.rel = rel
	lo, hi := min(c.l, c.r), max(c.l, c.r)
	g.parts[lo] = merged
	g.parts = slices.Delete(g.parts, hi, hi+1)
	return nil
}

// within reports whether every item of set is in items.
func within(set, items []int) bool {
	for _, i := range set {
		if !slices.Contains(items, i) {
			return false
		}
	}
	return true
}

// andAll is the conjunction of es (nil for none).
func andAll(es []spec.Expr) spec.Expr {
	var out spec.Expr
	for _, e := range es {
		if out == nil {
			out = e
		} else {
			out = &spec.Binary{Op: spec.OpAnd, L: out, R: e}
		}
	}
	return out
}

func (g *joinGraph) drop(c boundConj) {
	g.conds = slices.DeleteFunc(g.conds, func(x boundConj) bool { return x.at == c.at && x.e == c.e })
}

// crossJoin joins every row of left with every row of right: a join
// without keys, the right side broadcast.
func (b *binder) crossJoin(left, right *logical.Rel, typ spec.JoinType) (*logical.Rel, error) {
	return logical.Join(left, right, spec.JoinStep{Type: typ, Broadcast: true})
}
