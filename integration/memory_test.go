package integration

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/batchrun/batchrun/jobs"
)

// The memory tests run a job that sorts all of events.csv by (user_id, ts)
// at parallelism 2 under --memory far below the data, and check that the
// sort spilled (the report's counters) and that the output still equals
// the independent answer and the unbounded run's output byte for byte.

const memorySortSpec = `name: sort-events
parallelism: 2
steps:
  - id: events
    read: {path: data/events.csv}
  - id: sorted
    sort: [user_id, ts]
    input: events
  - id: out
    write: {path: out/sorted.csv}
    input: sorted
    parallelism: 1
`

// eventKey is (user_id, ts) of an events.csv row.
func eventKey(t *testing.T, row []string) [2]int64 {
	t.Helper()
	u, err1 := strconv.ParseInt(row[1], 10, 64)
	ts, err2 := strconv.ParseInt(row[4], 10, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("row %v: bad user_id or ts", row)
	}
	return [2]int64{u, ts}
}

// byKeyThenRow orders rows by (user_id, ts), then by the whole row (the
// order of rows with equal keys is the engine's; the answer fixes one).
func byKeyThenRow(t *testing.T) func(a, b []string) int {
	return func(a, b []string) int {
		ka, kb := eventKey(t, a), eventKey(t, b)
		if c := slices.Compare(ka[:], kb[:]); c != 0 {
			return c
		}
		return slices.Compare(a, b)
	}
}

func runMemorySort(t *testing.T, memory int64) (*jobs.Report, []byte) {
	t.Helper()
	dir := t.TempDir()
	linkData(t, dir)
	path := filepath.Join(dir, "sort.yaml")
	writeFile(t, path, memorySortSpec)
	l, err := jobs.LoadFile(path, jobs.FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	report, err := l.Run(context.Background(), jobs.RunOptions{StateDir: filepath.Join(dir, "state"), Slots: 2, Memory: memory})
	if err != nil {
		t.Fatalf("run with memory %d: %v", memory, err)
	}
	out, err := os.ReadFile(filepath.Join(dir, "out", "sorted.csv"))
	if err != nil {
		t.Fatal(err)
	}
	return report, out
}

func TestMemoryBoundedSort(t *testing.T) {
	input := readOutput(t, filepath.Join(examplesDir(t), "data", "events.csv"))
	want := normAmounts(t, slices.Clone(input[1:]))
	slices.SortFunc(want, byKeyThenRow(t))
	var outputs [][]byte
	for _, memory := range []int64{256 << 10, 0} {
		t.Run(fmt.Sprintf("memory=%d", memory), func(t *testing.T) {
			report, out := runMemorySort(t, memory)
			outputs = append(outputs, out)
			rows := readCSVBytes(t, out)
			if !slices.Equal(rows[0], input[0]) {
				t.Fatalf("header %v, want %v", rows[0], input[0])
			}
			got := normAmounts(t, rows[1:])
			for i := 1; i < len(got); i++ {
				if k0, k1 := eventKey(t, got[i-1]), eventKey(t, got[i]); slices.Compare(k0[:], k1[:]) > 0 {
					t.Fatalf("row %d %v sorts before row %d %v", i+1, got[i], i, got[i-1])
				}
			}
			slices.SortStableFunc(got, byKeyThenRow(t)) // orders ties only
			if len(got) != len(want) || !slices.EqualFunc(got, want, slices.Equal) {
				i := 0
				for i < min(len(got), len(want)) && slices.Equal(got[i], want[i]) {
					i++
				}
				t.Fatalf("output (%d rows) differs from the answer (%d rows) at row %d: %v, want %v",
					len(got), len(want), i+1, got[min(i, len(got)-1)], want[min(i, len(want)-1)])
			}
			var spilled, runs int64
			for _, s := range report.Stages {
				spilled += s.OperatorSpilled
				runs += s.SpillRuns
			}
			switch {
			case memory > 0 && (spilled <= 0 || runs <= 1):
				t.Errorf("memory %d: spilled %d bytes in %d runs, want > 0 in > 1", memory, spilled, runs)
			case memory == 0 && (spilled != 0 || runs != 0):
				t.Errorf("unbounded: spilled %d bytes in %d runs, want 0", spilled, runs)
			}
			t.Logf("memory %d: %d rows, operators spilled %d bytes in %d runs", memory, len(got), spilled, runs)
		})
	}
	if len(outputs) == 2 && !bytes.Equal(outputs[0], outputs[1]) {
		t.Errorf("the bounded run's output differs from the unbounded run's")
	}
}

// readCSVBytes splits a small CSV output without quoting into rows.
func readCSVBytes(t *testing.T, b []byte) [][]string {
	t.Helper()
	var rows [][]string
	for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if strings.Contains(line, `"`) {
			t.Fatalf("unexpected quoted line %q", line)
		}
		rows = append(rows, strings.Split(line, ","))
	}
	return rows
}

// normAmounts rewrites the amount column (1.40 is written 1.4).
func normAmounts(t *testing.T, rows [][]string) [][]string {
	t.Helper()
	for i, r := range rows {
		f, err := strconv.ParseFloat(r[3], 64)
		if err != nil {
			t.Fatalf("row %v: bad amount", r)
		}
		rows[i] = append(slices.Clone(r[:3]), strconv.FormatFloat(f, 'g', -1, 64), r[4])
	}
	return rows
}
