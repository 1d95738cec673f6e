package spec

import (
	"testing"
)

func TestParseWindowFunc(t *testing.T) {
	rows := FrameBound{Kind: BoundUnboundedPreceding}
	cur := FrameBound{Kind: BoundCurrentRow}
	tests := []struct {
		src  string
		want WindowFunc
		str  string // String(), when it differs from src
	}{
		{src: "row_number()", want: WindowFunc{Func: WinRowNumber}},
		{src: "RANK() AS r", want: WindowFunc{Func: WinRank, Alias: "r"}, str: "rank() AS r"},
		{src: "dense_rank()", want: WindowFunc{Func: WinDenseRank}},
		{src: "count(*) AS n", want: WindowFunc{Func: WinCount, Alias: "n"}},
		{src: "count()", want: WindowFunc{Func: WinCount}, str: "count(*)"},
		{src: "count(x)", want: WindowFunc{Func: WinCount, Arg: "x"}},
		{src: "sum(amount) AS running", want: WindowFunc{Func: WinSum, Arg: "amount", Alias: "running"}},
		{src: "lag(amount)", want: WindowFunc{Func: WinLag, Arg: "amount", Offset: 1}, str: "lag(amount, 1)"},
		{src: "lead(amount, 0)", want: WindowFunc{Func: WinLead, Arg: "amount"}},
		{src: "lag(amount, 3, -1.5) AS p", want: WindowFunc{Func: WinLag, Arg: "amount", Offset: 3,
			Default: &Literal{Type: Float64, Float: -1.5}, Alias: "p"}},
		{src: "lag(d, 1, NULL)", want: WindowFunc{Func: WinLag, Arg: "d", Offset: 1}, str: "lag(d, 1)"},
		{src: "lag(d, 2, DATE '2024-02-29')", want: WindowFunc{Func: WinLag, Arg: "d", Offset: 2,
			Default: &Literal{Type: Date, Int: 19782}}},
		{src: "lead(p, 1, CAST('0.50' AS decimal(5,2)))", want: WindowFunc{Func: WinLead, Arg: "p", Offset: 1,
			Default: &Literal{Type: DecimalType(5, 2), Int: 50}}},
		{src: "sum(x) ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW AS s",
			want: WindowFunc{Func: WinSum, Arg: "x", Alias: "s", Frame: WindowFrame{Unit: FrameRows, Start: rows, End: cur}}},
		{src: "avg(x) rows between 2 preceding and 3 following",
			want: WindowFunc{Func: WinAvg, Arg: "x", Frame: WindowFrame{Unit: FrameRows,
				Start: FrameBound{Kind: BoundPreceding, N: 2}, End: FrameBound{Kind: BoundFollowing, N: 3}}},
			str: "avg(x) ROWS BETWEEN 2 PRECEDING AND 3 FOLLOWING"},
		{src: "min(x) ROWS 4 PRECEDING",
			want: WindowFunc{Func: WinMin, Arg: "x", Frame: WindowFrame{Unit: FrameRows, Start: FrameBound{Kind: BoundPreceding, N: 4}, End: cur}},
			str:  "min(x) ROWS BETWEEN 4 PRECEDING AND CURRENT ROW"},
		{src: "max(x) RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING",
			want: WindowFunc{Func: WinMax, Arg: "x", Frame: WindowFrame{Unit: FrameRange, Start: cur, End: FrameBound{Kind: BoundUnboundedFollowing}}}},
		{src: `first_value("unit price") AS "first value"`, want: WindowFunc{Func: WinFirstValue, Arg: "unit price", Alias: "first value"}},
		{src: "last_value(x) RANGE BETWEEN 1 PRECEDING AND CURRENT ROW", // Resolve refuses it
			want: WindowFunc{Func: WinLastValue, Arg: "x", Frame: WindowFrame{Unit: FrameRange, Start: FrameBound{Kind: BoundPreceding, N: 1}, End: cur}}},
	}
	for _, tt := range tests {
		got, err := ParseWindowFunc(tt.src)
		if err != nil || !windowFuncEqual(got, tt.want) {
			t.Errorf("ParseWindowFunc(%q) = %+v, %v; want %+v", tt.src, got, err, tt.want)
			continue
		}
		want := tt.str
		if want == "" {
			want = tt.src
		}
		if s := got.String(); s != want {
			t.Errorf("ParseWindowFunc(%q).String() = %q, want %q", tt.src, s, want)
		}
		if again, err := ParseWindowFunc(got.String()); err != nil || !windowFuncEqual(again, got) {
			t.Errorf("ParseWindowFunc(%q) = %+v, %v; want it to round-trip to %+v", got.String(), again, err, got)
		}
	}
}

