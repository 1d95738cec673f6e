package spec

import (
	"reflect"
	"testing"
)

// typesSchema has a column of each new type, for the decimal, date and
// timestamp type rules.
var typesSchema = Schema{
	{Name: "price", Type: DecimalType(15, 2)},
	{Name: "disc", Type: DecimalType(3, 2)},
	{Name: "rate", Type: DecimalType(10, 4)},
	{Name: "big", Type: DecimalType(18, 0)},
	{Name: "tiny", Type: DecimalType(18, 12)},
	{Name: "qty", Type: Int64},
	{Name: "amount", Type: Float64},
	{Name: "name", Type: String},
	{Name: "ship", Type: Date},
	{Name: "recv", Type: Date},
	{Name: "ts", Type: Timestamp},
	{Name: "secs", Type: Int64},
	{Name: "flag", Type: Bool},
}

func TestTypeOfDecimalAndDate(t *testing.T) {
	tests := []struct {
		expr string
		want string
	}{
		// + - %: max integer digits + max scale + 1, capped at 18.
		{"price + price", "decimal(16,2)"},
		{"price - disc", "decimal(16,2)"},
		{"price + rate", "decimal(18,4)"},
		{"disc + rate", "decimal(11,4)"},
		{"price % disc", "decimal(16,2)"},
		{"big + tiny", "decimal(18,12)"},
		// *: p1 + p2 capped, s1 + s2.
		{"price * disc", "decimal(18,4)"},
		{"disc * disc", "decimal(6,4)"},
		{"price * (1 - disc)", "decimal(18,4)"},
		{"1 - disc", "decimal(18,2)"},
		// /: float64.
		{"price / disc", "float64"},
		{"price / 2", "float64"},
		// int64 acts as decimal(18,0); float64 wins.
		{"price + qty", "decimal(18,2)"},
		{"qty * disc", "decimal(18,2)"},
		{"price + amount", "float64"},
		{"price * 1.5", "float64"},
		{"-price", "decimal(15,2)"},
		{"NULL + price", "decimal(15,2)"},
		{"price * NULL", "decimal(15,2)"},
		// Comparisons across scales, with ints, floats; dates with timestamps.
		{"price = disc", "bool"},
		{"price < 10", "bool"},
		{"price > amount", "bool"},
		{"price IN (1, 2.5, disc)", "bool"},
		{"ship < recv", "bool"},
		{"ship <= ts", "bool"},
		{"ship BETWEEN DATE '1998-01-01' AND DATE '1998-12-31'", "bool"},
		{"ts >= TIMESTAMP '1998-01-01 10:00:00'", "bool"},
		// Unify.
		{"CASE WHEN flag THEN price ELSE rate END", "decimal(17,4)"},
		{"coalesce(disc, qty)", "decimal(18,2)"},
		{"coalesce(price, amount)", "float64"},
		{"coalesce(ship, ts)", "timestamp"},
		{"CASE WHEN flag THEN ship END", "date"},
		{"nullif(price, 0)", "decimal(15,2)"},
		// Dates.
		{"ship + 1", "date"},
		{"1 + ship", "date"},
		{"ship - 30", "date"},
		{"ship - recv", "int64"},
		{"ts - ts", "int64"},
		{"ship + NULL", "date"},
		{"date_add('month', 1, ship)", "date"},
		{"date_add('year', qty, ship)", "date"},
		{"date_add('hour', 2, ts)", "timestamp"},
		{"date_add('day', 2, ts)", "timestamp"},
		{"date_part('year', ship)", "int64"},
		{"date_part('quarter', ts)", "int64"},
		{"date_part('hour', secs)", "int64"},
		{"date_trunc('month', ship)", "date"},
		{"date_trunc('month', ts)", "timestamp"},
		{"date_trunc('day', secs)", "int64"},
		// Casts.
		{"CAST(name AS decimal(15,2))", "decimal(15,2)"},
		{"CAST(price AS decimal(10,0))", "decimal(10,0)"},
		{"CAST(price AS int64)", "int64"},
		{"CAST(price AS double)", "float64"},
		{"CAST(qty AS decimal(18,0))", "decimal(18,0)"},
		{"CAST(amount AS numeric(5,1))", "decimal(5,1)"},
		{"CAST(price AS string)", "string"},
		{"CAST(name AS date)", "date"},
		{"CAST(name AS timestamp)", "timestamp"},
		{"CAST(ship AS timestamp)", "timestamp"},
		{"CAST(ts AS date)", "date"},
		{"CAST('0.05' AS decimal(3,2))", "decimal(3,2)"},
		// Functions on decimals.
		{"abs(price)", "decimal(15,2)"},
		{"floor(price)", "decimal(15,0)"},
		{"ceil(rate)", "decimal(10,0)"},
		{"round(price)", "decimal(15,0)"},
		{"round(rate, 2)", "decimal(10,2)"},
		{"round(rate, 6)", "decimal(10,4)"},
		{"round(rate, -1)", "decimal(10,0)"},
	}
	for _, tt := range tests {
		e, err := ParseExpr(tt.expr)
		if err != nil {
			t.Fatalf("ParseExpr(%q): %v", tt.expr, err)
		}
		got, err := TypeOf(e, typesSchema)
		if err != nil || got.String() != tt.want {
			t.Errorf("TypeOf(%q) = %s, %v; want %s", tt.expr, got, err, tt.want)
		}
	}
}

