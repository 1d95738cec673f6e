package expr

import (
	"reflect"
	"testing"

	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators/internal/optest"
)

// TestExprLiteralArgFuncs evaluates the functions with literal settings
// over a column with NULLs: NULL in, NULL out.
func TestExprLiteralArgFuncs(t *testing.T) {
	var N any
	schema := spec.Schema{{Name: "s", Type: spec.String}, {Name: "ts", Type: spec.Int64}}
	cols := [][]any{
		{"a,b,c", "2024-03-05 10:20:30", nil, "", "x"},
		// 2024-03-05 10:20:30 UTC (a Tuesday), 1969-12-31 23:59:59, NULL, 0, 2023-12-31 23:59:59
		{int64(1709634030), int64(-1), nil, int64(0), int64(1704067199)},
	}
	tests := []struct {
		expr string
		want []any
	}{
		{"split_part(s, ',', 2)", []any{"b", "", N, "", ""}},
		{"split_part(s, ',', 1)", []any{"a", "2024-03-05 10:20:30", N, "", "x"}},
		{"regexp_like(s, '^[a-c,]+$')", []any{true, false, N, false, false}},
		{"regexp_like(s, '\\d{4}')", []any{false, true, N, false, false}},
		{"parse_time(s, '2006-01-02 15:04:05')", []any{N, int64(1709634030), N, N, N}},
		{"date_part('year', ts)", []any{int64(2024), int64(1969), N, int64(1970), int64(2023)}},
		{"date_part('month', ts)", []any{int64(3), int64(12), N, int64(1), int64(12)}},
		{"date_part('day', ts)", []any{int64(5), int64(31), N, int64(1), int64(31)}},
		{"date_part('hour', ts)", []any{int64(10), int64(23), N, int64(0), int64(23)}},
		{"date_part('minute', ts)", []any{int64(20), int64(59), N, int64(0), int64(59)}},
		{"date_part('second', ts)", []any{int64(30), int64(59), N, int64(0), int64(59)}},
		{"date_part('dow', ts)", []any{int64(2), int64(3), N, int64(4), int64(0)}},
		{"date_part('doy', ts)", []any{int64(65), int64(365), N, int64(1), int64(365)}},
		{"date_trunc('day', ts)", []any{int64(1709596800), int64(-86400), N, int64(0), int64(1703980800)}},
		{"date_trunc('hour', ts)", []any{int64(1709632800), int64(-3600), N, int64(0), int64(1704063600)}},
		{"date_trunc('month', ts)", []any{int64(1709251200), int64(-2678400), N, int64(0), int64(1701388800)}},
		{"date_trunc('year', ts)", []any{int64(1704067200), int64(-31536000), N, int64(0), int64(1672531200)}},
		{"format_time(ts, '2006-01-02T15:04')", []any{"2024-03-05T10:20", "1969-12-31T23:59", N, "1970-01-01T00:00", "2023-12-31T23:59"}},
		{"format_time(1709634030, '2006')", []any{"2024", "2024", "2024", "2024", "2024"}},
		{"coalesce(split_part(s, ',', 3), 'none')", []any{"c", "", "none", "", ""}},
		{"nullif(split_part(s, ',', 3), '')", []any{"c", N, N, N, N}},
	}
	mem := optest.Checked(t)
	rec := buildRecord(t, mem, schema, cols)
	defer rec.Release()
	for _, tt := range tests {
		got, _, err := evalString(t, tt.expr, schema, rec, mem)
		if err != nil {
			t.Errorf("%s: %v", tt.expr, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s = %v, want %v", tt.expr, got, tt.want)
		}
	}
	for _, bad := range []string{
		"split_part(s, s, 1)", "split_part(s, ',', 0)", "regexp_like(s, '(')",
		"date_part('decade', ts)", "date_trunc(s, ts)", "parse_time(s, '')", "format_time(s, 'x')",
	} {
		e, err := spec.ParseExpr(bad)
		if err != nil {
			t.Fatalf("ParseExpr(%q): %v", bad, err)
		}
		if _, err := spec.TypeOf(e, schema); err == nil {
			t.Errorf("TypeOf(%q) = nil error", bad)
		}
	}
}

func TestSplitPart(t *testing.T) {
	tests := []struct {
		s, sep string
		n      int
		want   string
	}{
		{"a,b,c", ",", 1, "a"}, {"a,b,c", ",", 3, "c"}, {"a,b,c", ",", 4, ""},
		{"a--b", "--", 2, "b"}, {"", ",", 1, ""}, {",", ",", 2, ""},
	}
	for _, tt := range tests {
		if got := splitPart(tt.s, tt.sep, tt.n); got != tt.want {
			t.Errorf("split_part(%q, %q, %d) = %q, want %q", tt.s, tt.sep, tt.n, got, tt.want)
		}
	}
}
