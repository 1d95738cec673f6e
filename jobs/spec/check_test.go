package spec

import "testing"

var checkSchema = Schema{
	{Name: "user_id", Type: Int64},
	{Name: "amount", Type: Float64},
	{Name: "country", Type: String},
	{Name: "active", Type: Bool},
	{Name: "qty", Type: Int64},
}

func TestTypeOf(t *testing.T) {
	tests := []struct {
		expr string
		want Type
	}{
		{"user_id", Int64},
		{"amount", Float64},
		{"42", Int64},
		{"4.2", Float64},
		{"'x'", String},
		{"TRUE", Bool},
		{"NULL", Null},
		{"qty + 1", Int64},
		{"qty * user_id - 3 % qty", Int64},
		{"qty / 2", Float64},
		{"qty / user_id", Float64},
		{"amount + qty", Float64},
		{"qty % 2.5", Float64},
		{"-qty", Int64},
		{"-amount", Float64},
		{"NULL + 1", Int64},
		{"NULL + NULL", Null},
		{"NULL / 2", Float64},
		{"-NULL", Null},
		{"country || 'x'", String},
		{"NULL || country", String},
		{"qty > 1", Bool},
		{"qty = amount", Bool},
		{"country < 'b'", Bool},
		{"active = FALSE", Bool},
		{"qty = NULL", Bool},
		{"NULL = NULL", Bool},
		{"active AND qty > 1 OR NOT active", Bool},
		{"NULL AND active", Bool},
		{"NOT NULL", Bool},
		{"country IN ('DE', 'FR', NULL)", Bool},
		{"qty IN (1, 2.5, amount)", Bool},
		{"amount IS NULL", Bool},
		{"qty BETWEEN 1 AND 2.5", Bool},
		{"CASE WHEN active THEN 1 ELSE 2.5 END", Float64},
		{"CASE WHEN active THEN 'a' END", String},
		{"CASE WHEN active THEN NULL ELSE qty END", Int64},
		{"CASE WHEN NULL THEN NULL END", Null},
		{"CASE qty WHEN 1 THEN 'one' ELSE 'many' END", String},
		{"CAST(qty AS string)", String},
		{"CAST(country AS double)", Float64},
		{"CAST(NULL AS int)", Int64},
		{"CAST(active AS int)", Int64},
		{"lower(country)", String},
		{"upper(NULL)", String},
		{"length(country)", Int64},
		{"trim(country) || ltrim(country) || rtrim(country)", String},
		{"substr(country, 1)", String},
		{"substr(country, 1, qty)", String},
		{"concat(country, 'x', NULL)", String},
		{"abs(qty)", Int64},
		{"abs(amount)", Float64},
		{"round(amount)", Float64},
		{"round(amount, 2)", Float64},
		{"round(qty, -1)", Int64},
		{"floor(amount) + ceil(qty)", Float64},
		{"coalesce(qty, 0)", Int64},
		{"coalesce(qty, amount)", Float64},
		{"coalesce(NULL, NULL)", Null},
		{"nullif(country, '')", String},
		{"nullif(qty, 1.5)", Int64},
	}
	for _, tt := range tests {
		e, err := ParseExpr(tt.expr)
		if err != nil {
			t.Fatalf("ParseExpr(%q): %v", tt.expr, err)
		}
		got, err := TypeOf(e, checkSchema)
		if err != nil || got != tt.want {
			t.Errorf("TypeOf(%q) = %s, %v; want %s", tt.expr, got, err, tt.want)
		}
	}
}

func TestTypeOfErrors(t *testing.T) {
	tests := []struct{ expr, want string }{
		{"amout > 1", `spec: unknown column "amout" (have user_id, amount, country, active, qty)`},
		{"country = 3", `spec: cannot compare string with int64 in "country = 3"`},
		{"active < 1", `spec: cannot compare bool with int64 in "active < 1"`},
		{"country + 1", `spec: operator + needs numbers, got string and int64 in "country + 1"`},
		{"-country", `spec: unary - needs a number, got string in "-country"`},
		{"active * 2", `spec: operator * needs numbers, got bool and int64 in "active * 2"`},
		{"country || qty", `spec: operator || needs strings, got string and int64 in "country || qty" (use CAST(x AS string))`},
		{"qty AND active", `spec: AND needs bool operands, got int64 and bool in "qty AND active"`},
		{"NOT qty", `spec: NOT needs a bool operand, got int64 in "NOT qty"`},
		{"qty IN (1, 'a')", `spec: cannot compare int64 with string in "qty IN (1, 'a')"`},
		{"qty IN (1, nope)", `spec: unknown column "nope" (have user_id, amount, country, active, qty)`},
		{"CASE WHEN qty THEN 1 END", `spec: CASE condition qty has type int64, want bool, in "CASE WHEN qty THEN 1 END"`},
		{"CASE WHEN active THEN 1 ELSE 'x' END", `spec: CASE results have incompatible types int64 and string in "CASE WHEN active THEN 1 ELSE 'x' END"`},
		{"CASE country WHEN 1 THEN 2 END", `spec: cannot compare string with int64 in "country = 1"`},
		{"lowr(country)", `spec: unknown function "lowr" in "lowr(country)" (known: abs, ceil, coalesce, concat, date_add, date_part, date_trunc, floor, format_time, length, lower, ltrim, nullif, parse_time, regexp_like, round, rtrim, split_part, substr, substring, trim, upper)`},
		{"lower(qty)", `spec: argument 1 of lower must be string, got int64 in "lower(qty)"`},
		{"lower(country, 1)", `spec: lower takes 1 argument, got 2 in "lower(country, 1)"`},
		{"substr(country)", `spec: substr takes 2 or 3 arguments, got 1 in "substr(country)"`},
		{"substr(country, 1.5)", `spec: argument 2 of substr must be int64, got float64 in "substr(country, 1.5)"`},
		{"concat()", `spec: concat takes at least 1 argument, got 0 in "concat()"`},
		{"concat(country, qty)", `spec: argument 2 of concat must be string, got int64 in "concat(country, qty)"`},
		{"abs(country)", `spec: argument 1 of abs must be a number, got string in "abs(country)"`},
		{"round(amount, 1.5)", `spec: argument 2 of round must be int64, got float64 in "round(amount, 1.5)"`},
		{"coalesce(qty, country)", `spec: arguments of coalesce have incompatible types int64 and string in "coalesce(qty, country)"`},
		{"nullif(qty, country)", `spec: cannot compare int64 with string in "nullif(qty, country)"`},
		{"qty + (country = 1)", `spec: cannot compare string with int64 in "country = 1"`},
	}
	for _, tt := range tests {
		e, err := ParseExpr(tt.expr)
		if err != nil {
			t.Fatalf("ParseExpr(%q): %v", tt.expr, err)
		}
		got, err := TypeOf(e, checkSchema)
		if err == nil || err.Error() != tt.want {
			t.Errorf("TypeOf(%q) = %s, %v;\nwant error %s", tt.expr, got, err, tt.want)
		}
	}
	if _, err := TypeOf(&Cast{X: &Column{Name: "qty"}, To: Null}, checkSchema); err == nil ||
		err.Error() != `spec: cannot cast to null in "CAST(qty AS null)" (want int64, float64, string, bool, date, timestamp or decimal(p,s))` {
		t.Errorf("TypeOf(CAST(qty AS null)) error = %v", err)
	}
	if _, err := TypeOf(nil, checkSchema); err == nil || err.Error() != "spec: missing expression" {
		t.Errorf("TypeOf(nil) error = %v", err)
	}
}
