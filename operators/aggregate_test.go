package operators

import (
	"context"
	"fmt"
	"math"
	"math/rand"
	"reflect"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators/internal/optest"
)

var aggTestSchema = spec.Schema{
	{Name: "k1", Type: spec.Int64}, {Name: "k2", Type: spec.String},
	{Name: "k3", Type: spec.Float64}, {Name: "k4", Type: spec.Bool},
	{Name: "v", Type: spec.Int64}, {Name: "w", Type: spec.Float64}, {Name: "s", Type: spec.String},
}

// aggTestRows generates n rows; floats are multiples of 1/4 so that sums
// are exact in any order.
func aggTestRows(r *rand.Rand, n int) [][]any {
	orNull := func(p int, v any) any {
		if r.Intn(100) < p {
			return nil
		}
		return v
	}
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = []any{
			orNull(5, int64(r.Intn(20)-5)),
			orNull(5, fmt.Sprintf("c%d", r.Intn(15))),
			orNull(5, float64(r.Intn(8))/2-1),
			orNull(5, r.Intn(2) == 0),
			orNull(20, int64(r.Intn(1000)-500)),
			orNull(20, float64(r.Intn(1000))/4),
			orNull(20, fmt.Sprintf("s%03d", r.Intn(500))),
		}
		if i%97 == 0 {
			rows[i][2] = math.Copysign(0, -1) // equals 0
		}
	}
	return rows
}

var aggTestAggs = []spec.Agg{
	{Func: spec.AggCount, Alias: "n"},
	{Func: spec.AggCount, Arg: "v", Alias: "nv"},
	{Func: spec.AggSum, Arg: "v", Alias: "sv"},
	{Func: spec.AggSum, Arg: "w"},
	{Func: spec.AggMin, Arg: "v", Alias: "minv"},
	{Func: spec.AggMax, Arg: "w", Alias: "maxw"},
	{Func: spec.AggAvg, Arg: "v", Alias: "avgv"},
	{Func: spec.AggAvg, Arg: "w", Alias: "avgw"},
	{Func: spec.AggMin, Arg: "s", Alias: "mins"},
	{Func: spec.AggMax, Arg: "s", Alias: "maxs"},
	{Func: spec.AggMin, Arg: "k4", Alias: "mink4"},
	{Func: spec.AggMax, Arg: "k4", Alias: "maxk4"},
}

// refAggregate is the naive reference: a map from the printed key to a
// group, groups in first-seen order, aggregates over Go values.
func refAggregate(in spec.Schema, rows [][]any, step *spec.AggregateStep) [][]any {
	type group struct {
		key  []any
		vals [][]any // per aggregate, its non-null inputs (count(*): every row)
	}
	index := map[string]int{}
	var groups []*group
	for _, row := range rows {
		var key []any
		for _, k := range step.Keys {
			v := row[in.Index(k)]
			if f, ok := v.(float64); ok && f == 0 {
				v = 0.0
			}
			key = append(key, v)
		}
		ks := fmt.Sprintf("%#v", key)
		gi, ok := index[ks]
		if !ok {
			gi = len(groups)
			index[ks] = gi
			groups = append(groups, &group{key: key, vals: make([][]any, len(step.Aggs))})
		}
		for a, agg := range step.Aggs {
			if agg.Arg == "" {
				groups[gi].vals[a] = append(groups[gi].vals[a], true)
			} else if v := row[in.Index(agg.Arg)]; v != nil || agg.Func == spec.AggFirst {
				groups[gi].vals[a] = append(groups[gi].vals[a], v)
			}
		}
	}
	if len(step.Keys) == 0 && len(groups) == 0 {
		groups = append(groups, &group{vals: make([][]any, len(step.Aggs))})
	}
	var out [][]any
	for _, g := range groups {
		row := append([]any{}, g.key...)
		for a, agg := range step.Aggs {
			row = append(row, refAgg(agg.Func, g.vals[a]))
		}
		out = append(out, row)
	}
	return out
}

func refAgg(fn spec.AggFunc, vals []any) any {
	switch fn {
	case spec.AggCount:
		return int64(len(vals))
	case spec.AggCountDistinct:
		seen := map[any]bool{}
		for _, v := range vals {
			seen[v] = true
		}
		return int64(len(seen))
	}
	if len(vals) == 0 {
		return nil
	}
	if fn == spec.AggFirst || fn == spec.AggAnyValue {
		return vals[0]
	}
	acc := vals[0]
	for _, v := range vals[1:] {
		switch fn {
		case spec.AggSum, spec.AggAvg:
			switch a := acc.(type) {
			case int64:
				acc = a + v.(int64)
			case float64:
				acc = a + v.(float64)
			}
		case spec.AggMin, spec.AggMax:
			if less(v, acc) == (fn == spec.AggMin) && !equalAny(v, acc) {
				acc = v
			}
		}
	}
	if fn == spec.AggAvg {
		switch a := acc.(type) {
		case int64:
			return float64(a) / float64(len(vals))
		case float64:
			return a / float64(len(vals))
		}
	}
	return acc
}

