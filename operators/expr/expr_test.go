package expr

import (
	"math"
	"math/rand/v2"
	"reflect"
	"sync"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators/arrowx"
	"github.com/batchrun/batchrun/operators/internal/optest"
)

// exprTestSchema and exprCols are the input of the evaluation tables: five
// rows, most columns with one NULL.
var exprTestSchema = spec.Schema{
	{Name: "i", Type: spec.Int64},
	{Name: "j", Type: spec.Int64},
	{Name: "f", Type: spec.Float64},
	{Name: "s", Type: spec.String},
	{Name: "b", Type: spec.Bool},
	{Name: "n", Type: spec.String},
}

// exprCols returns the test columns; nil is NULL.
func exprCols() [][]any {
	return [][]any{
		{int64(1), int64(2), nil, int64(-4), int64(0)}, // i
		{int64(2), int64(0), int64(5), nil, int64(3)},  // j
		{1.5, -2.5, 3.0, nil, 0.0},                     // f
		{"a", "Hello", nil, " x ", ""},                 // s
		{true, false, nil, true, false},                // b
		{"1", "2", "abc", nil, " 42 "},                 // n
	}
}

// buildRecord builds a record of the given schema from columns of Go
// values (int64, float64, string, bool; nil is NULL).
func buildRecord(t testing.TB, mem memory.Allocator, schema spec.Schema, cols [][]any) arrow.Record {
	t.Helper()
	arrs := make([]arrow.Array, len(cols))
	rows := 0
	for c, col := range cols {
		bld := array.NewBuilder(mem, arrowx.ArrowType(schema[c].Type))
		for _, v := range col {
			if v == nil {
				bld.AppendNull()
				continue
			}
			switch b := bld.(type) {
			case *array.Int64Builder:
				b.Append(v.(int64))
			case *array.Float64Builder:
				b.Append(v.(float64))
			case *array.StringBuilder:
				b.Append(v.(string))
			case *array.BooleanBuilder:
				b.Append(v.(bool))
			}
		}
		arrs[c] = bld.NewArray()
		bld.Release()
		rows = len(col)
	}
	rec := array.NewRecord(arrowx.ArrowSchema(schema), arrs, int64(rows))
	for _, a := range arrs {
		a.Release()
	}
	return rec
}

// goValues converts an array to Go values; NULL is nil.
func goValues(a arrow.Array) []any {
	out := make([]any, a.Len())
	for i := range out {
		if a.IsNull(i) {
			continue
		}
		switch a := a.(type) {
		case *array.Int64:
			out[i] = a.Value(i)
		case *array.Float64:
			out[i] = a.Value(i)
		case *array.String:
			out[i] = a.Value(i)
		case *array.Boolean:
			out[i] = a.Value(i)
		}
	}
	return out
}

// evalString compiles and evaluates src over rec with a checked allocator.
func evalString(t testing.TB, src string, schema spec.Schema, rec arrow.Record, mem memory.Allocator) ([]any, spec.Type, error) {
	t.Helper()
	e, err := spec.ParseExpr(src)
	if err != nil {
		t.Fatalf("ParseExpr(%q): %v", src, err)
	}
	c, err := CompileExpr(e, schema)
	if err != nil {
		return nil, spec.Null, err
	}
	arr, err := c.Eval(rec, mem)
	if err != nil {
		return nil, c.Type(), err
	}
	defer arr.Release()
	if arr.Len() != int(rec.NumRows()) {
		t.Fatalf("Eval(%q) returned %d rows, want %d", src, arr.Len(), rec.NumRows())
	}
	if want := arrowx.ArrowType(c.Type()); !arrow.TypeEqual(arr.DataType(), want) {
		t.Fatalf("Eval(%q) returned %s, want %s", src, arr.DataType(), want)
	}
	return goValues(arr), c.Type(), nil
}

