package physical_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/batchrun/batchrun/executor"
	"github.com/batchrun/batchrun/jobs"
	"github.com/batchrun/batchrun/operators"
	"github.com/batchrun/batchrun/operators/formats"
	"github.com/batchrun/batchrun/physical"
	"github.com/batchrun/batchrun/shuffle"
	"github.com/batchrun/batchrun/storage"
)

// runJob runs every region of l in order, as a scheduler without failures
// does, and returns what each output part file holds ("out-0": text) and
// the physical job.
func runJob(t *testing.T, l *jobs.Loaded, cfg physical.Config) (map[string]string, *physical.Job, error) {
	t.Helper()
	outDir := t.TempDir()
	store, err := storage.Open(t.TempDir(), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	cfg.Job, cfg.Resolved, cfg.Graph = l.Job, l.Resolved, l.Graph
	cfg.Store, cfg.Run, cfg.Codec = store, 1, shuffle.Zstd
	cfg.Inputs = map[string]formats.ScanInput{}
	for _, s := range l.Job.Steps {
		if s.Read != nil {
			cfg.Inputs[s.ID] = formats.ScanInput{Files: []string{s.Read.Path}}
		}
	}
	cfg.PartPath = func(output string, index int) string {
		return filepath.Join(outDir, fmt.Sprintf("%s-%d", output, index))
	}
	j, err := physical.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	local := &executor.Local{Graph: l.Graph, Program: j, Partitions: &executor.StorePartitions{Store: store, Run: 1}}
	for _, r := range l.Regions.List {
		g := &executor.Group{Region: r.ID}
		for _, st := range r.Subtasks {
			g.Tasks = append(g.Tasks, executor.Describe(l.Graph, st, 0, 0, 1))
		}
		if err := local.Run(context.Background(), g, func(*executor.Task, executor.Result, error) {}); err != nil {
			return nil, j, err
		}
	}
	outs := map[string]string{}
	entries, err := os.ReadDir(outDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(outDir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		outs[e.Name()] = string(b)
	}
	return outs, j, nil
}

// projectJob reads two wide files through a filter, a join, an aggregate,
// a sort, a top-N, a select, a union and a window: every kind of step
// that passes columns through or picks them.
const projectJob = `name: proj
parallelism: 3
steps:
  - id: events
    read: {path: events.csv, schema: ["user_id int64", "country string", "amount float64", "ts int64", "note string", "flag bool"]}
  - id: users
    read: {path: users.csv, schema: ["user_id int64", "segment string", "name string", "age int64"]}
  - id: big
    filter: "amount > 1 AND flag"
    input: events
  - id: joined
    join: {left: big, right: users, on: [user_id]}
  - id: bysegment
    aggregate: {by: [segment], compute: ["count(*) AS n", "sum(amount) AS total", "max(ts) AS last"]}
    input: joined
  - id: sorted
    sort: [segment]
    input: bysegment
  - id: out1
    write: {path: out1.csv}
    input: sorted
  - id: ranked
    sort: ["amount DESC", "ts"]
    input: joined2
  - id: joined2
    join: {left: events2, right: users2, on: [user_id], broadcast: true}
  - id: events2
    read: {path: events.csv, schema: ["user_id int64", "country string", "amount float64", "ts int64", "note string", "flag bool"]}
  - id: users2
    read: {path: users.csv, schema: ["user_id int64", "segment string", "name string", "age int64"]}
  - id: top
    limit: 7
    input: ranked
  - id: picked
    select: ["user_id", "name", "ts"]
    input: top
  - id: others
    select: ["user_id", "country AS name", "ts"]
    input: events
  - id: both
    union: [picked, others]
  - id: counted
    aggregate: {by: [name], compute: ["count(*) AS n", "min(ts) AS first"]}
    input: both
  - id: out2
    write: {path: out2.csv}
    input: counted
    parallelism: 2
  - id: win
    window: {partition_by: [country], order_by: [ts], compute: ["row_number() AS rn", "sum(amount) AS running", "lag(note) AS prev"]}
    input: events
  - id: winsel
    select: ["country", "rn", "running", "prev"]
    input: win
  - id: out3
    write: {path: out3.csv}
    input: winsel
    parallelism: 2
`

// projectFiles writes the inputs of projectJob.
func projectFiles(t *testing.T, dir string) {
	t.Helper()
	var ev, us strings.Builder
	ev.WriteString("user_id,country,amount,ts,note,flag\n")
	for i := 0; i < 3000; i++ {
		// Amounts are exact in binary, so sums do not depend on the
		// order rows meet in.
		fmt.Fprintf(&ev, "%d,c%d,%d.%02d,%d,\"n,%d\",%t\n", i%97, i%7, i%13, i%4*25, 1000+i*37%5000, i, i%3 != 0)
	}
	us.WriteString("user_id,segment,name,age\n")
	for i := 0; i < 97; i++ {
		fmt.Fprintf(&us, "%d,s%d,u%d,%d\n", i, i%5, i, 20+i)
	}
	for name, body := range map[string]string{"events.csv": ev.String(), "users.csv": us.String(), "spec.yaml": projectJob} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestProjectionSameResults: a job run with projection pushdown writes
// exactly what it writes with every column read, in both exchange modes,
// while the reads' edges carry fewer columns.
func TestProjectionSameResults(t *testing.T) {
	dir := t.TempDir()
	projectFiles(t, dir)
	for _, mode := range []string{"all-blocking", "all-pipelined"} {
		t.Run(mode, func(t *testing.T) {
			l, err := jobs.LoadFile(filepath.Join(dir, "spec.yaml"), jobs.FileOptions{Mode: mode})
			if err != nil {
				t.Fatal(err)
			}
			whole, _, err := runJob(t, l, physical.Config{KeepAllColumns: true})
			if err != nil {
				t.Fatalf("all columns: %v", err)
			}
			pruned, j, err := runJob(t, l, physical.Config{})
			if err != nil {
				t.Fatalf("projected: %v", err)
			}
			if len(whole) == 0 || len(whole) != len(pruned) {
				t.Fatalf("outputs %d projected, %d whole", len(pruned), len(whole))
			}
			for name, want := range whole {
				// Rows meet in another order across a rebalance edge:
				// compare each part's rows as a set.
				if got := sortedLines(pruned[name]); got != sortedLines(want) {
					t.Errorf("%s projected:\n%s\nwhole:\n%s", name, pruned[name], want)
				}
			}
			// The join reads user_id and segment of users, not name or age.
			edges := 0
			for _, e := range l.Graph.Edges {
				if l.Graph.Stage(e.From).Name == "users" {
					edges++
					if got := j.EdgeSchema(e.ID).String(); got != "schema:\n  fields: 2\n    - user_id: type=int64, nullable\n    - segment: type=utf8, nullable" {
						t.Errorf("edge from users carries %s, want user_id and segment", got)
					}
				}
			}
			if edges == 0 {
				t.Error("no edge from users")
			}
		})
	}
}

// TestProjectionSkipsUnusedColumn: a malformed value in a column no step
// reads does not fail the job; read whole, it does (a data error naming
// its line and column).
func TestProjectionSkipsUnusedColumn(t *testing.T) {
	l, _ := load(t, `name: t
parallelism: 2
steps:
  - id: s
    read: {path: in.csv, schema: ["a int64", "junk int64", "b float64"]}
  - id: agg
    aggregate: {by: [a], compute: ["sum(b) AS b"]}
    input: s
  - id: out
    write: {path: out.csv}
    input: agg
`, map[string]string{"in.csv": "a,junk,b\n1,7,1.5\n2,oops,2.5\n1,,3\n"})
	outs, _, err := runJob(t, l, physical.Config{})
	if err != nil {
		t.Fatalf("projected: %v", err)
	}
	if got := outs["out-0"]; got != "a,b\n1,4.5\n2,2.5\n" && got != "a,b\n2,2.5\n1,4.5\n" {
		t.Errorf("output %q", got)
	}
	_, _, err = runJob(t, l, physical.Config{KeepAllColumns: true})
	if !operators.IsDataError(err) || !strings.Contains(err.Error(), "in.csv:3:2: ") {
		t.Errorf("whole read: error %v, want in.csv:3:2's data error", err)
	}
}

// sortedLines is text's lines, sorted.
func sortedLines(text string) string {
	lines := strings.Split(text, "\n")
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}
