package formats

import (
	"bytes"
	"compress/bzip2"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators"
	"github.com/batchrun/batchrun/operators/internal/optest"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// testdataPlain returns the content of testdata/name.bz2, decompressed.
func testdataPlain(t testing.TB, name string) []byte {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name+".bz2"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(bzip2.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// compressAs returns data compressed as ext names (".gz", ".zst"; "" is
// data itself).
func compressAs(t testing.TB, ext string, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	var w io.WriteCloser
	switch strings.ToLower(ext) {
	case "":
		return data
	case ".gz":
		w = gzip.NewWriter(&b)
	case ".zst":
		zw, err := zstd.NewWriter(&b)
		if err != nil {
			t.Fatal(err)
		}
		w = zw
	default:
		t.Fatalf("no compressor for %s", ext)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// writeCompressed writes data into dir/name compressed as name's extension
// says; a .bz2 name takes testdata/bz2 (the standard library has no bzip2
// writer), which must hold data.
func writeCompressed(t testing.TB, dir, name string, data []byte, bz2 string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	var content []byte
	if ext := spec.CompressionExt(name); ext == ".bz2" {
		b, err := os.ReadFile(filepath.Join("testdata", bz2))
		if err != nil {
			t.Fatal(err)
		}
		content = b
	} else {
		content = compressAs(t, ext, data)
	}
	if err := os.WriteFile(p, content, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCompressedScan reads the same CSV and JSON lines data plain and
// compressed (gzip, zstd, bzip2) in 1, 2 and 4 splits: the same rows, and
// a compressed file is read by exactly one split. The large case (several
// chunks of decompressed data) checks lines cut across chunk borders.
func TestCompressedScan(t *testing.T) {
	for _, tc := range []struct {
		name, format, schema string
	}{
		{"rows.csv", "csv", "id int64, name string, amount float64, ok bool"},
		{"rows.jsonl", "jsonl", "id int64, name string, amount float64, ok bool"},
	} {
		plain := testdataPlain(t, tc.name)
		large := plain
		if tc.format == "csv" {
			large = append([]byte(nil), plain...)
			body := plain[bytes.IndexByte(plain, '\n')+1:]
			for len(large) < 3*scanBufSize {
				large = append(large, body...)
			}
		}
		r := &spec.ReadStep{Schema: optest.Schema(t, tc.schema)}
		for _, size := range []string{"small", "large"} {
			data := plain
			if size == "large" {
				if tc.format != "csv" {
					continue
				}
				data = large
			}
			dir := t.TempDir()
			ref := writeCompressed(t, dir, tc.name, data, "")
			want, _, err := scanSplits(t, optest.Checked(t), r, []string{ref}, 1, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(want) < 3000 {
				t.Fatalf("%s: %d rows", tc.name, len(want))
			}
			for _, ext := range []string{".gz", ".zst", ".bz2", ".GZ"} {
				if ext == ".bz2" && size == "large" {
					continue
				}
				path := writeCompressed(t, dir, tc.name+ext, data, tc.name+".bz2")
				for _, n := range []int{1, 2, 4} {
					mem := optest.Checked(t)
					got, _, err := scanSplits(t, mem, r, []string{path}, n, nil)
					if err != nil {
						t.Fatalf("%s%s %s, %d splits: %v", tc.name, ext, size, n, err)
					}
					if optest.Format(got) != optest.Format(want) {
						t.Errorf("%s%s %s, %d splits: %d rows differ from the plain file's %d", tc.name, ext, size, n, len(got), len(want))
					}
					nonEmpty := 0
					for k, sp := range SplitFiles([]int64{1}, []bool{true}, n) {
						if len(sp) > 0 {
							nonEmpty++
							if sp[0].Start != 0 || sp[0].End != 1 {
								t.Errorf("split %d: span %+v, want the whole file", k, sp[0])
							}
						}
					}
					if nonEmpty != 1 {
						t.Errorf("%d splits read a whole file", nonEmpty)
					}
				}
			}
		}
	}
}

// TestCompressedMixedFiles reads plain and compressed files together in
// 1..6 splits: every row once, in file order.
func TestCompressedMixedFiles(t *testing.T) {
	dir := t.TempDir()
	var files []string
	var want strings.Builder
	for i, name := range []string{"a.csv", "b.csv.gz", "c.csv", "d.csv.zst", "e.csv.gz", "f.csv"} {
		var b strings.Builder
		b.WriteString("a,b\n")
		for j := 0; j < 20+i*7; j++ {
			fmt.Fprintf(&b, "%d,%d\n", i, j)
			fmt.Fprintf(&want, "%d %d\n", i, j)
		}
		files = append(files, writeCompressed(t, dir, name, []byte(b.String()), ""))
	}
	for n := 1; n <= 6; n++ {
		rows, _, err := scanSplits(t, optest.Checked(t), &spec.ReadStep{Schema: optest.Schema(t, "a int64, b int64")}, files, n, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := optest.Format(rows); got != want.String() {
			t.Errorf("%d splits: got\n%s", n, got)
		}
	}
}

// TestCompressedErrors: a bad row or header inside a compressed file names
// the file as given, the line and the column; corrupt or truncated data is
// a *DataError naming the file, never a panic; on_error skip works inside
// a compressed file.
func TestCompressedErrors(t *testing.T) {
	s := optest.Schema(t, "id int64, amount float64")
	big := new(strings.Builder)
	big.WriteString("id,amount\n")
	for big.Len() < 2*scanBufSize {
		fmt.Fprintf(big, "%d,%d.5\n", big.Len(), big.Len()%1000)
	}
	lines := strings.Count(big.String(), "\n")
	gz := compressAs(t, ".gz", []byte(big.String()))
	zs := compressAs(t, ".zst", []byte(big.String()))
	bz, err := os.ReadFile(filepath.Join("testdata", "rows.csv.bz2"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		content []byte
		want    string
	}{
		{"in.csv.gz", compressAs(t, ".gz", []byte(badCSVRows)), `in.csv.gz:3:2: parse "abc" as float64: invalid syntax`},
		{"in.csv.zst", compressAs(t, ".zst", []byte(badCSVRows)), `in.csv.zst:3:2: parse "abc" as float64: invalid syntax`},
		{"late.csv.gz", compressAs(t, ".gz", []byte(big.String()+"1,x\n")), fmt.Sprintf(`late.csv.gz:%d:2: parse "x" as float64: invalid syntax`, lines+1)},
		{"hdr.csv.gz", compressAs(t, ".gz", []byte("id,amt\n1,2\n")), `hdr.csv.gz:1:2: header column 2 is "amt", want "amount" (schema (id int64, amount float64))`},
		{"empty.csv.gz", compressAs(t, ".gz", nil), `empty.csv.gz:1:1: empty file, want a header row`},
		{"trunc.csv.gz", gz[:len(gz)/2], `trunc.csv.gz: corrupt or truncated gzip data: unexpected EOF`},
		{"crc.csv.gz", append(append([]byte(nil), gz[:len(gz)-8]...), 1, 2, 3, 4, 5, 6, 7, 8), `crc.csv.gz: corrupt or truncated gzip data: gzip: invalid checksum`},
		{"zero.csv.gz", nil, `zero.csv.gz: corrupt or truncated gzip data: unexpected EOF`},
		{"text.csv.gz", []byte("id,amount\n1,2\n"), `text.csv.gz: corrupt or truncated gzip data: gzip: invalid header`},
		{"trunc.csv.zst", zs[:len(zs)/2], `trunc.csv.zst: corrupt or truncated zstd data: `},
		{"text.csv.zst", []byte("id,amount\n1,2\n"), `text.csv.zst: corrupt or truncated zstd data: `},
		{"trunc.csv.bz2", bz[:len(bz)/2], `trunc.csv.bz2: corrupt or truncated bzip2 data: unexpected EOF`},
		{"text.csv.bz2", []byte("id,amount\n1,2\n"), `text.csv.bz2: corrupt or truncated bzip2 data: bzip2 data invalid: bad magic value`},
	}
	dir := t.TempDir()
	for _, tc := range tests {
		path := filepath.Join(dir, tc.name)
		if err := os.WriteFile(path, tc.content, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{1, 3} {
			mem := optest.Checked(t)
			_, _, err := scanSplits(t, mem, &spec.ReadStep{Schema: s}, []string{path}, n, nil)
			want := "operators: " + filepath.Join(dir, tc.want)
			if err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Errorf("%s, %d splits: error %v, want %s", tc.name, n, err, want)
			} else if !operators.IsDataError(err) {
				t.Errorf("%s: error %v is not a DataError", tc.name, err)
			}
		}
	}

	path := writeCompressed(t, dir, "skip.csv.gz", []byte(badCSVRows), "")
	rows, skipped, err := scanSplits(t, optest.Checked(t), &spec.ReadStep{Schema: s, OnError: spec.OnErrorSkip}, []string{path}, 2, nil)
	if err != nil || skipped != 2 || optest.Format(rows) != "1 1.5\n4 4.5\n" {
		t.Errorf("on_error skip: rows %q, skipped %d, error %v", optest.Format(rows), skipped, err)
	}
}

const badCSVRows = "id,amount\n1,1.5\n2,abc\n3\n4,4.5\n"

// TestInferCompressed infers schemas from compressed files as from plain
// ones, and refuses a compressed Parquet file.
func TestInferCompressed(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"rows.csv", "rows.jsonl"} {
		plain := testdataPlain(t, name)
		want, err := InferSchema(&spec.ReadStep{}, []string{writeCompressed(t, dir, name, plain, "")}, 0)
		if err != nil {
			t.Fatal(err)
		}
		if name == "rows.csv" && want.String() != "(id int64, name string, amount float64, ok bool)" {
			t.Errorf("%s: schema %s", name, want)
		}
		for _, ext := range []string{".gz", ".zst", ".bz2"} {
			got, err := InferSchema(&spec.ReadStep{}, []string{writeCompressed(t, dir, name+ext, plain, name+".bz2")}, 0)
			if err != nil || got.String() != want.String() {
				t.Errorf("%s%s: schema %s, %v; want %s", name, ext, got, err, want)
			}
		}
	}
	got, err := InferCSVSchema(writeCompressed(t, dir, "x.csv.gz", []byte("a,b\n1,x\n2,y\n"), ""), ',', 0)
	if err != nil || got.String() != "(a int64, b string)" {
		t.Errorf("InferCSVSchema(x.csv.gz) = %s, %v", got, err)
	}
	p := writeCompressed(t, dir, "trunc.csv.gz", []byte("a,b\n1,x\n2,y\n"), "")
	if err := os.Truncate(p, 20); err != nil {
		t.Fatal(err)
	}
	if _, err := InferCSVSchema(p, ',', 0); err == nil || !strings.Contains(err.Error(), "trunc.csv.gz: corrupt or truncated gzip data") {
		t.Errorf("InferCSVSchema(truncated) error %v", err)
	}
	pq := writeCompressed(t, dir, "x.parquet.gz", []byte("PAR1"), "")
	if _, err := InferSchema(&spec.ReadStep{}, []string{pq}, 0); err == nil || !strings.Contains(err.Error(), "compressed whole (.gz) is not supported") {
		t.Errorf("InferSchema(x.parquet.gz) error %v", err)
	}
	o := ScanOptions{Read: &spec.ReadStep{Schema: optest.Schema(t, "a int64")}, Input: ScanInput{Files: []string{pq}}, NumSplits: 1}
	if _, err := NewScan(o); err == nil || !strings.Contains(err.Error(), "compressed whole (.gz) is not supported") {
		t.Errorf("NewScan(x.parquet.gz) error %v", err)
	}
}
