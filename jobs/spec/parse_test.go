package spec

import (
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestParseExprString(t *testing.T) {
	tests := []struct{ src, want string }{
		{"amount", "amount"},
		{"  amount  ", "amount"},
		{`"order date"`, `"order date"`},
		{`"select"`, "select"},
		{`"and"`, `"and"`},
		{`"a""b"`, `"a""b"`},
		{"Amount", "Amount"},
		{"42", "42"},
		{"-42", "-42"},
		{"- 42", "-42"},
		{"+42", "42"},
		{"-9223372036854775808", "-9223372036854775808"},
		{"1.5", "1.5"},
		{"1.", "1.0"},
		{".5", "0.5"},
		{"1e3", "1000.0"},
		{"2.5E-3", "0.0025"},
		{"1e21", "1e+21"},
		{"'it''s'", "'it''s'"},
		{"''", "''"},
		{"true", "TRUE"},
		{"False", "FALSE"},
		{"null", "NULL"},
		{"a + b * c", "a + b * c"},
		{"(a + b) * c", "(a + b) * c"},
		{"a - (b - c)", "a - (b - c)"},
		{"(a - b) - c", "a - b - c"},
		{"a / b % c", "a / b % c"},
		{"a || b || 'x'", "a || b || 'x'"},
		{"a || (b + 1)", "a || b + 1"},
		{"-a * b", "-a * b"},
		{"-(a * b)", "-(a * b)"},
		{"-(5)", "-(5)"},
		{"- -a", "-(-a)"},
		{"a - -5", "a - -5"},
		{"a = 1 AND b <> 2 OR c", "a = 1 AND b <> 2 OR c"},
		{"a = 1 AND (b <> 2 OR c)", "a = 1 AND (b <> 2 OR c)"},
		{"a != 1", "a <> 1"},
		{"a <= 1 and b >= 2", "a <= 1 AND b >= 2"},
		{"NOT a AND b", "NOT a AND b"},
		{"NOT (a AND b)", "NOT (a AND b)"},
		{"NOT a = b", "NOT a = b"},
		{"(NOT a) = b", "(NOT a) = b"},
		{"a = (NOT b)", "a = (NOT b)"},
		{"NOT NOT a", "NOT NOT a"},
		{"a AND NOT b", "a AND NOT b"},
		{"x IN (1, 2, 3)", "x IN (1, 2, 3)"},
		{"x not in ('a')", "x NOT IN ('a')"},
		{"NOT x IN (1)", "NOT x IN (1)"},
		{"x + 1 IN (y, NULL)", "x + 1 IN (y, NULL)"},
		{"(a = b) IN (TRUE)", "a = b IN (TRUE)"},
		{"a = (b IN (1))", "a = (b IN (1))"},
		{"x IS NULL", "x IS NULL"},
		{"x is not null", "x IS NOT NULL"},
		{"x + 1 IS NULL OR y", "x + 1 IS NULL OR y"},
		{"x BETWEEN 1 AND 10", "x >= 1 AND x <= 10"},
		{"x NOT BETWEEN 1 AND 10", "x < 1 OR x > 10"},
		{"x BETWEEN 1 AND 2 AND y", "x >= 1 AND x <= 2 AND y"},
		{"x BETWEEN a + 1 AND b * 2", "x >= a + 1 AND x <= b * 2"},
		{"LOWER(Name)", "lower(Name)"},
		{"f()", "f()"},
		{"substr(s, 1, 2)", "substr(s, 1, 2)"},
		{"coalesce(a, b, 0) + 1", "coalesce(a, b, 0) + 1"},
		{"CASE WHEN a > 1 THEN 'x' WHEN a > 0 THEN 'y' ELSE 'z' END", "CASE WHEN a > 1 THEN 'x' WHEN a > 0 THEN 'y' ELSE 'z' END"},
		{"case a when 1 then 'one' when 2 then 'two' end", "CASE WHEN a = 1 THEN 'one' WHEN a = 2 THEN 'two' END"},
		{"CASE WHEN a THEN b END + 1", "CASE WHEN a THEN b END + 1"},
		{"cast(x AS double)", "CAST(x AS float64)"},
		{"CAST(a + 1 AS varchar) || 'x'", "CAST(a + 1 AS string) || 'x'"},
		{"-CAST(x AS int)", "-CAST(x AS int64)"},
		{"try_cast(x AS int)", "TRY_CAST(x AS int64)"},
		{"a\n  AND b", "a AND b"},
		{"name LIKE 'PROMO%'", "name LIKE 'PROMO%'"},
		{"name not like '%x_'", "name NOT LIKE '%x_'"},
		{"name ILIKE 'a%' AND b", "name ILIKE 'a%' AND b"},
		{"name NOT ILIKE 'a'", "name NOT ILIKE 'a'"},
		{`name LIKE 'a\%' ESCAPE '\'`, `name LIKE 'a\%' ESCAPE '\'`},
		{`name LIKE 'a''%' escape ''''`, `name LIKE 'a''%' ESCAPE ''''`},
		{"name LIKE 'a' ESCAPE ''", "name LIKE 'a'"},
		{"a || b LIKE 'x'", "a || b LIKE 'x'"},
		{"TRUE = (x LIKE 'a')", "TRUE = (x LIKE 'a')"},
		{"(x LIKE 'a') = TRUE", "x LIKE 'a' = TRUE"},
		{"NOT x LIKE 'a'", "NOT x LIKE 'a'"},
		{"(a = b) LIKE 'x'", "a = b LIKE 'x'"},
		{`"like" LIKE 'x'`, `"like" LIKE 'x'`},
		{"a IS DISTINCT FROM b", "CASE WHEN a IS NULL THEN b IS NOT NULL WHEN b IS NULL THEN TRUE ELSE a <> b END"},
		{"a is not distinct from b + 1", "CASE WHEN a IS NULL THEN b + 1 IS NULL WHEN b + 1 IS NULL THEN FALSE ELSE a = b + 1 END"},
		{"substring(s, 2, 3)", "substring(s, 2, 3)"},
	}
	for _, tt := range tests {
		e, err := ParseExpr(tt.src)
		if err != nil {
			t.Errorf("ParseExpr(%q): %v", tt.src, err)
			continue
		}
		if got := e.String(); got != tt.want {
			t.Errorf("ParseExpr(%q).String() = %q, want %q", tt.src, got, tt.want)
		}
		again, err := ParseExpr(e.String())
		if err != nil {
			t.Errorf("ParseExpr(%q) of the String of %q: %v", e.String(), tt.src, err)
		} else if !reflect.DeepEqual(again, e) {
			t.Errorf("ParseExpr(%q) = %#v, want the tree of %q", e.String(), again, tt.src)
		}
	}
}

func TestParseExprTree(t *testing.T) {
	col := func(n string) Expr { return &Column{Name: n} }
	i64 := func(v int64) Expr { return &Literal{Type: Int64, Int: v} }
	tests := []struct {
		src  string
		want Expr
	}{
		{"-5", i64(-5)},
		{"-(5)", &Unary{Op: OpNeg, X: i64(5)}},
		{"-a", &Unary{Op: OpNeg, X: col("a")}},
		{"1.5", &Literal{Type: Float64, Float: 1.5}},
		{"'x'", &Literal{Type: String, Str: "x"}},
		{"NULL", &Literal{}},
		{"a + 2 * b", &Binary{Op: OpAdd, L: col("a"), R: &Binary{Op: OpMul, L: i64(2), R: col("b")}}},
		{"a BETWEEN 1 AND 2", &Binary{Op: OpAnd,
			L: &Binary{Op: OpGe, L: col("a"), R: i64(1)},
			R: &Binary{Op: OpLe, L: col("a"), R: i64(2)}}},
		{"NOT a IN (1)", &Unary{Op: OpNot, X: &In{X: col("a"), List: []Expr{i64(1)}}}},
		{"a NOT IN (1)", &In{X: col("a"), List: []Expr{i64(1)}, Not: true}},
		{"CASE a WHEN 1 THEN 2 ELSE 3 END", &Case{
			Whens: []When{{Cond: &Binary{Op: OpEq, L: col("a"), R: i64(1)}, Then: i64(2)}},
			Else:  i64(3)}},
		{"CAST(a AS bigint)", &Cast{X: col("a"), To: Int64}},
		{"TRY_CAST(a AS bigint)", &Cast{X: col("a"), To: Int64, Try: true}},
		{"Upper(a)", &Call{Func: "upper", Args: []Expr{col("a")}}},
		{"x IS NOT NULL", &IsNull{X: col("x"), Not: true}},
		{"x NOT ILIKE 'a!%' ESCAPE '!'", &Like{X: col("x"), Pattern: "a!%", Escape: '!', Not: true, ILike: true}},
		{"x LIKE 'a' OR y", &Binary{Op: OpOr, L: &Like{X: col("x"), Pattern: "a"}, R: col("y")}},
	}
	for _, tt := range tests {
		got, err := ParseExpr(tt.src)
		if err != nil {
			t.Errorf("ParseExpr(%q): %v", tt.src, err)
		} else if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseExpr(%q) = %s (%#v), want %s", tt.src, got, got, tt.want)
		}
	}
}

// TestExprStringOfBuiltTrees covers trees the parser does not build, as the
// Go builder may.
func TestExprStringOfBuiltTrees(t *testing.T) {
	tests := []struct {
		e    Expr
		want string
	}{
		{&Unary{Op: OpNeg, X: &Literal{Type: Int64, Int: -5}}, "-(-5)"},
		{&Binary{Op: OpSub, L: &Column{Name: "a"}, R: &Literal{Type: Float64, Float: -0.5}}, "a - -0.5"},
		{&Literal{Type: Float64, Float: 3}, "3.0"},
		{&Literal{Type: Float64, Float: math.Inf(1)}, "CAST('+Inf' AS float64)"},
		{&Column{Name: "has space"}, `"has space"`},
		{&Column{Name: "1abc"}, `"1abc"`},
		{&Column{Name: "NULL"}, `"NULL"`},
		{&Binary{Op: OpMul, L: &Binary{Op: OpAdd, L: &Column{Name: "a"}, R: &Column{Name: "b"}}, R: &In{X: &Column{Name: "c"}, List: []Expr{&Literal{}}}},
			"(a + b) * (c IN (NULL))"},
	}
	for _, tt := range tests {
		if got := tt.e.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.e, got, tt.want)
		}
	}
}

