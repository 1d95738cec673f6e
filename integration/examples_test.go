package integration

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"

	"github.com/batchrun/batchrun/jobs"
)

// example is one job of examples/ with its independent answer.
type example struct {
	name   string
	output string // relative to the spec's directory
	answer func(t *testing.T, data string) [][]string
	// ordered: the output order is defined (the job sorts); else the rows
	// are compared as a multiset.
	ordered bool
}

var examples = []example{
	{"wordcount", "out/wordcount.csv", wordcountAnswer, true},
	{"revenue-by-segment", "out/revenue-by-segment.csv", revenueAnswer, true},
	{"top-customers", "out/top-customers.csv", topCustomersAnswer, true},
	{"etl-cleanup", "out/customers_clean", etlAnswer, false},
	// The revenue-by-segment job as a SQL query: the same answer.
	{"revenue-by-segment-sql", "out/revenue-by-segment-sql.csv", revenueAnswer, true},
	// Window functions per user: hash-partitioned, sorted, computed.
	{"user-orders-window", "out/user-orders-window.csv", userOrdersWindowAnswer, false},
}

func examplesDir(t *testing.T) string {
	dir, err := filepath.Abs("../examples")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// stageExample copies an example spec into a fresh directory whose data/
// links to the bundled data, so runs never touch examples/out.
func stageExample(t *testing.T, name string) (specPath, dir string) {
	t.Helper()
	src := examplesDir(t)
	dir = t.TempDir()
	data, err := os.ReadFile(filepath.Join(src, name+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	specPath = filepath.Join(dir, name+".yaml")
	if err := os.WriteFile(specPath, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(src, "data"), filepath.Join(dir, "data")); err != nil {
		t.Fatal(err)
	}
	return specPath, dir
}

type runConfig struct {
	mode        string
	parallelism int
}

func (c runConfig) String() string { return fmt.Sprintf("%s/p%d", c.mode, c.parallelism) }

var configs = []runConfig{
	{"all-blocking", 1}, {"all-blocking", 4}, {"all-pipelined", 1}, {"all-pipelined", 4},
}

func runExample(t *testing.T, ex example, cfg runConfig, opts jobs.RunOptions) (*jobs.Report, string) {
	t.Helper()
	specPath, dir := stageExample(t, ex.name)
	l, err := jobs.LoadFile(specPath, jobs.FileOptions{Parallelism: cfg.parallelism, Mode: cfg.mode})
	if err != nil {
		t.Fatalf("load %s: %v", ex.name, err)
	}
	if opts.StateDir == "" {
		opts.StateDir = t.TempDir()
	}
	if opts.Slots == 0 {
		opts.Slots = 64
	}
	report, err := l.Run(context.Background(), opts)
	if err != nil {
		t.Fatalf("run %s %s: %v", ex.name, cfg, err)
	}
	return report, filepath.Join(dir, ex.output)
}

func TestExamples(t *testing.T) {
	for _, ex := range examples {
		want := ex.answer(t, filepath.Join(examplesDir(t), "data"))
		for _, cfg := range configs {
			t.Run(ex.name+"/"+cfg.String(), func(t *testing.T) {
				_, out := runExample(t, ex, cfg, jobs.RunOptions{})
				got := readOutput(t, out)
				if !ex.ordered {
					sortRows(got[1:])
				}
				compareRows(t, got, want)
			})
		}
	}
}

// readOutput reads a CSV output file, or every part file of an output
// directory in name order (one header kept).
func readOutput(t *testing.T, path string) [][]string {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatalf("output: %v", err)
	}
	if !info.IsDir() {
		h, rows := readCSV(t, path)
		return append([][]string{h}, rows...)
	}
	parts, err := filepath.Glob(filepath.Join(path, "part-*.csv"))
	if err != nil || len(parts) == 0 {
		t.Fatalf("output %s: no part files (%v)", path, err)
	}
	sort.Strings(parts)
	var all [][]string
	for _, p := range parts {
		h, rows := readCSV(t, p)
		if all == nil {
			all = [][]string{h}
		}
		all = append(all, rows...)
	}
	return all
}

// compareRows compares row by row; numeric cells that differ as text must
// agree as floats to 1e-9 relative (sums in another order round
// differently in the last bits).
func compareRows(t *testing.T, got, want [][]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d rows, want %d\ngot:  %.5v\nwant: %.5v", len(got), len(want), got, want)
	}
	for i := range want {
		if len(got[i]) != len(want[i]) {
			t.Fatalf("row %d: got %q, want %q", i, got[i], want[i])
		}
		for j := range want[i] {
			if got[i][j] != want[i][j] && !closeFloats(got[i][j], want[i][j]) {
				t.Fatalf("row %d column %d: got %q, want %q\n(got row %q, want row %q)", i, j, got[i][j], want[i][j], got[i], want[i])
			}
		}
	}
}

func closeFloats(a, b string) bool {
	fa, err1 := strconv.ParseFloat(a, 64)
	fb, err2 := strconv.ParseFloat(b, 64)
	if err1 != nil || err2 != nil {
		return false
	}
	return math.Abs(fa-fb) <= 1e-9*math.Max(math.Abs(fa), math.Abs(fb))
}
