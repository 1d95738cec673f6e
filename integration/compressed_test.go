package integration

import (
	"bytes"
	"compress/bzip2"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/batchrun/batchrun/jobs"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// compressedTestdata is the bzip2 test data of the formats package
// (the standard library has no bzip2 writer).
func compressedTestdata(t *testing.T, name string) (plain, bz2 []byte) {
	t.Helper()
	bz2, err := os.ReadFile(filepath.Join("..", "operators", "formats", "testdata", name+".bz2"))
	if err != nil {
		t.Fatal(err)
	}
	if plain, err = io.ReadAll(bzip2.NewReader(bytes.NewReader(bz2))); err != nil {
		t.Fatal(err)
	}
	return plain, bz2
}

// writeCompressed writes data to dir/name, compressed with gzip or zstd when
// name ends in .gz or .zst.
func writeCompressed(t *testing.T, dir, name string, data []byte) {
	t.Helper()
	var b bytes.Buffer
	switch filepath.Ext(name) {
	case ".gz":
		w := gzip.NewWriter(&b)
		w.Write(data)
		w.Close()
		data = b.Bytes()
	case ".zst":
		w, _ := zstd.NewWriter(&b)
		w.Write(data)
		w.Close()
		data = b.Bytes()
	}
	if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestCompressedInputs reads the same CSV and JSON lines data plain and
// compressed as .gz, .zst and .bz2 at parallelism 1 and 4 (with and
// without an inferred schema): every output equals the plain one. A glob
// and a directory mix plain and compressed files.
func TestCompressedInputs(t *testing.T) {
	dir := t.TempDir()
	exts := []string{"", ".gz", ".zst", ".bz2"}
	for _, name := range []string{"rows.csv", "rows.jsonl"} {
		plain, bz2 := compressedTestdata(t, name)
		for _, ext := range exts {
			if ext == ".bz2" {
				writeCompressed(t, dir, "in/"+name+ext, bz2)
			} else {
				writeCompressed(t, dir, "in/"+name+ext, plain)
			}
		}
	}
	// The mix: rows.csv in three parts (plain, gzip, zstd), and all of it
	// again as bzip2.
	plain, bz2 := compressedTestdata(t, "rows.csv")
	lines := strings.SplitAfter(strings.TrimSuffix(string(plain), "\n"), "\n")
	for i, ext := range []string{".csv", ".csv.gz", ".csv.zst"} {
		part := lines[0]
		for j := 1 + i; j < len(lines); j += 3 {
			part += lines[j]
		}
		writeCompressed(t, dir, fmt.Sprintf("mix/part-%d%s", i, ext), []byte(part))
	}
	writeCompressed(t, dir, "mix/part-3.csv.bz2", bz2)
	writeCompressed(t, dir, "mix/notes.txt.gz", []byte("not csv\n"))

	var steps strings.Builder
	steps.WriteString("steps:\n")
	for i, ext := range exts {
		fmt.Fprintf(&steps, "  - {id: c%d, read: {path: in/rows.csv%s, schema: [id int64, name string, amount float64, ok bool]}}\n", i, ext)
		fmt.Fprintf(&steps, "  - {id: i%d, read: {path: in/rows.csv%s}}\n", i, ext)
		fmt.Fprintf(&steps, "  - {id: j%d, read: {path: in/rows.jsonl%s, schema: [id int64, name string, amount float64, ok bool]}}\n", i, ext)
		for _, k := range []string{"c", "i", "j"} {
			fmt.Fprintf(&steps, "  - {id: o%s%d, input: %[1]s%[2]d, write: {path: out/%[1]s%[2]d}}\n", k, i)
		}
	}
	steps.WriteString(`  - {id: g, read: {path: "mix/part-*"}}
  - {id: d, read: {path: mix}}
  - {id: og, input: g, write: {path: out/glob}}
  - {id: od, input: d, write: {path: out/dir}}
`)
	var want, twice [][]string
	for _, p := range []int{1, 4} {
		if _, err := runSpec(t, dir, "compressed", steps.String(), p); err != nil {
			t.Fatal(err)
		}
		if want == nil {
			want = sortedCSV(t, filepath.Join(dir, "out/c0"))
			if len(want) != 3001 {
				t.Fatalf("plain output has %d rows", len(want))
			}
			twice = append(append([][]string{want[0]}, want[1:]...), want[1:]...)
			sortRows(twice[1:])
		}
		for i := range exts {
			for _, k := range []string{"c", "i", "j"} {
				out := fmt.Sprintf("out/%s%d", k, i)
				t.Run(fmt.Sprintf("p%d/%s", p, out), func(t *testing.T) { compareRows(t, sortedCSV(t, filepath.Join(dir, out)), want) })
			}
		}
		for _, out := range []string{"out/glob", "out/dir"} {
			t.Run(fmt.Sprintf("p%d/%s", p, out), func(t *testing.T) { compareRows(t, sortedCSV(t, filepath.Join(dir, out)), twice) })
		}
	}
}

// TestCompressedInputErrors: a malformed row inside a .gz names the file
// as the spec names it, the line and the column; a truncated .gz fails
// the run with a data error (exit code 4) naming the file.
func TestCompressedInputErrors(t *testing.T) {
	dir := t.TempDir()
	writeCompressed(t, dir, "in.csv.gz", []byte(badCSV))
	spec := `
steps:
  - {id: in, read: {path: in.csv.gz, schema: [id int64, amount float64]}}
  - {id: out, input: in, write: {path: out.csv}}
`
	in := filepath.Join(dir, "in.csv.gz")
	for _, p := range []int{1, 4} {
		_, err := runSpec(t, dir, "bad", spec, p)
		want := fmt.Sprintf(`jobs: run bad: in[0]#0: operators: %s:3:2: parse "abc" as float64: invalid syntax`, in)
		if err == nil || !strings.HasSuffix(err.Error(), want[strings.Index(want, "operators:"):]) || !jobs.IsDataError(err) {
			t.Errorf("p%d: error\n%v\nwant\n%s", p, err, want)
		}
	}

	var big strings.Builder
	big.WriteString("id,amount\n")
	for i := 0; i < 200000; i++ {
		fmt.Fprintf(&big, "%d,%d.5\n", i, i%977)
	}
	writeCompressed(t, dir, "in.csv.gz", []byte(big.String()))
	gz, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(in, gz[:len(gz)*2/3], 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = runSpec(t, dir, "truncated", spec, 2)
	want := fmt.Sprintf("operators: %s: corrupt or truncated gzip data: unexpected EOF", in)
	if err == nil || !strings.HasSuffix(err.Error(), want) || !jobs.IsDataError(err) {
		t.Errorf("truncated: error\n%v\nwant ...%s (a data error)", err, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "out.csv")); err == nil {
		t.Errorf("truncated: out.csv was written")
	}
}