func equalAny(a, b any) bool { return a == b }

func less(a, b any) bool {
	switch a := a.(type) {
	case int64:
		return a < b.(int64)
	case float64:
		return a < b.(float64)
	case string:
		return a < b.(string)
	case bool:
		return !a && b.(bool)
	}
	panic("less")
}

// runAgg pushes chunks of rows through one aggregate and returns its
// output rows.
func runAgg(t *testing.T, mem memory.Allocator, mode AggMode, in spec.Schema, step *spec.AggregateStep, recs []arrow.Record) [][]any {
	t.Helper()
	sink := &optest.Sink{}
	defer sink.Release()
	h, err := NewHashAggregate(mode, in, step, sink, mem)
	if err != nil {
		t.Fatal(err)
	}
	optest.Push(t, h, recs...)
	if sink.Finished != 1 {
		t.Errorf("downstream finished %d times", sink.Finished)
	}
	return sink.Rows()
}

func chunkRecords(t *testing.T, mem memory.Allocator, s spec.Schema, rows [][]any, size int) []arrow.Record {
	var recs []arrow.Record
	for from := 0; from < len(rows); from += size {
		recs = append(recs, optest.Record(t, mem, s, rows[from:min(from+size, len(rows))]))
	}
	return recs
}

func TestHashAggregate(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	rows := aggTestRows(r, 3000)
	for _, keys := range [][]string{{"k1"}, {"k2"}, {"k3"}, {"k4"}, {"k1", "k2"}, {"k2", "k3", "k4"}, nil} {
		step := &spec.AggregateStep{Keys: keys, Aggs: aggTestAggs}
		want := refAggregate(aggTestSchema, rows, step)
		mem := optest.Checked(t)
		got := runAgg(t, mem, AggWhole, aggTestSchema, step, chunkRecords(t, mem, aggTestSchema, rows, 700))
		if !reflect.DeepEqual(got, want) {
			t.Errorf("aggregate(keys %v) =\n%s, want\n%s", keys, optest.Format(got), optest.Format(want))
		}
		// Partial on three slices, then final, equals whole (and keeps
		// first-seen order).
		partial, err := PartialAggSchema(aggTestSchema, step)
		if err != nil {
			t.Fatal(err)
		}
		var states []arrow.Record
		for _, part := range [][][]any{rows[:1000], rows[1000:1001], rows[1001:]} {
			states = append(states, optest.Record(t, mem, partial, runAgg(t, mem, AggPartial, aggTestSchema, step, chunkRecords(t, mem, aggTestSchema, part, 300))))
		}
		got = runAgg(t, mem, AggFinal, aggTestSchema, step, states)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("final(partial(keys %v)) =\n%s, want\n%s", keys, optest.Format(got), optest.Format(want))
		}
	}
}

func TestHashAggregateSmall(t *testing.T) {
	in := optest.Schema(t, "k string, v int64")
	step := &spec.AggregateStep{Keys: []string{"k"}, Aggs: []spec.Agg{
		{Func: spec.AggCount, Alias: "n"}, {Func: spec.AggCount, Arg: "v", Alias: "nv"},
		{Func: spec.AggSum, Arg: "v", Alias: "s"}, {Func: spec.AggAvg, Arg: "v", Alias: "a"},
	}}
	mem := optest.Checked(t)
	rec := optest.Record(t, mem, in, [][]any{{"b", 1}, {nil, 2}, {"a", nil}, {"b", 4}, {nil, nil}, {"a", nil}})
	got := runAgg(t, mem, AggWhole, in, step, []arrow.Record{rec})
	want := [][]any{
		{"b", int64(2), int64(2), int64(5), 2.5},
		{nil, int64(2), int64(1), int64(2), 2.0},
		{"a", int64(2), int64(0), nil, nil},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("aggregate =\n%s, want\n%s", optest.Format(got), optest.Format(want))
	}
	ps, _ := PartialAggSchema(in, step)
	if got, want := ps.String(), "(k string, n int64, nv int64, s int64, a#sum float64, a#count int64)"; got != want {
		t.Errorf("PartialAggSchema = %s, want %s", got, want)
	}
	fs, _ := AggregateSchema(in, step)
	if got, want := fs.String(), "(k string, n int64, nv int64, s int64, a float64)"; got != want {
		t.Errorf("AggregateSchema = %s, want %s", got, want)
	}
}

