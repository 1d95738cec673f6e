package expr

import (
	"errors"
	"math/big"
	"reflect"
	"strconv"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators/arrowx"
	"github.com/batchrun/batchrun/operators/internal/optest"
)

// typesSchema has decimal, date and timestamp columns; typesCols builds
// them from text, so that the tables read like SQL results.
var typesSchema = spec.Schema{
	{Name: "p", Type: spec.DecimalType(15, 2)},
	{Name: "d", Type: spec.DecimalType(3, 2)},
	{Name: "r", Type: spec.DecimalType(10, 4)},
	{Name: "i", Type: spec.Int64},
	{Name: "f", Type: spec.Float64},
	{Name: "day", Type: spec.Date},
	{Name: "ts", Type: spec.Timestamp},
	{Name: "s", Type: spec.String},
	{Name: "big", Type: spec.DecimalType(18, 0)},
	{Name: "tiny", Type: spec.DecimalType(18, 12)},
}

func typesCols(t testing.TB) [][]any {
	t.Helper()
	text := [][]string{
		{"123.45", "-0.50", "NULL", "9999999999999.99", "0"},                                          // p
		{"0.05", "0.10", "0.07", "NULL", "0"},                                                         // d
		{"1.2345", "-0.0005", "0", "0.0001", "NULL"},                                                  // r
		{"1", "2", "NULL", "-4", "0"},                                                                 // i
		{"1.5", "-2.5", "3", "NULL", "0"},                                                             // f
		{"1998-12-01", "2000-01-31", "NULL", "1999-12-31", "2024-02-29"},                              // day
		{"1998-12-01 10:00:00", "2000-01-31 23:59:59.5", "NULL", "1969-12-31 23:59:59", "2024-02-29"}, // ts
		{"1.005", "-2.5", "abc", "NULL", "1998-12-01"},                                                // s
		{"999999999999999999", "-999999999999999999", "1", "0", "NULL"},                               // big
		{"999999.999999999999", "-999999.999999999999", "0.000000000001", "0.5", "NULL"},              // tiny
	}
	cols := make([][]any, len(text))
	for c, col := range text {
		for _, v := range col {
			if v == "NULL" {
				cols[c] = append(cols[c], nil)
				continue
			}
			cols[c] = append(cols[c], parseTestValue(t, v, typesSchema[c].Type))
		}
	}
	return cols
}

// parseTestValue parses the text of a value of type typ.
func parseTestValue(t testing.TB, v string, typ spec.Type) any {
	t.Helper()
	var x int64
	var err error
	switch typ.Kind() {
	case spec.String:
		return v
	case spec.Float64:
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			t.Fatal(err)
		}
		return f
	case spec.Int64:
		x, err = strconv.ParseInt(v, 10, 64)
	case spec.Date:
		x, err = spec.ParseDate([]byte(v))
	case spec.Timestamp:
		x, err = spec.ParseTimestamp([]byte(v))
	default:
		x, err = spec.ParseDecimal([]byte(v), typ)
	}
	if err != nil {
		t.Fatalf("parse %q as %s: %v", v, typ, err)
	}
	return x
}

// evalText evaluates src and renders each row as text of the result type
// (NULL for a null), and the result type.
func evalText(t testing.TB, src string, schema spec.Schema, rec arrow.Record, mem memory.Allocator) ([]string, spec.Type, error) {
	t.Helper()
	vals, typ, err := evalString(t, src, schema, rec, mem)
	if err != nil {
		return nil, typ, err
	}
	out := make([]string, len(vals))
	for i, v := range vals {
		switch v := v.(type) {
		case nil:
			out[i] = "NULL"
		case int64:
			out[i] = string(appendIntText(nil, v, typ))
		case float64:
			out[i] = strconv.FormatFloat(v, 'g', -1, 64)
		case bool:
			out[i] = strconv.FormatBool(v)
		case string:
			out[i] = v
		}
	}
	return out, typ, nil
}