func TestParseExprErrors(t *testing.T) {
	tests := []struct{ src, want string }{
		{"amount >", `spec: expression "amount >": line 1 col 9: expected an operand, found end of input`},
		{"", `spec: expression "": line 1 col 1: expected an operand, found end of input`},
		{"a b", `spec: expression "a b": line 1 col 3: expected an operator or end of input, found "b"`},
		{"(a + 1", `spec: expression "(a + 1": line 1 col 7: expected ")", found end of input`},
		{"a + 1)", `spec: expression "a + 1)": line 1 col 6: expected an operator or end of input, found ")"`},
		{"f(a b)", `spec: expression "f(a b)": line 1 col 5: expected "," or ")", found "b"`},
		{"f(a,)", `spec: expression "f(a,)": line 1 col 5: expected an operand, found ")"`},
		{"'abc", `spec: expression "'abc": line 1 col 1: unterminated quoted string`},
		{`"abc`, `spec: expression "\"abc": line 1 col 1: unterminated quoted identifier`},
		{`""`, `spec: expression "\"\"": line 1 col 1: empty quoted identifier`},
		{"a # b", `spec: expression "a # b": line 1 col 3: unexpected character '#'`},
		{"a == b", `spec: expression "a == b": line 1 col 4: expected an operand, found "="`},
		{"12abc", `spec: expression "12abc": line 1 col 1: malformed number "12abc"`},
		{"1e", `spec: expression "1e": line 1 col 1: malformed number "1e": expected digits after the exponent`},
		{"99999999999999999999", `spec: expression "99999999999999999999": line 1 col 1: integer 99999999999999999999 out of range for int64`},
		{"1e999", `spec: expression "1e999": line 1 col 1: number 1e999 out of range for float64`},
		{"x IN ()", `spec: expression "x IN ()": line 1 col 7: expected at least one value in the IN list`},
		{"x IN 1", `spec: expression "x IN 1": line 1 col 6: expected "(", found "1"`},
		{"x IS 1", `spec: expression "x IS 1": line 1 col 6: expected NULL after IS, found "1"`},
		{"x BETWEEN 1", `spec: expression "x BETWEEN 1": line 1 col 12: expected AND in BETWEEN, found end of input`},
		{"CASE END", `spec: expression "CASE END": line 1 col 6: expected WHEN in CASE, found END`},
		{"CASE WHEN a 1 END", `spec: expression "CASE WHEN a 1 END": line 1 col 13: expected THEN after WHEN, found "1"`},
		{"CASE WHEN a THEN 1", `spec: expression "CASE WHEN a THEN 1": line 1 col 19: expected END to close CASE, found end of input`},
		{"CAST(x AS blob)", `spec: expression "CAST(x AS blob)": line 1 col 11: unknown type "blob" (want int64, float64, string, bool, date, timestamp or decimal(p,s))`},
		{"CAST(x, int)", `spec: expression "CAST(x, int)": line 1 col 7: expected AS in CAST, found ","`},
		{"a AND", `spec: expression "a AND": line 1 col 6: expected an operand, found end of input`},
		{"a AND\n  OR b", `spec: expression "a AND\n  OR b": line 2 col 3: expected an operand, found OR`},
		{"SELECT a", `spec: expression "SELECT a": line 1 col 8: expected an operator or end of input, found "a"`},
		{"x = 'a' 'b'", `spec: expression "x = 'a' 'b'": line 1 col 9: expected an operator or end of input, found string 'b'`},
		{"x LIKE y", `spec: expression "x LIKE y": line 1 col 8: expected a string literal pattern after LIKE, found "y"`},
		{"x LIKE 'a' ESCAPE 'ab'", `spec: expression "x LIKE 'a' ESCAPE 'ab'": line 1 col 19: expected one ASCII character in quotes after ESCAPE, found string 'ab'`},
		{`x LIKE 'a\' ESCAPE '\'`, `spec: expression "x LIKE 'a\\' ESCAPE '\\'": line 1 col 8: LIKE pattern 'a\' ends with its escape character`},
		{"x IS DISTINCT y", `spec: expression "x IS DISTINCT y": line 1 col 15: expected FROM after IS DISTINCT, found "y"`},
		{"x NOT LIKE", `spec: expression "x NOT LIKE": line 1 col 11: expected a string literal pattern after LIKE, found end of input`},
		{strings.Repeat("-", 1001) + "a", `spec: expression "` + strings.Repeat("-", 1001) + `a": line 1 col 1001: expression nested more than 1000 deep`},
	}
	for _, tt := range tests {
		e, err := ParseExpr(tt.src)
		if err == nil {
			t.Errorf("ParseExpr(%q) = %s, want error %s", tt.src, e, tt.want)
		} else if err.Error() != tt.want {
			t.Errorf("ParseExpr(%q) error:\n got %s\nwant %s", tt.src, err, tt.want)
		}
	}
}

