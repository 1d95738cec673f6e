package formats

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/apache/arrow/go/v17/parquet/file"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators"
	"github.com/batchrun/batchrun/operators/internal/optest"
)

// scanSplits runs every split of a read over files and returns the rows,
// the total skipped count and the first error.
func scanSplits(t *testing.T, mem memory.Allocator, r *spec.ReadStep, files []string, n int, q *bytes.Buffer) ([][]any, int64, error) {
	t.Helper()
	var rows [][]any
	var skipped int64
	for k := 0; k < n; k++ {
		o := ScanOptions{Read: r, Input: ScanInput{Files: files}, Split: k, NumSplits: n, Mem: mem}
		if q != nil {
			o.Quarantine = q
		}
		sc, err := NewScan(o)
		if err != nil {
			t.Fatal(err)
		}
		sink := &optest.Sink{}
		err = sc.Run(context.Background(), sink)
		rows = append(rows, sink.Rows()...)
		sink.Release()
		skipped += sc.Stats().RowsSkipped
		if err != nil {
			return rows, skipped, err
		}
	}
	return rows, skipped, nil
}

const jsonlSample = `{"id": 1, "name": "a", "amount": 1.5, "ok": true}
{"name": "b\"q\u00e9\ud83d\ude00", "id": 2, "extra": {"x": [1, "}"]}, "amount": 2}

{"id": 3, "name": null, "ok": false, "amount": -0.25e1}
{"id":4,"name":12,"amount":null,"ok":null}
`

func TestJSONLScan(t *testing.T) {
	mem := optest.Checked(t)
	path := writeTemp(t, "x.jsonl", jsonlSample)
	r := &spec.ReadStep{Schema: optest.Schema(t, "id int64, name string, amount float64, ok bool")}
	want := "1 a 1.5 true\n2 b\"qé😀 2 NULL\n3 NULL -2.5 false\n4 12 NULL NULL\n"
	for _, n := range []int{1, 2, 3, 7} {
		rows, _, err := scanSplits(t, mem, r, []string{path}, n, nil)
		if err != nil {
			t.Fatalf("%d splits: %v", n, err)
		}
		if got := optest.Format(rows); got != want {
			t.Errorf("%d splits: rows\n%swant\n%s", n, got, want)
		}
	}
}

func TestJSONLScanErrors(t *testing.T) {
	s := optest.Schema(t, "id int64, name string")
	for _, tc := range []struct{ content, want string }{
		{`{"id": 1.5}`, `x.jsonl:1:1: key "id": parse "1.5" as int64: invalid syntax`},
		{"{\"id\": 1}\n{\"name\": \"a\", \"id\": \"7\"}", `x.jsonl:2:2: key "id": want int64, got string`},
		{`{"id": 1, "id": 2}`, `x.jsonl:1:2: duplicate key "id"`},
		{`[1, 2]`, `x.jsonl:1:1: want a JSON object`},
		{`{"id": 1} x`, `x.jsonl:1:1: unexpected data after the object`},
		{`{"id": 1, "name": {"a": 1}}`, `x.jsonl:1:2: key "name": want string, got a nested object or array`},
		{"{\"name\": \"a\xffb\"}", `x.jsonl:1:1: key "name": invalid UTF-8 in string`},
		{`{"id": 1 "name": "x"}`, `x.jsonl:1:1: key "id": want ',' or '}' after the value`},
	} {
		path := writeTemp(t, "x.jsonl", tc.content)
		_, _, err := scanSplits(t, memory.DefaultAllocator, &spec.ReadStep{Schema: s}, []string{path}, 1, nil)
		if err == nil || !strings.HasSuffix(err.Error(), tc.want) || !operators.IsDataError(err) {
			t.Errorf("scan %q: error %v, want ...%s", tc.content, err, tc.want)
		}
	}
}

