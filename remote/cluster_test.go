package remote

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/batchrun/batchrun/executor"
	"github.com/batchrun/batchrun/executor/executortest"
	"github.com/batchrun/batchrun/plan"
	"github.com/batchrun/batchrun/shuffle"
	"github.com/batchrun/batchrun/storage"
)

// testCluster is workers on loopback, each with its own store directory,
// running the stage functions of one test program.
type testCluster struct {
	g       *plan.StageGraph
	workers []*Worker
	servers []*Listener
	infos   []WorkerInfo
}

func startCluster(t *testing.T, g *plan.StageGraph, n, slots int, stages map[string]executortest.StageFunc) *testCluster {
	t.Helper()
	c := &testCluster{g: g}
	load := func(job []byte, run uint64, store *storage.Store) (*plan.StageGraph, executor.Program, error) {
		if string(job) != "test-job" {
			return nil, nil, errors.New("unknown job")
		}
		return g, &executortest.Program{G: g, Stages: stages}, nil
	}
	for range n {
		w := NewWorker("", t.TempDir(), load, shuffle.Options{}, nil)
		w.Slots = slots
		srv, err := Listen("127.0.0.1:0", w)
		if err != nil {
			t.Fatal(err)
		}
		w.Addr = srv.Addr().String()
		t.Cleanup(func() { srv.Stop(); w.Close() })
		c.workers = append(c.workers, w)
		c.servers = append(c.servers, srv)
		c.infos = append(c.infos, WorkerInfo{Addr: w.Addr, Slots: slots})
	}
	return c
}

// kill stops worker i the way a crash looks to others: every connection
// drops at once.
func (c *testCluster) kill(i int) {
	c.servers[i].Stop()
}

// TestGroupsAcrossWorkers: producers run on some workers, consumers on
// others read every producer's partition over Flight, and no row is lost
// or read twice.
func TestGroupsAcrossWorkers(t *testing.T) {
	g := executortest.Compile(t, map[string]string{"parallelism": "3"},
		"read id=a\nrepartition id=f input=a by=hash keys=k exchange=blocking")
	var mu sync.Mutex
	var total int64
	c := startCluster(t, g, 3, 1, map[string]executortest.StageFunc{"a": executortest.Emit(1000), "f": executortest.Count(&mu, &total)})
	e := NewExecutor(7, []byte("test-job"), c.infos)
	defer e.Close(context.Background(), true)
	ctx := context.Background()
	var ended executortest.Ended
	var wg sync.WaitGroup
	for _, name := range []string{"a[0]", "a[1]", "a[2]"} {
		wg.Go(func() {
			if err := e.Run(ctx, executortest.Group(t, g, name), ended.Done); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		})
	}
	wg.Wait()
	holders := map[string]bool{}
	for _, p := range []plan.PartitionID{{Edge: 0, Producer: 0}, {Edge: 0, Producer: 1}, {Edge: 0, Producer: 2}} {
		holders[e.where[p]] = true
	}
	if len(holders) != 3 {
		t.Errorf("the three producers ran on %d workers, want 3 (one slot each)", len(holders))
	}
	for _, name := range []string{"f[0]", "f[1]", "f[2]"} {
		wg.Go(func() {
			if err := e.Run(ctx, executortest.Group(t, g, name), ended.Done); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		})
	}
	wg.Wait()
	if total != 3000 {
		t.Errorf("consumers read %d rows, want 3000", total)
	}
}