func TestParseNamedExpr(t *testing.T) {
	tests := []struct{ src, expr, alias, err string }{
		{src: "amount", expr: "amount", alias: "amount"},
		{src: `"order id"`, expr: `"order id"`, alias: "order id"},
		{src: "amount * 2 AS double_amount", expr: "amount * 2", alias: "double_amount"},
		{src: "amount as a", expr: "amount", alias: "a"},
		{src: `lower(name) AS "Name"`, expr: "lower(name)", alias: "Name"},
		{src: "amount * 2", err: `spec: select item "amount * 2" needs a name: write "amount * 2 AS name"`},
		{src: "amount AS", err: `spec: expression "amount AS": line 1 col 10: expected an alias after AS, found end of input`},
		{src: "amount AS a b", err: `spec: expression "amount AS a b": line 1 col 13: expected an operator or end of input, found "b"`},
	}
	for _, tt := range tests {
		got, err := ParseNamedExpr(tt.src)
		switch {
		case tt.err != "":
			if err == nil || err.Error() != tt.err {
				t.Errorf("ParseNamedExpr(%q) = %v, %v; want error %s", tt.src, got, err, tt.err)
			}
		case err != nil:
			t.Errorf("ParseNamedExpr(%q): %v", tt.src, err)
		case got.Expr.String() != tt.expr || got.Alias != tt.alias:
			t.Errorf("ParseNamedExpr(%q) = %s AS %q, want %s AS %q", tt.src, got.Expr, got.Alias, tt.expr, tt.alias)
		}
	}
}