func TestTypeOfDecimalAndDateErrors(t *testing.T) {
	tests := []struct {
		expr string
		want string
	}{
		{"tiny * tiny", `spec: operator * gives a decimal scale of 24, more than 18, got decimal(18,12) and decimal(18,12) in "tiny * tiny"`},
		{"ship + ship", `spec: operator + takes a date and an int64 (days) for + and -, or two dates for -, got date and date in "ship + ship"`},
		{"ship * 2", `spec: operator * takes a date and an int64 (days) for + and -, or two dates for -, got date and int64 in "ship * 2"`},
		{"ship + price", `spec: operator + takes a date and an int64 (days) for + and -, or two dates for -, got date and decimal(15,2) in "ship + price"`},
		{"ship - ts", `spec: operator - is not defined on timestamps except timestamp - timestamp (use date_add), got date and timestamp in "ship - ts"`},
		{"ts + 1", `spec: operator + is not defined on timestamps except timestamp - timestamp (use date_add), got timestamp and int64 in "ts + 1"`},
		{"-ship", `spec: unary - needs a number, got date in "-ship"`},
		{"ship = 1", `spec: cannot compare date with int64 in "ship = 1"`},
		{"ship = '1998-01-01'", `spec: cannot compare date with string in "ship = '1998-01-01'"`},
		{"price = name", `spec: cannot compare decimal(15,2) with string in "price = name"`},
		{"CASE WHEN flag THEN ship ELSE qty END", `spec: CASE results have incompatible types date and int64 in "CASE WHEN flag THEN ship ELSE qty END"`},
		{"CAST(ship AS int64)", `spec: cannot cast date to int64 in "CAST(ship AS int64)"`},
		{"CAST(qty AS date)", `spec: cannot cast int64 to date in "CAST(qty AS date)"`},
		{"CAST(flag AS decimal(3,1))", `spec: cannot cast bool to decimal(3,1) in "CAST(flag AS decimal(3,1))"`},
		{"round(price, qty)", `spec: argument 2 of round must be an int64 literal when rounding a decimal in "round(price, qty)"`},
		{"abs(ship)", `spec: argument 1 of abs must be a number, got date in "abs(ship)"`},
		{"date_add('hour', 1, ship)", `spec: date_add unit "hour" needs a timestamp, got a date in "date_add('hour', 1, ship)" (CAST it AS timestamp)`},
		{"date_add('fortnight', 1, ship)", `spec: date_add unit "fortnight" is unknown in "date_add('fortnight', 1, ship)" (want year, quarter, month, week, day, hour, minute, second, millisecond, microsecond)`},
		{"date_add('day', 1.5, ship)", `spec: argument 2 of date_add must be int64, got float64 in "date_add('day', 1.5, ship)"`},
		{"date_add('day', 1, qty)", `spec: argument 3 of date_add must be a date or a timestamp, got int64 in "date_add('day', 1, qty)"`},
		{"date_add(name, 1, ship)", `spec: argument 1 of date_add must be a string literal in "date_add(name, 1, ship)"`},
		{"date_part('year', price)", `spec: argument 2 of date_part must be a date, a timestamp or int64 unix seconds, got decimal(15,2) in "date_part('year', price)"`},
		{"date_trunc('decade', ship)", `spec: date_trunc unit "decade" is unknown in "date_trunc('decade', ship)" (want year, quarter, month, week, day, hour, minute, second)`},
	}
	for _, tt := range tests {
		e, err := ParseExpr(tt.expr)
		if err != nil {
			t.Fatalf("ParseExpr(%q): %v", tt.expr, err)
		}
		got, err := TypeOf(e, typesSchema)
		if err == nil || err.Error() != tt.want {
			t.Errorf("TypeOf(%q) = %s, %v;\nwant error %s", tt.expr, got, err, tt.want)
		}
	}
}

