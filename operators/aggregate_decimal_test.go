package operators

import (
	"context"
	"errors"
	"math"
	"math/rand"
	"reflect"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators/expr"
	"github.com/batchrun/batchrun/operators/internal/optest"
)

var decAggSchema = spec.Schema{
	{Name: "k", Type: spec.Int64},
	{Name: "tenth", Type: spec.DecimalType(3, 1)},
	{Name: "day", Type: spec.Date},
	{Name: "amt", Type: spec.DecimalType(15, 2)},
}

var decAggStep = &spec.AggregateStep{Keys: []string{"k"}, Aggs: []spec.Agg{
	{Func: spec.AggSum, Arg: "tenth", Alias: "st"},
	{Func: spec.AggSum, Arg: "amt", Alias: "sa"},
	{Func: spec.AggAvg, Arg: "amt", Alias: "aa"},
	{Func: spec.AggMin, Arg: "day", Alias: "minday"},
	{Func: spec.AggMax, Arg: "amt", Alias: "maxamt"},
	{Func: spec.AggCount, Arg: "amt", Alias: "n"},
}}

// decAggRows: tenth is always 0.1 (a float64 sum of many 0.1s is not
// exact), amt random cents with nulls.
func decAggRows(n int) [][]any {
	r := rand.New(rand.NewSource(7))
	rows := make([][]any, n)
	for i := range rows {
		var amt any = int64(r.Intn(2_000_000) - 1_000_000)
		if i%11 == 0 {
			amt = nil
		}
		rows[i] = []any{int64(i % 7), int64(1), int64(10000 + r.Intn(400)), amt}
	}
	return rows
}

// refDecAgg computes decAggStep's result independently: int64 sums of the
// unscaled values, groups in first-seen order.
func refDecAgg(rows [][]any) [][]any {
	type acc struct {
		k, st, sa, n, minday, maxamt int64
		hasAmt                       bool
	}
	var order []int64
	groups := map[int64]*acc{}
	for _, row := range rows {
		k := row[0].(int64)
		g := groups[k]
		if g == nil {
			g = &acc{k: k, minday: math.MaxInt64, maxamt: math.MinInt64}
			groups[k] = g
			order = append(order, k)
		}
		g.st += row[1].(int64)
		g.minday = min(g.minday, row[2].(int64))
		if a, ok := row[3].(int64); ok {
			g.sa += a
			g.n++
			g.maxamt = max(g.maxamt, a)
			g.hasAmt = true
		}
	}
	var out [][]any
	for _, k := range order {
		g := groups[k]
		out = append(out, []any{k, g.st, g.sa, float64(g.sa) / (float64(g.n) * 100), g.minday, g.maxamt, g.n})
	}
	return out
}

func TestDecimalSumExact(t *testing.T) {
	rows := decAggRows(100_000)
	want := refDecAgg(rows)
	// The float64 sum of the same 0.1s is off: the decimal sum must not be.
	f := 0.0
	for range want[0][1].(int64) {
		f += 0.1
	}
	if f == float64(want[0][1].(int64))/10 {
		t.Fatalf("the float64 sum %v is exact: the test proves nothing", f)
	}
	out, err := AggregateSchema(decAggSchema, decAggStep)
	if err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "(k int64, st decimal(18,1), sa decimal(18,2), aa float64, minday date, maxamt decimal(15,2), n int64)" {
		t.Errorf("AggregateSchema = %s", got)
	}
	mem := optest.Checked(t)
	got := runAgg(t, mem, AggWhole, decAggSchema, decAggStep, chunkRecords(t, mem, decAggSchema, rows, 4096))
	if !reflect.DeepEqual(got, want) {
		t.Errorf("aggregate =\n%s, want\n%s", optest.Format(got), optest.Format(want))
	}
	// Partials over three slices, merged by a final aggregate.
	partial, err := PartialAggSchema(decAggSchema, decAggStep)
	if err != nil {
		t.Fatal(err)
	}
	if got := partial.String(); got != "(k int64, st#lo int64, st#hi int64, sa#lo int64, sa#hi int64, aa#lo int64, aa#hi int64, aa#count int64, minday date, maxamt decimal(15,2), n int64)" {
		t.Errorf("PartialAggSchema = %s", got)
	}
	var states []arrow.Record
	for _, part := range [][][]any{rows[:30000], rows[30000:30001], rows[30001:]} {
		states = append(states, optest.Record(t, mem, partial, runAgg(t, mem, AggPartial, decAggSchema, decAggStep, chunkRecords(t, mem, decAggSchema, part, 5000))))
	}
	got = runAgg(t, mem, AggFinal, decAggSchema, decAggStep, states)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("final(partial) =\n%s, want\n%s", optest.Format(got), optest.Format(want))
	}
}

