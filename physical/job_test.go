package physical_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/batchrun/batchrun/executor"
	"github.com/batchrun/batchrun/jobs"
	"github.com/batchrun/batchrun/operators/formats"
	"github.com/batchrun/batchrun/physical"
	"github.com/batchrun/batchrun/plan"
	"github.com/batchrun/batchrun/shuffle"
	"github.com/batchrun/batchrun/storage"
)

// collect is a sink that counts the rows pushed and whether it was
// finished.
type collect struct {
	mu       sync.Mutex
	rows     int64
	finished bool
}

func (c *collect) Push(_ context.Context, rec arrow.Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rows += rec.NumRows()
	return nil
}

func (c *collect) Finish(context.Context) error { c.finished = true; return nil }

// load writes spec and files into a directory and loads the spec.
func load(t *testing.T, spec string, files map[string]string) (*jobs.Loaded, string) {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "spec.yaml")
	if err := os.WriteFile(path, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := jobs.LoadFile(path, jobs.FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return l, dir
}

func newJob(t *testing.T, l *jobs.Loaded, dir string, cfg physical.Config) *physical.Job {
	t.Helper()
	cfg.Job, cfg.Resolved, cfg.Graph = l.Job, l.Resolved, l.Graph
	in := filepath.Join(dir, "in.csv")
	fi, err := os.Stat(in)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Inputs = map[string]formats.ScanInput{"s": {Files: []string{in}, Sizes: []int64{fi.Size()}}}
	cfg.PartPath = func(output string, index int) string { return filepath.Join(dir, output+"-part") }
	j, err := physical.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// TestReadStage: the read head of a stage scans its split, drops the
// malformed rows its on_error skips (counted), filters, and finishes its
// output; the edge schema is the stage's output.
func TestReadStage(t *testing.T) {
	l, dir := load(t, `name: t
parallelism: 1
steps:
  - id: s
    read: {path: in.csv, schema: ["a int64"], on_error: skip}
  - id: f
    filter: "a > 1"
    input: s
  - id: agg
    aggregate: {by: [a], compute: ["count(*) AS n"]}
    input: f
    parallelism: 1
`, map[string]string{"in.csv": "a\n1\n2\nbad\n3\n3\n"})
	j := newJob(t, l, dir, physical.Config{})
	st := plan.SubtaskID{Stage: 0, Index: 0}
	comp, err := j.NewTask(st, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out collect
	stats, err := comp.Run(context.Background(), nil, &out)
	if err != nil {
		t.Fatal(err)
	}
	if !out.finished || stats.RowsIn != 4 || stats.RowsSkipped != 1 {
		t.Errorf("finished %v, rows in %d skipped %d; want finished, 4 read (a=1,2,3,3) and the bad row skipped", out.finished, stats.RowsIn, stats.RowsSkipped)
	}
	// The partial aggregate is chained into the read stage: its output
	// holds a key per distinct a > 1 (2 and 3).
	if out.rows != 2 {
		t.Errorf("stage output %d rows, want 2 partial groups", out.rows)
	}
	e := l.Graph.Stage(0).Outputs[0]
	if schema := j.EdgeSchema(e); schema.NumFields() < 2 || schema.Field(0).Name != "a" {
		t.Errorf("edge schema %v, want the partial aggregate's (a, ...)", schema)
	}
}

// TestSortSpillsUnderBudget: with a memory bound, a sort that cannot hold
// its input spills runs to the store and still emits every row; the stats
// count what it spilled.
func TestSortSpillsUnderBudget(t *testing.T) {
	var b strings.Builder
	b.WriteString("a\n")
	for i := 0; i < 200000; i++ {
		b.WriteString("12345678\n")
	}
	l, dir := load(t, `name: t
parallelism: 1
steps:
  - id: s
    read: {path: in.csv, schema: ["a int64"]}
  - id: srt
    sort: ["a"]
    input: s
    exchange: pipelined
`, map[string]string{"in.csv": b.String()})
	store, err := storage.Open(t.TempDir(), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	j := newJob(t, l, dir, physical.Config{Store: store, Run: 1, Codec: shuffle.Zstd, Memory: 256 << 10, Slots: 2})
	// Both stages form one region (the sort's exchange is pipelined): run
	// them together, as an executor does.
	local := &executor.Local{Graph: l.Graph, Program: j, Partitions: &executor.StorePartitions{Store: store, Run: 1}}
	g := &executor.Group{}
	for _, st := range l.Graph.Stages {
		g.Tasks = append(g.Tasks, executor.Describe(l.Graph, plan.SubtaskID{Stage: st.ID}, 0, 0, 1))
	}
	results := map[string]executor.Result{}
	var mu sync.Mutex
	err = local.Run(context.Background(), g, func(task *executor.Task, res executor.Result, err error) {
		if err != nil {
			t.Errorf("%s: %v", task.Name, err)
		}
		mu.Lock()
		results[task.Name] = res
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	// The partial sort (chained into the read stage) holds at most its
	// share of the bound: it spills a run per batch or so; the final
	// merge streams its sorted input.
	partial, final := results["s[0]"].Stats, results["srt[0]"].Stats
	if partial.SpillRuns < 2 || partial.OperatorSpilled == 0 {
		t.Errorf("partial sort spilled %d bytes in %d runs; want several runs under a 256 KiB bound", partial.OperatorSpilled, partial.SpillRuns)
	}
	if final.RowsOut != 200000 {
		t.Errorf("sort emitted %d rows, want all 200000", final.RowsOut)
	}
}
