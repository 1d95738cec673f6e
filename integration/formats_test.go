package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/batchrun/batchrun/jobs"
)

// runSpec writes spec text into dir/name.yaml and runs it.
func runSpec(t *testing.T, dir, name, text string, parallelism int) (*jobs.Report, error) {
	t.Helper()
	path := filepath.Join(dir, name+".yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := jobs.LoadFile(path, jobs.FileOptions{Parallelism: parallelism})
	if err != nil {
		return nil, err
	}
	return l.Run(context.Background(), jobs.RunOptions{StateDir: t.TempDir(), Slots: 64})
}

// linkData makes dir/data point at the bundled example data.
func linkData(t *testing.T, dir string) {
	t.Helper()
	if err := os.Symlink(filepath.Join(examplesDir(t), "data"), filepath.Join(dir, "data")); err != nil {
		t.Fatal(err)
	}
}

// sortedCSV reads a CSV output (file or part directory), header first,
// rows sorted.
func sortedCSV(t *testing.T, path string) [][]string {
	t.Helper()
	rows := readOutput(t, path)
	sortRows(rows[1:])
	return rows
}

// TestFormatRoundTrip: one job reads CSV and writes Parquet and JSON lines,
// a second reads both back and writes CSV; both outputs equal the original.
func TestFormatRoundTrip(t *testing.T) {
	want := sortedCSV(t, filepath.Join(examplesDir(t), "data", "events.csv"))
	for _, p := range []int{1, 4} {
		t.Run(fmt.Sprintf("p%d", p), func(t *testing.T) {
			dir := t.TempDir()
			linkData(t, dir)
			if _, err := runSpec(t, dir, "export", fmt.Sprintf(`
steps:
  - {id: ev, read: {path: data/events.csv}}
  - {id: pq, input: ev, parallelism: %d, write: {path: out/events.parquet, compression: zstd}}
  - {id: js, input: ev, parallelism: %[1]d, write: {path: out/events.jsonl}}
`, p), p); err != nil {
				t.Fatal(err)
			}
			if _, err := runSpec(t, dir, "import", `
steps:
  - {id: pq, read: {path: out/events.parquet, format: parquet}}
  - {id: js, read: {path: out/events.jsonl, format: jsonl, schema: [order_id int64, user_id int64, country string, amount float64, ts int64]}}
  - {id: a, input: pq, write: {path: back/from_parquet.csv}}
  - {id: b, input: js, write: {path: back/from_jsonl.csv}}
`, p); err != nil {
				t.Fatal(err)
			}
			for _, out := range []string{"back/from_parquet.csv", "back/from_jsonl.csv"} {
				t.Run(out, func(t *testing.T) { compareRows(t, sortedCSV(t, filepath.Join(dir, out)), want) })
			}
			if p > 1 {
				parts, _ := filepath.Glob(filepath.Join(dir, "out/events.parquet/part-*.parquet"))
				if len(parts) != p {
					t.Errorf("parquet parts = %v, want %d", parts, p)
				}
			}
		})
	}
}

// TestGlobAndDirectoryInputs splits events.csv into three files and reads
// them back through a glob and through their directory.
func TestGlobAndDirectoryInputs(t *testing.T) {
	dir := t.TempDir()
	want := sortedCSV(t, filepath.Join(examplesDir(t), "data", "events.csv"))
	header := strings.Join(want[0], ",") + "\n"
	if err := os.Mkdir(filepath.Join(dir, "in"), 0o755); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		var b strings.Builder
		b.WriteString(header)
		for j := 1 + i; j < len(want); j += 3 {
			b.WriteString(strings.Join(want[j], ",") + "\n")
		}
		if err := os.WriteFile(filepath.Join(dir, "in", fmt.Sprintf("events-%d.csv", i)), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "in", "notes.txt"), []byte("not csv\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []int{1, 4} {
		if _, err := runSpec(t, dir, "multi", `
steps:
  - {id: g, read: {path: "in/events-*.csv"}}
  - {id: d, read: {path: in}}
  - {id: og, input: g, write: {path: out/glob}}
  - {id: od, input: d, write: {path: out/dir}}
`, p); err != nil {
			t.Fatal(err)
		}
		for _, out := range []string{"out/glob", "out/dir"} {
			t.Run(fmt.Sprintf("p%d/%s", p, out), func(t *testing.T) { compareRows(t, sortedCSV(t, filepath.Join(dir, out)), want) })
		}
	}
}

const badCSV = "id,amount\n1,1.5\n2,abc\n3\n4,4.5\n"

func onErrorSpec(mode string) string {
	extra := ""
	if mode == "quarantine" {
		extra = ", quarantine: bad/rows.txt"
	}
	return fmt.Sprintf(`
steps:
  - {id: in, read: {path: in.csv, schema: [id int64, amount float64], on_error: %s%s}}
  - {id: out, input: in, write: {path: out.csv}}
`, mode, extra)
}

func TestOnErrorModes(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "in.csv"), []byte(badCSV), 0o644); err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(dir, "in.csv")

	_, err := runSpec(t, dir, "fail", onErrorSpec("fail"), 1)
	want := fmt.Sprintf(`jobs: run fail: in[0]#0: operators: %s:3:2: parse "abc" as float64: invalid syntax`, in)
	if err == nil || err.Error() != want || !jobs.IsDataError(err) {
		t.Errorf("on_error fail: error\n%v\nwant\n%s", err, want)
	}

	for _, p := range []int{1, 2} {
		report, err := runSpec(t, dir, "skip", onErrorSpec("skip"), p)
		if err != nil {
			t.Fatal(err)
		}
		if s := report.Stages[0]; s.RowsSkipped != 2 || s.RowsOut != 2 {
			t.Errorf("p%d skip: stage %s rows_out %d rows_skipped %d, want 2 and 2", p, s.Name, s.RowsOut, s.RowsSkipped)
		}
		if report.RowsWritten != 2 || report.RowsSkipped != 2 || !strings.Contains(report.Summary(), "2 rows written, 2 malformed rows skipped, 0 failovers") {
			t.Errorf("p%d skip: run rows_written %d rows_skipped %d, summary %q", p, report.RowsWritten, report.RowsSkipped, report.Summary())
		}
		if got := sortedCSV(t, filepath.Join(dir, "out.csv")); len(got) != 3 || got[2][0] != "4" {
			t.Errorf("p%d skip: output %v", p, got)
		}
	}

	report, err := runSpec(t, dir, "quarantine", onErrorSpec("quarantine"), 1)
	if err != nil {
		t.Fatal(err)
	}
	if report.Stages[0].RowsSkipped != 2 {
		t.Errorf("quarantine: rows_skipped %d, want 2", report.Stages[0].RowsSkipped)
	}
	got, err := os.ReadFile(filepath.Join(dir, "bad/rows.txt"))
	wantQ := fmt.Sprintf("%s:3:2: parse \"abc\" as float64: invalid syntax\t2,abc\n%s:4:2: row has 1 fields, want 2\t3\n", in, in)
	if err != nil || string(got) != wantQ {
		t.Errorf("quarantine file:\n%s(%v)\nwant\n%s", got, err, wantQ)
	}
}

