package parser

import "strings"

// expr prints an expression; operator forms are parenthesized whole.
func (pr *printer) expr(e Expr) {
	switch e := e.(type) {
	case *ColumnRef:
		pr.idents(e.Parts, ".")
	case *NumberLit:
		pr.w(e.Text)
	case *StringLit:
		pr.w(quoteString(e.Value))
	case *BoolLit:
		pr.w(map[bool]string{true: "TRUE", false: "FALSE"}[e.Value])
	case *NullLit:
		pr.w("NULL")
	case *TypedLit:
		pr.w(e.Type, " ", quoteString(e.Value))
	case *IntervalLit:
		pr.w("INTERVAL ")
		pr.expr(e.Value)
		if e.Unit != "" {
			pr.w(" ", e.Unit)
		}
	case *Star:
		pr.star(e)
	case *ExistsExpr:
		pr.w("EXISTS ")
		pr.subquery(e.Query)
	case *SubqueryExpr:
		pr.subquery(e.Query)
	case *CaseExpr:
		pr.caseExpr(e)
	case *CastExpr:
		pr.castExpr(e)
	case *ExtractExpr:
		pr.w("EXTRACT(", e.Field, " FROM ")
		pr.expr(e.X)
		pr.w(")")
	case *FuncCall:
		pr.call(e)
	default:
		pr.w("(")
		pr.operator(e)
		pr.w(")")
	}
}

// operator prints the inside of an operator expression's parentheses.
func (pr *printer) operator(e Expr) {
	switch e := e.(type) {
	case *UnaryExpr:
		// A space after "-" keeps - -1 from printing as a -- comment.
		pr.w(e.Op, " ")
		pr.expr(e.X)
	case *BinaryExpr:
		pr.expr(e.L)
		pr.w(" ", e.Op, " ")
		pr.expr(e.R)
	case *IsExpr:
		pr.expr(e.X)
		pr.w(" IS ", not(e.Not), e.What)
	case *IsDistinctExpr:
		pr.expr(e.L)
		pr.w(" IS ", not(e.Not), "DISTINCT FROM ")
		pr.expr(e.R)
	case *BetweenExpr:
		pr.expr(e.X)
		pr.w(" ", not(e.Not), "BETWEEN ")
		pr.expr(e.Lo)
		pr.w(" AND ")
		pr.expr(e.Hi)
	case *InListExpr:
		pr.expr(e.X)
		pr.w(" ", not(e.Not), "IN (")
		pr.exprs(e.List)
		pr.w(")")
	case *InSubqueryExpr:
		pr.expr(e.X)
		pr.w(" ", not(e.Not), "IN ")
		pr.subquery(e.Query)
	case *LikeExpr:
		pr.like(e)
	}
}

func not(b bool) string {
	if b {
		return "NOT "
	}
	return ""
}

func (pr *printer) like(e *LikeExpr) {
	pr.expr(e.X)
	pr.w(" ", not(e.Not))
	if e.ILike {
		pr.w("ILIKE ")
	} else {
		pr.w("LIKE ")
	}
	pr.expr(e.Pattern)
	if e.Escape != nil {
		pr.w(" ESCAPE ")
		pr.expr(e.Escape)
	}
}

func (pr *printer) star(s *Star) {
	for _, t := range s.Table {
		pr.ident(t)
		pr.w(".")
	}
	pr.w("*")
	if len(s.Exclude) > 0 {
		pr.w(" EXCLUDE ")
		pr.parenIdents(s.Exclude)
	}
}

func (pr *printer) caseExpr(c *CaseExpr) {
	pr.w("CASE")
	if c.Operand != nil {
		pr.w(" ")
		pr.expr(c.Operand)
	}
	for _, w := range c.Whens {
		pr.w(" WHEN ")
		pr.expr(w.Cond)
		pr.w(" THEN ")
		pr.expr(w.Result)
	}
	if c.Else != nil {
		pr.w(" ELSE ")
		pr.expr(c.Else)
	}
	pr.w(" END")
}

func (pr *printer) castExpr(c *CastExpr) {
	if c.Try {
		pr.w("TRY_CAST(")
	} else {
		pr.w("CAST(")
	}
	pr.expr(c.X)
	pr.w(" AS ")
	pr.typeName(c.Type)
	pr.w(")")
}

// typeName prints a type bare when it reads back as itself, else quoted.
func (pr *printer) typeName(t *TypeName) {
	if t.Name == "double precision" || (isTypeWord(t.Name) && !reserved[asciiUpper(t.Name)]) {
		pr.w(t.Name)
	} else {
		pr.w(`"`, strings.ReplaceAll(t.Name, `"`, `""`), `"`)
	}
	if len(t.Args) > 0 {
		pr.w("(", strings.Join(t.Args, ", "), ")")
	}
}

// isTypeWord reports whether s lexes as one unquoted identifier.
func isTypeWord(s string) bool {
	if s == "" || !isIdentStart(s[0]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isIdentPart(s[i]) {
			return false
		}
	}
	return true
}

func (pr *printer) call(f *FuncCall) {
	pr.ident(f.Name)
	pr.w("(")
	switch {
	case f.Star:
		pr.w("*")
	default:
		if f.Distinct {
			pr.w("DISTINCT ")
		}
		pr.exprs(f.Args)
	}
	pr.w(")")
	if f.Filter != nil {
		pr.w(" FILTER (WHERE ")
		pr.expr(f.Filter)
		pr.w(")")
	}
	if f.Over != nil {
		pr.window(f.Over)
	}
}

func (pr *printer) window(w *WindowSpec) {
	pr.w(" OVER (")
	var parts int
	space := func() {
		if parts > 0 {
			pr.w(" ")
		}
		parts++
	}
	if len(w.PartitionBy) > 0 {
		space()
		pr.w("PARTITION BY ")
		pr.exprs(w.PartitionBy)
	}
	if len(w.OrderBy) > 0 {
		space()
		pr.w("ORDER BY ")
		pr.orderItems(w.OrderBy)
	}
	if w.Frame != nil {
		space()
		pr.w(w.Frame.Unit, " BETWEEN ")
		pr.frameBound(w.Frame.Start)
		pr.w(" AND ")
		pr.frameBound(w.Frame.End)
	}
	pr.w(")")
}

var boundNames = [...]string{"UNBOUNDED PRECEDING", "PRECEDING", "CURRENT ROW", "FOLLOWING", "UNBOUNDED FOLLOWING"}

func (pr *printer) frameBound(b *FrameBound) {
	if b.Offset != nil {
		pr.expr(b.Offset)
		pr.w(" ")
	}
	pr.w(boundNames[b.Kind])
}