func TestUnifyAndArithType(t *testing.T) {
	d := DecimalType
	unify := []struct {
		a, b, want Type
		ok         bool
	}{
		{d(15, 2), d(10, 4), d(17, 4), true},
		{d(15, 2), d(15, 2), d(15, 2), true},
		{d(3, 2), Int64, d(18, 2), true},
		{Int64, d(3, 2), d(18, 2), true},
		{d(18, 0), d(18, 12), d(18, 12), true},
		{d(3, 2), Float64, Float64, true},
		{Null, d(3, 2), d(3, 2), true},
		{Date, Timestamp, Timestamp, true},
		{Timestamp, Date, Timestamp, true},
		{Date, Int64, Null, false},
		{d(3, 2), String, Null, false},
		{Bool, d(3, 2), Null, false},
	}
	for _, u := range unify {
		got, ok := Unify(u.a, u.b)
		if got != u.want || ok != u.ok {
			t.Errorf("Unify(%s, %s) = %s, %v; want %s, %v", u.a, u.b, got, ok, u.want, u.ok)
		}
	}
	arith := []struct {
		op      BinaryOp
		a, b, w Type
	}{
		{OpAdd, d(15, 2), d(3, 2), d(16, 2)},
		{OpSub, d(5, 0), d(5, 5), d(11, 5)},
		{OpMul, d(9, 3), d(9, 3), d(18, 6)},
		{OpMul, d(12, 1), d(12, 1), d(18, 2)},
		{OpMod, d(15, 2), Int64, d(18, 2)},
		{OpDiv, d(15, 2), d(3, 2), Float64},
		{OpMul, d(18, 10), d(18, 10), Null}, // scale 20
		{OpAdd, Date, Int64, Date},
		{OpSub, Date, Date, Int64},
		{OpSub, Timestamp, Timestamp, Int64},
		{OpAdd, Timestamp, Int64, Null},
		{OpAdd, Int64, Int64, Int64},
		{OpDiv, Int64, Int64, Float64},
	}
	for _, a := range arith {
		if got := ArithType(a.op, a.a, a.b); got != a.w {
			t.Errorf("ArithType(%s, %s, %s) = %s, want %s", a.op, a.a, a.b, got, a.w)
		}
	}
}

