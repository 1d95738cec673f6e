package formats

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators"
	"github.com/batchrun/batchrun/operators/internal/optest"
)

// scanProjected runs every split of a read of files projected on cols and
// returns the rows, the emitted column names (of the first batch), the
// skipped count and the first error.
func scanProjected(t *testing.T, r *spec.ReadStep, files []string, cols []string, n int) ([][]any, string, int64, error) {
	t.Helper()
	mem := optest.Checked(t)
	var rows [][]any
	var names string
	var skipped int64
	for k := 0; k < n; k++ {
		sc, err := NewScan(ScanOptions{Read: r, Input: ScanInput{Files: files}, Columns: cols, Split: k, NumSplits: n, Mem: mem})
		if err != nil {
			t.Fatal(err)
		}
		sink := &optest.Sink{}
		err = sc.Run(context.Background(), sink)
		rows = append(rows, sink.Rows()...)
		if len(sink.Recs) > 0 && names == "" {
			var ns []string
			for _, f := range sink.Recs[0].Schema().Fields() {
				ns = append(ns, f.Name)
			}
			names = strings.Join(ns, ",")
		}
		sink.Release()
		skipped += sc.Stats().RowsSkipped
		if err != nil {
			return rows, names, skipped, err
		}
	}
	return rows, names, skipped, nil
}

// TestCSVProjectionSkipsValues: the fields of columns a projected CSV scan
// does not emit are not parsed, so a value that would fail its column's
// type (or UTF-8) does not fail the row, and the batches hold only the
// projected columns, in schema order. The same file read whole fails on
// the first such value.
func TestCSVProjectionSkipsValues(t *testing.T) {
	s := optest.Schema(t, "id int64, name string, amount float64, ok bool, note string")
	content := "id,name,amount,ok,note\n" +
		"1,a,1.5,true,x\n" +
		"2,b,not-a-number,maybe,\xff\xfe\n" + // amount, ok and note are malformed
		"3,\"c,\"\"q\"\"\",oops,1,\"quoted, note\"\n" +
		"4,d,2,yes,\n"
	path := writeTemp(t, "p.csv", content)
	r := &spec.ReadStep{Schema: s}
	for _, n := range []int{1, 2, 3} {
		rows, names, _, err := scanProjected(t, r, []string{path}, []string{"name", "id"}, n)
		if err != nil {
			t.Fatalf("%d splits: %v", n, err)
		}
		if names != "id,name" {
			t.Errorf("%d splits: columns %s, want id,name (schema order)", n, names)
		}
		if got, want := optest.Format(rows), "1 a\n2 b\n3 c,\"q\"\n4 d\n"; got != want {
			t.Errorf("%d splits: rows\n%swant\n%s", n, got, want)
		}
	}
	_, _, _, err := scanProjected(t, r, []string{path}, nil, 1)
	var de *operators.DataError
	if !errors.As(err, &de) || de.Line != 3 || de.Column != 3 {
		t.Errorf("whole read: error %v, want the bad amount at line 3, column 3", err)
	}
}

// TestCSVProjectionErrors: a projected CSV scan still checks each row's
// shape (its number of fields, its quoting, before and after the last
// projected column) and parses the projected values, and its errors name
// the file's line and column as an unprojected scan's do.
func TestCSVProjectionErrors(t *testing.T) {
	s := optest.Schema(t, "a int64, b string, c int64, d string")
	const header = "a,b,c,d\n"
	for _, tc := range []struct {
		name, row string
		cols      []string
		want      string
	}{
		{"bad projected value", "1,x,zz,y", []string{"c"}, `p.csv:2:3: parse "zz" as int64: invalid syntax`},
		{"too few fields, projected last", "1,x", []string{"c"}, "p.csv:2:3: row has 2 fields, want 4"},
		{"too few fields, in the tail", "1,x,3", []string{"b"}, "p.csv:2:4: row has 3 fields, want 4"},
		{"too many fields, in the tail", "1,x,3,y,z", []string{"a"}, "p.csv:2:5: row has more than 4 fields"},
		{"too many fields, quoted tail", `1,x,"3",y,z`, []string{"a"}, "p.csv:2:5: row has more than 4 fields"},
		{"unclosed quote, skipped column", `1,"x,3,y`, []string{"c"}, "p.csv:2:2: " + msgNoCloseQuote},
		{"junk after quote, in the tail", `1,x,"3"z,y`, []string{"b"}, "p.csv:2:3: " + msgAfterQuote},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeTemp(t, "p.csv", header+tc.row+"\n")
			_, _, _, err := scanProjected(t, &spec.ReadStep{Schema: s}, []string{path}, tc.cols, 1)
			if err == nil || !strings.HasSuffix(err.Error(), tc.want) || !strings.Contains(err.Error(), filepath.Dir(path)) {
				t.Errorf("error %v, want ...%s", err, tc.want)
			}
		})
	}
	// on_error skip drops such rows and keeps the others.
	path := writeTemp(t, "p.csv", header+"1,x,3,y\n1,x\n2,y,4,z\n")
	rows, _, skipped, err := scanProjected(t, &spec.ReadStep{Schema: s, OnError: spec.OnErrorSkip}, []string{path}, []string{"c"}, 1)
	if err != nil || skipped != 1 || optest.Format(rows) != "3\n4\n" {
		t.Errorf("skip: rows %q, skipped %d, err %v; want 3 and 4, one skipped", optest.Format(rows), skipped, err)
	}
}