func TestExprDecimalDateEval(t *testing.T) {
	const N = "NULL"
	tests := []struct {
		expr string
		typ  string
		want []string
	}{
		// Decimal arithmetic: exact, across scales.
		{"p + d", "decimal(16,2)", []string{"123.50", "-0.40", N, N, "0.00"}},
		{"p + r", "decimal(18,4)", []string{"124.6845", "-0.5005", N, "9999999999999.9901", N}},
		{"r - p", "decimal(18,4)", []string{"-122.2155", "0.4995", N, "-9999999999999.9899", N}},
		{"p * d", "decimal(18,4)", []string{"6.1725", "-0.0500", N, N, "0.0000"}},
		{"p * (1 - d)", "decimal(18,4)", []string{"117.2775", "-0.4500", N, N, "0.0000"}},
		{"1 - d", "decimal(18,2)", []string{"0.95", "0.90", "0.93", N, "1.00"}},
		{"p - i", "decimal(18,2)", []string{"122.45", "-2.50", N, "10000000000003.99", "0.00"}},
		{"i * r", "decimal(18,4)", []string{"1.2345", "-0.0010", N, "-0.0004", N}},
		{"p % d", "decimal(16,2)", []string{"0.00", "0.00", N, N, N}},
		{"p % CAST('0.4' AS decimal(2,1))", "decimal(16,2)", []string{"0.25", "-0.10", N, "0.39", "0.00"}},
		{"p % 0", "decimal(18,2)", []string{N, N, N, N, N}},
		{"-p", "decimal(15,2)", []string{"-123.45", "0.50", N, "-9999999999999.99", "0.00"}},
		{"p / d", "float64", []string{"2469", "-5", N, N, N}},
		{"p * 2.0", "float64", []string{"246.9", "-1", N, "1.999999999999998e+13", "0"}},
		{"abs(p)", "decimal(15,2)", []string{"123.45", "0.50", N, "9999999999999.99", "0.00"}},
		{"round(p)", "decimal(15,0)", []string{"123", "-1", N, "10000000000000", "0"}},
		{"round(r, 3)", "decimal(10,3)", []string{"1.235", "-0.001", "0.000", "0.000", N}},
		{"round(p, -1)", "decimal(15,0)", []string{"120", "0", N, "10000000000000", "0"}},
		{"floor(p)", "decimal(15,0)", []string{"123", "-1", N, "9999999999999", "0"}},
		{"ceil(p)", "decimal(15,0)", []string{"124", "0", N, "10000000000000", "0"}},
		// Comparisons by value, whatever the scales.
		{"p > d", "bool", []string{"true", "false", N, N, "false"}},
		{"p > r", "bool", []string{"true", "false", N, "true", N}},
		{"r = 0", "bool", []string{"false", "false", "true", "false", N}},
		{"p > 100", "bool", []string{"true", "false", N, "true", "false"}},
		{"p = CAST('123.45' AS decimal(5,2))", "bool", []string{"true", "false", N, "false", "false"}},
		{"r <= CAST('-0.0005' AS decimal(4,4))", "bool", []string{"false", "true", "false", "false", N}},
		{"d = 0.1", "bool", []string{"false", "true", "false", N, "false"}},
		{"big > tiny", "bool", []string{"true", "false", "true", "false", N}},
		{"tiny < big", "bool", []string{"true", "false", "true", "false", N}},
		{"big = 999999999999999999", "bool", []string{"true", "false", "false", "false", N}},
		{"p IN (CAST('123.45' AS decimal(5,2)), 0)", "bool", []string{"true", "false", N, "false", "true"}},
		{"r IN (1, CAST('0.0001' AS decimal(4,4)))", "bool", []string{"false", "false", "false", "true", N}},
		{"r IN (1, 1.2345)", "bool", []string{"true", "false", "false", "false", N}},
		// Unify.
		{"CASE WHEN i > 0 THEN p ELSE r END", "decimal(17,4)", []string{"123.4500", "-0.5000", "0.0000", "0.0001", N}},
		{"coalesce(d, i)", "decimal(18,2)", []string{"0.05", "0.10", "0.07", "-4.00", "0.00"}},
		{"coalesce(d, f)", "float64", []string{"0.05", "0.1", "0.07", N, "0"}},
		// Casts, rounding half away from zero.
		{"CAST(p AS int64)", "int64", []string{"123", "-1", N, "10000000000000", "0"}},
		{"CAST(p AS float64)", "float64", []string{"123.45", "-0.5", N, "9.99999999999999e+12", "0"}},
		{"CAST(r AS decimal(5,3))", "decimal(5,3)", []string{"1.235", "-0.001", "0.000", "0.000", N}},
		{"CAST(d AS decimal(18,6))", "decimal(18,6)", []string{"0.050000", "0.100000", "0.070000", N, "0.000000"}},
		{"CAST(f AS decimal(4,1))", "decimal(4,1)", []string{"1.5", "-2.5", "3.0", N, "0.0"}},
		{"CAST(i AS decimal(3,1))", "decimal(3,1)", []string{"1.0", "2.0", N, "-4.0", "0.0"}},
		{"CAST(p AS string)", "string", []string{"123.45", "-0.50", N, "9999999999999.99", "0.00"}},
		{"CASE WHEN s <> 'abc' AND s <> '1998-12-01' THEN CAST(s AS decimal(5,2)) END", "decimal(5,2)", []string{"1.01", "-2.50", N, N, N}},
		{"CAST(' 1.5 ' AS decimal(3,1)) + d", "decimal(5,2)", []string{"1.55", "1.60", "1.57", N, "1.50"}},
		// Dates.
		{"day", "date", []string{"1998-12-01", "2000-01-31", N, "1999-12-31", "2024-02-29"}},
		{"day + 1", "date", []string{"1998-12-02", "2000-02-01", N, "2000-01-01", "2024-03-01"}},
		{"1 + day", "date", []string{"1998-12-02", "2000-02-01", N, "2000-01-01", "2024-03-01"}},
		{"day - 365", "date", []string{"1997-12-01", "1999-01-31", N, "1998-12-31", "2023-03-01"}},
		{"day - DATE '1998-12-01'", "int64", []string{"0", "426", N, "395", "9221"}},
		{"day < DATE '2000-01-01'", "bool", []string{"true", "false", N, "true", "false"}},
		{"day BETWEEN DATE '1998-01-01' AND DATE '1999-12-31'", "bool", []string{"true", "false", N, "true", "false"}},
		{"day IN (DATE '1999-12-31', DATE '1998-12-01')", "bool", []string{"true", "false", N, "true", "false"}},
		{"date_add('month', 1, day)", "date", []string{"1999-01-01", "2000-02-29", N, "2000-01-31", "2024-03-29"}},
		{"date_add('month', 1, DATE '1999-01-31')", "date", []string{"1999-02-28", "1999-02-28", "1999-02-28", "1999-02-28", "1999-02-28"}},
		{"date_add('month', -1, day)", "date", []string{"1998-11-01", "1999-12-31", N, "1999-11-30", "2024-01-29"}},
		{"date_add('quarter', 1, day)", "date", []string{"1999-03-01", "2000-04-30", N, "2000-03-31", "2024-05-29"}},
		{"date_add('year', 1, day)", "date", []string{"1999-12-01", "2001-01-31", N, "2000-12-31", "2025-02-28"}},
		{"date_add('day', i, day)", "date", []string{"1998-12-02", "2000-02-02", N, "1999-12-27", "2024-02-29"}},
		{"date_add('week', 1, day)", "date", []string{"1998-12-08", "2000-02-07", N, "2000-01-07", "2024-03-07"}},
		{"date_part('year', day)", "int64", []string{"1998", "2000", N, "1999", "2024"}},
		{"date_part('quarter', day)", "int64", []string{"4", "1", N, "4", "1"}},
		{"date_part('month', day)", "int64", []string{"12", "1", N, "12", "2"}},
		{"date_part('day', day)", "int64", []string{"1", "31", N, "31", "29"}},
		{"date_part('dow', day)", "int64", []string{"2", "1", N, "5", "4"}},
		{"date_part('doy', day)", "int64", []string{"335", "31", N, "365", "60"}},
		{"date_part('week', day)", "int64", []string{"49", "5", N, "52", "9"}},
		{"date_part('hour', day)", "int64", []string{"0", "0", N, "0", "0"}},
		{"date_trunc('month', day)", "date", []string{"1998-12-01", "2000-01-01", N, "1999-12-01", "2024-02-01"}},
		{"date_trunc('quarter', day)", "date", []string{"1998-10-01", "2000-01-01", N, "1999-10-01", "2024-01-01"}},
		{"date_trunc('year', day)", "date", []string{"1998-01-01", "2000-01-01", N, "1999-01-01", "2024-01-01"}},
		{"date_trunc('week', day)", "date", []string{"1998-11-30", "2000-01-31", N, "1999-12-27", "2024-02-26"}},
		{"CAST(day AS string)", "string", []string{"1998-12-01", "2000-01-31", N, "1999-12-31", "2024-02-29"}},
		{"CAST(day AS timestamp)", "timestamp", []string{"1998-12-01 00:00:00", "2000-01-31 00:00:00", N, "1999-12-31 00:00:00", "2024-02-29 00:00:00"}},
		{"CAST(s AS date) = day", "bool", nil}, // 'abc' fails: checked below
		{"CASE WHEN s = '1998-12-01' THEN CAST(s AS date) END", "date", []string{N, N, N, N, "1998-12-01"}},
		// Timestamps.
		{"ts", "timestamp", []string{"1998-12-01 10:00:00", "2000-01-31 23:59:59.5", N, "1969-12-31 23:59:59", "2024-02-29 00:00:00"}},
		{"CAST(ts AS date)", "date", []string{"1998-12-01", "2000-01-31", N, "1969-12-31", "2024-02-29"}},
		{"CAST(ts AS string)", "string", []string{"1998-12-01 10:00:00", "2000-01-31 23:59:59.5", N, "1969-12-31 23:59:59", "2024-02-29 00:00:00"}},
		{"day < ts", "bool", []string{"true", "true", N, "false", "false"}},
		{"day = CAST(ts AS date)", "bool", []string{"true", "true", N, "false", "true"}},
		{"ts >= DATE '2000-01-01'", "bool", []string{"false", "true", N, "false", "true"}},
		{"ts - TIMESTAMP '1998-12-01 10:00:00'", "int64", []string{"0", "36856799500000", N, "-912506401000000", "796658400000000"}},
		{"date_add('hour', 2, ts)", "timestamp", []string{"1998-12-01 12:00:00", "2000-02-01 01:59:59.5", N, "1970-01-01 01:59:59", "2024-02-29 02:00:00"}},
		{"date_add('second', -1, ts)", "timestamp", []string{"1998-12-01 09:59:59", "2000-01-31 23:59:58.5", N, "1969-12-31 23:59:58", "2024-02-28 23:59:59"}},
		{"date_add('month', 1, ts)", "timestamp", []string{"1999-01-01 10:00:00", "2000-02-29 23:59:59.5", N, "1970-01-31 23:59:59", "2024-03-29 00:00:00"}},
		{"date_part('hour', ts)", "int64", []string{"10", "23", N, "23", "0"}},
		{"date_part('second', ts)", "int64", []string{"0", "59", N, "59", "0"}},
		{"date_part('year', ts)", "int64", []string{"1998", "2000", N, "1969", "2024"}},
		{"date_trunc('hour', ts)", "timestamp", []string{"1998-12-01 10:00:00", "2000-01-31 23:00:00", N, "1969-12-31 23:00:00", "2024-02-29 00:00:00"}},
		{"date_trunc('month', ts)", "timestamp", []string{"1998-12-01 00:00:00", "2000-01-01 00:00:00", N, "1969-12-01 00:00:00", "2024-02-01 00:00:00"}},
		{"coalesce(ts, day)", "timestamp", []string{"1998-12-01 10:00:00", "2000-01-31 23:59:59.5", N, "1969-12-31 23:59:59", "2024-02-29 00:00:00"}},
	}
	mem := optest.Checked(t)
	rec := buildRecord(t, mem, typesSchema, typesCols(t))
	defer rec.Release()
	for _, tt := range tests {
		got, typ, err := evalText(t, tt.expr, typesSchema, rec, mem)
		if tt.want == nil {
			if err == nil {
				t.Errorf("%s = %v, want an error", tt.expr, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.expr, err)
			continue
		}
		if typ.String() != tt.typ || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s = %s %q,\n  want %s %q", tt.expr, typ, got, tt.typ, tt.want)
		}
	}
}

