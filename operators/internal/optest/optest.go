package optest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators/arrowx"
)

// BatchRows is operators.BatchRows, for the tests of the packages that
// operators imports.
const BatchRows = 64 * 1024

// Sink is a test Operator that keeps (retains) every batch pushed in.
type Sink struct {
	Recs     []arrow.Record
	Finished int
}

func (s *Sink) Push(ctx context.Context, rec arrow.Record) error {
	if s.Finished > 0 {
		return fmt.Errorf("push after finish")
	}
	rec.Retain()
	s.Recs = append(s.Recs, rec)
	return nil
}

func (s *Sink) Finish(ctx context.Context) error {
	s.Finished++
	return nil
}

func (s *Sink) Release() {
	for _, r := range s.Recs {
		r.Release()
	}
	s.Recs = nil
}

// Rows returns every row as Go values: int64, float64, bool, string or nil.
func (s *Sink) Rows() [][]any { return Rows(s.Recs) }

func Rows(recs []arrow.Record) [][]any {
	var out [][]any
	for _, rec := range recs {
		for i := 0; i < int(rec.NumRows()); i++ {
			row := make([]any, rec.NumCols())
			for c, col := range rec.Columns() {
				row[c] = Value(col, i)
			}
			out = append(out, row)
		}
	}
	return out
}

func Value(a arrow.Array, i int) any {
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

// Record builds a record of schema s from rows of Go values (nil = null;
// int values are accepted for int64 and float64 columns).
func Record(t testing.TB, mem memory.Allocator, s spec.Schema, rows [][]any) arrow.Record {
	t.Helper()
	b := array.NewRecordBuilder(mem, arrowx.ArrowSchema(s))
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

// Schema parses "a int64, b string, c decimal(15,2)" into a schema.
func Schema(t testing.TB, text string) spec.Schema {
	t.Helper()
	var s spec.Schema
	for _, part := range splitTopLevel(text) {
		f := strings.Fields(part)
		typ, err := spec.ParseType(strings.Join(f[1:], ""))
		if err != nil {
			t.Fatal(err)
		}
		s = append(s, spec.Field{Name: f[0], Type: typ})
	}
	return s
}

// splitTopLevel splits text at the commas outside parentheses.
func splitTopLevel(text string) []string {
	var parts []string
	depth, start := 0, 0
	for i, c := range text {
		switch c {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				parts = append(parts, text[start:i])
				start = i + 1
			}
		}
	}
	return append(parts, text[start:])
}

// Push pushes every record into op, releases them, and finishes op.
func Push(t testing.TB, op interface {
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

// Format renders rows one per line, for readable diffs.
func Format(rows [][]any) string {
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

func Checked(t testing.TB) *memory.CheckedAllocator {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { mem.AssertSize(t, 0) })
	return mem
}

// SlicedSchema and SlicedRows are the input of the sliced-batch tests;
// Sliced returns rows 1 to 6 of them as a slice of a record (non-zero
// offsets, nulls and bools included).
const SlicedSchema = "i int64, f float64, b bool, s string"

var SlicedRows = [][]any{
	{int64(5), 1.5, true, "e"}, {nil, 2.5, false, nil}, {int64(3), nil, nil, "c"},
	{int64(1), 0.5, true, "a"}, {int64(4), 4.5, false, "d"}, {nil, nil, true, "x"},
	{int64(2), 3.5, nil, "b"}, {int64(9), 9.5, true, "z"},
}

func Sliced(t testing.TB, mem memory.Allocator) arrow.Record {
	rec := Record(t, mem, Schema(t, SlicedSchema), SlicedRows)
	defer rec.Release()
	return rec.NewSlice(1, 7)
}
