package bind

import (
	"strconv"
	"strings"

	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/sql/parser"
)

// numberLiteral types a number as DuckDB does: an integer that fits is
// int64; a number with a point is decimal(digits, digits after the point)
// while it fits 18 digits, else a double; one with an exponent is a
// double.
func numberLiteral(n *parser.NumberLit) (spec.Expr, error) {
	text := n.Text
	if !strings.ContainsAny(text, ".eE") {
		if v, err := strconv.ParseInt(text, 10, 64); err == nil {
			return &spec.Literal{Type: spec.Int64, Int: v}, nil
		}
	}
	if t, ok := decimalLiteralType(text); ok {
		if v, err := spec.ParseDecimal([]byte(text), t); err == nil {
			return &spec.Literal{Type: t, Int: v}, nil
		}
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return nil, errorf(n, "bad number %s", text)
	}
	return &spec.Literal{Type: spec.Float64, Float: f}, nil
}

// decimalLiteralType is the decimal type of a number written with a point
// and no exponent: DuckDB's, 0.05 is decimal(3,2) and 100.00 decimal(5,2).
func decimalLiteralType(text string) (spec.Type, bool) {
	text = strings.TrimPrefix(text, "-")
	whole, frac, ok := strings.Cut(text, ".")
	if !ok || strings.ContainsAny(text, "eE") {
		return spec.Null, false
	}
	if whole == "" {
		whole = "0"
	}
	p := len(whole) + len(frac)
	if p > spec.MaxDecimalPrecision {
		return spec.Null, false
	}
	return spec.DecimalType(p, len(frac)), true
}

// typedLiteral is DATE '...' or TIMESTAMP '...', checked here so that a bad
// value is an error at its position.
func typedLiteral(e *parser.TypedLit) (spec.Expr, error) {
	var t spec.Type
	switch e.Type {
	case "DATE":
		t = spec.Date
	case "TIMESTAMP":
		t = spec.Timestamp
	default:
		return nil, errorf(e, "%s literals are not supported", e.Type)
	}
	lit, ok := literalAs(e.Value, t)
	if !ok {
		return nil, errorf(e, "bad %s %q", strings.ToLower(e.Type), e.Value)
	}
	return lit, nil
}

// literalAs reads s as a constant of type t (a date, a timestamp or a
// decimal), as SQL reads a string compared with a column of that type.
func literalAs(s string, t spec.Type) (*spec.Literal, bool) {
	var (
		v   int64
		err error
	)
	b := []byte(strings.TrimSpace(s))
	switch {
	case t == spec.Date:
		v, err = spec.ParseDate(b)
	case t == spec.Timestamp:
		v, err = spec.ParseTimestamp(b)
	case t.IsDecimal():
		// The constant keeps its own scale: '0.055' compared with a
		// decimal(15,2) column must not round to 0.06.
		n, err := numberLiteral(&parser.NumberLit{Text: string(b)})
		lit, ok := n.(*spec.Literal)
		return lit, err == nil && ok && lit.Type != spec.Float64
	default:
		return nil, false
	}
	if err != nil {
		return nil, false
	}
	return &spec.Literal{Type: t, Int: v}, true
}

// intervalUnits maps an interval's unit to date_add's.
var intervalUnits = map[string]string{
	"YEAR": "year", "QUARTER": "quarter", "MONTH": "month", "WEEK": "week", "DAY": "day",
	"HOUR": "hour", "MINUTE": "minute", "SECOND": "second",
}

// dateArith binds x ± INTERVAL 'n' unit. A date constant is folded into a
// date (DATE '1998-12-01' - INTERVAL '90' DAY); anything else becomes
// date_add(unit, ±n, x).
func (x *exprCtx) dateArith(e *parser.BinaryExpr, iv *parser.IntervalLit) (spec.Expr, error) {
	n, unit, err := intervalParts(iv)
	if err != nil {
		return nil, err
	}
	if e.Op == "-" {
		n = -n
	}
	u, ok := intervalUnits[unit]
	if !ok {
		return nil, errorf(iv, "unsupported interval unit %s (want YEAR, QUARTER, MONTH, WEEK, DAY, HOUR, MINUTE or SECOND)", unit)
	}
	l, err := x.bind(e.L)
	if err != nil {
		return nil, err
	}
	if lit, ok := l.(*spec.Literal); ok && lit.Type == spec.Date && unit != "HOUR" && unit != "MINUTE" && unit != "SECOND" {
		return &spec.Literal{Type: spec.Date, Int: addToDays(lit.Int, u, n)}, nil
	}
	return &spec.Call{Func: "date_add", Args: []spec.Expr{
		&spec.Literal{Type: spec.String, Str: u},
		&spec.Literal{Type: spec.Int64, Int: int64(n)},
		l,
	}}, nil
}