// TestExprDecimalOverflow: a decimal result that does not fit its type is
// an EvalError naming the operation, on the rows whose value matters only.
func TestExprDecimalOverflow(t *testing.T) {
	tests := []struct{ expr, want string }{
		{"p * p", "operators: p * p overflows decimal(18,4) (at 9999999999999.99 * 9999999999999.99)"},
		{"big + big", "operators: big + big overflows decimal(18,0) (at 999999999999999999 + 999999999999999999)"},
		{"big - 1 - big", "operators: big - 1 overflows decimal(18,0) (at -999999999999999999 - 1)"},
		{"big * 10", "operators: big * 10 overflows decimal(18,0) (at 999999999999999999 * 10)"},
		{"p + tiny", "operators: p + tiny overflows decimal(18,12) (at 123.45 + 999999.999999999999)"},
		{"CAST(p AS decimal(10,1))", `operators: cast "9999999999999.99" to decimal(10,1): value out of range`},
		{"CAST(f * 1e20 AS decimal(18,0))", `operators: cast "1.5e+20" to decimal(18,0): value out of range`},
		{"CAST(s AS decimal(5,2))", `operators: cast "abc" to decimal(5,2): invalid syntax`},
		{"CAST(i * 1000000000000000000 AS decimal(18,0))", `operators: cast "1000000000000000000" to decimal(18,0): value out of range`},
		{"round(big, -1)", "operators: round(big, -1) overflows decimal(18,0) (at 999999999999999999)"},
		{"date_add('year', 1000000000, day)", "operators: date_add('year', 1000000000, day): 1998-12-01 plus 1000000000 year is out of range"},
	}
	mem := optest.Checked(t)
	rec := buildRecord(t, mem, typesSchema, typesCols(t))
	defer rec.Release()
	for _, tt := range tests {
		_, _, err := evalText(t, tt.expr, typesSchema, rec, mem)
		var ee *EvalError
		if !errors.As(err, &ee) || err.Error() != tt.want {
			t.Errorf("%s: error %v,\n  want EvalError %s", tt.expr, err, tt.want)
		}
	}
	// Rows that do not matter do not fail: they are NULL where they are.
	ok := []struct{ expr, want string }{
		{"CASE WHEN i > 0 THEN p * p END", "[15239.9025 0.2500 NULL NULL NULL]"},
		{"i <> -4 AND p * p > 0", "[true true NULL false false]"},
		{"CASE WHEN i = 1 THEN CAST(p AS decimal(4,1)) END", "[123.5 NULL NULL NULL NULL]"},
	}
	for _, tt := range ok {
		got, _, err := evalText(t, tt.expr, typesSchema, rec, mem)
		if err != nil || strconv.Quote(tt.want) != strconv.Quote(strSlice(got)) {
			t.Errorf("%s = %v, %v; want %s", tt.expr, got, err, tt.want)
		}
	}
	// A constant that does not fit fails when the expression is compiled.
	e, _ := spec.ParseExpr("CAST('1000' AS decimal(3,0)) + p")
	if _, err := CompileExpr(e, typesSchema); err == nil {
		t.Errorf("CompileExpr(%s) = nil error", e)
	}
}

