package operators

import (
	"reflect"
	"testing"

	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators/arrowx"
	"github.com/batchrun/batchrun/operators/expr"
	"github.com/batchrun/batchrun/operators/internal/optest"
)

func compileExpr(t *testing.T, src string, in spec.Schema) *expr.CompiledExpr {
	t.Helper()
	e, err := spec.ParseExpr(src)
	if err != nil {
		t.Fatalf("ParseExpr(%q): %v", src, err)
	}
	c, err := expr.CompileExpr(e, in)
	if err != nil {
		t.Fatalf("CompileExpr(%q): %v", src, err)
	}
	return c
}

func TestFilter(t *testing.T) {
	in := optest.Schema(t, "id int64, country string, amount float64")
	rows := [][]any{
		{int64(1), "US", 10.5}, {int64(2), "DE", 99.0}, {int64(3), "US", nil},
		{int64(4), nil, 500.0}, {int64(5), "US", 1000.25}, {nil, "FR", 3.0},
	}
	tests := []struct {
		pred string
		want []int // indexes of the rows kept
	}{
		{"country = 'US'", []int{0, 2, 4}},
		{"amount > 50", []int{1, 3, 4}},
		{"country = 'US' AND amount > 50", []int{4}},
		{"id IS NULL OR amount < 5", []int{5}},
		{"id >= 1 OR id IS NULL", []int{0, 1, 2, 3, 4, 5}},
		{"id > 100", nil},
	}
	for _, tc := range tests {
		mem := optest.Checked(t)
		sink := &optest.Sink{}
		f, err := NewFilter(compileExpr(t, tc.pred, in), in, sink, mem)
		if err != nil {
			t.Fatal(err)
		}
		optest.Push(t, f, chunkRecords(t, mem, in, rows, 4)...)
		var want [][]any
		for _, i := range tc.want {
			want = append(want, rows[i])
		}
		if got := sink.Rows(); !reflect.DeepEqual(got, want) {
			t.Errorf("filter(%s) = %v, want %v", tc.pred, got, want)
		}
		if s := f.Stats(); s.RowsIn != int64(len(rows)) || s.RowsOut != int64(len(want)) {
			t.Errorf("filter(%s) stats = %+v", tc.pred, s)
		}
		sink.Release()
	}
	if _, err := NewFilter(compileExpr(t, "id + 1", in), in, &optest.Sink{}, memory.DefaultAllocator); err == nil {
		t.Errorf("NewFilter(int64 predicate) = nil error")
	}
}

// TestFilterKeep: a filter told to keep some columns emits only those, in
// input order, whether a batch passes whole or is gathered.
func TestFilterKeep(t *testing.T) {
	in := optest.Schema(t, "id int64, country string, amount float64")
	rows := [][]any{{int64(1), "US", 10.5}, {int64(2), "DE", 99.0}, {int64(3), "US", nil}, {int64(4), "US", 7.0}}
	for _, tc := range []struct {
		pred string
		want [][]any
	}{
		{"country = 'US'", [][]any{{int64(1), 10.5}, {int64(3), nil}, {int64(4), 7.0}}},           // gathered
		{"id > 0", [][]any{{int64(1), 10.5}, {int64(2), 99.0}, {int64(3), nil}, {int64(4), 7.0}}}, // whole
	} {
		mem := optest.Checked(t)
		sink := &optest.Sink{}
		f, err := NewFilter(compileExpr(t, tc.pred, in), in, sink, mem)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Keep([]string{"id", "amount"}); err != nil {
			t.Fatal(err)
		}
		optest.Push(t, f, chunkRecords(t, mem, in, rows, 2)...)
		if got := sink.Rows(); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("filter(%s) keeping id, amount = %v, want %v", tc.pred, got, tc.want)
		}
		for _, rec := range sink.Recs {
			if rec.Schema().NumFields() != 2 || rec.Schema().Field(1).Name != "amount" {
				t.Errorf("filter(%s) emitted schema %s", tc.pred, rec.Schema())
			}
		}
		sink.Release()
		if err := f.Keep([]string{"nope"}); err == nil {
			t.Errorf("Keep of an unknown column: no error")
		}
	}
}

func TestProject(t *testing.T) {
	in := optest.Schema(t, "id int64, country string, amount float64")
	mem := optest.Checked(t)
	sink := &optest.Sink{}
	defer sink.Release()
	exprs := []*expr.CompiledExpr{
		compileExpr(t, "country", in),
		compileExpr(t, "amount * 2", in),
		compileExpr(t, "id > 1", in),
	}
	p, err := NewProject(exprs, []string{"c", "twice", "big"}, sink, mem)
	if err != nil {
		t.Fatal(err)
	}
	optest.Push(t, p, optest.Record(t, mem, in, [][]any{{int64(1), "US", 1.5}, {int64(2), nil, nil}}))
	want := [][]any{{"US", 3.0, false}, {nil, nil, true}}
	if got := sink.Rows(); !reflect.DeepEqual(got, want) {
		t.Errorf("project = %v, want %v", got, want)
	}
	if got, want := sink.Recs[0].Schema().String(), arrowx.ArrowSchema(optest.Schema(t, "c string, twice float64, big bool")).String(); got != want {
		t.Errorf("project schema = %s, want %s", got, want)
	}
	if _, err := NewProject(exprs, []string{"a"}, sink, mem); err == nil {
		t.Errorf("NewProject(3 exprs, 1 name) = nil error")
	}
}
