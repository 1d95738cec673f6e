package operators

import (
	"context"
	"reflect"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/jobs/spec"
)

func TestLimit(t *testing.T) {
	in := opSchema(t, "a int64")
	var rows [][]any
	for i := 0; i < 10; i++ {
		rows = append(rows, []any{int64(i)})
	}
	for _, tc := range []struct {
		n    int64
		want int
	}{{0, 0}, {1, 1}, {3, 3}, {4, 4}, {9, 9}, {10, 10}, {25, 10}} {
		mem := opChecked(t)
		sink := &opSink{}
		l := NewLimit(tc.n, sink)
		opPush(t, l, chunkRecords(t, mem, in, rows, 4)...)
		got := sink.rows()
		sink.release()
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

func TestPassthrough(t *testing.T) {
	in := opSchema(t, "a int64")
	mem := opChecked(t)
	sink := &opSink{}
	defer sink.release()
	p := NewPassthrough(2, sink)
	opPush(t, p, opRecord(t, mem, in, [][]any{{int64(1)}}))
	if sink.finished != 0 {
		t.Errorf("finished after the first of two inputs")
	}
	opPush(t, p, opRecord(t, mem, in, [][]any{{int64(2)}}))
	if sink.finished != 1 || !reflect.DeepEqual(sink.rows(), [][]any{{int64(1)}, {int64(2)}}) {
		t.Errorf("passthrough = %v, finished %d", sink.rows(), sink.finished)
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
	in := opSchema(t, "keep bool, v int64, s string")
	rows := [][]any{{true, int64(1), "a"}, {false, int64(2), "b"}, {nil, int64(3), "c"}, {true, nil, nil}}
	allPass := [][]any{{true, int64(5), "x"}, {true, int64(6), "y"}}
	mem := opChecked(t)
	sink := &opSink{}
	defer sink.release()
	f := newFilterFunc(boolColumnPred(0), in, sink, mem)
	pass := opRecord(t, mem, in, allPass)
	opPush(t, f, opRecord(t, mem, in, rows), opRecord(t, mem, in, [][]any{{false, int64(0), "z"}}), pass)
	want := [][]any{{true, int64(1), "a"}, {true, nil, nil}, {true, int64(5), "x"}, {true, int64(6), "y"}}
	if got := sink.rows(); !reflect.DeepEqual(got, want) {
		t.Errorf("filter = %v, want %v", got, want)
	}
	if len(sink.recs) != 2 || sink.recs[1] != pass {
		t.Errorf("filter pushed %d batches; an all-pass batch should be forwarded as is", len(sink.recs))
	}
	if s := f.Stats(); s.RowsIn != 7 || s.RowsOut != 4 {
		t.Errorf("filter stats = %+v", s)
	}
}

func TestProjectFuncs(t *testing.T) {
	in := opSchema(t, "a int64, b string")
	mem := opChecked(t)
	sink := &opSink{}
	defer sink.release()
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
	opPush(t, p, opRecord(t, mem, in, [][]any{{int64(1), "x"}, {int64(4), "y"}}))
	if got, want := sink.rows(), [][]any{{"x", int64(2)}, {"y", int64(8)}}; !reflect.DeepEqual(got, want) {
		t.Errorf("project = %v, want %v", got, want)
	}
	if got := sink.recs[0].Schema().String(); got != ArrowSchema(opSchema(t, "b string, a2 int64")).String() {
		t.Errorf("project schema = %s", got)
	}
}

// TestSlicedInputs feeds batches that are slices (non-zero offsets, nulls
// and bools included) to the operators that read raw buffers.
func TestSlicedInputs(t *testing.T) {
	in := opSchema(t, opSlicedSchema)
	mid := opSlicedRows[1:7]
	mem := opChecked(t)

	got := runSort(t, mem, SortPartial, in, []spec.SortKey{{Column: "s"}}, []arrow.Record{opSliced(t, mem)})
	if want := refSort(in, mid, []spec.SortKey{{Column: "s"}}); !reflect.DeepEqual(got, want) {
		t.Errorf("sort(slice) = %v, want %v", got, want)
	}
	step := &spec.AggregateStep{Keys: []string{"b"}, Aggs: []spec.Agg{{Func: spec.AggCount, Arg: "i"}, {Func: spec.AggMax, Arg: "s"}}}
	got = runAgg(t, mem, AggWhole, in, step, []arrow.Record{opSliced(t, mem)})
	if want := refAggregate(in, mid, step); !reflect.DeepEqual(got, want) {
		t.Errorf("aggregate(slice) = %v, want %v", got, want)
	}
}
