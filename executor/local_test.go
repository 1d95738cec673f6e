package executor_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/batchrun/batchrun/executor"
	"github.com/batchrun/batchrun/executor/executortest"
	"github.com/batchrun/batchrun/plan"
	"github.com/batchrun/batchrun/shuffle"
)

// TestLocalBlockingThenPipelined: a group of producers commits blocking
// partitions (reported with their sizes); the next group's pipelined
// region reads them all, hash-partitioned through in-memory pipes.
func TestLocalBlockingThenPipelined(t *testing.T) {
	g := executortest.Compile(t, map[string]string{"parallelism": "2"},
		"read id=a\nrepartition id=f input=a by=rebalance exchange=blocking\nrepartition id=b input=f by=hash keys=k exchange=pipelined")
	var mu sync.Mutex
	var total int64
	local, _ := executortest.NewLocal(t, g, map[string]executortest.StageFunc{"a": executortest.Emit(25), "f": executortest.PassThrough, "b": executortest.Count(&mu, &total)})
	var e executortest.Ended
	if err := local.Run(context.Background(), executortest.Group(t, g, "a[0]", "a[1]"), e.Done); err != nil {
		t.Fatalf("producers: %v", err)
	}
	for _, name := range []string{"a[0]", "a[1]"} {
		w := e.Results[name].Written
		if len(w) != 1 || w[0].RawBytes <= 0 || w[0].StoredBytes <= 0 {
			t.Errorf("%s wrote %+v, want one partition with its sizes", name, w)
		}
	}
	if err := local.Run(context.Background(), executortest.Group(t, g, "f[0]", "f[1]", "b[0]", "b[1]"), e.Done); err != nil {
		t.Fatalf("region: %v", err)
	}
	if total != 50 {
		t.Errorf("b read %d rows, want the 50 both producers wrote", total)
	}
}

// TestLocalLostInput: a blocking input that was never committed fails the
// reader with a executor.LostPartitionError naming the partition, which recovery
// regenerates.
func TestLocalLostInput(t *testing.T) {
	g := executortest.Compile(t, map[string]string{"parallelism": "1"}, "read id=a\nrepartition id=f input=a by=hash keys=k exchange=blocking")
	var mu sync.Mutex
	var total int64
	local, _ := executortest.NewLocal(t, g, map[string]executortest.StageFunc{"f": executortest.Count(&mu, &total)})
	var e executortest.Ended
	err := local.Run(context.Background(), executortest.Group(t, g, "f[0]"), e.Done)
	var le *executor.LostPartitionError
	var se *executor.SubtaskError
	if !errors.As(err, &se) || se.Name != "f[0]" || !errors.As(err, &le) || le.Partition != (plan.PartitionID{Edge: 0, Producer: 0}) {
		t.Fatalf("Run = %v, want f[0]'s executor.SubtaskError wrapping a executor.LostPartitionError of e0.0", err)
	}
	if le.Name != "a[0]->f" {
		t.Errorf("lost partition named %q, want a[0]->f", le.Name)
	}
}

// TestLocalPanicCancelsTheGroup: a panic is the task's error, the group's
// root cause, and cancels its pipelined partner, which ends without
// committing.
func TestLocalPanicCancelsTheGroup(t *testing.T) {
	g := executortest.Compile(t, map[string]string{"parallelism": "1"}, "read id=a\nrepartition id=f input=a by=hash keys=k exchange=pipelined")
	local, _ := executortest.NewLocal(t, g, map[string]executortest.StageFunc{
		"a": func(context.Context, plan.SubtaskID, []shuffle.Reader, executor.Sink) (executor.Stats, error) {
			panic("boom")
		},
		"f": executortest.PassThrough,
	})
	var e executortest.Ended
	err := local.Run(context.Background(), executortest.Group(t, g, "a[0]", "f[0]"), e.Done)
	if err == nil || !strings.Contains(err.Error(), "a[0]#0: panic: boom") {
		t.Fatalf("Run = %v, want a[0]'s panic as the root cause", err)
	}
	if e.Errs["f[0]"] == nil {
		t.Errorf("f[0] ended well after its producer panicked")
	}
}

// TestLocalUnfinishedOutput: a computation that returns without finishing
// its output has failed, whatever it says.
func TestLocalUnfinishedOutput(t *testing.T) {
	g := executortest.Compile(t, map[string]string{"parallelism": "1"}, "read id=a\nrepartition id=f input=a by=hash keys=k exchange=blocking")
	local, _ := executortest.NewLocal(t, g, map[string]executortest.StageFunc{
		"a": func(context.Context, plan.SubtaskID, []shuffle.Reader, executor.Sink) (executor.Stats, error) {
			return executor.Stats{}, nil
		},
	})
	var e executortest.Ended
	err := local.Run(context.Background(), executortest.Group(t, g, "a[0]"), e.Done)
	if err == nil || !strings.Contains(err.Error(), "without finishing its output") || len(e.Results["a[0]"].Written) != 0 {
		t.Fatalf("Run = %v (wrote %v), want the unfinished output refused", err, e.Results["a[0]"].Written)
	}
}

// TestLocalWaitsForPartitionsOfItsOwnGroup: a group that both writes and
// reads a blocking partition (a region merged by the cycle rule) opens it
// only once its producer committed.
func TestLocalWaitsForPartitionsOfItsOwnGroup(t *testing.T) {
	g := executortest.Compile(t, map[string]string{"parallelism": "1"}, "read id=a\nrepartition id=f input=a by=hash keys=k exchange=blocking")
	var mu sync.Mutex
	var total int64
	local, _ := executortest.NewLocal(t, g, map[string]executortest.StageFunc{"a": executortest.Emit(1000), "f": executortest.Count(&mu, &total)})
	var e executortest.Ended
	// The reader first, so that it would open the partition before it
	// exists if it did not wait.
	if err := local.Run(context.Background(), executortest.Group(t, g, "f[0]", "a[0]"), e.Done); err != nil {
		t.Fatal(err)
	}
	if total != 1000 {
		t.Errorf("f read %d rows, want 1000", total)
	}
}