// TestWorkerLost: a consumer that cannot reach the worker holding its
// input fails with the loss of that worker and every partition it held;
// a group is never sent to a lost worker again.
func TestWorkerLost(t *testing.T) {
	g := executortest.Compile(t, map[string]string{"parallelism": "2"},
		"read id=a\nrepartition id=f input=a by=hash keys=k exchange=blocking")
	var mu sync.Mutex
	var total int64
	c := startCluster(t, g, 2, 1, map[string]executortest.StageFunc{"a": executortest.Emit(100), "f": executortest.Count(&mu, &total)})
	e := NewExecutor(7, []byte("test-job"), c.infos)
	defer e.Close(context.Background(), false)
	ctx := context.Background()
	var ended executortest.Ended
	if err := e.Run(ctx, executortest.Group(t, g, "a[0]"), ended.Done); err != nil {
		t.Fatal(err)
	}
	holder := e.where[plan.PartitionID{Edge: 0, Producer: 0}]
	dead := 0
	if holder == c.infos[1].Addr {
		dead = 1
	}
	c.kill(dead)
	err := e.Run(ctx, executortest.Group(t, g, "f[0]"), ended.Done)
	var wl *executor.WorkerLostError
	var se *executor.SubtaskError
	if !errors.As(err, &se) || se.Name != "f[0]" || !errors.As(err, &wl) || wl.Worker != holder || len(wl.Lost) != 1 {
		t.Fatalf("Run = %v, want f[0] failing with the loss of %s and its one partition", err, holder)
	}
	// a[1] can only go to the live worker, and does.
	if err := e.Run(ctx, executortest.Group(t, g, "a[1]"), ended.Done); err != nil {
		t.Fatal(err)
	}
	if got := e.where[plan.PartitionID{Edge: 0, Producer: 1}]; got != c.infos[1-dead].Addr {
		t.Errorf("a[1] ran at %s, want the live worker %s", got, c.infos[1-dead].Addr)
	}
}

// TestUnreachableWorkerBeforeStart: a group whose worker is gone before
// anything ran (and that held nothing) goes to another worker, with no
// failure reported.
func TestUnreachableWorkerBeforeStart(t *testing.T) {
	g := executortest.Compile(t, map[string]string{"parallelism": "1"},
		"read id=a\nrepartition id=f input=a by=hash keys=k exchange=blocking")
	c := startCluster(t, g, 2, 1, map[string]executortest.StageFunc{"a": executortest.Emit(10)})
	c.kill(0)
	e := NewExecutor(7, []byte("test-job"), c.infos)
	defer e.Close(context.Background(), false)
	// Ties go to the first worker, the dead one.
	var ended executortest.Ended
	if err := e.Run(context.Background(), executortest.Group(t, g, "a[0]"), ended.Done); err != nil {
		t.Fatalf("Run = %v, want the group run on the live worker", err)
	}
	if len(ended.Errs) != 1 || ended.Errs["a[0]"] != nil {
		t.Fatalf("ends %v, want a[0] ended well once", ended.Errs)
	}
	if !e.workers[0].lost || e.where[plan.PartitionID{}] != c.infos[1].Addr {
		t.Errorf("worker 0 lost=%v, a[0] ran at %q: want worker 0 lost and a[0] at %s", e.workers[0].lost, e.where[plan.PartitionID{}], c.infos[1].Addr)
	}
}

// TestLoseFromMembership: a worker the membership reports gone gets no
// more groups, and the first group that reads what it held fails at once
// with the loss of all of it, reported once (later reports are Known).
func TestLoseFromMembership(t *testing.T) {
	g := executortest.Compile(t, map[string]string{"parallelism": "2"},
		"read id=a\nrepartition id=f input=a by=hash keys=k exchange=blocking")
	c := startCluster(t, g, 2, 2, map[string]executortest.StageFunc{"a": executortest.Emit(10)})
	e := NewExecutor(7, []byte("test-job"), c.infos)
	defer e.Close(context.Background(), false)
	ctx := context.Background()
	var ended executortest.Ended
	for _, name := range []string{"a[0]", "a[1]"} {
		if err := e.Run(ctx, executortest.Group(t, g, name), ended.Done); err != nil {
			t.Fatal(err)
		}
	}
	holder := e.where[plan.PartitionID{Edge: 0, Producer: 0}]
	e.Lose(holder)
	for i, wantKnown := range []bool{false, true} {
		err := e.Run(ctx, executortest.Group(t, g, "f[0]"), ended.Done)
		var wl *executor.WorkerLostError
		if !errors.As(err, &wl) || wl.Worker != holder || wl.Known != wantKnown || len(wl.Lost) == 0 {
			t.Fatalf("run %d of f[0] = %v, want the loss of %s (known=%v)", i, err, holder, wantKnown)
		}
	}
	for _, w := range e.workers {
		if w.Addr == holder && !w.lost {
			t.Errorf("worker %s still takes groups", holder)
		}
	}
}