func TestLiteralStringRoundTrip(t *testing.T) {
	lits := []*Literal{
		{Type: DecimalType(3, 2), Int: 5},
		{Type: DecimalType(3, 2), Int: -5},
		{Type: DecimalType(15, 2), Int: 12340},
		{Type: DecimalType(18, 0), Int: 999999999999999999},
		{Type: DecimalType(18, 18), Int: -999999999999999999},
		{Type: Date, Int: 10561},
		{Type: Date, Int: -719162},
		{Type: Timestamp, Int: 10561*MicrosPerDay + 36000*MicrosPerSecond},
		{Type: Timestamp, Int: 10561*MicrosPerDay + 1},
		{Type: Timestamp, Int: -1},
	}
	want := []string{
		"CAST('0.05' AS decimal(3,2))",
		"CAST('-0.05' AS decimal(3,2))",
		"CAST('123.40' AS decimal(15,2))",
		"CAST('999999999999999999' AS decimal(18,0))",
		"CAST('-0.999999999999999999' AS decimal(18,18))",
		"DATE '1998-12-01'",
		"DATE '0001-01-01'",
		"TIMESTAMP '1998-12-01 10:00:00'",
		"TIMESTAMP '1998-12-01 00:00:00.000001'",
		"TIMESTAMP '1969-12-31 23:59:59.999999'",
	}
	for i, l := range lits {
		s := l.String()
		if s != want[i] {
			t.Errorf("Literal %s %d: String() = %q, want %q", l.Type, l.Int, s, want[i])
		}
		back, err := ParseExpr(s)
		if err != nil {
			t.Errorf("ParseExpr(%q): %v", s, err)
			continue
		}
		if !reflect.DeepEqual(back, Expr(l)) {
			t.Errorf("ParseExpr(%q) = %#v, want %#v", s, back, l)
		}
		// And inside a larger expression.
		e := &Binary{Op: OpLt, L: &Column{Name: "x"}, R: l}
		if back, err := ParseExpr(e.String()); err != nil || !reflect.DeepEqual(back, Expr(e)) {
			t.Errorf("ParseExpr(%q) = %v, %v", e.String(), back, err)
		}
	}
	// A bare 0.05 stays float64; a decimal cast of a non-literal stays a cast.
	if e, _ := ParseExpr("0.05"); !reflect.DeepEqual(e, Expr(&Literal{Type: Float64, Float: 0.05})) {
		t.Errorf("ParseExpr(0.05) = %#v", e)
	}
	e, err := ParseExpr("CAST(x AS decimal(15, 2))")
	if err != nil || !reflect.DeepEqual(e, Expr(&Cast{X: &Column{Name: "x"}, To: DecimalType(15, 2)})) {
		t.Errorf("ParseExpr(CAST(x AS decimal(15, 2))) = %#v, %v", e, err)
	}
	if e, err := ParseExpr("CAST('abc' AS decimal(3,2))"); err != nil || e.String() != "CAST('abc' AS decimal(3,2))" {
		t.Errorf("ParseExpr(CAST('abc' AS decimal(3,2))) = %v, %v", e, err)
	}
	// A column may still be called date.
	if e, err := ParseExpr("date + 1"); err != nil || e.String() != "date + 1" {
		t.Errorf("ParseExpr(date + 1) = %v, %v", e, err)
	}
}

func TestParseTypedLiteralErrors(t *testing.T) {
	tests := []struct{ src, want string }{
		{"DATE '1998-02-30'", `spec: expression "DATE '1998-02-30'": line 1 col 6: invalid date string '1998-02-30'`},
		{"TIMESTAMP 'noon'", `spec: expression "TIMESTAMP 'noon'": line 1 col 11: invalid timestamp string 'noon'`},
		{"x 'y'", `spec: expression "x 'y'": line 1 col 3: expected an operator or end of input, found string 'y'`},
		{"CAST(x AS decimal(20,2))", `spec: expression "CAST(x AS decimal(20,2))": line 1 col 11: type "decimal(20,2)": precision must be 1 to 18`},
		{"CAST(x AS decimal(a))", `spec: expression "CAST(x AS decimal(a))": line 1 col 19: expected a number in the type decimal, found "a"`},
	}
	for _, tt := range tests {
		if _, err := ParseExpr(tt.src); err == nil || err.Error() != tt.want {
			t.Errorf("ParseExpr(%q) error:\n got %v\nwant %s", tt.src, err, tt.want)
		}
	}
}