func windowFuncEqual(a, b WindowFunc) bool {
	da, db := a.Default, b.Default
	a.Default, b.Default = nil, nil
	if (da == nil) != (db == nil) || da != nil && *da != *db {
		return false
	}
	return a == b
}

func TestParseWindowFuncErrors(t *testing.T) {
	for _, tt := range []struct{ src, err string }{
		{"ntile(4)", `spec: expression "ntile(4)": line 1 col 1: unknown window function "ntile" (known: row_number, rank, dense_rank, lag, lead, first_value, last_value, count, sum, avg, min, max)`},
		{"rank(x)", `spec: expression "rank(x)": line 1 col 6: rank() takes no arguments, found "x"`},
		{"sum()", `spec: expression "sum()": line 1 col 5: sum needs a column, found ")"`},
		{"sum(*)", `spec: expression "sum(*)": line 1 col 5: expected a column name, found "*"`},
		{"lag(x, y)", `spec: expression "lag(x, y)": line 1 col 8: lag offset: expected an integer, found y`},
		{"lag(x, 1, y)", `spec: expression "lag(x, 1, y)": line 1 col 11: lag default: expected a literal, found y`},
		{"sum(x) ROWS BETWEEN 1 AND 2", `spec: expression "sum(x) ROWS BETWEEN 1 AND 2": line 1 col 23: expected PRECEDING or FOLLOWING, found AND`},
		{"sum(x) ROWS BETWEEN CURRENT AND 2", `spec: expression "sum(x) ROWS BETWEEN CURRENT AND 2": line 1 col 29: expected ROW after CURRENT, found AND`},
		{"sum(x) ROWS -1 PRECEDING", `spec: expression "sum(x) ROWS -1 PRECEDING": line 1 col 13: expected a frame bound (UNBOUNDED PRECEDING, n PRECEDING, CURRENT ROW, n FOLLOWING, UNBOUNDED FOLLOWING), found "-"`},
		{"sum(x) GROUPS 1 PRECEDING", `spec: expression "sum(x) GROUPS 1 PRECEDING": line 1 col 8: expected ROWS, RANGE, AS or end of input, found "GROUPS"`},
		{"sum(x) AS s ROWS 1 PRECEDING", `spec: expression "sum(x) AS s ROWS 1 PRECEDING": line 1 col 13: expected ROWS, RANGE, AS or end of input, found "ROWS"`},
	} {
		if got, err := ParseWindowFunc(tt.src); err == nil || err.Error() != tt.err {
			t.Errorf("ParseWindowFunc(%q) = %+v, %v; want error %s", tt.src, got, err, tt.err)
		}
	}
}

func rtWindowStep(id, in string, by []string, order []string, funcs ...string) *Step {
	s := &Step{ID: id, Kind: KindWindow, Inputs: []string{in}, Window: &WindowStep{PartitionBy: by}}
	for _, k := range order {
		sk, err := ParseSortKey(k)
		if err != nil {
			panic(err)
		}
		s.Window.OrderBy = append(s.Window.OrderBy, sk)
	}
	for _, f := range funcs {
		w, err := ParseWindowFunc(f)
		if err != nil {
			panic(err)
		}
		s.Window.Funcs = append(s.Window.Funcs, w)
	}
	return s
}

