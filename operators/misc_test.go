package operators

import (
	"context"
	"math"
	"reflect"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators/arrowx"
	"github.com/batchrun/batchrun/operators/internal/optest"
)

func TestLimit(t *testing.T) {
	in := optest.Schema(t, "a int64")
	var rows [][]any
	for i := 0; i < 10; i++ {
		rows = append(rows, []any{int64(i)})
	}
	for _, tc := range []struct {
		n    int64
		want int
	}{{0, 0}, {1, 1}, {3, 3}, {4, 4}, {9, 9}, {10, 10}, {25, 10}} {
		mem := optest.Checked(t)
		sink := &optest.Sink{}
		l := NewLimit(tc.n, sink)
		optest.Push(t, l, chunkRecords(t, mem, in, rows, 4)...)
		got := sink.Rows()
		sink.Release()
		if !reflect.DeepEqual(got, rows[:tc.want]) && !(tc.want == 0 && len(got) == 0) {
			t.Errorf("limit(%d) = %v, want %v", tc.n, got, rows[:tc.want])
		}
		if done := l.Done(); done != (tc.n <= 10) {
			t.Errorf("limit(%d).Done() = %v after 10 rows", tc.n, done)
		}
		if s := l.Stats(); s.RowsIn != 10 || s.RowsOut != int64(tc.want) {
			t.Errorf("limit(%d) stats = %+v", tc.n, s)
		}
	}
}

// TestLimitOffset skips offset rows, then keeps n, over batches of 4 rows
// that cross both bounds.
func TestLimitOffset(t *testing.T) {
	in := optest.Schema(t, "a int64")
	var rows [][]any
	for i := 0; i < 10; i++ {
		rows = append(rows, []any{int64(i)})
	}
	for _, tc := range []struct{ n, offset int64 }{
		{3, 0}, {3, 2}, {3, 4}, {2, 5}, {10, 3}, {5, 10}, {0, 3}, {4, 12}, {math.MaxInt64, 6},
	} {
		mem := optest.Checked(t)
		sink := &optest.Sink{}
		l := NewLimitOffset(tc.n, tc.offset, sink)
		optest.Push(t, l, chunkRecords(t, mem, in, rows, 4)...)
		got := sink.Rows()
		sink.Release()
		from, to := min(tc.offset, 10), min(tc.offset+min(tc.n, 10), 10)
		want := rows[from:to]
		if !reflect.DeepEqual(got, want) && !(len(want) == 0 && len(got) == 0) {
			t.Errorf("limit %d offset %d = %v, want %v", tc.n, tc.offset, got, want)
		}
		if done := l.Done(); done != (tc.offset+min(tc.n, 10) <= 10) {
			t.Errorf("limit %d offset %d: Done() = %v after 10 rows", tc.n, tc.offset, done)
		}
		if s := l.Stats(); s.RowsIn != 10 || s.RowsOut != to-from {
			t.Errorf("limit %d offset %d: stats %+v", tc.n, tc.offset, s)
		}
	}
}

func TestPassthrough(t *testing.T) {
	in := optest.Schema(t, "a int64")
	mem := optest.Checked(t)
	sink := &optest.Sink{}
	defer sink.Release()
	p := NewPassthrough(2, sink)
	optest.Push(t, p, optest.Record(t, mem, in, [][]any{{int64(1)}}))
	if sink.Finished != 0 {
		t.Errorf("finished after the first of two inputs")
	}
	optest.Push(t, p, optest.Record(t, mem, in, [][]any{{int64(2)}}))
	if sink.Finished != 1 || !reflect.DeepEqual(sink.Rows(), [][]any{{int64(1)}, {int64(2)}}) {
		t.Errorf("passthrough = %v, finished %d", sink.Rows(), sink.Finished)
	}
	if err := p.Finish(context.Background()); err == nil {
		t.Errorf("third Finish of two inputs = nil error")
	}
}

// boolColumnPred is a stand-in predicate (until CompileExpr is used): the
// value of bool column c.
func boolColumnPred(c int) evalFunc {
	return func(rec arrow.Record, mem memory.Allocator) (arrow.Array, error) {
		a := rec.Column(c)
		a.Retain()
		return a, nil
	}
}

