package querygen

import (
	"fmt"
	"strings"
)

// Window functions. Only answers that do not depend on how rows tied on
// the ORDER BY of a window are ordered are determinate, so: rank,
// dense_rank and aggregates over the default frame (which takes in all
// peers) anywhere; row_number, lag, lead, first_value and ROWS frames
// only where the window's order ends with a unique key (the ids of its
// relations, when all are t1 or t2).

// window adds a window function over q's rows to its select list.
func (g *gen) window(q *query) {
	refs := q.sc.refs()
	over := ""
	if g.r.chance(60) {
		over = "PARTITION BY " + pick(&g.r, refs).sql
	}
	ord := pick(&g.r, refs).sql + pick(&g.r, []string{"", " DESC"})
	// Rows are unique by the ids of their relations when every relation
	// has one (t1, t2; a LEFT JOIN's missing row has one NULL id per row).
	unique := g.r.chance(90)
	var ids string
	for _, r := range q.sc {
		unique = unique && (r.t.Name == "t1" || r.t.Name == "t2")
		ids += ", " + r.alias + ".id" + pick(&g.r, []string{"", " DESC"})
	}
	if unique {
		ord += ids
	}
	withOrder := unique || g.r.chance(75)
	if withOrder {
		over += " ORDER BY " + ord
	}
	sql, t := g.windowCall(q.sc, unique, withOrder)
	call, frame, _ := strings.Cut(sql, " ROWS ")
	if frame != "" {
		over += " ROWS " + frame
	}
	q.add(fmt.Sprintf("%s OVER (%s)", call, strings.TrimSpace(over)), "", t)
}

// windowCall is a window function call, with its frame after it when it
// has one, and its type; unique says the window's order has no ties,
// ordered that it has an ORDER BY.
func (g *gen) windowCall(sc scope, unique, ordered bool) (string, Type) {
	c := pick(&g.r, sc.refs())
	num := pick(&g.r, append(sc.refsOf(Int), append(sc.refsOf(Dec), sc.refsOf(Dbl)...)...))
	if unique && g.r.chance(90) {
		switch g.r.intn(6) {
		case 0, 5:
			return "row_number()", Int
		case 1:
			return fmt.Sprintf("lag(%s)", c.sql), c.col.Type
		case 2:
			return fmt.Sprintf("lead(%s, 2, %s)", c.sql, pick(&g.r, literals[c.col.Type])), c.col.Type
		case 3:
			return fmt.Sprintf("first_value(%s)", c.sql), c.col.Type
		}
		return fmt.Sprintf("sum(%s) ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING", num.sql), num.col.Type
	}
	switch g.r.intn(6) {
	case 0:
		if ordered {
			return pick(&g.r, []string{"rank()", "dense_rank()"}), Int
		}
		return "count(*)", Int
	case 1:
		return fmt.Sprintf("count(%s)", c.sql), Int
	case 2:
		return fmt.Sprintf("%s(%s)", pick(&g.r, []string{"min", "max"}), c.sql), c.col.Type
	case 3:
		return fmt.Sprintf("avg(%s)", num.sql), Dbl
	}
	return fmt.Sprintf("sum(%s)", num.sql), num.col.Type
}

// aggWindow adds a window over an aggregate query's groups: a rank by an
// aggregate, or an aggregate of aggregates over all groups.
func (g *gen) aggWindow(q *query) {
	sql, t := g.aggExpr(q.sc)
	if t == Str || t == Date || g.r.chance(50) {
		q.add(fmt.Sprintf("%s() OVER (ORDER BY %s DESC)", pick(&g.r, []string{"rank", "dense_rank"}), sql), "", Int)
		return
	}
	q.add(fmt.Sprintf("sum(%s) OVER ()", sql), "", t)
}