func strSlice(s []string) string {
	out := "["
	for i, v := range s {
		if i > 0 {
			out += " "
		}
		out += v
	}
	return out + "]"
}

// TestDecimalKernelsRandom checks the decimal + - * kernels against
// big-number arithmetic on random operands, overflow included.
func TestDecimalKernelsRandom(t *testing.T) {
	schema := spec.Schema{{Name: "a", Type: spec.DecimalType(18, 2)}, {Name: "b", Type: spec.DecimalType(12, 5)}}
	mem := optest.Checked(t)
	const n = 2000
	ab := array.NewInt64Builder(mem)
	bb := array.NewInt64Builder(mem)
	defer ab.Release()
	defer bb.Release()
	seed := uint64(42)
	next := func(digits int) int64 {
		seed = seed*6364136223846793005 + 1442695040888963407
		v := int64(seed>>1) % spec.Pow10(1+int(seed>>60)%digits)
		return v
	}
	for range n {
		ab.Append(next(18))
		bb.Append(next(12))
	}
	aa, ba := ab.NewArray(), bb.NewArray()
	rec := array.NewRecord(arrowx.ArrowSchema(schema), []arrow.Array{aa, ba}, n)
	aa.Release()
	ba.Release()
	defer rec.Release()
	for _, src := range []string{"a + b", "a - b", "b * b", "a * b"} {
		e, _ := spec.ParseExpr(src)
		c, err := CompileExpr(e, schema)
		if err != nil {
			t.Fatal(err)
		}
		typ := c.Type()
		// Evaluate row by row through a CASE that selects one row, so that
		// an overflow elsewhere does not fail it.
		av, bv := aa.(*array.Int64).Int64Values(), ba.(*array.Int64).Int64Values()
		for i := range n {
			want, fits := refDecimal(src[2], av[i], 2, bv[i], 5, typ)
			got, ok, _ := c.root.(*decArithNode).one(av[i], bv[i])
			if ok != fits || ok && got != want {
				t.Fatalf("%s at a=%d b=%d: got %d, %v; want %d, %v", src, av[i], bv[i], got, ok, want, fits)
			}
		}
	}
}

// refDecimal is a op b (a of scale sa, b of scale sb) as a value of the
// decimal type typ, computed with big integers; fits is false when it has
// more than typ's precision digits.
func refDecimal(op byte, a int64, sa int, b int64, sb int, typ spec.Type) (int64, bool) {
	x, y := big.NewInt(a), big.NewInt(b)
	scale := func(v *big.Int, k int) { v.Mul(v, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(k)), nil)) }
	r := new(big.Int)
	switch op {
	case '*':
		r.Mul(x, y)
	default:
		scale(x, typ.Scale()-sa)
		scale(y, typ.Scale()-sb)
		if op == '+' {
			r.Add(x, y)
		} else {
			r.Sub(x, y)
		}
	}
	bound := big.NewInt(spec.Pow10(typ.Precision()))
	if r.CmpAbs(bound) >= 0 {
		return 0, false
	}
	return r.Int64(), true
}