func TestHashAggregateEmptyInput(t *testing.T) {
	in := optest.Schema(t, "k string, v int64")
	mem := optest.Checked(t)
	global := &spec.AggregateStep{Aggs: []spec.Agg{{Func: spec.AggCount}, {Func: spec.AggSum, Arg: "v"}}}
	if got, want := runAgg(t, mem, AggWhole, in, global, nil), [][]any{{int64(0), nil}}; !reflect.DeepEqual(got, want) {
		t.Errorf("global aggregate of nothing = %v, want %v", got, want)
	}
	grouped := &spec.AggregateStep{Keys: []string{"k"}, Aggs: global.Aggs}
	if got := runAgg(t, mem, AggWhole, in, grouped, nil); len(got) != 0 {
		t.Errorf("grouped aggregate of nothing = %v, want no rows", got)
	}
}

func TestHashAggregateManyGroups(t *testing.T) {
	in := optest.Schema(t, "k int64, s string")
	n := BatchRows + 5000
	rows := make([][]any, 0, 2*n)
	for i := 0; i < 2*n; i++ {
		k := int64((i * 7919) % n)
		rows = append(rows, []any{k, fmt.Sprint("x", k)})
	}
	for _, key := range []string{"k", "s"} {
		step := &spec.AggregateStep{Keys: []string{key}, Aggs: []spec.Agg{{Func: spec.AggCount, Alias: "n"}}}
		mem := optest.Checked(t)
		sink := &optest.Sink{}
		h, err := NewHashAggregate(AggWhole, in, step, sink, mem)
		if err != nil {
			t.Fatal(err)
		}
		optest.Push(t, h, chunkRecords(t, mem, in, rows, BatchRows)...)
		if len(sink.Recs) != 2 || sink.Recs[0].NumRows() != BatchRows {
			t.Errorf("key %s: %d output batches, want 2 (first of %d rows)", key, len(sink.Recs), BatchRows)
		}
		got := sink.Rows()
		sink.Release()
		if len(got) != n || h.Stats().RowsOut != int64(n) || h.Stats().RowsIn != int64(2*n) {
			t.Fatalf("key %s: %d groups, stats %+v, want %d", key, len(got), h.Stats(), n)
		}
		for i, row := range got {
			if row[1] != int64(2) || (key == "k" && row[0] != rows[i][0]) {
				t.Fatalf("key %s: group %d = %v, want first-seen key %v with count 2", key, i, row, rows[i][0])
			}
		}
	}
}

func TestHashAggregateErrors(t *testing.T) {
	in := optest.Schema(t, "k string, v int64")
	tests := []struct {
		step *spec.AggregateStep
		want string
	}{
		{&spec.AggregateStep{Keys: []string{"x"}}, `operators: aggregate key "x" is not a column of (k string, v int64)`},
		{&spec.AggregateStep{Aggs: []spec.Agg{{Func: spec.AggSum, Arg: "k"}}}, `operators: sum(k): cannot aggregate type string`},
		{&spec.AggregateStep{Aggs: []spec.Agg{{Func: spec.AggSum}}}, `operators: sum needs a column`},
	}
	for _, tc := range tests {
		if _, err := NewHashAggregate(AggWhole, in, tc.step, &optest.Sink{}, memory.DefaultAllocator); err == nil || err.Error() != tc.want {
			t.Errorf("NewHashAggregate(%+v) error = %v, want %s", tc.step, err, tc.want)
		}
	}
	mem := optest.Checked(t)
	h, _ := NewHashAggregate(AggWhole, in, &spec.AggregateStep{Aggs: []spec.Agg{{Func: spec.AggSum, Arg: "v"}}}, &optest.Sink{}, mem)
	rec := optest.Record(t, mem, in, [][]any{{"a", int64(1 << 62)}, {"a", int64(1 << 62)}})
	defer rec.Release()
	if err := h.Push(context.Background(), rec); err == nil || err.Error() != "operators: sum overflows int64" {
		t.Errorf("sum overflow error = %v", err)
	}
	bad := optest.Record(t, mem, optest.Schema(t, "k int64, v int64"), nil)
	defer bad.Release()
	if err := h.Push(context.Background(), bad); err == nil {
		t.Errorf("Push(wrong schema) = nil error")
	}
}