func TestParseSortKey(t *testing.T) {
	tests := []struct {
		src  string
		want SortKey
		err  string
	}{
		{src: "amount", want: SortKey{Column: "amount"}},
		{src: "amount DESC", want: SortKey{Column: "amount", Desc: true}},
		{src: "amount asc", want: SortKey{Column: "amount"}},
		{src: `"user id" desc`, want: SortKey{Column: "user id", Desc: true}},
		{src: "amount DESC NULLS LAST", want: SortKey{Column: "amount", Desc: true, Nulls: NullsLast}},
		{src: "amount nulls first", want: SortKey{Column: "amount", Nulls: NullsFirst}},
		{src: "amount ASC NULLS LAST", want: SortKey{Column: "amount", Nulls: NullsLast}},
		{src: "amount NULLS", err: `spec: expression "amount NULLS": line 1 col 13: expected FIRST or LAST after NULLS, found end of input`},
		{src: "amount NULLS LAST DESC", err: `spec: expression "amount NULLS LAST DESC": line 1 col 19: expected ASC, DESC, NULLS FIRST, NULLS LAST or end of input, found "DESC"`},
		{src: "amount down", err: `spec: expression "amount down": line 1 col 8: expected ASC, DESC, NULLS FIRST, NULLS LAST or end of input, found "down"`},
		{src: "1", err: `spec: expression "1": line 1 col 1: expected a column name, found "1"`},
	}
	for _, tt := range tests {
		got, err := ParseSortKey(tt.src)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("ParseSortKey(%q) = %v, %v; want error %s", tt.src, got, err, tt.err)
			}
		} else if err != nil || got != tt.want {
			t.Errorf("ParseSortKey(%q) = %v, %v; want %v", tt.src, got, err, tt.want)
		} else if again, err := ParseSortKey(got.String()); err != nil || again != got {
			t.Errorf("ParseSortKey(%q) = %v, %v; want %v", got.String(), again, err, got)
		}
	}
}

