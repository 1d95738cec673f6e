package formats

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/decimal128"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/apache/arrow/go/v17/parquet"
	"github.com/apache/arrow/go/v17/parquet/file"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"
	"github.com/apache/arrow/go/v17/parquet/schema"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators/internal/optest"
)

// typedFormat is optest.Format with dates, timestamps and decimals in
// their text forms.
func typedFormat(rows [][]any, s spec.Schema) string {
	out := make([][]any, len(rows))
	for r, row := range rows {
		out[r] = make([]any, len(row))
		for c, v := range row {
			if x, ok := v.(int64); ok && isIntText(s[c].Type) {
				v = string(appendIntText(nil, x, s[c].Type))
			}
			out[r][c] = v
		}
	}
	return optest.Format(out)
}

// typedRows parses rows of text values into the int64s of their columns'
// types (nil is NULL).
func typedRows(t testing.TB, s spec.Schema, text [][]any) [][]any {
	t.Helper()
	out := make([][]any, len(text))
	for r, row := range text {
		out[r] = make([]any, len(row))
		for c, v := range row {
			if str, ok := v.(string); ok && isIntText(s[c].Type) {
				x, err := parseIntText([]byte(str), s[c].Type)
				if err != nil {
					t.Fatalf("%q as %s: %v", str, s[c].Type, err)
				}
				v = x
			}
			out[r][c] = v
		}
	}
	return out
}

const typesSchemaText = "id int64, price decimal(15,2), disc decimal(3,2), day date, ts timestamp"

func TestCSVScanDecimalDate(t *testing.T) {
	mem := optest.Checked(t)
	s := optest.Schema(t, typesSchemaText)
	path := writeTemp(t, "x.csv", "id,price,disc,day,ts\n"+
		"1,123.45,0.05,1998-12-01,1998-12-01 10:00:00\n"+
		"2,-0.5,.1,2000-02-29,2000-02-29T23:59:59.123456\n"+
		"3,7,0,1970-01-01,1969-12-31 23:59:59\n"+
		"4,1.005,0.004,1999-1-5,1999-01-05\n"+ // rounds half away from zero
		"5,-1.005,1e-1,2024-12-31,2024-12-31 00:00:00.5\n"+
		"6,,,,\n"+
		"7,\"12.5\",0.99,1900-03-01,2038-01-19 03:14:08Z\n")
	want := "1 123.45 0.05 1998-12-01 1998-12-01 10:00:00\n" +
		"2 -0.50 0.10 2000-02-29 2000-02-29 23:59:59.123456\n" +
		"3 7.00 0.00 1970-01-01 1969-12-31 23:59:59\n" +
		"4 1.01 0.00 1999-01-05 1999-01-05 00:00:00\n" +
		"5 -1.01 0.10 2024-12-31 2024-12-31 00:00:00.5\n" +
		"6 NULL NULL NULL NULL\n" +
		"7 12.50 0.99 1900-03-01 2038-01-19 03:14:08\n"
	for _, n := range []int{1, 3} {
		rows, err := scanAll(t, mem, path, s, n)
		if err != nil {
			t.Fatalf("%d splits: %v", n, err)
		}
		if got := typedFormat(rows, s); got != want {
			t.Errorf("%d splits:\n%swant\n%s", n, got, want)
		}
	}
}

func TestCSVScanDecimalDateErrors(t *testing.T) {
	s := optest.Schema(t, typesSchemaText)
	for _, tc := range []struct{ line, want string }{
		{"1,abc,0,1998-12-01,1998-12-01", `x.csv:2:2: parse "abc" as decimal(15,2): invalid syntax`},
		{"1,12345678901234.5,0,1998-12-01,1998-12-01", `x.csv:2:2: parse "12345678901234.5" as decimal(15,2): value out of range`},
		{"1,1,9.995,1998-12-01,1998-12-01", `x.csv:2:3: parse "9.995" as decimal(3,2): value out of range`},
		{"1,1,0,1998-02-30,1998-12-01", `x.csv:2:4: parse "1998-02-30" as date: value out of range`},
		{"1,1,0,12/01/1998,1998-12-01", `x.csv:2:4: parse "12/01/1998" as date: invalid syntax`},
		{"1,1,0,1998-12-01,1998-12-01 25:00:00", `x.csv:2:5: parse "1998-12-01 25:00:00" as timestamp: value out of range`},
		{"1,1,0,1998-12-01,noon", `x.csv:2:5: parse "noon" as timestamp: invalid syntax`},
		{"1, 1.5,0,1998-12-01,1998-12-01", `x.csv:2:2: parse " 1.5" as decimal(15,2): invalid syntax`},
	} {
		path := writeTemp(t, "x.csv", "id,price,disc,day,ts\n"+tc.line+"\n")
		_, err := scanAll(t, memory.NewGoAllocator(), path, s, 1)
		if err == nil || !strings.HasSuffix(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want ...%s", tc.line, err, tc.want)
		}
	}
	// on_error: skip drops and counts the bad rows.
	path := writeTemp(t, "x.csv", "id,price,disc,day,ts\n1,1,0,1998-12-01,1998-12-01\n2,x,0,1998-12-01,1998-12-01\n3,1,0,1998-13-01,1998-12-01\n")
	r := &spec.ReadStep{Schema: s, OnError: spec.OnErrorSkip}
	rows, skipped, err := scanSplits(t, memory.NewGoAllocator(), r, []string{path}, 1, nil)
	if err != nil || len(rows) != 1 || skipped != 2 {
		t.Errorf("skip: %d rows, %d skipped, %v", len(rows), skipped, err)
	}
}

