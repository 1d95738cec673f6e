package jobs

import (
	"errors"
	"reflect"
	"testing"

	"github.com/batchrun/batchrun/jobs/spec"
)

// TestParseWindowStep decodes a window step in YAML and builds the same
// one with the builder: the two jobs' steps are equal, and the output
// schema has the input's columns then the functions'.
func TestParseWindowStep(t *testing.T) {
	src := header + `  - id: w
    window:
      partition_by: [country]
      order_by: ["amount DESC NULLS LAST", user_id]
      compute:
        - "row_number() AS rn"
        - "sum(amount) ROWS BETWEEN 2 PRECEDING AND CURRENT ROW AS last3"
        - "lag(amount, 1, 0)"
    input: events
`
	job, err := Parse([]byte(src), "t.yaml", "", LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w := job.Step("w").Window
	want := &spec.WindowStep{
		PartitionBy: []string{"country"},
		OrderBy:     []spec.SortKey{{Column: "amount", Desc: true, Nulls: spec.NullsLast}, {Column: "user_id"}},
		Funcs: []spec.WindowFunc{
			{Func: spec.WinRowNumber, Alias: "rn"},
			{Func: spec.WinSum, Arg: "amount", Alias: "last3", Frame: spec.WindowFrame{Unit: spec.FrameRows,
				Start: spec.FrameBound{Kind: spec.BoundPreceding, N: 2}, End: spec.FrameBound{Kind: spec.BoundCurrentRow}}},
			{Func: spec.WinLag, Arg: "amount", Offset: 1, Default: &spec.Literal{Type: spec.Int64}},
		},
	}
	if !reflect.DeepEqual(w, want) {
		t.Errorf("window = %+v\nwant %+v", w, want)
	}
	res, err := spec.Resolve(job)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res.Schemas["w"].String(), "(user_id int64, country string, amount float64, rn int64, last3 float64, lag_amount float64)"; got != want {
		t.Errorf("schema = %s, want %s", got, want)
	}

	b := NewBuilder("t")
	ev := b.Read("events", "e.csv", "user_id int64", "country string", "amount float64")
	b.Window("w", ev, []string{"country"}, []string{"amount DESC NULLS LAST", "user_id"},
		"row_number() AS rn", "sum(amount) ROWS BETWEEN 2 PRECEDING AND CURRENT ROW AS last3", "lag(amount, 1, 0)")
	bj, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	if got := bj.Step("w").Window; !reflect.DeepEqual(got, want) {
		t.Errorf("built window = %+v\nwant %+v", got, want)
	}
}

func TestParseWindowErrors(t *testing.T) {
	for _, tc := range []struct{ name, spec, want string }{
		{"unknown key", header + "  - id: w\n    window: {partition: [country], compute: [\"rank()\"]}\n    input: events\n",
			`t.yaml:6: step "w": window: unknown key "partition" (want one of partition_by, order_by, compute)`},
		{"no compute", header + "  - id: w\n    window: {partition_by: [country]}\n    input: events\n",
			`t.yaml:6: step "w": window has no compute: add compute: ["row_number() AS rn", ...]`},
		{"bad function", header + "  - id: w\n    window:\n      compute:\n        - \"rank() AS r\"\n        - \"percent_rank()\"\n    input: events\n",
			`t.yaml:9: step "w": window "percent_rank()": expression "percent_rank()": line 1 col 1: unknown window function "percent_rank" (known: row_number, rank, dense_rank, lag, lead, first_value, last_value, count, sum, avg, min, max)`},
		{"bad order key", header + "  - id: w\n    window: {order_by: [\"amount DOWN\"], compute: [\"rank()\"]}\n    input: events\n",
			`t.yaml:6: step "w": window order_by "amount DOWN": expression "amount DOWN": line 1 col 8: expected ASC, DESC, NULLS FIRST, NULLS LAST or end of input, found "DOWN"`},
		{"unknown column", header + "  - id: w\n    window: {partition_by: [segment], compute: [\"rank()\"]}\n    input: events\n",
			`t.yaml:5: step "w": window partition_by: unknown column "segment" (have user_id, country, amount)`},
		{"range with offset", header + "  - id: w\n    window: {order_by: [amount], compute: [\"count(*) RANGE 3 PRECEDING\"]}\n    input: events\n",
			`t.yaml:5: step "w": count(*) RANGE BETWEEN 3 PRECEDING AND CURRENT ROW: RANGE frames with an offset (n PRECEDING or FOLLOWING) are not supported: use ROWS, or RANGE with UNBOUNDED and CURRENT ROW bounds`},
		{"negative lag offset", header + "  - id: w\n    window: {compute: [\"lead(amount, -2)\"]}\n    input: events\n",
			`t.yaml:5: step "w": lead(amount, -2): offset must be >= 0, got -2`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.spec), "t.yaml", "", LoadOptions{})
			var se *SpecError
			if err == nil || !errors.As(err, &se) || err.Error() != tc.want {
				t.Errorf("Parse error\n got %v\nwant %s", err, tc.want)
			}
		})
	}
	b := NewBuilder("t")
	b.Window("w", b.Read("events", "e.csv", "x int64"), nil, []string{"x UP"}, "rank()")
	if _, err := b.Build(); err == nil {
		t.Errorf("window with a bad order key built")
	}
}