func TestWriteErrorIfExists(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "in.csv"), []byte("a\n1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	spec := `
steps:
  - {id: in, read: {path: in.csv}}
  - {id: out, input: in, write: {path: out.jsonl, mode: error-if-exists}}
`
	if _, err := runSpec(t, dir, "once", spec, 1); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "out.jsonl")); string(got) != "{\"a\":1}\n" {
		t.Errorf("out.jsonl = %q", got)
	}
	_, err := runSpec(t, dir, "once", spec, 1)
	want := fmt.Sprintf(`%s:4: step "out": output %s: it exists (mode: error-if-exists); remove it or use mode: overwrite`,
		filepath.Join(dir, "once.yaml"), filepath.Join(dir, "out.jsonl"))
	if err == nil || err.Error() != want {
		t.Errorf("second run: error %v, want %s", err, want)
	}
}

// TestParquetETLExample runs examples/parquet-etl.yaml at parallelism 1
// and 4, converts its Parquet output to CSV with a second job, and checks
// it against the answer computed from the CSV copies of the data.
func TestParquetETLExample(t *testing.T) {
	data := filepath.Join(examplesDir(t), "data")
	_, users := readCSV(t, filepath.Join(data, "users.csv"))
	segment := map[string]string{}
	for _, u := range users {
		segment[u[0]] = u[2]
	}
	_, events := readCSV(t, filepath.Join(data, "events.csv"))
	seen := map[string]bool{}
	want := [][]string{{"user_id", "country", "segment"}}
	for _, e := range events {
		if atof(t, e[3]) <= 0 || seen[e[1]+","+e[2]] {
			continue
		}
		seen[e[1]+","+e[2]] = true
		want = append(want, []string{e[1], e[2], segment[e[1]]})
	}
	sortRows(want[1:])
	for _, p := range []int{1, 4} {
		specPath, dir := stageExample(t, "parquet-etl")
		l, err := jobs.LoadFile(specPath, jobs.FileOptions{Parallelism: p})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.Run(context.Background(), jobs.RunOptions{StateDir: t.TempDir(), Slots: 64}); err != nil {
			t.Fatal(err)
		}
		if _, err := runSpec(t, dir, "tocsv", `
steps:
  - {id: r, read: {path: out/user-countries, format: parquet}}
  - {id: w, input: r, write: {path: check.csv}}
`, p); err != nil {
			t.Fatal(err)
		}
		t.Run(fmt.Sprintf("p%d", p), func(t *testing.T) { compareRows(t, sortedCSV(t, filepath.Join(dir, "check.csv")), want) })
	}
}

// TestInputProgressCounts: a run in this process counts, per stage, the
// bytes its reads read of their input files: every byte once when nothing
// fails, against the files' sizes.
func TestInputProgressCounts(t *testing.T) {
	ex := exampleNamed(t, "revenue-by-segment")
	in := &jobs.InputProgress{}
	l := loadExample(t, ex, runConfig{"all-blocking", 4})
	runExample(t, ex, runConfig{"all-blocking", 4}, jobs.RunOptions{Input: in})
	reading := 0
	for _, st := range l.Graph.Stages {
		read, total := in.Stage(int(st.ID))
		if total == 0 {
			continue
		}
		reading++
		if read != total {
			t.Errorf("stage %s read %d bytes of %d", st.Name, read, total)
		}
	}
	if reading == 0 {
		t.Error("no stage counted any input")
	}
}
