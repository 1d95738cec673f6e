package bind

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/sql/parser"
)

// numberLiteral types a number as DuckDB does: an integer that fits is
// int64; anything with a point or an exponent is a double.
func numberLiteral(n *parser.NumberLit) (spec.Expr, error) {
	if !strings.ContainsAny(n.Text, ".eE") {
		if v, err := strconv.ParseInt(n.Text, 10, 64); err == nil {
			return &spec.Literal{Type: spec.Int64, Int: v}, nil
		}
	}
	f, err := strconv.ParseFloat(n.Text, 64)
	if err != nil {
		return nil, errorf(n, "bad number %s", n.Text)
	}
	return &spec.Literal{Type: spec.Float64, Float: f}, nil
}

// dateLayout is how DATE literals are written.
const dateLayout = "2006-01-02"

// typedLiteral is DATE '...' (a date), checked here so that a bad date is
// an error at its position.
func typedLiteral(e *parser.TypedLit) (spec.Expr, error) {
	switch e.Type {
	case "DATE":
		d, err := time.Parse(dateLayout, e.Value)
		if err != nil {
			return nil, errorf(e, "bad date %q (want YYYY-MM-DD)", e.Value)
		}
		return dateLiteral(d), nil
	}
	return nil, errorf(e, "%s literals are not supported", e.Type)
}

// dateLiteral is the value of a date in the plan: its YYYY-MM-DD text,
// which orders as the date does.
func dateLiteral(d time.Time) spec.Expr {
	return &spec.Literal{Type: spec.String, Str: d.Format(dateLayout)}
}

// dateArith folds DATE 'x' ± INTERVAL 'n' unit into a date.
func (x *exprCtx) dateArith(e *parser.BinaryExpr, iv *parser.IntervalLit) (spec.Expr, error) {
	lit, ok := e.L.(*parser.TypedLit)
	if !ok || lit.Type != "DATE" {
		return nil, errorf(e, "an interval is supported only added to or subtracted from a date constant")
	}
	d, err := time.Parse(dateLayout, lit.Value)
	if err != nil {
		return nil, errorf(lit, "bad date %q (want YYYY-MM-DD)", lit.Value)
	}
	n, unit, err := intervalParts(iv)
	if err != nil {
		return nil, err
	}
	if e.Op == "-" {
		n = -n
	}
	switch unit {
	case "DAY":
		d = d.AddDate(0, 0, n)
	case "MONTH":
		d = addMonths(d, n)
	case "YEAR":
		d = addMonths(d, 12*n)
	default:
		return nil, errorf(iv, "unsupported interval unit %s (want DAY, MONTH or YEAR)", unit)
	}
	return dateLiteral(d), nil
}

// addMonths moves d by n months, clamping the day to the month's last, as
// DuckDB's date + INTERVAL n MONTH does (Jan 31 + 1 month = Feb 28).
func addMonths(d time.Time, n int) time.Time {
	first := time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, n, 0)
	last := first.AddDate(0, 1, -1).Day()
	return first.AddDate(0, 0, min(d.Day(), last)-1)
}

// intervalParts reads INTERVAL '3' MONTH, INTERVAL 3 MONTHS and
// INTERVAL '3 months'.
func intervalParts(iv *parser.IntervalLit) (int, string, error) {
	var text string
	switch v := iv.Value.(type) {
	case *parser.StringLit:
		text = v.Value
	case *parser.NumberLit:
		text = v.Text
	}
	unit := iv.Unit
	if unit == "" {
		fields := strings.Fields(text)
		if len(fields) != 2 {
			return 0, "", errorf(iv, "bad interval %q (want a number and a unit)", text)
		}
		text, unit = fields[0], strings.ToUpper(fields[1])
	}
	n, err := strconv.Atoi(strings.TrimSpace(text))
	if err != nil {
		return 0, "", errorf(iv, "bad interval %q (want a whole number)", text)
	}
	return n, strings.TrimSuffix(unit, "S"), nil
}

// sqlType maps a SQL type name to the steps' type.
func sqlType(t *parser.TypeName) (spec.Type, error) {
	switch t.Name {
	case "integer", "int", "int4", "int8", "bigint", "smallint", "tinyint", "hugeint", "int32", "int64":
		return spec.Int64, nil
	case "double", "double precision", "float", "float8", "float4", "real", "decimal", "numeric":
		return spec.Float64, nil
	case "varchar", "text", "string", "char", "bpchar":
		return spec.String, nil
	case "boolean", "bool":
		return spec.Bool, nil
	case "date":
		return spec.String, nil
	}
	return spec.Null, errorf(t, "unsupported type %s", t.Name)
}

// like binds x [NOT] [I]LIKE 'pattern' as a match of an anchored regular
// expression; the pattern must be a constant.
func (x *exprCtx) like(e *parser.LikeExpr) (spec.Expr, error) {
	v, err := x.bind(e.X)
	if err != nil {
		return nil, err
	}
	pat, ok := e.Pattern.(*parser.StringLit)
	if !ok {
		return nil, errorf(e.Pattern, "a LIKE pattern must be a string constant")
	}
	var esc byte
	if e.Escape != nil {
		s, ok := e.Escape.(*parser.StringLit)
		if !ok || len(s.Value) != 1 {
			return nil, errorf(e.Escape, "ESCAPE must be one character in quotes")
		}
		esc = s.Value[0]
	}
	re := likeRegexp(pat.Value, esc, e.ILike)
	var out spec.Expr = &spec.Call{Func: "regexp_like", Args: []spec.Expr{v, &spec.Literal{Type: spec.String, Str: re}}}
	if e.Not {
		out = &spec.Unary{Op: spec.OpNot, X: out}
	}
	return out, nil
}

// likeRegexp translates a LIKE pattern: % is any run of characters, _ one
// character, esc quotes the next character.
func likeRegexp(pat string, esc byte, fold bool) string {
	var sb strings.Builder
	sb.WriteString("(?s)")
	if fold {
		sb.WriteString("(?i)")
	}
	sb.WriteByte('^')
	var lit strings.Builder // literal characters not yet written
	flush := func() { sb.WriteString(regexp.QuoteMeta(lit.String())); lit.Reset() }
	rs := []rune(pat)
	for i := 0; i < len(rs); i++ {
		switch c := rs[i]; {
		case esc != 0 && c == rune(esc) && i+1 < len(rs):
			i++
			lit.WriteRune(rs[i])
		case c == '%':
			flush()
			sb.WriteString(".*")
		case c == '_':
			flush()
			sb.WriteByte('.')
		default:
			lit.WriteRune(c)
		}
	}
	flush()
	sb.WriteByte('$')
	return sb.String()
}

// coerce makes a comparison's sides comparable where SQL converts
// implicitly: a string constant compared with a typed column is read as
// that type.
func (x *exprCtx) coerce(l, r spec.Expr) (spec.Expr, spec.Expr) {
	return l, r
}