// typesRows are rows of typesSchemaText, as text.
var typesRows = [][]any{
	{1, "123.40", "0.05", "1998-12-01", "1998-12-01 10:00:00"},
	{2, "-0.05", "0.00", "1969-12-31", "1969-12-31 23:59:59.999999"},
	{nil, nil, nil, nil, nil},
	{4, "9999999999999.99", "-9.99", "2000-02-29", "2000-02-29 12:34:56.5"},
	{5, "7.00", "0.10", "0001-01-01", "9999-12-31 23:59:59"},
}

// TestTypesWriteFormats checks the exact text CSV and JSON lines write for
// decimals (exactly their scale), dates and timestamps.
func TestTypesWriteFormats(t *testing.T) {
	mem := optest.Checked(t)
	s := optest.Schema(t, typesSchemaText)
	rows := typedRows(t, s, typesRows)
	want := map[spec.Format]string{
		spec.FormatCSV: "id,price,disc,day,ts\n" +
			"1,123.40,0.05,1998-12-01,1998-12-01 10:00:00\n" +
			"2,-0.05,0.00,1969-12-31,1969-12-31 23:59:59.999999\n" +
			",,,,\n" +
			"4,9999999999999.99,-9.99,2000-02-29,2000-02-29 12:34:56.5\n" +
			"5,7.00,0.10,0001-01-01,9999-12-31 23:59:59\n",
		spec.FormatJSONL: `{"id":1,"price":123.40,"disc":0.05,"day":"1998-12-01","ts":"1998-12-01 10:00:00"}` + "\n" +
			`{"id":2,"price":-0.05,"disc":0.00,"day":"1969-12-31","ts":"1969-12-31 23:59:59.999999"}` + "\n" +
			`{"id":null,"price":null,"disc":null,"day":null,"ts":null}` + "\n" +
			`{"id":4,"price":9999999999999.99,"disc":-9.99,"day":"2000-02-29","ts":"2000-02-29 12:34:56.5"}` + "\n" +
			`{"id":5,"price":7.00,"disc":0.10,"day":"0001-01-01","ts":"9999-12-31 23:59:59"}` + "\n",
	}
	for format, w := range want {
		path := filepath.Join(t.TempDir(), "out"+format.Ext())
		fw, err := NewFileWrite(path, s, &spec.WriteStep{Path: path}, mem)
		if err != nil {
			t.Fatal(err)
		}
		optest.Push(t, fw, optest.Record(t, mem, s, rows))
		got, _ := os.ReadFile(path)
		if string(got) != w {
			t.Errorf("%s output:\n%s\nwant\n%s", format, got, w)
		}
	}
}