func TestFilterFunc(t *testing.T) {
	in := optest.Schema(t, "keep bool, v int64, s string")
	rows := [][]any{{true, int64(1), "a"}, {false, int64(2), "b"}, {nil, int64(3), "c"}, {true, nil, nil}}
	allPass := [][]any{{true, int64(5), "x"}, {true, int64(6), "y"}}
	mem := optest.Checked(t)
	sink := &optest.Sink{}
	defer sink.Release()
	f := newFilterFunc(boolColumnPred(0), in, sink, mem)
	pass := optest.Record(t, mem, in, allPass)
	optest.Push(t, f, optest.Record(t, mem, in, rows), optest.Record(t, mem, in, [][]any{{false, int64(0), "z"}}), pass)
	want := [][]any{{true, int64(1), "a"}, {true, nil, nil}, {true, int64(5), "x"}, {true, int64(6), "y"}}
	if got := sink.Rows(); !reflect.DeepEqual(got, want) {
		t.Errorf("filter = %v, want %v", got, want)
	}
	if len(sink.Recs) != 2 || sink.Recs[1] != pass {
		t.Errorf("filter pushed %d batches; an all-pass batch should be forwarded as is", len(sink.Recs))
	}
	if s := f.Stats(); s.RowsIn != 7 || s.RowsOut != 4 {
		t.Errorf("filter stats = %+v", s)
	}
}

func TestProjectFuncs(t *testing.T) {
	in := optest.Schema(t, "a int64, b string")
	mem := optest.Checked(t)
	sink := &optest.Sink{}
	defer sink.Release()
	double := func(rec arrow.Record, mem memory.Allocator) (arrow.Array, error) {
		b := array.NewInt64Builder(mem)
		defer b.Release()
		for _, v := range rec.Column(0).(*array.Int64).Int64Values() {
			b.Append(2 * v)
		}
		return b.NewArray(), nil
	}
	col := func(c int) evalFunc {
		return func(rec arrow.Record, mem memory.Allocator) (arrow.Array, error) {
			a := rec.Column(c)
			a.Retain()
			return a, nil
		}
	}
	p := newProjectFuncs([]evalFunc{col(1), double}, []spec.Type{spec.String, spec.Int64}, []string{"b", "a2"}, sink, mem)
	optest.Push(t, p, optest.Record(t, mem, in, [][]any{{int64(1), "x"}, {int64(4), "y"}}))
	if got, want := sink.Rows(), [][]any{{"x", int64(2)}, {"y", int64(8)}}; !reflect.DeepEqual(got, want) {
		t.Errorf("project = %v, want %v", got, want)
	}
	if got := sink.Recs[0].Schema().String(); got != arrowx.ArrowSchema(optest.Schema(t, "b string, a2 int64")).String() {
		t.Errorf("project schema = %s", got)
	}
}

// TestSlicedInputs feeds batches that are slices (non-zero offsets, nulls
// and bools included) to the operators that read raw buffers.
func TestSlicedInputs(t *testing.T) {
	in := optest.Schema(t, optest.SlicedSchema)
	mid := optest.SlicedRows[1:7]
	mem := optest.Checked(t)

	got := runSort(t, mem, SortPartial, in, []spec.SortKey{{Column: "s"}}, []arrow.Record{optest.Sliced(t, mem)})
	if want := refSort(in, mid, []spec.SortKey{{Column: "s"}}); !reflect.DeepEqual(got, want) {
		t.Errorf("sort(slice) = %v, want %v", got, want)
	}
	step := &spec.AggregateStep{Keys: []string{"b"}, Aggs: []spec.Agg{{Func: spec.AggCount, Arg: "i"}, {Func: spec.AggMax, Arg: "s"}}}
	got = runAgg(t, mem, AggWhole, in, step, []arrow.Record{optest.Sliced(t, mem)})
	if want := refAggregate(in, mid, step); !reflect.DeepEqual(got, want) {
		t.Errorf("aggregate(slice) = %v, want %v", got, want)
	}
}
