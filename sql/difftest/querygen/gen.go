package querygen

import (
	"fmt"
	"strings"
)

// Generate returns the query of seed: the same seed gives the same query
// on any machine and Go version (the generator has its own random source).
//
// The queries use: SELECT with WHERE over comparisons, BETWEEN, IN lists
// (NULL among them sometimes), IS [NOT] NULL and LIKE, joined by AND, OR,
// NOT; one to three tables joined on equal keys with commas, JOIN ... ON
// or LEFT JOIN ... ON (an extra condition in ON sometimes); GROUP BY with
// count(*), count(col), count(DISTINCT col), sum, min, max and avg, with
// expressions inside and around them; HAVING; CASE and COALESCE; scalar,
// IN and EXISTS subqueries, correlated or not; UNION [ALL], INTERSECT
// [ALL], EXCEPT [ALL]; a CTE; window
// functions (see window.go). Every
// output column is in the ORDER BY, in a random order and direction, and
// sometimes there is a LIMIT.
func Generate(seed int64) string {
	g := &gen{r: rng{s: uint64(seed)}}
	var with string
	var first *Table
	if g.r.chance(20) {
		body, cte := g.cte()
		with = "WITH cte AS (\n" + indent(body) + "\n)\n"
		first = &cte
	}
	if first == nil && g.r.chance(15) {
		return g.union()
	}
	q := g.selectQuery(first, g.r.chance(45))
	return with + q.String() + g.orderAll(q.items, true)
}

// gen holds what one query's generation shares: the random source and a
// counter for fresh subquery aliases.
type gen struct {
	r    rng
	subs int
}

// rel is a FROM item: an alias and the table it names.
type rel struct {
	alias string
	t     Table
}

// scope is the relations an expression may name.
type scope []rel

// ref is a qualified column reference.
type ref struct {
	sql string
	col Column
}

func (sc scope) refs() []ref {
	var rs []ref
	for _, r := range sc {
		for _, c := range r.t.Columns {
			rs = append(rs, ref{r.alias + "." + c.Name, c})
		}
	}
	return rs
}

func (sc scope) refsOf(t Type) []ref {
	var rs []ref
	for _, r := range sc.refs() {
		if r.col.Type == t {
			rs = append(rs, r)
		}
	}
	return rs
}

// item is an output column: its expression, name and type.
type item struct {
	sql, name string
	typ       Type
}

// query is one SELECT being built.
type query struct {
	items  []item
	from   string
	where  []string // ANDed
	group  []string
	having string
	agg    bool // an aggregate query (with or without GROUP BY)
	sc     scope
}

// add appends an output column: a bare column keeps its name (name) when
// no other output column has it; anything else is named a fresh cN, so
// that output names are unique and ORDER BY may use them.
func (q *query) add(sql, name string, t Type) {
	if name != "" && !q.hasName(name) {
		q.items = append(q.items, item{sql, name, t})
		return
	}
	for n := len(q.items) + 1; name == "" || q.hasName(name); n++ {
		name = fmt.Sprintf("c%d", n)
	}
	q.items = append(q.items, item{sql + " AS " + name, name, t})
}

func (q *query) hasName(name string) bool {
	for _, it := range q.items {
		if strings.EqualFold(it.name, name) {
			return true
		}
	}
	return false
}

func (q *query) String() string {
	sel := make([]string, len(q.items))
	for i, it := range q.items {
		sel[i] = it.sql
	}
	s := "SELECT " + strings.Join(sel, ", ") + "\nFROM " + q.from
	if len(q.where) > 0 {
		s += "\nWHERE " + strings.Join(q.where, "\n  AND ")
	}
	if len(q.group) > 0 {
		s += "\nGROUP BY " + strings.Join(q.group, ", ")
	}
	if q.having != "" {
		s += "\nHAVING " + q.having
	}
	return s
}

// selectQuery builds a SELECT over one to three relations (first, when
// given, is the first), aggregating or not.
func (g *gen) selectQuery(first *Table, aggregate bool) *query {
	q := g.from(first)
	if g.r.chance(65) {
		q.where = append(q.where, g.pred(q.sc, 0))
	}
	if aggregate {
		g.aggregate(q)
	} else {
		g.plain(q)
	}
	return q
}

// plain selects one to four columns or expressions.
func (g *gen) plain(q *query) {
	for n := 1 + g.r.intn(4); len(q.items) < n; {
		if g.r.chance(55) {
			r := pick(&g.r, q.sc.refs())
			q.add(r.sql, r.col.Name, r.col.Type)
			continue
		}
		sql, t := g.scalar(q.sc, true)
		q.add(sql, "", t)
	}
	if g.r.chance(50) {
		g.window(q)
	}
}

// orderAll orders by every output column, in a random order, each by
// ordinal or name, ASC or DESC, with NULLS FIRST/LAST sometimes; and adds
// a LIMIT sometimes.
func (g *gen) orderAll(items []item, byName bool) string {
	var keys []string
	for _, i := range g.r.perm(len(items)) {
		k := fmt.Sprint(i + 1)
		if byName && g.r.chance(50) {
			k = items[i].name
		}
		k += pick(&g.r, []string{"", "", " ASC", " DESC", " DESC"})
		if g.r.chance(25) {
			k += pick(&g.r, []string{" NULLS FIRST", " NULLS LAST"})
		}
		keys = append(keys, k)
	}
	s := "\nORDER BY " + strings.Join(keys, ", ")
	if g.r.chance(25) {
		s += fmt.Sprintf("\nLIMIT %d", 1+g.r.intn(10))
	}
	return s
}

// cte is a SELECT to name in WITH, and the table it makes.
func (g *gen) cte() (string, Table) {
	q := g.selectQuery(nil, g.r.chance(60))
	if !hasInt(q.items) { // the main query joins the CTE on an integer
		if q.agg {
			q.add("count(*)", "", Int)
		} else {
			r := pick(&g.r, q.sc.refsOf(Int))
			q.add(r.sql, r.col.Name, Int)
		}
	}
	t := Table{Name: "cte"}
	for _, it := range q.items {
		t.Columns = append(t.Columns, Column{it.name, it.typ})
	}
	return q.String(), t
}

func hasInt(items []item) bool {
	for _, it := range items {
		if it.typ == Int {
			return true
		}
	}
	return false
}

// union is two SELECTs of the same column types under UNION ALL.
func (g *gen) union() string {
	left := g.selectQuery(nil, g.r.chance(30))
	right := g.from(nil)
	if g.r.chance(60) {
		right.where = append(right.where, g.pred(right.sc, 0))
	}
	for _, it := range left.items {
		right.add(g.exprOf(right.sc, it.typ), "", it.typ)
	}
	op := pick(&g.r, []string{"UNION ALL", "UNION ALL", "UNION", "INTERSECT", "INTERSECT ALL", "EXCEPT", "EXCEPT ALL"})
	return left.String() + "\n" + op + "\n" + right.String() + g.orderAll(left.items, false)
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}
