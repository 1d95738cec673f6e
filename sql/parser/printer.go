package parser

import (
	"strings"
)

// Format prints n in the canonical form: one clause per line (nested
// queries indented), every operator expression in parentheses, keywords
// upper-case, names as written. Parsing the output gives back the same
// AST (positions aside), which the round-trip tests check; it is also the
// form the datadriven tests show, so precedence is visible at a glance.
func Format(n Node) string {
	pr := &printer{}
	pr.node(n)
	return pr.b.String()
}

// String is the canonical form (Format).
func (q *Query) String() string { return Format(q) }

// printer writes the canonical form; ind is the nesting depth of the
// query being printed, for the indentation after each line break.
type printer struct {
	b   strings.Builder
	ind int
}

func (pr *printer) w(s ...string) {
	for _, x := range s {
		pr.b.WriteString(x)
	}
}

// nl starts a new clause line at the current indentation.
func (pr *printer) nl() {
	pr.b.WriteByte('\n')
	pr.b.WriteString(strings.Repeat("  ", pr.ind))
}

func (pr *printer) node(n Node) {
	switch n := n.(type) {
	case *Query:
		pr.query(n)
	case SetExpr:
		pr.setExpr(n)
	case TableExpr:
		pr.tableExpr(n)
	case Expr:
		pr.expr(n)
	case *Ident:
		pr.ident(n)
	}
}

func (pr *printer) query(q *Query) {
	if len(q.With) > 0 {
		pr.w("WITH ")
		for i, c := range q.With {
			if i > 0 {
				pr.w(",")
				pr.nl()
				pr.w("  ")
			}
			pr.ident(c.Name)
			if len(c.Columns) > 0 {
				pr.w(" ")
				pr.parenIdents(c.Columns)
			}
			pr.w(" AS ")
			pr.subquery(c.Query)
		}
		pr.nl()
	}
	pr.setExpr(q.Body)
	if len(q.OrderBy) > 0 {
		pr.nl()
		pr.w("ORDER BY ")
		pr.orderItems(q.OrderBy)
	}
	pr.clause("LIMIT ", q.Limit)
	pr.clause("OFFSET ", q.Offset)
}

// clause prints an optional one-expression clause on a line of its own.
func (pr *printer) clause(kw string, e Expr) {
	if e != nil {
		pr.nl()
		pr.w(kw)
		pr.expr(e)
	}
}

// subquery prints (query), the query's lines indented one level deeper.
func (pr *printer) subquery(q *Query) {
	pr.w("(")
	pr.ind++
	pr.query(q)
	pr.ind--
	pr.w(")")
}

// setExpr prints a body. A set operation's operands that are not plain
// SELECTs go in parentheses, which the parser reads back as the same tree.
func (pr *printer) setExpr(s SetExpr) {
	switch s := s.(type) {
	case *Select:
		pr.selectBlock(s)
	case *Query:
		pr.subquery(s)
	case *SetOp:
		pr.setOperand(s.Left)
		pr.nl()
		pr.w(s.Op)
		if s.All {
			pr.w(" ALL")
		}
		pr.nl()
		pr.setOperand(s.Right)
	}
}

func (pr *printer) setOperand(s SetExpr) {
	if sel, ok := s.(*Select); ok {
		pr.selectBlock(sel)
		return
	}
	if q, ok := s.(*Query); ok {
		pr.subquery(q)
		return
	}
	pr.subquery(&Query{Body: s})
}

func (pr *printer) selectBlock(s *Select) {
	pr.w("SELECT ")
	if s.Distinct {
		pr.w("DISTINCT ")
	}
	for i, it := range s.Items {
		pr.sep(i)
		pr.expr(it.Expr)
		if it.Alias != nil {
			pr.w(" AS ")
			pr.ident(it.Alias)
		}
	}
	if len(s.From) > 0 {
		pr.nl()
		pr.w("FROM ")
		for i, t := range s.From {
			pr.sep(i)
			pr.tableExpr(t)
		}
	}
	pr.clause("WHERE ", s.Where)
	if len(s.GroupBy) > 0 {
		pr.nl()
		pr.w("GROUP BY ")
		pr.exprs(s.GroupBy)
	}
	pr.clause("HAVING ", s.Having)
}

func (pr *printer) sep(i int) {
	if i > 0 {
		pr.w(", ")
	}
}

func (pr *printer) tableExpr(t TableExpr) {
	switch t := t.(type) {
	case *TableName:
		pr.idents(t.Name, ".")
		pr.tableAlias(t.Alias)
	case *DerivedTable:
		pr.subquery(t.Query)
		pr.tableAlias(t.Alias)
	case *Join:
		pr.join(t)
	}
}

// join prints a join on one line. Joins associate to the left, so only a
// join on the right needs parentheses.
func (pr *printer) join(j *Join) {
	pr.tableExpr(j.Left)
	pr.w(" ", j.Kind.String(), " ")
	if _, ok := j.Right.(*Join); ok {
		pr.w("(")
		pr.tableExpr(j.Right)
		pr.w(")")
	} else {
		pr.tableExpr(j.Right)
	}
	switch {
	case j.On != nil:
		pr.w(" ON ")
		pr.expr(j.On)
	case j.Using != nil:
		pr.w(" USING ")
		pr.parenIdents(j.Using)
	}
}

func (pr *printer) tableAlias(a *TableAlias) {
	if a == nil {
		return
	}
	pr.w(" AS ")
	pr.ident(a.Name)
	if len(a.Columns) > 0 {
		pr.w(" ")
		pr.parenIdents(a.Columns)
	}
}

func (pr *printer) orderItems(items []*OrderItem) {
	for i, it := range items {
		pr.sep(i)
		pr.expr(it.Expr)
		if it.Desc {
			pr.w(" DESC")
		}
		switch it.Nulls {
		case NullsFirst:
			pr.w(" NULLS FIRST")
		case NullsLast:
			pr.w(" NULLS LAST")
		}
	}
}

// ident prints a name: bare as written, or quoted with "" doubled.
func (pr *printer) ident(id *Ident) {
	if id.Quoted {
		pr.w(`"`, strings.ReplaceAll(id.Name, `"`, `""`), `"`)
		return
	}
	pr.w(id.Name)
}

func (pr *printer) idents(ids []*Ident, sep string) {
	for i, id := range ids {
		if i > 0 {
			pr.w(sep)
		}
		pr.ident(id)
	}
}

func (pr *printer) parenIdents(ids []*Ident) {
	pr.w("(")
	pr.idents(ids, ", ")
	pr.w(")")
}

func (pr *printer) exprs(es []Expr) {
	for i, e := range es {
		pr.sep(i)
		pr.expr(e)
	}
}

func quoteString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
