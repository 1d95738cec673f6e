package operators

import (
	"fmt"
	"math/rand"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators/internal/optest"
)

// TestHashAggregateMoreFuncs checks count_distinct (whole only), first and
// any_value (whole, and partial then final) against the reference, with
// null keys forming one group and null values.
func TestHashAggregateMoreFuncs(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	rows := aggTestRows(r, 3000)
	aggs := []spec.Agg{
		{Func: spec.AggCountDistinct, Arg: "v", Alias: "dv"},
		{Func: spec.AggCountDistinct, Arg: "s", Alias: "ds"},
		{Func: spec.AggCountDistinct, Arg: "w", Alias: "dw"},
		{Func: spec.AggFirst, Arg: "v", Alias: "fv"},
		{Func: spec.AggFirst, Arg: "s", Alias: "fs"},
		{Func: spec.AggFirst, Arg: "k4", Alias: "fk4"},
		{Func: spec.AggAnyValue, Arg: "w", Alias: "aw"},
		{Func: spec.AggAnyValue, Arg: "s", Alias: "as"},
	}
	for _, keys := range [][]string{{"k1"}, {"k2"}, {"k1", "k4"}, nil} {
		step := &spec.AggregateStep{Keys: keys, Aggs: aggs}
		want := refAggregate(aggTestSchema, rows, step)
		mem := optest.Checked(t)
		got := runAgg(t, mem, AggWhole, aggTestSchema, step, chunkRecords(t, mem, aggTestSchema, rows, 700))
		if !reflect.DeepEqual(got, want) {
			t.Errorf("keys %v: whole =\n%s\nwant\n%s", keys, optest.Format(got), optest.Format(want))
		}
		// first and any_value merge: partial over halves, final over both.
		step = &spec.AggregateStep{Keys: keys, Aggs: aggs[3:]}
		want = refAggregate(aggTestSchema, rows, step)
		partial, err := PartialAggSchema(aggTestSchema, step)
		if err != nil {
			t.Fatal(err)
		}
		p1 := runAgg(t, mem, AggPartial, aggTestSchema, step, chunkRecords(t, mem, aggTestSchema, rows[:1500], 700))
		p2 := runAgg(t, mem, AggPartial, aggTestSchema, step, chunkRecords(t, mem, aggTestSchema, rows[1500:], 700))
		got = runAgg(t, mem, AggFinal, aggTestSchema, step, chunkRecords(t, mem, partial, append(p1, p2...), 500))
		if !reflect.DeepEqual(got, want) {
			t.Errorf("keys %v: partial+final =\n%s\nwant\n%s", keys, optest.Format(got), optest.Format(want))
		}
	}
	if _, err := NewHashAggregate(AggPartial, aggTestSchema, &spec.AggregateStep{Aggs: aggs[:1]}, &optest.Sink{}, optest.Checked(t)); err == nil {
		t.Errorf("partial count_distinct: nil error")
	}
}

// refDistinct keeps the first row of each key tuple; nulls equal nulls.
func refDistinct(rows [][]any, keys []int) [][]any {
	seen := map[string]bool{}
	var out [][]any
	for _, r := range rows {
		var k []any
		for _, c := range keys {
			k = append(k, r[c])
		}
		if ks := fmt.Sprintf("%#v", k); !seen[ks] {
			seen[ks] = true
			out = append(out, r)
		}
	}
	return out
}

func TestHashDistinct(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	in := optest.Schema(t, "a int64, b string, c bool")
	var rows [][]any
	for range 5000 {
		var a, b, c any = int64(r.Intn(30)), fmt.Sprint("s", r.Intn(20)), r.Intn(2) == 0
		if r.Intn(8) == 0 {
			a = nil
		}
		if r.Intn(8) == 0 {
			b = nil
		}
		if r.Intn(8) == 0 {
			c = nil
		}
		rows = append(rows, []any{a, b, c})
	}
	for _, keys := range [][]string{nil, {"a"}, {"b"}, {"a", "c"}} {
		idx := []int{0, 1, 2}
		if keys != nil {
			idx = nil
			for _, k := range keys {
				idx = append(idx, in.Index(k))
			}
		}
		mem := optest.Checked(t)
		sink := &optest.Sink{}
		d, err := NewHashDistinct(in, keys, sink, mem)
		if err != nil {
			t.Fatal(err)
		}
		optest.Push(t, d, chunkRecords(t, mem, in, rows, 999)...)
		got, want := sink.Rows(), refDistinct(rows, idx)
		sink.Release()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("distinct on %v = %d rows, want %d\n%s", keys, len(got), len(want), optest.Format(got))
		}
	}
}

