package spec

import (
	"math"
	"strconv"
	"strings"
)

// The String methods render SQL that ParseExpr parses back to an equal tree.
// They add parentheses only where precedence needs them, and render NOT
// BETWEEN, simple CASE and != in the forms the parser desugars them into.

func (c *Column) String() string { return quoteIdent(c.Name) }

func (l *Literal) String() string {
	switch l.Type {
	case Bool:
		if l.Bool {
			return "TRUE"
		}
		return "FALSE"
	case Int64:
		return strconv.FormatInt(l.Int, 10)
	case Float64:
		return formatFloat(l.Float)
	case String:
		return quoteString(l.Str)
	case Date:
		return "DATE '" + string(AppendDate(nil, l.Int)) + "'"
	case Timestamp:
		return "TIMESTAMP '" + string(AppendTimestamp(nil, l.Int)) + "'"
	}
	if l.Type.IsDecimal() {
		return "CAST('" + string(AppendDecimal(nil, l.Int, l.Type.Scale())) + "' AS " + l.Type.String() + ")"
	}
	return "NULL"
}

func (u *Unary) String() string {
	if u.Op == OpNot {
		return "NOT " + wrap(u.X, prec(u.X) < precNot)
	}
	switch u.X.(type) {
	case *Column, *Call, *Case, *Cast:
		return "-" + u.X.String()
	}
	// Parenthesized so that -(5) stays a negation and never becomes the
	// literal -5, and so that two minus signs never touch.
	return "-(" + u.X.String() + ")"
}

func (b *Binary) String() string {
	p := binaryPrec[b.Op]
	return wrap(b.L, prec(b.L) < p) + " " + b.Op.String() + " " + wrap(b.R, prec(b.R) <= p)
}

func (in *In) String() string {
	var sb strings.Builder
	sb.WriteString(wrap(in.X, prec(in.X) < precCmp))
	if in.Not {
		sb.WriteString(" NOT")
	}
	sb.WriteString(" IN (")
	writeList(&sb, in.List)
	sb.WriteString(")")
	return sb.String()
}

func (n *IsNull) String() string {
	s := wrap(n.X, prec(n.X) < precCmp)
	if n.Not {
		return s + " IS NOT NULL"
	}
	return s + " IS NULL"
}

func (c *Call) String() string {
	var sb strings.Builder
	sb.WriteString(c.Func)
	sb.WriteString("(")
	writeList(&sb, c.Args)
	sb.WriteString(")")
	return sb.String()
}

func (c *Case) String() string {
	var sb strings.Builder
	sb.WriteString("CASE")
	for _, w := range c.Whens {
		sb.WriteString(" WHEN ")
		sb.WriteString(w.Cond.String())
		sb.WriteString(" THEN ")
		sb.WriteString(w.Then.String())
	}
	if c.Else != nil {
		sb.WriteString(" ELSE ")
		sb.WriteString(c.Else.String())
	}
	sb.WriteString(" END")
	return sb.String()
}

func (c *Cast) String() string {
	name := "CAST("
	if c.Try {
		name = "TRY_CAST("
	}
	return name + c.X.String() + " AS " + c.To.String() + ")"
}

// prec is the binding power of e's outermost operator.
func prec(e Expr) int {
	switch e := e.(type) {
	case *Binary:
		return binaryPrec[e.Op]
	case *Unary:
		if e.Op == OpNot {
			return precNot
		}
		return precUnary
	case *In, *IsNull, *Like:
		return precCmp
	}
	return precPrimary
}

func wrap(e Expr, paren bool) string {
	if paren {
		return "(" + e.String() + ")"
	}
	return e.String()
}

func writeList(sb *strings.Builder, list []Expr) {
	for i, e := range list {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(e.String())
	}
}

// formatFloat renders f so that the lexer reads it back as a float.
func formatFloat(f float64) string {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return "CAST('" + strconv.FormatFloat(f, 'g', -1, 64) + "' AS float64)"
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	return s
}

// quoteString renders s as a 'single quoted' SQL string.
func quoteString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// quoteIdent renders name bare when it lexes as one identifier that is not
// a keyword, and "double quoted" otherwise.
func quoteIdent(name string) string {
	bare := name != "" && isIdentStart(name[0]) && !keywords[asciiUpper(name)]
	for i := 1; bare && i < len(name); i++ {
		bare = isIdentChar(name[i])
	}
	if bare {
		return name
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}
