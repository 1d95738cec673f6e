package ui_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/batchrun/batchrun/jobs"
)

// demoSpec has a blocking hash exchange (events -> byuser) and a
// pipelined one (byuser -> sorted, one region), so the graph shows both
// kinds and a region of several stages.
const demoSpec = `name: ui-demo
parallelism: 2
mode: all-blocking
steps:
  - id: events
    read: {path: events.csv, schema: ["user string", "amount int64"]}
  - id: big
    filter: "amount > 1"
    input: events
  - id: byuser
    aggregate: {by: [user], compute: ["count(*) AS n", "sum(amount) AS total"]}
    input: big
  - id: sorted
    sort: ["total DESC", "user"]
    input: byuser
    exchange: pipelined
  - id: out
    write: {path: out/totals.csv}
    input: sorted
    parallelism: 1
`

// faultedSubtask fails on its first attempt in faultedRun's job.
const faultedSubtask = "byuser[0]"

// faultedRun runs demoSpec in a new directory with an injected error in
// faultedSubtask's first attempt, which the run recovers from by one
// failover, and returns the state directory and the run's report.
func faultedRun(t *testing.T) (stateDir string, report *jobs.Report) {
	t.Helper()
	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("spec.yaml", demoSpec)
	write("events.csv", "user,amount\na,1\nb,2\nc,3\na,4\nb,5\nd,6\n")
	l, err := jobs.LoadFile(filepath.Join(dir, "spec.yaml"), jobs.FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fault, err := jobs.ParseFault("error:" + faultedSubtask + "#0")
	if err != nil {
		t.Fatal(err)
	}
	restart, err := jobs.ParseRestart("fixed-delay:attempts=2,delay=0s")
	if err != nil {
		t.Fatal(err)
	}
	stateDir = filepath.Join(dir, "state")
	opts := jobs.RunOptions{StateDir: stateDir, Slots: 4, Restart: restart}
	opts.Faults = append(opts.Faults, fault)
	report, err = l.Run(context.Background(), opts)
	if err != nil {
		t.Fatalf("run with fault %s: %v", faultedSubtask, err)
	}
	if len(report.Failovers) != 1 {
		t.Fatalf("run: %d failovers, want 1 (the injected fault)", len(report.Failovers))
	}
	return stateDir, report
}