func TestResolveWindowSchema(t *testing.T) {
	j := rtJob(rtReadStep("r", "k string", "ts int64", "amount float64", "n int64", "price decimal(7,2)", "d date", "ok bool"),
		rtWindowStep("w", "r", []string{"k"}, []string{"ts DESC NULLS LAST"},
			"row_number()", "rank() AS rk", "dense_rank()", "count(*)", "count(amount)",
			"sum(amount)", "sum(n) ROWS BETWEEN 2 PRECEDING AND 1 FOLLOWING", "sum(price) AS sp", "avg(price)", "avg(n) AS an",
			"min(k)", "max(d)", "first_value(ok)", "last_value(price) RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING",
			"lag(price, 1, 3) AS p1", "lead(amount, 2, 0) AS a2", "lag(price, 1, CAST('1.5' AS decimal(2,1))) AS p2",
			"lead(d, 1, DATE '2024-01-01') AS d1", "row_number() ROWS 3 PRECEDING AS ignored"),
		rtWindowStep("whole", "r", nil, nil, "sum(n) AS total"))
	res, err := Resolve(j)
	if err != nil {
		t.Fatal(err)
	}
	want := "(k string, ts int64, amount float64, n int64, price decimal(7,2), d date, ok bool, " +
		"row_number int64, rk int64, dense_rank int64, count int64, count_amount int64, sum_amount float64, sum_n int64, " +
		"sp decimal(18,2), avg_price float64, an float64, min_k string, max_d date, first_value_ok bool, " +
		"last_value_price decimal(7,2), p1 decimal(7,2), a2 float64, p2 decimal(7,2), d1 date, ignored int64)"
	if got := res.Schemas["w"].String(); got != want {
		t.Errorf("window schema\n got %s\nwant %s", got, want)
	}
	if got, want := res.Schemas["whole"].String(), "(k string, ts int64, amount float64, n int64, price decimal(7,2), d date, ok bool, total int64)"; got != want {
		t.Errorf("whole-input window schema = %s, want %s", got, want)
	}
}

func TestResolveWindowErrors(t *testing.T) {
	read := func() *Step { return rtReadStep("r", "k string", "ts int64", "amount float64", "price decimal(7,2)") }
	win := func(by []string, order []string, funcs ...string) *Job {
		return rtJob(read(), rtWindowStep("w", "r", by, order, funcs...))
	}
	empty := rtJob(read(), &Step{ID: "w", Kind: KindWindow, Inputs: []string{"r"}, Window: &WindowStep{}})
	noUnit := rtJob(read(), &Step{ID: "w", Kind: KindWindow, Inputs: []string{"r"}, Window: &WindowStep{Funcs: []WindowFunc{
		{Func: WinSum, Arg: "amount", Frame: WindowFrame{End: FrameBound{Kind: BoundFollowing, N: 1}}}}}})
	const have = "(have k, ts, amount, price)"
	for _, tc := range []struct {
		name string
		job  *Job
		want string
	}{
		{"no functions", empty, `t.yaml:2: step "w": window has no functions (compute)`},
		{"unknown partition column", win([]string{"kk"}, nil, "row_number()"),
			`t.yaml:2: step "w": window partition_by: unknown column "kk" ` + have},
		{"duplicate partition column", win([]string{"k", "k"}, nil, "row_number()"),
			`t.yaml:2: step "w": duplicate window partition_by column "k"`},
		{"unknown order column", win(nil, []string{"tss"}, "row_number()"),
			`t.yaml:2: step "w": window order_by: unknown column "tss" ` + have},
		{"duplicate order column", win(nil, []string{"ts", "ts DESC"}, "row_number()"),
			`t.yaml:2: step "w": duplicate window order_by column "ts"`},
		{"unknown argument", win(nil, nil, "sum(amt)"), `t.yaml:2: step "w": sum(amt): unknown column "amt" ` + have},
		{"sum of a string", win(nil, nil, "sum(k)"),
			`t.yaml:2: step "w": sum(k): column "k" has type string, want int64, float64 or a decimal`},
		{"avg of a string", win(nil, nil, "avg(k) AS a"),
			`t.yaml:2: step "w": avg(k): column "k" has type string, want int64, float64 or a decimal`},
		{"name clash with input", win(nil, nil, "row_number() AS ts"),
			`t.yaml:2: step "w": row_number(): duplicate column "ts" in window output: add AS another name`},
		{"name clash between functions", win(nil, nil, "lag(ts)", "lag(ts, 2)"),
			`t.yaml:2: step "w": lag(ts, 2): duplicate column "lag_ts" in window output: add AS another name`},
		{"negative offset", win(nil, nil, "lag(ts, -1)"), `t.yaml:2: step "w": lag(ts, -1): offset must be >= 0, got -1`},
		{"default of another type", win(nil, nil, "lead(ts, 1, 'x')"),
			`t.yaml:2: step "w": lead(ts, 1, 'x'): default 'x' has type string, which does not convert exactly to the column's int64`},
		{"default that would round", win(nil, nil, "lead(price, 1, CAST('0.125' AS decimal(4,3)))"),
			`t.yaml:2: step "w": lead(price, 1, CAST('0.125' AS decimal(4,3))): default CAST('0.125' AS decimal(4,3)) has type decimal(4,3), which does not convert exactly to the column's decimal(7,2)`},
		{"default out of range", win(nil, nil, "lead(price, 1, 123456)"),
			`t.yaml:2: step "w": lead(price, 1, 123456): default 123456 has type int64, which does not convert exactly to the column's decimal(7,2)`},
		{"range with an offset", win(nil, []string{"ts"}, "sum(amount) RANGE BETWEEN 2 PRECEDING AND CURRENT ROW"),
			`t.yaml:2: step "w": sum(amount) RANGE BETWEEN 2 PRECEDING AND CURRENT ROW: RANGE frames with an offset (n PRECEDING or FOLLOWING) are not supported: use ROWS, or RANGE with UNBOUNDED and CURRENT ROW bounds`},
		{"start after end", win(nil, nil, "sum(amount) ROWS BETWEEN CURRENT ROW AND 1 PRECEDING"),
			`t.yaml:2: step "w": sum(amount) ROWS BETWEEN CURRENT ROW AND 1 PRECEDING: a frame starting at CURRENT ROW cannot end before it (n PRECEDING)`},
		{"following start", win(nil, nil, "count(*) ROWS BETWEEN 1 FOLLOWING AND CURRENT ROW"),
			`t.yaml:2: step "w": count(*) ROWS BETWEEN 1 FOLLOWING AND CURRENT ROW: a frame starting at n FOLLOWING cannot end at CURRENT ROW or n PRECEDING`},
		{"unbounded following start", win(nil, nil, "min(ts) ROWS UNBOUNDED FOLLOWING"),
			`t.yaml:2: step "w": min(ts) ROWS BETWEEN UNBOUNDED FOLLOWING AND CURRENT ROW: a frame cannot start at UNBOUNDED FOLLOWING`},
		{"unbounded preceding end", win(nil, nil, "max(ts) ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED PRECEDING"),
			`t.yaml:2: step "w": max(ts) ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED PRECEDING: a frame cannot end at UNBOUNDED PRECEDING`},
		{"bounds without a unit", noUnit,
			`t.yaml:2: step "w": sum(amount): frame bounds without a unit: set Unit to FrameRows or FrameRange`},
	} {
		t.Run(tc.name, func(t *testing.T) { wantResolveError(t, tc.job, tc.want) })
	}
}

