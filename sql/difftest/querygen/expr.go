package querygen

import (
	"fmt"
	"strings"
)

// from starts a query over one to three relations (first, when given,
// first), joined on equal integer columns: all with commas (the join
// conditions go to WHERE) or all with JOIN/LEFT JOIN ... ON (mixing the
// two would put earlier aliases out of an ON's reach).
func (g *gen) from(first *Table) *query {
	q := &query{}
	n := 1 + g.r.intn(3)
	commas := g.r.chance(40)
	for i := 0; i < n; i++ {
		t := pick(&g.r, Tables)
		if i == 0 && first != nil {
			t = *first
		}
		r := rel{alias: string(rune('a' + i)), t: t}
		item := t.Name + " " + r.alias
		if i == 0 {
			q.from = item
			q.sc = append(q.sc, r)
			continue
		}
		on := g.joinOn(q.sc, r)
		q.sc = append(q.sc, r)
		if commas {
			q.from += ", " + item
			q.where = append(q.where, on)
			continue
		}
		if g.r.chance(20) {
			on += " AND " + g.atom(q.sc)
		}
		q.from += fmt.Sprintf("\n%s %s ON %s", pick(&g.r, []string{"JOIN", "LEFT JOIN"}), item, on)
	}
	return q
}

// joinOn equates an integer column of r with one of sc: mostly the k
// columns, which match many rows (and some NULLs), else any.
func (g *gen) joinOn(sc scope, r rel) string {
	left, right := sc.refsOf(Int), scope{r}.refsOf(Int)
	if g.r.chance(70) {
		if lk, rk := named(left, "k"), named(right, "k"); len(lk) > 0 && len(rk) > 0 {
			left, right = lk, rk
		}
	}
	return fmt.Sprintf("%s = %s", pick(&g.r, right).sql, pick(&g.r, left).sql)
}

func named(refs []ref, name string) []ref {
	var out []ref
	for _, r := range refs {
		if r.col.Name == name {
			out = append(out, r)
		}
	}
	return out
}

// pred is a boolean condition over sc; depth bounds nesting, and
// subqueries appear only at depth 0.
func (g *gen) pred(sc scope, depth int) string {
	switch r := g.r.intn(10); {
	case r < 2 && depth < 2:
		op := pick(&g.r, []string{"AND", "OR", "OR"})
		return fmt.Sprintf("(%s %s %s)", g.pred(sc, depth+1), op, g.pred(sc, depth+1))
	case r == 2 && depth < 2:
		return fmt.Sprintf("NOT (%s)", g.pred(sc, depth+1))
	case r >= 8 && depth == 0:
		return g.subqueryPred(sc)
	}
	return g.atom(sc)
}

// atom is one comparison, BETWEEN, IN list, IS [NOT] NULL or LIKE.
func (g *gen) atom(sc scope) string {
	c := pick(&g.r, sc.refs())
	t := c.col.Type
	lit := func() string { return pick(&g.r, literals[t]) }
	switch g.r.intn(6) {
	case 0: // the bounds in order four times in five
		lo, hi := g.r.intn(len(literals[t])), g.r.intn(len(literals[t]))
		if lo > hi && g.r.chance(80) {
			lo, hi = hi, lo
		}
		return fmt.Sprintf("%s BETWEEN %s AND %s", c.sql, literals[t][lo], literals[t][hi])
	case 1:
		list := []string{lit(), lit(), lit()}
		if g.r.chance(15) {
			list[2] = "NULL"
		}
		return fmt.Sprintf("%s %s (%s)", c.sql, pick(&g.r, []string{"IN", "NOT IN"}), strings.Join(list, ", "))
	case 2:
		return c.sql + pick(&g.r, []string{" IS NULL", " IS NOT NULL"})
	case 3:
		if t == Str {
			return fmt.Sprintf("%s %s %s", c.sql, pick(&g.r, []string{"LIKE", "NOT LIKE"}), pick(&g.r, likePatterns))
		}
	case 4:
		if others := sc.refsOf(t); len(others) > 1 {
			return fmt.Sprintf("%s %s %s", c.sql, g.cmpOp(), pick(&g.r, others).sql)
		}
	}
	return fmt.Sprintf("%s %s %s", c.sql, g.cmpOp(), lit())
}

func (g *gen) cmpOp() string {
	return pick(&g.r, []string{"=", "<>", "<", "<=", ">", ">="})
}

// subqueryPred is [NOT] IN (SELECT ...), [NOT] EXISTS (SELECT ...) or a
// comparison with a scalar subquery; each correlated with sc half the time.
func (g *gen) subqueryPred(sc scope) string {
	t := pick(&g.r, Tables)
	s := rel{alias: g.fresh(), t: t}
	where := g.correlate(sc, s)
	switch g.r.intn(3) {
	case 0:
		outer := pick(&g.r, sc.refsOf(Int))
		if outer.sql == "" {
			break
		}
		return fmt.Sprintf("%s %s (SELECT %s FROM %s %s%s)", outer.sql, pick(&g.r, []string{"IN", "NOT IN"}),
			pick(&g.r, scope{s}.refsOf(Int)).sql, t.Name, s.alias, where)
	case 1:
		return fmt.Sprintf("%sEXISTS (SELECT 1 FROM %s %s%s)", pick(&g.r, []string{"", "NOT "}), t.Name, s.alias, where)
	}
	inner := pick(&g.r, scope{s}.refs())
	agg := pick(&g.r, []string{"min", "max"})
	outer := pick(&g.r, sc.refsOf(inner.col.Type))
	if outer.sql == "" {
		return fmt.Sprintf("(SELECT count(*) FROM %s %s%s) > %s", t.Name, s.alias, where, pick(&g.r, literals[Int]))
	}
	return fmt.Sprintf("%s %s (SELECT %s(%s) FROM %s %s%s)", outer.sql, g.cmpOp(), agg, inner.sql, t.Name, s.alias, where)
}