func TestInferJSONLSchema(t *testing.T) {
	path := writeTemp(t, "x.jsonl", jsonlSample+`{"id": 5, "mixed": 1}`+"\n"+`{"mixed": "s", "only_nested": [1]}`+"\n")
	s, err := InferJSONLSchema(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.String(), "(id int64, name string, amount float64, ok bool, mixed string)"; got != want {
		t.Errorf("InferJSONLSchema = %s, want %s", got, want)
	}
}

// TestWriteScanRoundTrip writes rows in each format and reads them back
// in 1..4 splits.
func TestWriteScanRoundTrip(t *testing.T) {
	mem := optest.Checked(t)
	s := optest.Schema(t, "i int64, f float64, b bool, s string")
	rows := [][]any{
		{1, 1.5, true, "plain"}, {nil, nil, nil, nil}, {-7, 0.1, false, ""},
		{1 << 40, 1e21, true, "q\"uote,\\back\nline\ttab\x01"}, {3, -2.25, nil, "ünï"},
	}
	for _, format := range []spec.Format{spec.FormatCSV, spec.FormatJSONL, spec.FormatParquet} {
		path := filepath.Join(t.TempDir(), "out"+format.Ext())
		w, err := NewFileWrite(path, s, &spec.WriteStep{Path: path}, mem)
		if err != nil {
			t.Fatal(err)
		}
		optest.Push(t, w, optest.Record(t, mem, s, rows[:3]), optest.Record(t, mem, s, rows[3:]))
		if w.RowsWritten() != 5 {
			t.Errorf("%s: RowsWritten = %d", format, w.RowsWritten())
		}
		if format == spec.FormatCSV {
			continue // CSV cannot hold the newline: TestCSVWriteScanRoundTrip covers it
		}
		for n := 1; n <= 4; n++ {
			got, _, err := scanSplits(t, mem, &spec.ReadStep{Schema: s}, []string{path}, n, nil)
			if err != nil {
				t.Fatalf("%s, %d splits: %v", format, n, err)
			}
			if optest.Format(got) != optest.Format(rows) {
				t.Errorf("%s, %d splits: read back\n%swant\n%s", format, n, optest.Format(got), optest.Format(rows))
			}
		}
	}
}

func TestJSONLWriteFormat(t *testing.T) {
	mem := optest.Checked(t)
	s := optest.Schema(t, "i int64, f float64, s string")
	path := filepath.Join(t.TempDir(), "x.jsonl")
	w, err := NewJSONLWrite(path, s)
	if err != nil {
		t.Fatal(err)
	}
	optest.Push(t, w, optest.Record(t, mem, s, [][]any{{1, 0.1, "a\"b"}, {nil, 1e21, nil}}))
	got, _ := os.ReadFile(path)
	want := `{"i":1,"f":0.1,"s":"a\"b"}` + "\n" + `{"i":null,"f":1000000000000000000000,"s":null}` + "\n"
	if string(got) != want {
		t.Errorf("JSONL output\n%s\nwant\n%s", got, want)
	}
}

// TestParquetLowLevel reads a file ParquetWrite wrote with the parquet
// package's own low-level reader: row count, row groups, a column's values.
func TestParquetLowLevel(t *testing.T) {
	mem := optest.Checked(t)
	s := optest.Schema(t, "id int64, name string")
	path := filepath.Join(t.TempDir(), "x.parquet")
	w, err := NewParquetWrite(path, s, ParquetWriteOptions{Compression: spec.CompressionZstd, RowGroupRows: 3}, mem)
	if err != nil {
		t.Fatal(err)
	}
	var rows [][]any
	for i := 0; i < 7; i++ {
		rows = append(rows, []any{i * 10, strings.Repeat("x", i)})
	}
	optest.Push(t, w, optest.Record(t, mem, s, rows))
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := file.NewParquetReader(f)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.NumRows() != 7 || r.NumRowGroups() != 3 {
		t.Errorf("NumRows = %d, NumRowGroups = %d, want 7, 3", r.NumRows(), r.NumRowGroups())
	}
	var ids []int64
	for g := 0; g < r.NumRowGroups(); g++ {
		col, err := r.RowGroup(g).Column(0)
		if err != nil {
			t.Fatal(err)
		}
		cr := col.(*file.Int64ColumnChunkReader)
		vals := make([]int64, 10)
		defs := make([]int16, 10)
		_, n, err := cr.ReadBatch(10, vals, defs, nil)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, vals[:n]...)
	}
	if got := optest.Format([][]any{{ids}}); got != "[0 10 20 30 40 50 60]\n" {
		t.Errorf("id column = %s", got)
	}
	if codec := r.MetaData().RowGroup(0).NumColumns(); codec != 2 {
		t.Errorf("row group has %d columns", codec)
	}
	// Projection and row-group splits: read only name, in 2 and 3 splits.
	for _, n := range []int{2, 3} {
		got, _, err := scanSplits(t, mem, &spec.ReadStep{Schema: optest.Schema(t, "name string")}, []string{path}, n, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 7 || got[6][0] != "xxxxxx" {
			t.Errorf("%d splits: projected rows %v", n, got)
		}
	}
	_, _, err = scanSplits(t, mem, &spec.ReadStep{Schema: optest.Schema(t, "name int64")}, []string{path}, 1, nil)
	if err == nil || !strings.HasSuffix(err.Error(), `column "name" is utf8 in the file, want int64`) {
		t.Errorf("type mismatch error = %v", err)
	}
	if got, err := InferParquetSchema(path); err != nil || got.String() != "(id int64, name string)" {
		t.Errorf("InferParquetSchema = %s, %v", got, err)
	}
}

func TestOnError(t *testing.T) {
	s := optest.Schema(t, "a int64, b string")
	csv := "a,b\n1,x\nbad,y\n3\n4,z\n5,\xff\n6,w,extra\n7,v\n"
	jsonl := "{\"a\":1,\"b\":\"x\"}\n{\"a\":\"bad\"}\n{\"a\":4}\nnot json\n{\"a\":7,\"b\":\"v\"}\n"
	for _, tc := range []struct {
		name, content, ext string
		wantRows           string
		wantSkip           int64
		wantQ              string
	}{
		{"csv", csv, ".csv", "1 x\n4 z\n7 v\n", 4,
			"F:3:1: parse \"bad\" as int64: invalid syntax\tbad,y\n" +
				"F:4:2: row has 1 fields, want 2\t3\n" +
				"F:6:2: invalid UTF-8 in string field\t5,\xff\n" +
				"F:7:3: row has more than 2 fields\t6,w,extra\n"},
		{"jsonl", jsonl, ".jsonl", "1 x\n4 NULL\n7 v\n", 2,
			"F:2:1: key \"a\": want int64, got string\t{\"a\":\"bad\"}\n" +
				"F:4:1: want a JSON object\tnot json\n"},
	} {
		path := writeTemp(t, "in"+tc.ext, tc.content)
		for _, n := range []int{1, 3} {
			var q bytes.Buffer
			r := &spec.ReadStep{Schema: s, OnError: spec.OnErrorQuarantine}
			rows, skipped, err := scanSplits(t, optest.Checked(t), r, []string{path}, n, &q)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if got := optest.Format(rows); got != tc.wantRows || skipped != tc.wantSkip {
				t.Errorf("%s, %d splits: rows\n%sskipped %d, want\n%sskipped %d", tc.name, n, got, skipped, tc.wantRows, tc.wantSkip)
			}
			if got := strings.ReplaceAll(q.String(), path, "F"); got != tc.wantQ {
				t.Errorf("%s, %d splits: quarantine\n%q\nwant\n%q", tc.name, n, got, tc.wantQ)
			}
			r.OnError = spec.OnErrorFail
			if _, _, err := scanSplits(t, memory.DefaultAllocator, r, []string{path}, n, nil); !operators.IsDataError(err) {
				t.Errorf("%s, fail: error %v, want a data error", tc.name, err)
			}
		}
	}
}

func TestCSVOptions(t *testing.T) {
	s := optest.Schema(t, "a int64, b string, c float64")
	path := writeTemp(t, "x.csv", "1;'x;y';NA\nNA;NA;2.5\n3;'it''s';\n")
	no := false
	r := &spec.ReadStep{Schema: s, Delimiter: ';', Quote: '\'', Header: &no, NullString: "NA"}
	rows, _, err := scanSplits(t, optest.Checked(t), r, []string{path}, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := optest.Format(rows), "1 x;y NULL\nNULL NULL 2.5\n3 it's NULL\n"; got != want {
		t.Errorf("rows\n%swant\n%s", got, want)
	}
}

// TestMultiFileScan reads three CSV files (one empty but for its header) in
// 1..5 splits: every row once, in file order.
func TestMultiFileScan(t *testing.T) {
	dir := t.TempDir()
	var files []string
	for i, c := range []string{"a\n1\n2\n3\n", "a\n", "a\n4\n5\n"} {
		p := filepath.Join(dir, "f"+string(rune('0'+i))+".csv")
		if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
	}
	for n := 1; n <= 5; n++ {
		rows, _, err := scanSplits(t, optest.Checked(t), &spec.ReadStep{Schema: optest.Schema(t, "a int64")}, files, n, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := optest.Format(rows); got != "1\n2\n3\n4\n5\n" {
			t.Errorf("%d splits: %q", n, got)
		}
	}
}