// addToDays adds n units (year, quarter, month, week or day) to a date in
// days, clamping the day to the month's last as DuckDB's date + INTERVAL n
// MONTH does (Jan 31 + 1 month = Feb 28).
func addToDays(days int64, unit string, n int) int64 {
	months := map[string]int{"year": 12, "quarter": 3, "month": 1}[unit]
	if months == 0 {
		if unit == "week" {
			n *= 7
		}
		return days + int64(n)
	}
	y, m, d := spec.CivilFromDays(days)
	y, m = spec.FloorDivMod(y*12+m-1+int64(n*months), 12)
	m++
	return spec.DaysFromCivil(y, m, min(d, spec.DaysInMonth(y, m)))
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

// sqlType maps a SQL type name to the steps' type. DECIMAL without
// arguments is decimal(18,3), as in DuckDB.
func sqlType(t *parser.TypeName) (spec.Type, error) {
	switch t.Name {
	case "integer", "int", "int4", "int8", "bigint", "smallint", "tinyint", "int32", "int64":
		return spec.Int64, nil
	case "double", "double precision", "float", "float8", "float4", "real":
		return spec.Float64, nil
	case "decimal", "numeric":
		return decimalType(t)
	case "varchar", "text", "string", "char", "bpchar":
		return spec.String, nil
	case "boolean", "bool":
		return spec.Bool, nil
	case "date":
		return spec.Date, nil
	case "timestamp", "datetime":
		return spec.Timestamp, nil
	}
	return spec.Null, errorf(t, "unsupported type %s", t.Name)
}

// decimalType is DECIMAL, DECIMAL(p) or DECIMAL(p, s).
func decimalType(t *parser.TypeName) (spec.Type, error) {
	p, s := 18, 3
	if len(t.Args) > 0 {
		s = 0
	}
	var err error
	if len(t.Args) > 0 {
		p, err = strconv.Atoi(t.Args[0])
	}
	if err == nil && len(t.Args) > 1 {
		s, err = strconv.Atoi(t.Args[1])
	}
	if err != nil || len(t.Args) > 2 || p < 1 || p > spec.MaxDecimalPrecision || s < 0 || s > p {
		return spec.Null, errorf(t, "unsupported type %s(%s) (a decimal has 1 to %d digits and at most as many after the point)",
			t.Name, strings.Join(t.Args, ", "), spec.MaxDecimalPrecision)
	}
	return spec.DecimalType(p, s), nil
}

// like binds x [NOT] [I]LIKE 'pattern' [ESCAPE 'c']; the pattern must be a
// constant, which the LIKE kernel compiles once.
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
	return &spec.Like{X: v, Pattern: pat.Value, Escape: esc, Not: e.Not, ILike: e.ILike}, nil
}

// coerce makes a comparison's sides comparable where SQL converts
// implicitly: a string constant compared with a date, timestamp or decimal
// expression is read as a value of that type.
func (x *exprCtx) coerce(l, r spec.Expr) (spec.Expr, spec.Expr) {
	return x.coerceTo(l, r), x.coerceTo(r, l)
}

// coerceTo is e, or e read as other's type when e is a string constant and
// other a date, a timestamp or a decimal.
func (x *exprCtx) coerceTo(e, other spec.Expr) spec.Expr {
	lit, ok := e.(*spec.Literal)
	if !ok || lit.Type != spec.String {
		return e
	}
	t, err := spec.TypeOf(other, x.schema())
	if err != nil {
		return e
	}
	if v, ok := literalAs(lit.Str, t); ok {
		return v
	}
	return e
}

// trimmed is e, or, when e is a decimal constant whose product with other
// would need more than 18 digits, e without the zeros that end its
// fraction: x * 0.0001000000 (TPC-H Q11) multiplies by 0.0001, so a
// decimal(18,2) x gives decimal(18,6) rather than overflowing scale 12.
func (x *exprCtx) trimmed(e, other spec.Expr) spec.Expr {
	lit, ok := e.(*spec.Literal)
	if !ok || !lit.Type.IsDecimal() {
		return e
	}
	t, err := spec.TypeOf(other, x.schema())
	if t == spec.Int64 {
		t = spec.DecimalType(spec.MaxDecimalPrecision, 0) // as the product types it
	}
	if err != nil || !t.IsDecimal() || t.Precision()+lit.Type.Precision() <= spec.MaxDecimalPrecision {
		return e
	}
	v, p, s := lit.Int, lit.Type.Precision(), lit.Type.Scale()
	for s > 0 && v%10 == 0 {
		v, p, s = v/10, p-1, s-1
	}
	return &spec.Literal{Type: spec.DecimalType(max(p, 1), s), Int: v}
}