// TestDecimalSumOverflow: a sum that does not fit decimal(18,s) is an
// EvalError; one whose running total leaves the int64 range but comes back
// is exact, across partial states too.
func TestDecimalSumOverflow(t *testing.T) {
	in := optest.Schema(t, "k int64, d decimal(18,0)")
	step := &spec.AggregateStep{Keys: []string{"k"}, Aggs: []spec.Agg{{Func: spec.AggSum, Arg: "d", Alias: "s"}, {Func: spec.AggAvg, Arg: "d", Alias: "a"}}}
	const big = 900_000_000_000_000_000
	var rows [][]any
	for range 20 { // 20 * 9e17 leaves the int64 range
		rows = append(rows, []any{1, int64(big)})
	}
	for range 20 {
		rows = append(rows, []any{1, int64(-big)})
	}
	rows = append(rows, []any{1, int64(5)}, []any{2, int64(big)}, []any{2, int64(big)})
	mem := optest.Checked(t)
	sink := &optest.Sink{}
	defer sink.Release()
	h, err := NewHashAggregate(AggWhole, in, step, sink, mem)
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range chunkRecords(t, mem, in, rows, 7) {
		if err := h.Push(context.Background(), rec); err != nil {
			t.Fatal(err)
		}
		rec.Release()
	}
	err = h.Finish(context.Background())
	var ee *expr.EvalError
	if !errors.As(err, &ee) || err.Error() != "operators: sum(d) overflows decimal(18,0)" {
		t.Errorf("Finish error = %v, want EvalError sum(d) overflows decimal(18,0)", err)
	}
	if !IsDataError(err) {
		t.Errorf("IsDataError(%v) = false", err)
	}
	// Without group 2 the sum is exactly 5, partial states included.
	rows = rows[:len(rows)-2]
	partial, _ := PartialAggSchema(in, step)
	var states []arrow.Record
	for _, part := range [][][]any{rows[:25], rows[25:]} {
		states = append(states, optest.Record(t, mem, partial, runAgg(t, mem, AggPartial, in, step, chunkRecords(t, mem, in, part, 3))))
	}
	got := runAgg(t, mem, AggFinal, in, step, states)
	if want := [][]any{{int64(1), int64(5), 5.0 / 41}}; !reflect.DeepEqual(got, want) {
		t.Errorf("final(partial) = %v, want %v", got, want)
	}
}

// TestDecimalDateKeysAndSort groups by a date and a decimal and sorts by
// them: their int64 order is their order.
func TestDecimalDateKeysAndSort(t *testing.T) {
	in := optest.Schema(t, "day date, price decimal(5,2), v int64")
	rows := [][]any{
		{int64(10), int64(-150), 1}, {int64(-3), int64(20), 2}, {int64(10), int64(-150), 3},
		{nil, int64(5), 4}, {int64(-3), nil, 5}, {int64(10), int64(99999), 6},
	}
	mem := optest.Checked(t)
	step := &spec.AggregateStep{Keys: []string{"day", "price"}, Aggs: []spec.Agg{
		{Func: spec.AggSum, Arg: "v", Alias: "s"}, {Func: spec.AggCountDistinct, Arg: "price", Alias: "cd"},
		{Func: spec.AggFirst, Arg: "price", Alias: "fp"},
	}}
	got := runAgg(t, mem, AggWhole, in, step, chunkRecords(t, mem, in, rows, 4))
	want := "10 -150 4 1 -150\n-3 20 2 1 20\nNULL 5 4 1 5\n-3 NULL 5 0 NULL\n10 99999 6 1 99999\n"
	if optest.Format(got) != want {
		t.Errorf("aggregate =\n%swant\n%s", optest.Format(got), want)
	}
	sink := &optest.Sink{}
	defer sink.Release()
	s, err := NewSort(SortPartial, in, []spec.SortKey{{Column: "price", Desc: true}, {Column: "day"}}, sink, mem)
	if err != nil {
		t.Fatal(err)
	}
	optest.Push(t, s, chunkRecords(t, mem, in, rows, 4)...)
	want = "10 99999 6\n-3 20 2\nNULL 5 4\n10 -150 1\n10 -150 3\n-3 NULL 5\n"
	if got := optest.Format(sink.Rows()); got != want {
		t.Errorf("sort =\n%swant\n%s", got, want)
	}
}

// TestDecimalSumSpill: exact sums survive spilling their partial states.
func TestDecimalSumSpill(t *testing.T) {
	rows := decAggRows(40_000)
	for i, row := range rows {
		row[0] = int64(i % 3000)
	}
	want := refDecAgg(rows)
	mem := optest.Checked(t)
	sp := &graceSpiller{t: t}
	var stats SpillStats
	sink := &optest.Sink{}
	defer sink.Release()
	h, err := NewHashAggregate(AggWhole, decAggSchema, decAggStep, sink, mem)
	if err != nil {
		t.Fatal(err)
	}
	h.SetBudget(Budget{Bytes: 32 << 10, Spill: sp, Stats: &stats})
	h.spill.floor = 0
	optest.Push(t, h, chunkRecords(t, mem, decAggSchema, rows, 2000)...)
	if stats.Runs == 0 {
		t.Errorf("did not spill: %+v", stats)
	}
	checkSpilledRows(t, "spilled decimal sums", sink.Rows(), want, false)
	sp.checkClean(t, "decimal")
}