// TestScanProjectionBadColumns: a projection names schema columns, once.
func TestScanProjectionBadColumns(t *testing.T) {
	path := writeTemp(t, "p.csv", "a\n1\n")
	r := &spec.ReadStep{Schema: optest.Schema(t, "a int64")}
	for _, cols := range [][]string{{"b"}, {"a", "a"}} {
		_, err := NewScan(ScanOptions{Read: r, Input: ScanInput{Files: []string{path}}, Columns: cols, NumSplits: 1, Mem: memory.DefaultAllocator})
		if err == nil {
			t.Errorf("columns %v: no error", cols)
		}
	}
}

// TestJSONLProjection: a key of a column the scan does not emit is skipped
// like an unknown key, whatever its value.
func TestJSONLProjection(t *testing.T) {
	path := writeTemp(t, "p.jsonl", `{"id": 1, "name": "a", "amount": 1.5}
{"id": 2, "name": {"nested": [1]}, "amount": "text"}
{"amount": 3, "id": 3}
`)
	r := &spec.ReadStep{Schema: optest.Schema(t, "id int64, name string, amount float64")}
	rows, names, _, err := scanProjected(t, r, []string{path}, []string{"id"}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if names != "id" || optest.Format(rows) != "1\n2\n3\n" {
		t.Errorf("columns %s, rows\n%s", names, optest.Format(rows))
	}
	rows, _, _, err = scanProjected(t, r, []string{path}, []string{"amount", "id"}, 1)
	if err == nil {
		t.Errorf("amount projected: rows %v, want the string amount of line 2 to fail", rows)
	}
}

// TestParquetProjection: a projected Parquet scan emits only its columns.
func TestParquetProjection(t *testing.T) {
	mem := optest.Checked(t)
	s := optest.Schema(t, "id int64, name string, amount float64")
	path := filepath.Join(t.TempDir(), "p.parquet")
	w, err := NewParquetWrite(path, s, ParquetWriteOptions{RowGroupRows: 2}, mem)
	if err != nil {
		t.Fatal(err)
	}
	optest.Push(t, w, optest.Record(t, mem, s, [][]any{{1, "a", 1.5}, {2, "b", 2.5}, {3, "c", 3.5}}))
	rows, names, _, err := scanProjected(t, &spec.ReadStep{Schema: s}, []string{path}, []string{"amount", "id"}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if names != "id,amount" || optest.Format(rows) != "1 1.5\n2 2.5\n3 3.5\n" {
		t.Errorf("columns %s, rows\n%s", names, optest.Format(rows))
	}
}

// wideCSV is a lineitem-like file: 16 columns of mixed types (a long
// comment last), rows rows.
func wideCSV(b *testing.B, rows int) (string, spec.Schema) {
	b.Helper()
	s := optest.Schema(b, "orderkey int64, partkey int64, suppkey int64, linenumber int64, quantity float64, "+
		"extendedprice float64, discount float64, tax float64, returnflag string, linestatus string, "+
		"shipdate string, commitdate string, receiptdate string, shipinstruct string, shipmode string, comment string")
	var buf bytes.Buffer
	buf.WriteString(strings.Join(s.Names(), ",") + "\n")
	for i := 0; i < rows; i++ {
		fmt.Fprintf(&buf, "%d,%d,%d,%d,%d.00,%d.%02d,0.0%d,0.0%d,%c,%c,1996-03-%02d,1996-02-%02d,1996-03-%02d,DELIVER IN PERSON,TRUCK,%s\n",
			i/4, i*7%200000, i*13%10000, i%4+1, i%50+1, i*31%100000, i%100, i%10, i%8, "ANR"[i%3], "OF"[i%2],
			i%28+1, i%28+1, i%28+1, strings.Repeat("carefully final deposits ", 1+i%3))
	}
	return writeTemp(b, "wide.csv", buf.String()), s
}

// BenchmarkCSVScanProjected scans a 16-column file whole and projected on
// the 4 columns of a TPC-H Q6-like query (quantity, extendedprice,
// discount, shipdate) and on 1 column.
func BenchmarkCSVScanProjected(b *testing.B) {
	const rows = 200_000
	path, s := wideCSV(b, rows)
	for _, tc := range []struct {
		name string
		cols []string
	}{
		{"all16", nil},
		{"q6cols4", []string{"quantity", "extendedprice", "discount", "shipdate"}},
		{"first1", []string{"orderkey"}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			start := optest.StartClock()
			for i := 0; i < b.N; i++ {
				sc, err := NewScan(ScanOptions{Read: &spec.ReadStep{Schema: s}, Input: ScanInput{Files: []string{path}},
					Columns: tc.cols, NumSplits: 1, Mem: memory.DefaultAllocator})
				if err != nil {
					b.Fatal(err)
				}
				d := &optest.Discard{}
				if err := sc.Run(context.Background(), d); err != nil {
					b.Fatal(err)
				}
				if d.Rows != rows {
					b.Fatalf("read %d rows", d.Rows)
				}
			}
			optest.ReportRows(b, rows, start)
		})
	}
}
