package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/batchrun/batchrun/executor"
	"github.com/batchrun/batchrun/jobs"
	"github.com/batchrun/batchrun/plan"
	"github.com/batchrun/batchrun/remote"
	"github.com/batchrun/batchrun/shuffle"
	"github.com/batchrun/batchrun/storage"
)

// mappersJob is three mappers in a row, each behind a blocking hash
// exchange (Flink's BatchFineGrainedRecoveryITCase has the same shape).
const mappersJob = `name: mappers
parallelism: 2
mode: all-blocking
steps:
  - id: src
    read: {path: in.csv, schema: ["k int64"]}
  - id: m1
    repartition: {by: hash, keys: [k]}
    input: src
  - id: a1
    select: ["k + 1 AS k"]
    input: m1
  - id: m2
    repartition: {by: hash, keys: [k]}
    input: a1
  - id: a2
    select: ["k * 3 AS k"]
    input: m2
  - id: m3
    repartition: {by: hash, keys: [k]}
    input: a2
  - id: a3
    select: ["k - 2 AS k"]
    input: m3
  - id: out
    write: {path: out.csv}
    input: a3
`

// ranOn records which worker ran each subtask attempt last, by wrapping
// the workers' programs.
type ranOn struct {
	mu    sync.Mutex
	where map[plan.SubtaskID]string
}

func (r *ranOn) loader(addr *string, slots int) remote.Loader {
	load := jobs.WorkerLoader(slots, nil)
	return func(job []byte, run uint64, store *storage.Store) (*plan.StageGraph, executor.Program, error) {
		g, prog, err := load(job, run, store)
		return g, &recordingProgram{Program: prog, r: r, addr: addr}, err
	}
}

type recordingProgram struct {
	executor.Program
	r    *ranOn
	addr *string
}

func (p *recordingProgram) NewTask(st plan.SubtaskID, attempt int) (executor.Computation, error) {
	p.r.mu.Lock()
	p.r.where[st] = *p.addr
	p.r.mu.Unlock()
	return p.Program.NewTask(st, attempt)
}

// killHolders stops the worker that ran subtask 0 of each mapper stage
// once that subtask has succeeded (it holds its output then), once per
// stage, on the scheduler's loop.
type killHolders struct {
	mu      sync.Mutex
	stages  map[int]bool // mapper stages not hit yet
	r       *ranOn
	stop    map[string]func()
	stopped []string
}

func (k *killHolders) SubtaskFinished(stage, index int, _ int64, err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err != nil || index != 0 || !k.stages[stage] {
		return
	}
	delete(k.stages, stage)
	k.r.mu.Lock()
	addr := k.r.where[plan.SubtaskID{Stage: plan.StageID(stage), Index: 0}]
	k.r.mu.Unlock()
	k.stop[addr]()
	k.stopped = append(k.stopped, addr)
}

// TestFineGrainedRecovery is Flink's BatchFineGrainedRecoveryITCase on
// workers: three blocking mappers, each suffering a task error (its
// subtask 1 fails its first attempt) and a worker loss (the worker holding
// its subtask 0's output is stopped right after it commits). The answer is
// the one without faults; each loss counts as one failover; and the
// attempts add up: one per subtask, plus one per subtask each failover
// restarted.
func TestFineGrainedRecovery(t *testing.T) {
	dir := t.TempDir()
	var in strings.Builder
	in.WriteString("k\n")
	for i := range 2000 {
		fmt.Fprintf(&in, "%d\n", i)
	}
	writeFile(t, filepath.Join(dir, "in.csv"), in.String())
	writeFile(t, filepath.Join(dir, "mappers.yaml"), mappersJob)
	l, err := jobs.LoadFile(filepath.Join(dir, "mappers.yaml"), jobs.FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The mapper stages are those that begin at m1, m2, m3.
	mappers := map[int]bool{}
	var fs []string
	for _, st := range l.Graph.Stages {
		if st.Name == "m1" || st.Name == "m2" || st.Name == "m3" {
			mappers[int(st.ID)] = true
			fs = append(fs, "error:"+st.Name+"[1]#0")
		}
	}
	if len(mappers) != 3 {
		t.Fatalf("stages %v: want three mapper stages m1, m2, m3", l.Graph.Stages)
	}
	r := &ranOn{where: map[plan.SubtaskID]string{}}
	stop := map[string]func(){}
	var addrs []string
	for range 6 {
		addr := new(string)
		w := remote.NewWorker("", t.TempDir(), r.loader(addr, 2), shuffle.Options{}, nil)
		w.Slots = 2
		lis, err := remote.Listen("127.0.0.1:0", w)
		if err != nil {
			t.Fatal(err)
		}
		*addr = lis.Addr().String()
		w.Addr = *addr
		t.Cleanup(func() { lis.Stop(); w.Close() })
		stop[*addr] = lis.Stop
		addrs = append(addrs, *addr)
	}
	k := &killHolders{stages: mappers, r: r, stop: stop}
	rep, err := l.Run(context.Background(), jobs.RunOptions{StateDir: t.TempDir(), Workers: addrs, Observer: k,
		Faults: faultsOf(t, fs...), Restart: restartOf(t, noDelay)})
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "out.csv"))
	if err != nil {
		t.Fatal(err)
	}
	checkMappersOutput(t, string(got))
	if len(k.stopped) != 3 {
		t.Fatalf("stopped %v, want one worker per mapper", k.stopped)
	}
	for _, addr := range k.stopped {
		counted := 0
		for _, f := range rep.Failovers {
			if strings.Contains(f.Cause, "worker "+addr+" lost") && !f.Aftermath {
				counted++
			}
		}
		if counted != 1 {
			t.Errorf("the loss of %s counted %d times, want once: %+v", addr, counted, rep.Failovers)
		}
	}
	rerun := 0
	for _, f := range rep.Failovers {
		rerun += f.Rerun
	}
	subtasks := 0
	for _, s := range rep.Stages {
		subtasks += s.Subtasks
	}
	t.Logf("%d attempts of %d subtasks, %d failovers re-running %d", len(rep.Attempts), subtasks, len(rep.Failovers), rerun)
	if len(rep.Attempts) != subtasks+rerun {
		t.Errorf("%d attempts, want %d subtasks + %d restarted by failovers", len(rep.Attempts), subtasks, rerun)
	}
	for _, st := range l.Graph.Stages {
		if !mappers[int(st.ID)] {
			continue
		}
		failed := 0
		for _, a := range rep.Attempts {
			if a.Subtask == st.Name+"[1]" && a.Outcome == "failed" && strings.Contains(a.Cause, "injected") {
				failed++
			}
		}
		if failed != 1 {
			t.Errorf("%s[1] failed %d times from the injected error, want once", st.Name, failed)
		}
	}
}

// checkMappersOutput: every input k (0..1999) comes out once as
// (k+1)*3-2.
func checkMappersOutput(t *testing.T, out string) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2001 || lines[0] != "k" {
		t.Fatalf("output has %d lines (header %q), want a header and 2000 rows", len(lines), lines[0])
	}
	seen := map[string]bool{}
	for _, line := range lines[1:] {
		seen[line] = true
	}
	for k := range 2000 {
		if v := fmt.Sprint((k+1)*3 - 2); !seen[v] {
			t.Fatalf("output lacks %s (from k=%d)", v, k)
		}
	}
}