// TestTopN compares with a stable sort then a limit, for n small (many
// compactions), around BatchRows, and larger than the input.
func TestTopN(t *testing.T) {
	r := rand.New(rand.NewSource(9))
	in := optest.Schema(t, "k int64, s string, id int64")
	var rows [][]any
	for i := range 3*BatchRows + 17 {
		var k, s any = int64(r.Intn(100)), fmt.Sprint("w", r.Intn(50))
		if r.Intn(10) == 0 {
			k = nil
		}
		if r.Intn(10) == 0 {
			s = nil
		}
		rows = append(rows, []any{k, s, int64(i)})
	}
	keys := []spec.SortKey{{Column: "k", Desc: true}, {Column: "s"}}
	sorted := slices.Clone(rows)
	slices.SortStableFunc(sorted, func(x, y []any) int {
		if c := cmpNullable(x[0], y[0], true); c != 0 {
			return c
		}
		return cmpNullable(x[1], y[1], false)
	})
	for _, n := range []int64{0, 1, 10, BatchRows + 3, int64(len(rows)) + 5} {
		for _, off := range []int64{0, 7, BatchRows + 1, int64(len(rows))} {
			mem := optest.Checked(t)
			sink := &optest.Sink{}
			top, err := NewTopN(in, keys, n, off, sink, mem)
			if err != nil {
				t.Fatal(err)
			}
			optest.Push(t, top, chunkRecords(t, mem, in, rows, 1000)...)
			got, want := sink.Rows(), sorted[min(int(off), len(sorted)):min(int(off+n), len(sorted))]
			sink.Release()
			if len(want) == 0 {
				want = nil
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("top %d offset %d: got %d rows, want %d; first diff at %d", n, off, len(got), len(want), firstDiff(got, want))
			}
		}
	}
}

// cmpNullable orders nulls first ascending and last descending.
func cmpNullable(a, b any, desc bool) int {
	c := 0
	switch {
	case a == nil && b == nil:
	case a == nil:
		c = -1
	case b == nil:
		c = 1
	default:
		switch av := a.(type) {
		case int64:
			c = cmpInt(av, b.(int64))
		case string:
			c = strings.Compare(av, b.(string))
		}
	}
	if desc {
		return -c
	}
	return c
}

func firstDiff(a, b [][]any) int {
	for i := range min(len(a), len(b)) {
		if !reflect.DeepEqual(a[i], b[i]) {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestExplode(t *testing.T) {
	in := optest.Schema(t, "id int64, line string")
	rows := [][]any{
		{int64(1), "a b c"}, {int64(2), nil}, {int64(3), ""}, {int64(4), "x--y"},
		{nil, "solo"}, {int64(6), "--"},
	}
	out := optest.Schema(t, "id int64, word string")
	var want [][]any
	for _, r := range rows {
		if r[1] == nil {
			continue
		}
		for _, w := range strings.Split(strings.ReplaceAll(r[1].(string), "--", " "), " ") {
			want = append(want, []any{r[0], w})
		}
	}
	mem := optest.Checked(t)
	sink := &optest.Sink{}
	defer sink.Release()
	// Separator "--" in rows 4 and 6; " " elsewhere: explode twice.
	e2 := &optest.Sink{}
	defer e2.Release()
	second, err := NewExplode(out, "word", " ", out, sink, mem)
	if err != nil {
		t.Fatal(err)
	}
	first, err := NewExplode(in, "line", "--", out, second, mem)
	if err != nil {
		t.Fatal(err)
	}
	optest.Push(t, first, chunkRecords(t, mem, in, rows, 4)...)
	if got := sink.Rows(); !reflect.DeepEqual(got, want) {
		t.Errorf("explode =\n%s\nwant\n%s", optest.Format(got), optest.Format(want))
	}
	if _, err := NewExplode(in, "id", " ", out, sink, mem); err == nil {
		t.Errorf("explode of an int64 column: nil error")
	}
}

// TestExplodeLarge: a batch whose pieces exceed BatchRows is split into
// output batches of at most BatchRows rows (unless one row alone is more).
func TestExplodeLarge(t *testing.T) {
	in := optest.Schema(t, "id int64, line string")
	var rows [][]any
	for i := range 50 {
		rows = append(rows, []any{int64(i), strings.Repeat("w ", 3000) + "end"})
	}
	mem := optest.Checked(t)
	sink := &optest.Sink{}
	defer sink.Release()
	e, err := NewExplode(in, "line", " ", in, sink, mem)
	if err != nil {
		t.Fatal(err)
	}
	optest.Push(t, e, chunkRecords(t, mem, in, rows, 50)...)
	total := 0
	for _, r := range sink.Recs {
		total += int(r.NumRows())
		if r.NumRows() > BatchRows {
			t.Errorf("output batch of %d rows", r.NumRows())
		}
	}
	if total != 50*3001 {
		t.Errorf("explode rows = %d, want %d", total, 50*3001)
	}
}
