package shuffle

import (
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
)

// allTypesSchema has every type the engine uses, plus a few more that the
// partitioner's gather loops support.
var allTypesSchema = arrow.NewSchema([]arrow.Field{
	{Name: "i", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "f", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "b", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
	{Name: "i32", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	{Name: "ts", Type: arrow.FixedWidthTypes.Timestamp_us, Nullable: true},
}, nil)

// genAllTypes makes a record of n rows of allTypesSchema starting at row
// from; every nullEvery-th value (per column, staggered) is null.
func genAllTypes(mem memory.Allocator, from, n, nullEvery int) arrow.Record {
	b := array.NewRecordBuilder(mem, allTypesSchema)
	defer b.Release()
	null := func(row, col int) bool { return nullEvery > 0 && (row+col)%nullEvery == 0 }
	for r := from; r < from+n; r++ {
		appendOrNull(b.Field(0), null(r, 0), func() { b.Field(0).(*array.Int64Builder).Append(int64(r*7919) - 1<<40) })
		appendOrNull(b.Field(1), null(r, 1), func() { b.Field(1).(*array.Float64Builder).Append(float64(r) / 3) })
		appendOrNull(b.Field(2), null(r, 2), func() { b.Field(2).(*array.StringBuilder).Append(strings.Repeat("x", r%5) + fmt.Sprint(r)) })
		appendOrNull(b.Field(3), null(r, 3), func() { b.Field(3).(*array.BooleanBuilder).Append(r%3 == 0) })
		appendOrNull(b.Field(4), null(r, 4), func() { b.Field(4).(*array.Int32Builder).Append(int32(-r)) })
		appendOrNull(b.Field(5), null(r, 5), func() { b.Field(5).(*array.TimestampBuilder).Append(arrow.Timestamp(r * 1000)) })
	}
	return b.NewRecord()
}

func appendOrNull(b array.Builder, null bool, appendValue func()) {
	if null {
		b.AppendNull()
	} else {
		appendValue()
	}
}

// rowStrings renders each row of the records as one line, for comparing
// contents in order.
func rowStrings(recs ...arrow.Record) []string {
	var out []string
	for _, rec := range recs {
		for i := 0; i < int(rec.NumRows()); i++ {
			var sb strings.Builder
			for c, col := range rec.Columns() {
				if c > 0 {
					sb.WriteByte('|')
				}
				if col.IsNull(i) {
					sb.WriteString("null")
				} else {
					sb.WriteString(col.ValueStr(i))
				}
			}
			out = append(out, sb.String())
		}
	}
	return out
}

func checkRows(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d rows, want %d", what, len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: row %d = %q, want %q", what, i, got[i], want[i])
		}
	}
}

// checked returns a checked allocator that fails the test if anything
// allocated from it is still held at the end.
func checked(t *testing.T) *memory.CheckedAllocator {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { mem.AssertSize(t, 0) })
	return mem
}
