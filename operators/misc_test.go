package operators

import (
	"context"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
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

func TestCSVWrite(t *testing.T) {
	in := opSchema(t, "i int64, f float64, b bool, s string")
	rows := [][]any{
		{int64(1), 12.5, true, "plain"},
		{nil, nil, nil, nil},
		{int64(-7), 1e21, false, ""},
		{int64(0), 0.1, true, `a,"b"`},
		{int64(3), math.Inf(-1), false, "line\nbreak"},
		{int64(4), 123456789.125, true, " sp "},
	}
	want := "i,f,b,s\n" +
		"1,12.5,true,plain\n" +
		",,,\n" +
		"-7,1000000000000000000000,false,\"\"\n" +
		"0,0.1,true,\"a,\"\"b\"\"\"\n" +
		"3,-Inf,false,\"line\nbreak\"\n" +
		"4,123456789.125,true, sp \n"
	mem := opChecked(t)
	path := filepath.Join(t.TempDir(), "out.csv")
	w, err := NewCSVWrite(path, in)
	if err != nil {
		t.Fatal(err)
	}
	opPush(t, w, opRecord(t, mem, in, rows[:2]), opRecord(t, mem, in, rows[2:]))
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("CSV written =\n%s\nwant\n%s", got, want)
	}
	if w.RowsWritten() != 6 || w.BytesWritten() != int64(len(want)) {
		t.Errorf("RowsWritten, BytesWritten = %d, %d, want 6, %d", w.RowsWritten(), w.BytesWritten(), len(want))
	}
	if err := w.Close(); err != nil {
		t.Errorf("Close after Finish = %v", err)
	}
}

// TestCSVWriteScanRoundTrip writes rows and scans them back.
func TestCSVWriteScanRoundTrip(t *testing.T) {
	in := opSchema(t, "i int64, f float64, s string")
	rows := [][]any{{int64(1), 0.30000000000000004, `q"uote`}, {nil, nil, "x,y"}, {int64(-5), -2.5e-7, "é"}}
	mem := opChecked(t)
	path := filepath.Join(t.TempDir(), "rt.csv")
	w, err := NewCSVWrite(path, in)
	if err != nil {
		t.Fatal(err)
	}
	opPush(t, w, opRecord(t, mem, in, rows))
	got, err := scanAll(t, mem, path, in, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, rows) {
		t.Errorf("scan(write(rows)) = %v, want %v", got, rows)
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
	in := opSchema(t, "i int64, f float64, b bool, s string")
	rows := [][]any{
		{int64(5), 1.5, true, "e"}, {nil, 2.5, false, nil}, {int64(3), nil, nil, "c"},
		{int64(1), 0.5, true, "a"}, {int64(4), 4.5, false, "d"}, {nil, nil, true, "x"},
		{int64(2), 3.5, nil, "b"}, {int64(9), 9.5, true, "z"},
	}
	sliced := func(mem memory.Allocator) arrow.Record {
		rec := opRecord(t, mem, in, rows)
		defer rec.Release()
		return rec.NewSlice(1, 7)
	}
	mid := rows[1:7]
	mem := opChecked(t)

	got := runSort(t, mem, SortPartial, in, []spec.SortKey{{Column: "s"}}, []arrow.Record{sliced(mem)})
	if want := refSort(in, mid, []spec.SortKey{{Column: "s"}}); !reflect.DeepEqual(got, want) {
		t.Errorf("sort(slice) = %v, want %v", got, want)
	}
	step := &spec.AggregateStep{Keys: []string{"b"}, Aggs: []spec.Agg{{Func: spec.AggCount, Arg: "i"}, {Func: spec.AggMax, Arg: "s"}}}
	got = runAgg(t, mem, AggWhole, in, step, []arrow.Record{sliced(mem)})
	if want := refAggregate(in, mid, step); !reflect.DeepEqual(got, want) {
		t.Errorf("aggregate(slice) = %v, want %v", got, want)
	}
	path := filepath.Join(t.TempDir(), "s.csv")
	w, err := NewCSVWrite(path, in)
	if err != nil {
		t.Fatal(err)
	}
	opPush(t, w, sliced(mem), opRecord(t, mem, in, nil))
	back, err := scanAll(t, mem, path, in, 1)
	want := [][]any{append([]any{}, mid[0]...)}
	want[0][3] = "" // a NULL string is written as an empty field, read back as ""
	want = append(want, mid[1:]...)
	if err != nil || !reflect.DeepEqual(back, want) {
		t.Errorf("scan(write(slice)) = %v, %v, want %v", back, err, want)
	}
}

func TestAppendFloat(t *testing.T) {
	r := rand.New(rand.NewSource(9))
	vals := []float64{0, math.Copysign(0, -1), 1, -1, 0.5, -0.5, 0.01, -0.01, 0.1, 0.29, 12.5, 999.99, 1e12 + 0.01,
		9999999999999.99, 1e13, 1e21, 123456789.125, math.NaN(), math.Inf(1), math.Inf(-1), 5e-324, math.MaxFloat64, 1.005}
	for i := 0; i < 100000; i++ {
		vals = append(vals,
			float64(r.Int63n(1e8)-5e7)/100,                       // cents
			float64(r.Int63n(1e15))/100,                          // large cents
			r.NormFloat64()*math.Pow(10, float64(r.Intn(30)-15)), // anything
			math.Round(r.Float64()*1e6)/1e3)                      // three decimals
	}
	for _, v := range vals {
		if got, want := string(appendFloat(nil, v)), strconv.FormatFloat(v, 'f', -1, 64); got != want {
			t.Fatalf("appendFloat(%v) = %s, want %s", v, got, want)
		}
	}
}