func TestResolveWindowGoErrors(t *testing.T) {
	for _, tc := range []struct {
		f    WindowFunc
		want string
	}{
		{WindowFunc{Func: WinRank, Arg: "ts"}, `rank(ts) takes no column`},
		{WindowFunc{Func: WinMax}, `max() needs a column`},
		{WindowFunc{Func: WinSum, Arg: "ts", Frame: WindowFrame{Unit: FrameRows, Start: FrameBound{Kind: BoundPreceding, N: -3}}},
			`sum(ts) ROWS BETWEEN -3 PRECEDING AND UNBOUNDED PRECEDING: frame offsets must be >= 0, got -3`},
		{WindowFunc{Func: WindowFuncKind(99), Arg: "ts"}, `unknown window function 99`},
	} {
		s := &Step{ID: "w", Kind: KindWindow, Inputs: []string{"r"}, Window: &WindowStep{Funcs: []WindowFunc{tc.f}}}
		_, err := OutputSchema(s, []Schema{{{Name: "ts", Type: Int64}}})
		if err == nil || err.Error() != `step "w": `+tc.want {
			t.Errorf("OutputSchema(%+v) = %v, want %s", tc.f, err, tc.want)
		}
	}
}

func TestWindowStepString(t *testing.T) {
	w := rtWindowStep("w", "r", []string{"k", "end"}, []string{"ts DESC NULLS LAST"}, "row_number() AS n", "sum(x) ROWS 2 PRECEDING")
	want := `partition by k, "end" order by ts DESC NULLS LAST compute row_number() AS n, sum(x) ROWS BETWEEN 2 PRECEDING AND CURRENT ROW`
	if got := w.Window.String(); got != want {
		t.Errorf("String() = %s, want %s", got, want)
	}
	whole := rtWindowStep("w", "r", nil, nil, "count(*)")
	if got := whole.Window.String(); got != "compute count(*)" {
		t.Errorf("String() = %s, want compute count(*)", got)
	}
}