// TestGroupFitsNoWorker: a group larger than every live worker fails at
// once instead of waiting for slots that can never come.
func TestGroupFitsNoWorker(t *testing.T) {
	g := executortest.Compile(t, map[string]string{"parallelism": "2"}, "read id=a")
	c := startCluster(t, g, 2, 1, map[string]executortest.StageFunc{"a": executortest.Emit(1)})
	e := NewExecutor(7, []byte("test-job"), c.infos)
	defer e.Close(context.Background(), false)
	var ended executortest.Ended
	err := e.Run(context.Background(), executortest.Group(t, g, "a[0]", "a[1]"), ended.Done)
	if err == nil || !strings.Contains(err.Error(), "fits no live worker") || len(ended.Errs) != 2 {
		t.Fatalf("Run = %v (ends %v), want both tasks failed: the group fits no worker", err, ended.Errs)
	}
}

// TestCloseDropsOnlyTheRun: a run that succeeded is dropped from its
// workers: its store directory goes, and nothing else in the worker's
// directory; a run kept for its resume keeps its store.
func TestCloseDropsOnlyTheRun(t *testing.T) {
	g := executortest.Compile(t, map[string]string{"parallelism": "1"},
		"read id=a\nrepartition id=f input=a by=hash keys=k exchange=blocking")
	c := startCluster(t, g, 1, 1, map[string]executortest.StageFunc{"a": executortest.Emit(10)})
	w := c.workers[0]
	other := filepath.Join(w.Dir, "not-batchrun.txt")
	if err := os.WriteFile(other, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		run  uint64
		drop bool
	}{{run: 7, drop: false}, {run: 8, drop: true}} {
		e := NewExecutor(tc.run, []byte("test-job"), c.infos)
		var ended executortest.Ended
		if err := e.Run(context.Background(), executortest.Group(t, g, "a[0]"), ended.Done); err != nil {
			t.Fatal(err)
		}
		if err := e.Close(context.Background(), tc.drop); err != nil {
			t.Fatal(err)
		}
		_, err := os.Stat(filepath.Dir(w.storeDir(tc.run)))
		if gone := os.IsNotExist(err); gone != tc.drop {
			t.Errorf("run %d (drop %v): its directory gone=%v (%v)", tc.run, tc.drop, gone, err)
		}
	}
	if data, err := os.ReadFile(other); err != nil || string(data) != "mine" {
		t.Errorf("a file batchrun did not write: %q, %v", data, err)
	}
}

// TestFencing: when a newer leader (a larger fence) opens a run, the
// groups an older one runs there stop, and every later assignment of the
// older one is refused with a permanent *FencedError, so that a deposed
// leader cannot run anything of the run again.
func TestFencing(t *testing.T) {
	g := executortest.Compile(t, map[string]string{"parallelism": "2"},
		"read id=a\nrepartition id=f input=a by=hash keys=k exchange=blocking")
	started := make(chan struct{})
	hang := func(ctx context.Context, _ plan.SubtaskID, _ []shuffle.Reader, _ executor.Sink) (executor.Stats, error) {
		close(started)
		<-ctx.Done()
		return executor.Stats{}, ctx.Err()
	}
	c := startCluster(t, g, 1, 2, map[string]executortest.StageFunc{"a": hang})
	old := NewExecutor(7, []byte("test-job"), c.infos)
	old.Fence = 5
	defer old.Close(context.Background(), false)
	ended := make(chan error, 1)
	go func() {
		var e executortest.Ended
		ended <- old.Run(context.Background(), executortest.Group(t, g, "a[0]"), e.Done)
	}()
	<-started
	newer := NewExecutor(7, []byte("test-job"), c.infos)
	newer.Fence = 9
	defer newer.Close(context.Background(), false)
	if _, err := newer.Recover(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if err := <-ended; err == nil {
		t.Fatal("the old leader's group went on after a newer leader opened the run")
	}
	var e executortest.Ended
	err := old.Run(context.Background(), executortest.Group(t, g, "a[1]"), e.Done)
	var fe *FencedError
	if !errors.As(err, &fe) || !fe.Permanent() {
		t.Fatalf("old leader's next group: %v, want a permanent *FencedError", err)
	}
	if old.workers[0].lost {
		t.Error("a fenced assignment marked the worker lost")
	}
}