func TestParseAgg(t *testing.T) {
	tests := []struct {
		src  string
		want Agg
		err  string
	}{
		{src: "count(*) AS n", want: Agg{Func: AggCount, Alias: "n"}},
		{src: "COUNT(*)", want: Agg{Func: AggCount, Alias: "count"}},
		{src: "count(user_id)", want: Agg{Func: AggCount, Arg: "user_id", Alias: "count_user_id"}},
		{src: "sum(amount) AS total", want: Agg{Func: AggSum, Arg: "amount", Alias: "total"}},
		{src: "sum(amount)", want: Agg{Func: AggSum, Arg: "amount", Alias: "sum_amount"}},
		{src: "avg(x) as a", want: Agg{Func: AggAvg, Arg: "x", Alias: "a"}},
		{src: `min("unit price")`, want: Agg{Func: AggMin, Arg: "unit price", Alias: "min_unit price"}},
		{src: "max(x)", want: Agg{Func: AggMax, Arg: "x", Alias: "max_x"}},
		{src: "median(x)", err: `spec: expression "median(x)": line 1 col 1: unknown aggregate function "median" (known: count, sum, min, max, avg, count_distinct, first, any_value)`},
		{src: "sum(*)", err: `spec: expression "sum(*)": line 1 col 5: expected a column name, found "*"`},
		{src: "sum(a + b)", err: `spec: expression "sum(a + b)": line 1 col 7: expected ")", found "+"`},
		{src: "sum(x) total", err: `spec: expression "sum(x) total": line 1 col 8: expected an operator or end of input, found "total"`},
	}
	for _, tt := range tests {
		got, err := ParseAgg(tt.src)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("ParseAgg(%q) = %v, %v; want error %s", tt.src, got, err, tt.err)
			}
		} else if err != nil || got != tt.want {
			t.Errorf("ParseAgg(%q) = %+v, %v; want %+v", tt.src, got, err, tt.want)
		}
	}
}

// FuzzParseExpr checks that ParseExpr never panics and that the String of
// every expression it accepts parses back to the same tree.
func FuzzParseExpr(f *testing.F) {
	for _, s := range []string{
		"amount > 10 AND country IN ('DE', 'FR')",
		"CASE x WHEN 1 THEN 'a' ELSE NULL END",
		"-a - -5 * (b + 1.5e3) % 2",
		`NOT "a b" IS NOT NULL OR x NOT BETWEEN 1 AND 2`,
		"CAST(lower(s) || 'x' AS int) != -9223372036854775808",
		"coalesce(a, b) <= .5",
		"'it''s' = s",
		`s NOT ILIKE 'a\_%' ESCAPE '\' AND t LIKE '%x%y'`,
		"a IS NOT DISTINCT FROM b",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		e, err := ParseExpr(src)
		if err != nil {
			if _, ok := err.(*ExprError); !ok {
				t.Fatalf("ParseExpr(%q) error %T, want *ExprError", src, err)
			}
			return
		}
		s := e.String()
		again, err := ParseExpr(s)
		if err != nil {
			t.Fatalf("ParseExpr(%q) = %s, which does not parse: %v", src, s, err)
		}
		if !reflect.DeepEqual(again, e) {
			t.Fatalf("ParseExpr(%q).String() = %s, which parses to %s", src, s, again)
		}
	})
}
