package operators

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/jobs/spec"
)

// opBatchRows is operators.BatchRows, for the tests of the packages that
// operators imports.
const opBatchRows = 64 * 1024

// opSink is a test Operator that keeps (retains) every batch pushed in.
type opSink struct {
	recs     []arrow.Record
	finished int
}

func (s *opSink) Push(ctx context.Context, rec arrow.Record) error {
	if s.finished > 0 {
		return fmt.Errorf("push after finish")
	}
	rec.Retain()
	s.recs = append(s.recs, rec)
	return nil
}

func (s *opSink) Finish(ctx context.Context) error {
	s.finished++
	return nil
}

func (s *opSink) release() {
	for _, r := range s.recs {
		r.Release()
	}
	s.recs = nil
}

// rows returns every row as Go values: int64, float64, bool, string or nil.
func (s *opSink) rows() [][]any { return opRows(s.recs) }

func opRows(recs []arrow.Record) [][]any {
	var out [][]any
	for _, rec := range recs {
		for i := 0; i < int(rec.NumRows()); i++ {
			row := make([]any, rec.NumCols())
			for c, col := range rec.Columns() {
				row[c] = opValue(col, i)
			}
			out = append(out, row)
		}
	}
	return out
}

func opValue(a arrow.Array, i int) any {
	if a.IsNull(i) {
		return nil
	}
	switch a := a.(type) {
	case *array.Int64:
		return a.Value(i)
	case *array.Float64:
		return a.Value(i)
	case *array.Boolean:
		return a.Value(i)
	case *array.String:
		return a.Value(i)
	}
	return fmt.Sprintf("unsupported %s", a.DataType())
}

// opRecord builds a record of schema s from rows of Go values (nil = null;
// int values are accepted for int64 and float64 columns).
func opRecord(t testing.TB, mem memory.Allocator, s spec.Schema, rows [][]any) arrow.Record {
	t.Helper()
	b := array.NewRecordBuilder(mem, ArrowSchema(s))
	defer b.Release()
	for _, row := range rows {
		if len(row) != len(s) {
			t.Fatalf("row %v has %d values, schema %s", row, len(row), s)
		}
		for c, v := range row {
			opAppend(t, b.Field(c), v)
		}
	}
	return b.NewRecord()
}

func opAppend(t testing.TB, fb array.Builder, v any) {
	t.Helper()
	if v == nil {
		fb.AppendNull()
		return
	}
	switch fb := fb.(type) {
	case *array.Int64Builder:
		switch v := v.(type) {
		case int:
			fb.Append(int64(v))
		case int64:
			fb.Append(v)
		default:
			t.Fatalf("bad int64 value %v", v)
		}
	case *array.Float64Builder:
		switch v := v.(type) {
		case int:
			fb.Append(float64(v))
		case float64:
			fb.Append(v)
		default:
			t.Fatalf("bad float64 value %v", v)
		}
	case *array.BooleanBuilder:
		fb.Append(v.(bool))
	case *array.StringBuilder:
		fb.Append(v.(string))
	default:
		t.Fatalf("unsupported builder %T", fb)
	}
}

// opSchema parses "a int64, b string" into a schema.
func opSchema(t testing.TB, text string) spec.Schema {
	t.Helper()
	var s spec.Schema
	for _, part := range strings.Split(text, ",") {
		f := strings.Fields(part)
		typ, err := spec.ParseType(f[1])
		if err != nil {
			t.Fatal(err)
		}
		s = append(s, spec.Field{Name: f[0], Type: typ})
	}
	return s
}

// opPush pushes every record into op, releases them, and finishes op.
func opPush(t testing.TB, op interface {
	Push(ctx context.Context, rec arrow.Record) error
	Finish(ctx context.Context) error
}, recs ...arrow.Record) {
	t.Helper()
	ctx := context.Background()
	for _, r := range recs {
		if err := op.Push(ctx, r); err != nil {
			t.Fatalf("Push: %v", err)
		}
		r.Release()
	}
	if err := op.Finish(ctx); err != nil {
		t.Fatalf("Finish: %v", err)
	}
}

// opFormat renders rows one per line, for readable diffs.
func opFormat(rows [][]any) string {
	var b strings.Builder
	for _, r := range rows {
		for i, v := range r {
			if i > 0 {
				b.WriteString(" ")
			}
			if v == nil {
				b.WriteString("NULL")
			} else {
				fmt.Fprintf(&b, "%v", v)
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

func opChecked(t testing.TB) *memory.CheckedAllocator {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { mem.AssertSize(t, 0) })
	return mem
}

// opSlicedSchema and opSlicedRows are the input of the sliced-batch tests;
// opSliced returns rows 1 to 6 of them as a slice of a record (non-zero
// offsets, nulls and bools included).
const opSlicedSchema = "i int64, f float64, b bool, s string"

var opSlicedRows = [][]any{
	{int64(5), 1.5, true, "e"}, {nil, 2.5, false, nil}, {int64(3), nil, nil, "c"},
	{int64(1), 0.5, true, "a"}, {int64(4), 4.5, false, "d"}, {nil, nil, true, "x"},
	{int64(2), 3.5, nil, "b"}, {int64(9), 9.5, true, "z"},
}

func opSliced(t testing.TB, mem memory.Allocator) arrow.Record {
	rec := opRecord(t, mem, opSchema(t, opSlicedSchema), opSlicedRows)
	defer rec.Release()
	return rec.NewSlice(1, 7)
}