// correlate is the WHERE of a subquery over s: a key equal to one of sc's
// (correlated) half the time, a condition on s alone otherwise, or none.
func (g *gen) correlate(sc scope, s rel) string {
	switch g.r.intn(3) {
	case 0:
		return fmt.Sprintf(" WHERE %s = %s", pick(&g.r, scope{s}.refsOf(Int)).sql, pick(&g.r, sc.refsOf(Int)).sql)
	case 1:
		return " WHERE " + g.atom(scope{s})
	}
	return ""
}

func (g *gen) fresh() string {
	g.subs++
	return fmt.Sprintf("s%d", g.subs)
}

// scalar is an expression over sc and its type: arithmetic, CASE,
// COALESCE, or (sub) a correlated scalar subquery.
func (g *gen) scalar(sc scope, sub bool) (string, Type) {
	if sub && g.r.chance(10) {
		s := rel{alias: g.fresh(), t: pick(&g.r, Tables)}
		return fmt.Sprintf("(SELECT count(*) FROM %s %s%s)", s.t.Name, s.alias, g.correlate(sc, s)), Int
	}
	c := pick(&g.r, sc.refs())
	return g.exprOf(sc, c.col.Type), c.col.Type
}

// exprOf is an expression of type t over sc (a literal when sc has no
// column of type t).
func (g *gen) exprOf(sc scope, t Type) string {
	cols := sc.refsOf(t)
	if len(cols) == 0 {
		return pick(&g.r, literals[t])
	}
	c := pick(&g.r, cols).sql
	lit := pick(&g.r, literals[t])
	switch g.r.intn(6) {
	case 0:
		return fmt.Sprintf("COALESCE(%s, %s)", c, lit)
	case 1:
		return fmt.Sprintf("CASE WHEN %s THEN %s ELSE %s END", g.atom(sc), c, lit)
	case 2, 3:
		switch t {
		case Int, Dec, Dbl:
			return fmt.Sprintf("%s %s %s", c, pick(&g.r, []string{"+", "-", "*"}), pick(&g.r, append(cols, ref{sql: lit})).sql)
		}
	}
	return c
}

// aggregate makes q a GROUP BY over zero to two keys with one to three
// aggregates, and a HAVING sometimes.
func (g *gen) aggregate(q *query) {
	q.agg = true
	for n := pick(&g.r, []int{0, 1, 1, 2, 2}); len(q.group) < n; {
		c := pick(&g.r, q.sc.refs())
		sql, name := c.sql, c.col.Name
		if g.r.chance(20) {
			sql, name = g.exprOf(q.sc, c.col.Type), ""
		}
		q.group = append(q.group, sql)
		q.add(sql, name, c.col.Type)
	}
	for n := len(q.items) + 1 + g.r.intn(3); len(q.items) < n; {
		sql, t := g.aggExpr(q.sc)
		q.add(sql, "", t)
	}
	if g.r.chance(15) {
		g.aggWindow(q)
	}
	switch r := g.r.intn(10); {
	case r < 1: // one that keeps the groups of more than one row
		q.having = "count(*) > 1"
	case r < 3:
		sql, t := g.aggExpr(q.sc)
		q.having = fmt.Sprintf("%s %s %s", sql, g.cmpOp(), pick(&g.r, literals[t]))
	}
}

// aggExpr is an aggregate call, with an expression inside it or around it
// sometimes, and its type.
func (g *gen) aggExpr(sc scope) (string, Type) {
	c := pick(&g.r, sc.refs())
	var sql string
	t := Int
	switch g.r.intn(8) {
	case 0:
		sql = "count(*)"
	case 1:
		sql = fmt.Sprintf("count(%s)", c.sql)
	case 2:
		sql = fmt.Sprintf("count(DISTINCT %s)", c.sql)
	case 3:
		sql = fmt.Sprintf("sum(CASE WHEN %s THEN 1 ELSE 0 END)", g.atom(sc))
	case 4, 5:
		sql, t = fmt.Sprintf("%s(%s)", pick(&g.r, []string{"min", "max"}), c.sql), c.col.Type
	default:
		t = pick(&g.r, []Type{Int, Dec, Dbl})
		sql = fmt.Sprintf("%s(%s)", pick(&g.r, []string{"sum", "avg"}), g.exprOf(sc, t))
		if strings.HasPrefix(sql, "avg") {
			t = Dbl
		}
	}
	if t == Str || t == Date || !g.r.chance(30) {
		return sql, t
	}
	switch g.r.intn(3) {
	case 0:
		return fmt.Sprintf("COALESCE(%s, %s)", sql, pick(&g.r, literals[t])), t
	case 1:
		return fmt.Sprintf("%s + %s", sql, pick(&g.r, literals[t])), t
	}
	return fmt.Sprintf("%s * 2", sql), t
}

// rng is splitmix64, so that a seed means the same query with any Go
// version (math/rand's streams may change).
type rng struct{ s uint64 }

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

func (r *rng) chance(percent int) bool { return r.intn(100) < percent }

func (r *rng) perm(n int) []int {
	p := make([]int, n)
	for i := range p {
		j := r.intn(i + 1)
		p[i], p[j] = p[j], i
	}
	return p
}

// pick is a random element of xs, or the zero value when xs is empty.
func pick[T any](r *rng, xs []T) T {
	var zero T
	if len(xs) == 0 {
		return zero
	}
	return xs[r.intn(len(xs))]
}