// TestTypesRoundTrip writes decimals, dates and timestamps in every format
// and reads them back, in several splits.
func TestTypesRoundTrip(t *testing.T) {
	mem := optest.Checked(t)
	s := optest.Schema(t, typesSchemaText)
	rows := typedRows(t, s, typesRows)
	for _, format := range []spec.Format{spec.FormatCSV, spec.FormatJSONL, spec.FormatParquet} {
		path := filepath.Join(t.TempDir(), "out"+format.Ext())
		w, err := NewFileWrite(path, s, &spec.WriteStep{Path: path}, mem)
		if err != nil {
			t.Fatal(err)
		}
		optest.Push(t, w, optest.Record(t, mem, s, rows[:2]), optest.Record(t, mem, s, rows[2:]))
		for n := 1; n <= 3; n++ {
			got, _, err := scanSplits(t, mem, &spec.ReadStep{Schema: s, Format: format}, []string{path}, n, nil)
			if err != nil {
				t.Fatalf("%s, %d splits: %v", format, n, err)
			}
			if typedFormat(got, s) != typedFormat(rows, s) {
				t.Errorf("%s, %d splits: read back\n%swant\n%s", format, n, typedFormat(got, s), typedFormat(rows, s))
			}
		}
		if format == spec.FormatParquet {
			if got, err := InferParquetSchema(path); err != nil || got.String() != "(id int64, price decimal(15,2), disc decimal(3,2), day date, ts timestamp)" {
				t.Errorf("InferParquetSchema = %s, %v", got, err)
			}
			// A wider decimal of the same scale reads the column too.
			wide := optest.Schema(t, "price decimal(18,2)")
			if _, _, err := scanSplits(t, mem, &spec.ReadStep{Schema: wide, Format: format}, []string{path}, 1, nil); err != nil {
				t.Errorf("read decimal(15,2) as decimal(18,2): %v", err)
			}
			other := optest.Schema(t, "price decimal(15,3)")
			_, _, err := scanSplits(t, mem, &spec.ReadStep{Schema: other, Format: format}, []string{path}, 1, nil)
			if err == nil || !strings.HasSuffix(err.Error(), `column "price" is decimal(15, 2) in the file, want decimal(15,3)`) {
				t.Errorf("read decimal(15,2) as decimal(15,3): %v", err)
			}
		}
	}
}

