package scheduler

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/batchrun/batchrun/executor"
	"github.com/batchrun/batchrun/executor/executortest"
	"github.com/batchrun/batchrun/plan"
	"github.com/batchrun/batchrun/recovery"
)

// scriptedExec ends every task at once: those named in fail ("b[1]#0")
// with that error, the rest committing their blocking outputs.
type scriptedExec struct {
	fail map[string]error

	mu     sync.Mutex
	groups []string // "r2: b[0]#0" in the order they ran
}

func (e *scriptedExec) Run(ctx context.Context, g *executor.Group, done func(*executor.Task, executor.Result, error)) error {
	e.mu.Lock()
	names := ""
	for _, t := range g.Tasks {
		names += fmt.Sprintf(" %s#%d", t.Name, t.Attempt)
	}
	e.groups = append(e.groups, fmt.Sprintf("%s:%s", g.Region, names))
	e.mu.Unlock()
	var cause error
	for i := range g.Tasks {
		t := &g.Tasks[i]
		var res executor.Result
		err := e.fail[fmt.Sprintf("%s#%d", t.Name, t.Attempt)]
		if err == nil && cause != nil {
			err = ctx.Err()
		}
		if err != nil {
			err = &executor.SubtaskError{Subtask: t.Subtask, Name: t.Name, Attempt: t.Attempt, Err: err}
			if cause == nil {
				cause = err
			}
		} else {
			for _, o := range t.Outputs {
				if o.Mode == plan.Blocking {
					res.Written = append(res.Written, executor.Written{Partition: plan.PartitionID{Edge: o.Edge, Producer: t.Subtask.Index}, RawBytes: 10, StoredBytes: 4})
				}
			}
		}
		done(t, res, err)
	}
	return cause
}

// autoClock moves on by whatever is waited for: a restart delay passes at
// once, and shows in Now.
type autoClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *autoClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *autoClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

func compileJob(t *testing.T, args map[string]string, steps string) (*plan.StageGraph, *plan.Regions) {
	g := executortest.Compile(t, args, steps)
	return g, plan.ComputeRegions(g)
}

// TestRunFailsOverAndWaitsOnTheClock runs a job whose b[1] fails once: the
// loop restarts only b[1]'s region, waits the restart delay on the
// injected clock (no real time passes), and every subtask's outputs end up
// committed.
func TestRunFailsOverAndWaitsOnTheClock(t *testing.T) {
	g, regions := compileJob(t, map[string]string{"parallelism": "2", "mode": "all-blocking"}, "read id=a\nagg id=b input=a keys=k")
	restart, err := recovery.ParseRestartStrategy("fixed-delay:attempts=2,delay=1h")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 1, 1, 2, 0, 0, 0, time.UTC)
	clock := &autoClock{now: start}
	exec := &scriptedExec{fail: map[string]error{"b[1]#0": errors.New("disk full")}}
	var seen []string
	s, err := New(g, regions, exec, Options{Slots: 1, Restart: restart, Clock: clock,
		Observer: observerFunc(func(stage, index int, rows int64, err error) {
			seen = append(seen, fmt.Sprintf("%s ok=%v", g.SubtaskName(plan.SubtaskID{Stage: plan.StageID(stage), Index: int32(index)}), err == nil))
		})})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Run(context.Background())
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	want := []string{"r0: a[0]#0", "r1: a[1]#0", "r2: b[0]#0", "r3: b[1]#0", "r3: b[1]#1"}
	if !slices.Equal(exec.groups, want) {
		t.Errorf("groups ran %q, want %q", exec.groups, want)
	}
	if len(res.Failovers) != 1 || res.Failovers[0].Failed != "b[1]" || !slices.Equal(res.Failovers[0].Subtasks, []string{"b[1]"}) {
		t.Errorf("failovers %+v, want one of b[1] restarting b[1]", res.Failovers)
	}
	if got := clock.Now().Sub(start); got != time.Hour {
		t.Errorf("clock moved %v, want the 1h restart delay", got)
	}
	if len(res.Attempts) != 5 || len(seen) != 5 {
		t.Fatalf("attempts %d, observed %d, want 5", len(res.Attempts), len(seen))
	}
	for _, a := range res.Attempts {
		if a.State == Finished && g.Stage(a.Subtask.Stage).Name == "a" && (a.Spilled != 10 || a.Stored != 4) {
			t.Errorf("attempt %v: spilled %d stored %d, want the executor's 10 and 4", a.Subtask, a.Spilled, a.Stored)
		}
	}
}

type observerFunc func(stage, index int, rows int64, err error)

func (f observerFunc) SubtaskFinished(stage, index int, rows int64, err error) {
	f(stage, index, rows, err)
}

// TestRunGivesUp: when the restart strategy gives up, Run returns the
// failure that made it, wrapping recovery.ErrGiveUp.
func TestRunGivesUp(t *testing.T) {
	g, regions := compileJob(t, map[string]string{"parallelism": "1"}, "read id=a")
	restart, err := recovery.ParseRestartStrategy("fixed-delay:attempts=1,delay=0s")
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	exec := &scriptedExec{fail: map[string]error{"a[0]#0": boom, "a[0]#1": boom}}
	s, err := New(g, regions, exec, Options{Slots: 1, Restart: restart, Clock: &autoClock{}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Run(context.Background())
	if !errors.Is(err, recovery.ErrGiveUp) || !errors.Is(err, boom) {
		t.Fatalf("Run = %v, want a give-up wrapping boom", err)
	}
	if len(res.Attempts) != 2 {
		t.Errorf("%d attempts, want 2", len(res.Attempts))
	}
}

// TestRunInterruptedBeforeStart: once the context is done no region
// starts, even on an executor that would ignore the cancellation.
func TestRunInterruptedBeforeStart(t *testing.T) {
	g, regions := compileJob(t, map[string]string{"parallelism": "1"}, "read id=a")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	exec := &scriptedExec{}
	s, err := New(g, regions, exec, Options{Slots: 1, Clock: &autoClock{}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Run(ctx)
	if !errors.Is(err, context.Canceled) || len(exec.groups) != 0 {
		t.Fatalf("Run on a cancelled context = %v after running %q, want context.Canceled and nothing run", err, exec.groups)
	}
}