func TestExprEval(t *testing.T) {
	var N any // NULL
	tests := []struct {
		expr string
		want []any
	}{
		{"i", []any{int64(1), int64(2), N, int64(-4), int64(0)}},
		{"i + j", []any{int64(3), int64(2), N, N, int64(3)}},
		{"i - 1", []any{int64(0), int64(1), N, int64(-5), int64(-1)}},
		{"10 - i", []any{int64(9), int64(8), N, int64(14), int64(10)}},
		{"i * j", []any{int64(2), int64(0), N, N, int64(0)}},
		{"i * 2.5", []any{2.5, 5.0, N, -10.0, 0.0}},
		{"i + f", []any{2.5, -0.5, N, N, 0.0}},
		{"-i", []any{int64(-1), int64(-2), N, int64(4), int64(0)}},
		{"-f", []any{-1.5, 2.5, -3.0, N, math.Copysign(0, -1)}},
		// Division: int64 / int64 is float64, and dividing by zero is NULL.
		{"i / j", []any{0.5, N, N, N, 0.0}},
		{"j / 2", []any{1.0, 0.0, 2.5, N, 1.5}},
		{"i / 0", []any{N, N, N, N, N}},
		{"f / f", []any{1.0, 1.0, 1.0, N, N}},
		{"10 / i", []any{10.0, 5.0, N, -2.5, N}},
		{"i % j", []any{int64(1), N, N, N, int64(0)}},
		{"-7 % i", []any{int64(0), int64(-1), N, int64(-3), N}},
		{"f % 2", []any{1.5, -0.5, 1.0, N, 0.0}},
		{"1 + 2 * 3", []any{int64(7), int64(7), int64(7), int64(7), int64(7)}},
		{"7 / 2", []any{3.5, 3.5, 3.5, 3.5, 3.5}},
		{"NULL + i", []any{N, N, N, N, N}},
		// Comparisons, NULL in, NULL out.
		{"i > 0", []any{true, true, N, false, false}},
		{"0 < i", []any{true, true, N, false, false}},
		{"i >= 1", []any{true, true, N, false, false}},
		{"1 >= i", []any{true, false, N, true, true}},
		{"i <= j", []any{true, false, N, N, true}},
		{"i < j", []any{true, false, N, N, true}},
		{"j > i", []any{true, false, N, N, true}},
		{"j >= i", []any{true, false, N, N, true}},
		{"i = j - 1", []any{true, false, N, N, false}},
		{"i <> 2", []any{true, false, N, true, true}},
		{"i != j", []any{true, true, N, N, true}},
		{"f = 1.5", []any{true, false, false, N, false}},
		{"i < f", []any{true, false, N, N, false}},
		{"i = NULL", []any{N, N, N, N, N}},
		{"s = 'a'", []any{true, false, N, false, false}},
		{"s < 'b'", []any{true, true, N, true, true}},
		{"'b' > s", []any{true, true, N, true, true}},
		{"s >= n", []any{true, true, N, N, false}},
		{"b = TRUE", []any{true, false, N, true, false}},
		{"b < TRUE", []any{false, true, N, false, true}},
		{"i BETWEEN 0 AND 1", []any{true, false, N, false, true}},
		{"i NOT BETWEEN 0 AND 1", []any{false, true, N, true, false}},
		// IN, with the NULL rules of SQL.
		{"i IN (1, 2, 3)", []any{true, true, N, false, false}},
		{"i NOT IN (1, 2, 3)", []any{false, false, N, true, true}},
		{"i IN (1, NULL)", []any{true, N, N, N, N}},
		{"i NOT IN (1, NULL)", []any{false, N, N, N, N}},
		{"i IN (1.0, 2.5)", []any{true, false, N, false, false}},
		{"f IN (3, 0)", []any{false, false, true, N, true}},
		{"s IN ('a', 'Hello')", []any{true, true, N, false, false}},
		{"s NOT IN ('a', '')", []any{false, true, N, true, false}},
		{"s IN ('q','w','e','r','t','y','u','i','o','a')", []any{true, false, N, false, false}},
		{"i IN (0,10,20,30,40,50,60,70,80,-4)", []any{false, false, N, true, true}},
		{"i IN (j, 1)", []any{true, false, N, N, false}},
		{"b IN (TRUE)", []any{true, false, N, true, false}},
		{"2 IN (1, 2)", []any{true, true, true, true, true}},
		{"s IN (NULL)", []any{N, N, N, N, N}},
		{"s IN ('Hello', 'abcdefghi')", []any{false, true, N, false, false}},
		{"n IN ('abc', ' 42 ')", []any{false, false, true, N, true}},
		{"concat(s, 'xxxxxxx') IN ('axxxxxxx', 'Hello')", []any{true, false, false, false, false}},
		{"concat(s, 'xxxxxxx') = 'axxxxxxx'", []any{true, false, false, false, false}},
		{"s <> 'Hello'", []any{true, false, N, true, true}},
		{"s = ''", []any{false, false, N, false, true}},
		// IS NULL.
		{"i IS NULL", []any{false, false, true, false, false}},
		{"s IS NOT NULL", []any{true, true, false, true, true}},
		{"i + 1 IS NULL", []any{false, false, true, false, false}},
		{"NULL IS NULL", []any{true, true, true, true, true}},
		// Strings.
		{"s || '!'", []any{"a!", "Hello!", N, " x !", "!"}},
		{"s || n", []any{"a1", "Hello2", N, N, " 42 "}},
		{"concat(s, '-', n)", []any{"a-1", "Hello-2", "-abc", " x -", "- 42 "}},
		{"lower(s)", []any{"a", "hello", N, " x ", ""}},
		{"upper(s)", []any{"A", "HELLO", N, " X ", ""}},
		{"upper('straße') || lower('ÀÉ')", []any{"STRAßEàé", "STRAßEàé", "STRAßEàé", "STRAßEàé", "STRAßEàé"}},
		{"trim(s)", []any{"a", "Hello", N, "x", ""}},
		{"ltrim(s) || '|'", []any{"a|", "Hello|", N, "x |", "|"}},
		{"rtrim(s) || '|'", []any{"a|", "Hello|", N, " x|", "|"}},
		{"length(s)", []any{int64(1), int64(5), N, int64(3), int64(0)}},
		{"substr(s, 2)", []any{"", "ello", N, "x ", ""}},
		{"substr(s, 2, 3)", []any{"", "ell", N, "x ", ""}},
		{"substr(s, 0, 2)", []any{"a", "H", N, " ", ""}},
		{"substr(s, i, 2)", []any{"a", "el", N, "", ""}},
		{"substr('héllo', 2, 2)", []any{"él", "él", "él", "él", "él"}},
		// Math.
		{"abs(i)", []any{int64(1), int64(2), N, int64(4), int64(0)}},
		{"abs(f)", []any{1.5, 2.5, 3.0, N, 0.0}},
		{"round(f)", []any{2.0, -3.0, 3.0, N, 0.0}},
		{"round(f * 10, -1)", []any{20.0, -30.0, 30.0, N, 0.0}},
		{"round(i * 15, -1)", []any{int64(20), int64(30), N, int64(-60), int64(0)}},
		{"round(1.2345, 2)", []any{1.23, 1.23, 1.23, 1.23, 1.23}},
		{"round(-2.5)", []any{-3.0, -3.0, -3.0, -3.0, -3.0}},
		{"round(i * 1.25, 1)", []any{1.3, 2.5, N, -5.0, 0.0}},
		{"floor(f)", []any{1.0, -3.0, 3.0, N, 0.0}},
		{"ceil(f)", []any{2.0, -2.0, 3.0, N, 0.0}},
		{"floor(i)", []any{int64(1), int64(2), N, int64(-4), int64(0)}},
		// CASE, coalesce, nullif.
		{"CASE WHEN i > 1 THEN 'big' WHEN i > 0 THEN 'one' ELSE 'small' END", []any{"one", "big", "small", "small", "small"}},
		{"CASE WHEN i > 1 THEN 'big' END", []any{N, "big", N, N, N}},
		{"CASE i WHEN 1 THEN f WHEN 2 THEN j END", []any{1.5, 0.0, N, N, N}},
		{"CASE WHEN b THEN i ELSE j END", []any{int64(1), int64(0), int64(5), int64(-4), int64(3)}},
		{"CASE WHEN b THEN s ELSE n END", []any{"a", "2", "abc", " x ", " 42 "}},
		{"CASE WHEN b THEN i > 0 ELSE NULL END", []any{true, N, N, false, N}},
		{"CASE WHEN TRUE THEN i END", []any{int64(1), int64(2), N, int64(-4), int64(0)}},
		{"coalesce(i, j, 99)", []any{int64(1), int64(2), int64(5), int64(-4), int64(0)}},
		{"coalesce(j, i)", []any{int64(2), int64(0), int64(5), int64(-4), int64(3)}},
		{"coalesce(s, n, 'none')", []any{"a", "Hello", "abc", " x ", ""}},
		{"coalesce(f, i)", []any{1.5, -2.5, 3.0, -4.0, 0.0}},
		{"coalesce(b, FALSE)", []any{true, false, false, true, false}},
		{"nullif(i, 2)", []any{int64(1), N, N, int64(-4), int64(0)}},
		// Casts.
		{"CAST(i AS float64)", []any{1.0, 2.0, N, -4.0, 0.0}},
		{"CAST(f AS int64)", []any{int64(2), int64(-3), int64(3), N, int64(0)}},
		{"CAST(i AS string)", []any{"1", "2", N, "-4", "0"}},
		{"CAST(f AS string)", []any{"1.5", "-2.5", "3.0", N, "0.0"}},
		{"CAST(b AS string)", []any{"true", "false", N, "true", "false"}},
		{"CAST(b AS int64)", []any{int64(1), int64(0), N, int64(1), int64(0)}},
		{"CAST(i AS bool)", []any{true, true, N, true, false}},
		{"CAST('1.25' AS float64) + i", []any{2.25, 3.25, N, -2.75, 1.25}},
		{"CAST(' true ' AS bool)", []any{true, true, true, true, true}},
		{"CAST(s AS string)", []any{"a", "Hello", N, " x ", ""}},
		{"CAST(NULL AS int64)", []any{N, N, N, N, N}},
		// A cast failing on rows no one needs is not an error.
		{"CASE WHEN n <> 'abc' THEN CAST(n AS int64) ELSE -1 END", []any{int64(1), int64(2), int64(-1), int64(-1), int64(42)}},
		{"n <> 'abc' AND CAST(n AS int64) > 1", []any{false, true, false, N, true}},
		{"n = 'abc' OR CAST(n AS int64) > 1", []any{false, true, true, N, true}},
		{"coalesce(CASE WHEN n = 'abc' THEN 0 END, CAST(n AS int64))", []any{int64(1), int64(2), int64(0), N, int64(42)}},
		// TRY_CAST: a value that does not convert is NULL, in a column or
		// a constant, from a string or out of range.
		{"TRY_CAST(n AS int64)", []any{int64(1), int64(2), N, N, int64(42)}},
		{"TRY_CAST(s AS int64)", []any{N, N, N, N, N}},
		{"TRY_CAST('x' AS int64)", []any{N, N, N, N, N}},
		{"TRY_CAST(f * 1e30 AS int64)", []any{N, N, N, N, int64(0)}},
		{"TRY_CAST(n AS decimal(2,1))", []any{int64(10), int64(20), N, N, N}}, // 42.0 needs 3 digits
		// Constants broadcast.
		{"'x'", []any{"x", "x", "x", "x", "x"}},
		{"TRUE AND b", []any{true, false, N, true, false}},
		{"NULL", []any{N, N, N, N, N}},
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec := buildRecord(t, mem, exprTestSchema, exprCols())
	defer rec.Release()
	sliced := rec.NewSlice(1, rec.NumRows())
	defer sliced.Release()
	for _, tt := range tests {
		got, _, err := evalString(t, tt.expr, exprTestSchema, rec, mem)
		if err != nil {
			t.Errorf("eval %q: %v", tt.expr, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("eval %q = %v, want %v", tt.expr, got, tt.want)
		}
		// A sliced batch (offset 1) must give the same rows.
		got, _, err = evalString(t, tt.expr, exprTestSchema, sliced, mem)
		if err != nil {
			t.Errorf("eval %q on rows 1..4: %v", tt.expr, err)
		} else if !reflect.DeepEqual(got, tt.want[1:]) {
			t.Errorf("eval %q on rows 1..4 = %v, want %v", tt.expr, got, tt.want[1:])
		}
	}
}

// TestExprThreeValuedLogic checks AND, OR and NOT against the SQL truth
// tables, with NULL operands as columns and as constants.
func TestExprThreeValuedLogic(t *testing.T) {
	var N any
	T, F := true, false
	schema := spec.Schema{{Name: "p", Type: spec.Bool}, {Name: "q", Type: spec.Bool}}
	cols := [][]any{
		{T, T, T, F, F, F, N, N, N},
		{T, F, N, T, F, N, T, F, N},
	}
	tests := []struct {
		expr string
		want []any
	}{
		{"p AND q", []any{T, F, N, F, F, F, N, F, N}},
		{"p OR q", []any{T, T, T, T, F, N, T, N, N}},
		{"NOT p", []any{F, F, F, T, T, T, N, N, N}},
		{"NOT (p AND q)", []any{F, T, N, T, T, T, N, T, N}},
		{"p AND NULL", []any{N, N, N, F, F, F, N, N, N}},
		{"NULL AND q", []any{N, F, N, N, F, N, N, F, N}},
		{"p OR NULL", []any{T, T, T, N, N, N, N, N, N}},
		{"NULL OR q", []any{T, N, N, T, N, N, T, N, N}},
		{"p AND TRUE", []any{T, T, T, F, F, F, N, N, N}},
		{"FALSE AND q", []any{F, F, F, F, F, F, F, F, F}},
		{"TRUE OR q", []any{T, T, T, T, T, T, T, T, T}},
		{"FALSE OR q", []any{T, F, N, T, F, N, T, F, N}},
		{"p = q", []any{T, F, N, F, T, N, N, N, N}},
		{"p IS NULL OR q IS NULL", []any{F, F, T, F, F, T, T, T, T}},
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec := buildRecord(t, mem, schema, cols)
	defer rec.Release()
	for _, tt := range tests {
		got, _, err := evalString(t, tt.expr, schema, rec, mem)
		if err != nil {
			t.Errorf("eval %q: %v", tt.expr, err)
		} else if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("eval %q = %v, want %v", tt.expr, got, tt.want)
		}
	}
}

func TestExprEvalErrors(t *testing.T) {
	tests := []struct {
		expr, want string
	}{
		{"CAST(n AS int64)", `operators: cast "abc" to int64: invalid syntax`},
		{"CAST(n AS float64) > 1", `operators: cast "abc" to float64: invalid syntax`},
		{"CAST(s AS bool)", `operators: cast "a" to bool: invalid syntax`},
		{"CAST('x1' AS int64) + i", `operators: cast "x1" to int64: invalid syntax`},
		{"CAST('99999999999999999999' AS int64)", `operators: cast "99999999999999999999" to int64: value out of range`},
		{"CAST(f * 1e300 AS int64)", `operators: cast "1.5e+300" to int64: value out of range`},
		{"i > 0 AND CAST(n AS int64) = 1", `operators: cast "abc" to int64: invalid syntax`},
		{"amout > 1", `spec: unknown column "amout" (have i, j, f, s, b, n)`},
		{"s = 1", `spec: cannot compare string with int64 in "s = 1"`},
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec := buildRecord(t, mem, exprTestSchema, exprCols())
	defer rec.Release()
	for _, tt := range tests {
		got, _, err := evalString(t, tt.expr, exprTestSchema, rec, mem)
		if err == nil || err.Error() != tt.want {
			t.Errorf("eval %q = %v, %v; want error %s", tt.expr, got, err, tt.want)
		}
	}
}

func TestExprEvalEmptyBatchAndBadColumn(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec := buildRecord(t, mem, exprTestSchema, [][]any{{}, {}, {}, {}, {}, {}})
	defer rec.Release()
	for _, src := range []string{"i + j > 2 AND s IN ('a')", "upper(s) || 'x'", "CASE WHEN b THEN f END", "'k'"} {
		got, _, err := evalString(t, src, exprTestSchema, rec, mem)
		if err != nil || len(got) != 0 {
			t.Errorf("eval %q on no rows = %v, %v; want no rows", src, got, err)
		}
	}
	// A batch whose column does not have the compiled type is an error.
	wrong := spec.Schema{{Name: "i", Type: spec.String}, {Name: "j", Type: spec.Int64}, {Name: "f", Type: spec.Float64},
		{Name: "s", Type: spec.String}, {Name: "b", Type: spec.Bool}, {Name: "n", Type: spec.String}}
	_, _, err := evalString(t, "i = 'x'", wrong, rec, mem)
	if want := `operators: column "i" is int64 in the batch, want string`; err == nil || err.Error() != want {
		t.Errorf("eval with wrong column type: %v, want %s", err, want)
	}
}

var exprEventsSchema = spec.Schema{
	{Name: "user_id", Type: spec.Int64},
	{Name: "country", Type: spec.String},
	{Name: "amount", Type: spec.Float64},
	{Name: "qty", Type: spec.Int64},
}

// exprEventsRecord builds n pseudo-random event rows; about one value in
// nullEvery is NULL (0: none).
func exprEventsRecord(t testing.TB, mem memory.Allocator, n, nullEvery int) arrow.Record {
	countries := []string{"DE", "FR", "US", "GB", "IT", "ES", "NL", "PL"}
	rng := rand.New(rand.NewPCG(1, 2))
	cols := make([][]any, 4)
	for i := 0; i < n; i++ {
		row := []any{
			rng.Int64N(100000),
			countries[rng.IntN(len(countries))],
			float64(rng.IntN(20000)) / 100,
			rng.Int64N(10),
		}
		for c, v := range row {
			if nullEvery > 0 && rng.IntN(nullEvery) == 0 {
				v = nil
			}
			cols[c] = append(cols[c], v)
		}
	}
	return buildRecord(t, mem, exprEventsSchema, cols)
}

// TestExprEvalRowByRow evaluates expressions over a batch of many rows and
// checks every row against the same expression evaluated on that row alone
// (which exercises every bit position of the packed bitmaps), and the
// filter of the benchmark against a plain Go loop.
func TestExprEvalRowByRow(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec := exprEventsRecord(t, mem, 1000, 7)
	defer rec.Release()
	exprs := []string{
		"amount > 10 AND country IN ('DE', 'FR')",
		"amount * qty - user_id / 3",
		"qty % 3 = 0 OR country <> 'US'",
		"NOT (amount <= 100.5) AND qty >= 5",
		"CASE WHEN qty > 5 THEN country || '!' WHEN qty > 2 THEN lower(country) END",
		"coalesce(amount, qty, -1)",
		"CAST(qty AS string) || country",
		"user_id BETWEEN 1000 AND 50000 AND qty IN (1, 3, 5, 7, 9, 11, 13, 15, 17)",
		"qty IS NULL OR amount < qty",
		"country IN ('DE', 'FR', 'IT', 'ES', 'NL', 'PL', 'AT', 'BE', 'CH') AND 10 < amount",
	}
	for _, src := range exprs {
		all, _, err := evalString(t, src, exprEventsSchema, rec, mem)
		if err != nil {
			t.Fatalf("eval %q: %v", src, err)
		}
		for i := range all {
			one := rec.NewSlice(int64(i), int64(i+1))
			got, _, err := evalString(t, src, exprEventsSchema, one, mem)
			one.Release()
			if err != nil || !reflect.DeepEqual(got[0], all[i]) {
				t.Fatalf("eval %q: row %d alone = %v, %v; in the batch %v", src, i, got, err, all[i])
			}
		}
	}
	got, _, _ := evalString(t, exprs[0], exprEventsSchema, rec, mem)
	amount := rec.Column(2).(*array.Float64)
	country := rec.Column(1).(*array.String)
	for i, g := range got {
		var want any
		switch {
		case amount.IsValid(i) && amount.Value(i) <= 10:
			want = false
		case country.IsValid(i) && country.Value(i) != "DE" && country.Value(i) != "FR":
			want = false
		case amount.IsValid(i) && country.IsValid(i):
			want = true
		}
		if g != want {
			t.Fatalf("row %d: amount=%v country=%v: got %v, want %v", i, amount.Value(i), country.Value(i), g, want)
		}
	}
}

// BenchmarkEvalFilter evaluates a typical filter predicate (and two other
// expressions) over 64K-row batches and reports rows per second, once with
// memory.GoAllocator and once with an allocator that recycles buffers, to
// separate the kernels' cost from fresh memory's.
func BenchmarkEvalFilter(b *testing.B) {
	for _, src := range []string{
		"amount > 10 AND country IN ('DE', 'FR')",
		"amount * qty > 500",
		"CASE WHEN qty > 5 THEN 'big' ELSE 'small' END",
	} {
		for _, alloc := range []string{"go", "pool"} {
			b.Run(alloc+"/"+src, func(b *testing.B) {
				var mem memory.Allocator = memory.NewGoAllocator()
				if alloc == "pool" {
					mem = &poolAllocator{free: map[int][][]byte{}}
				}
				benchmarkEval(b, src, mem)
			})
		}
	}
}

func benchmarkEval(b *testing.B, src string, mem memory.Allocator) {
	rec := exprEventsRecord(b, mem, optest.BatchRows, 0)
	defer rec.Release()
	e, err := spec.ParseExpr(src)
	if err != nil {
		b.Fatal(err)
	}
	c, err := CompileExpr(e, exprEventsSchema)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		arr, err := c.Eval(rec, mem)
		if err != nil {
			b.Fatal(err)
		}
		arr.Release()
	}
	b.ReportMetric(float64(b.N)*float64(rec.NumRows())/b.Elapsed().Seconds(), "rows/s")
}

// poolAllocator recycles freed buffers by size.
type poolAllocator struct {
	mu   sync.Mutex
	free map[int][][]byte
}

func (p *poolAllocator) Allocate(n int) []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	if l := p.free[n]; len(l) > 0 {
		p.free[n] = l[:len(l)-1]
		return l[len(l)-1]
	}
	return make([]byte, n)
}

func (p *poolAllocator) Reallocate(n int, b []byte) []byte {
	nb := p.Allocate(n)
	copy(nb, b)
	p.Free(b)
	return nb
}

func (p *poolAllocator) Free(b []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.free[len(b)] = append(p.free[len(b)], b)
}

func TestSubstrAndRound(t *testing.T) {
	subs := []struct {
		s            string
		start, count int64
		want         string
	}{
		{"hello", 1, 2, "he"},
		{"hello", 2, math.MaxInt64, "ello"},
		{"hello", 0, 2, "h"},
		{"hello", -1, 3, "h"},
		{"hello", -5, 2, ""},
		{"hello", 5, 10, "o"},
		{"hello", 6, 1, ""},
		{"hello", 2, 0, ""},
		{"hello", 2, -1, ""},
		{"héllo", 2, 3, "éll"},
		{"", 1, 1, ""},
		{"abc", math.MinInt64, math.MaxInt64, ""},
		{"abc", math.MaxInt64, math.MaxInt64, ""},
	}
	for _, tt := range subs {
		if got := substrRunes(tt.s, tt.start, tt.count); got != tt.want {
			t.Errorf("substr(%q, %d, %d) = %q, want %q", tt.s, tt.start, tt.count, got, tt.want)
		}
	}
	ints := []struct{ x, d, want int64 }{
		{1234, 0, 1234}, {1234, 2, 1234}, {1234, -1, 1230}, {1235, -1, 1240},
		{-1235, -1, -1240}, {-1234, -2, -1200}, {1250, -2, 1300}, {49, -2, 0},
		{50, -2, 100}, {5, -19, 0}, {math.MaxInt64, -18, 9000000000000000000},
	}
	for _, tt := range ints {
		if got := roundInt(tt.x, tt.d); got != tt.want {
			t.Errorf("round(%d, %d) = %d, want %d", tt.x, tt.d, got, tt.want)
		}
	}
	floats := []struct {
		x    float64
		d    int64
		want float64
	}{
		{2.5, 0, 3}, {-2.5, 0, -3}, {1.25, 1, 1.3}, {1234.5, -2, 1200}, {1e300, 400, 1e300},
		{1e300, 10, 1e300}, {123, -400, 0},
	}
	for _, tt := range floats {
		if got := roundFloat(tt.x, tt.d); got != tt.want {
			t.Errorf("round(%g, %d) = %g, want %g", tt.x, tt.d, got, tt.want)
		}
	}
}