// TestParquetLogicalTypes checks the Parquet types ParquetWrite writes, as
// DuckDB writes them: DECIMAL on INT32 (p <= 9) or INT64, DATE, TIMESTAMP
// in microseconds.
func TestParquetLogicalTypes(t *testing.T) {
	mem := optest.Checked(t)
	s := optest.Schema(t, typesSchemaText)
	path := filepath.Join(t.TempDir(), "x.parquet")
	w, err := NewParquetWrite(path, s, ParquetWriteOptions{}, mem)
	if err != nil {
		t.Fatal(err)
	}
	optest.Push(t, w, optest.Record(t, mem, s, typedRows(t, s, typesRows)))
	r, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var got []string
	for i := 0; i < r.MetaData().Schema.NumColumns(); i++ {
		c := r.MetaData().Schema.Column(i)
		got = append(got, c.Name()+" "+c.PhysicalType().String()+" "+c.LogicalType().String())
	}
	want := []string{
		"id INT64 Int(bitWidth=64, isSigned=true)",
		"price INT64 Decimal(precision=15, scale=2)",
		"disc INT32 Decimal(precision=3, scale=2)",
		"day INT32 Date",
		"ts INT64 Timestamp(isAdjustedToUTC=false, timeUnit=microseconds, is_from_converted_type=false, force_set_converted_type=false)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("parquet columns:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestParquetReadOtherUnits reads a file written by pqarrow with other
// encodings of the same logical types: decimals as fixed-length bytes,
// timestamps in milliseconds and nanoseconds.
func TestParquetReadOtherUnits(t *testing.T) {
	mem := optest.Checked(t)
	as := arrow.NewSchema([]arrow.Field{
		{Name: "d", Type: &arrow.Decimal128Type{Precision: 10, Scale: 3}, Nullable: true},
		{Name: "ms", Type: &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}, Nullable: true},
		{Name: "ns", Type: &arrow.TimestampType{Unit: arrow.Nanosecond}, Nullable: true},
		{Name: "day", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(memory.NewGoAllocator(), as)
	defer b.Release()
	b.Field(0).(*array.Decimal128Builder).AppendValues([]decimal128.Num{decimal128.FromI64(-1234567), decimal128.FromI64(5)}, nil)
	b.Field(1).(*array.TimestampBuilder).AppendValues([]arrow.Timestamp{912506400123, -1}, nil)
	b.Field(2).(*array.TimestampBuilder).AppendValues([]arrow.Timestamp{912506400123456789, -1}, nil)
	b.Field(3).(*array.Date32Builder).AppendValues([]arrow.Date32{10561, -1}, nil)
	rec := b.NewRecord()
	defer rec.Release()
	path := filepath.Join(t.TempDir(), "x.parquet")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	fw, err := pqarrow.NewFileWriter(as, f, parquet.NewWriterProperties(), pqarrow.DefaultWriterProps())
	if err != nil {
		t.Fatal(err)
	}
	if err := fw.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	pf, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	if pt := pf.MetaData().Schema.Column(0).PhysicalType(); pt != parquet.Types.FixedLenByteArray {
		t.Errorf("decimal column is %s, want FIXED_LEN_BYTE_ARRAY", pt)
	}
	if lt, ok := pf.MetaData().Schema.Column(0).LogicalType().(*schema.DecimalLogicalType); !ok || lt.Precision() != 10 {
		t.Errorf("decimal column logical type %s", pf.MetaData().Schema.Column(0).LogicalType())
	}
	pf.Close()
	s, err := InferParquetSchema(path)
	if err != nil || s.String() != "(d decimal(10,3), ms timestamp, ns timestamp, day date)" {
		t.Fatalf("InferParquetSchema = %s, %v", s, err)
	}
	rows, _, err := scanSplits(t, mem, &spec.ReadStep{Schema: s}, []string{path}, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := "-1234.567 1998-12-01 10:00:00.123 1998-12-01 10:00:00.123456 1998-12-01\n" +
		"0.005 1969-12-31 23:59:59.999 1969-12-31 23:59:59.999999 1969-12-31\n"
	if got := typedFormat(rows, s); got != want {
		t.Errorf("rows\n%swant\n%s", got, want)
	}
}

func TestJSONLScanDecimalDate(t *testing.T) {
	mem := optest.Checked(t)
	s := optest.Schema(t, typesSchemaText)
	path := writeTemp(t, "x.jsonl", `{"id":1,"price":123.4,"disc":"0.05","day":"1998-12-01","ts":"1998-12-01T10:00:00"}
{"id":2,"price":-1.005,"disc":1e-1,"day":null,"ts":"1998-12-01 10:00:00.25"}
{"id":3,"price":"7"}
`)
	rows, _, err := scanSplits(t, mem, &spec.ReadStep{Schema: s}, []string{path}, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := "1 123.40 0.05 1998-12-01 1998-12-01 10:00:00\n2 -1.01 0.10 NULL 1998-12-01 10:00:00.25\n3 7.00 NULL NULL NULL\n"
	if got := typedFormat(rows, s); got != want {
		t.Errorf("rows\n%swant\n%s", got, want)
	}
	for _, tc := range []struct{ line, want string }{
		{`{"day": 19000}`, `x.jsonl:1:1: key "day": want date, got number`},
		{`{"day": "1998-02-30"}`, `x.jsonl:1:1: key "day": parse "1998-02-30" as date: value out of range`},
		{`{"id": 1, "price": 1e20}`, `x.jsonl:1:2: key "price": parse "1e20" as decimal(15,2): value out of range`},
		{`{"disc": "x"}`, `x.jsonl:1:1: key "disc": parse "x" as decimal(3,2): invalid syntax`},
		{`{"ts": true}`, `x.jsonl:1:1: key "ts": want timestamp, got boolean`},
	} {
		path := writeTemp(t, "x.jsonl", tc.line)
		_, _, err := scanSplits(t, memory.NewGoAllocator(), &spec.ReadStep{Schema: s}, []string{path}, 1, nil)
		if err == nil || !strings.HasSuffix(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want ...%s", tc.line, err, tc.want)
		}
	}
}

// TestInferCSVDates: a column of YYYY-MM-DD dates infers as date; numbers
// with fractions stay float64 (decimals are never inferred).
func TestInferCSVDates(t *testing.T) {
	path := writeTemp(t, "x.csv", "d,short,bad,price,mixed\n1998-12-01,1998-1-5,1998-02-30,1.25,1998-12-01\n2024-02-29,1999-12-31,1999-01-01,-3,x\n,,,,\n")
	s, err := InferCSVSchema(path, ',', 0)
	if err != nil || s.String() != "(d date, short string, bad string, price float64, mixed string)" {
		t.Errorf("InferCSVSchema = %s, %v", s, err)
	}
}

// TestCSVWriteDecimalNoAlloc: writing decimals and dates allocates nothing
// per row.
func TestCSVWriteDecimalNoAlloc(t *testing.T) {
	s := optest.Schema(t, typesSchemaText)
	mem := memory.NewGoAllocator()
	var rows [][]any
	for i := 0; i < 1000; i++ {
		rows = append(rows, typedRows(t, s, typesRows[:2])...)
	}
	rec := optest.Record(t, mem, s, rows)
	defer rec.Release()
	path := filepath.Join(t.TempDir(), "x.csv")
	w, err := NewCSVWrite(path, s)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ctx := context.Background()
	if err := w.Push(ctx, rec); err != nil { // grows the buffer once
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(5, func() {
		if err := w.Push(ctx, rec); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 10 {
		t.Errorf("Push of %d rows: %v allocations", rec.NumRows(), allocs)
	}
}
