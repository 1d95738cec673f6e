package scheduler

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/batchrun/batchrun/executor"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/plan"
	"github.com/batchrun/batchrun/recovery"
)

// failingExec fails every task.
type failingExec struct{}

var errTaskFailed = errors.New("task failed")

func (failingExec) Run(_ context.Context, g *executor.Group, done func(*executor.Task, executor.Result, error)) error {
	var first error
	for i := range g.Tasks {
		t := &g.Tasks[i]
		err := &executor.SubtaskError{Subtask: t.Subtask, Name: t.Name, Attempt: t.Attempt, Err: errTaskFailed}
		done(t, executor.Result{}, err)
		if first == nil {
			first = err
		}
	}
	return first
}

// cancelOnFailover is a log handler that cancels the run once the
// scheduler logs a failover (which it does before it waits out the
// restart delay).
type cancelOnFailover struct {
	slog.Handler
	cancel func()
}

func (cancelOnFailover) Enabled(context.Context, slog.Level) bool { return true }

func (h cancelOnFailover) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "failover" {
		h.cancel()
	}
	return nil
}

// TestInterruptDuringRestartDelay: an interrupt (the context cancelled)
// while the scheduler waits out a restart delay ends the run at once with
// the context's error, instead of after the delay (an hour here: the test
// would time out).
func TestInterruptDuringRestartDelay(t *testing.T) {
	job := &spec.Job{Name: "one", Parallelism: 1, Steps: []*spec.Step{
		{ID: "a", Kind: spec.KindRead, Read: &spec.ReadStep{Path: "a.csv", Schema: spec.Schema{{Name: "k", Type: spec.Int64}}}},
	}}
	g, err := plan.Compile(job)
	if err != nil {
		t.Fatal(err)
	}
	restart, err := recovery.ParseRestartStrategy("fixed-delay:attempts=5,delay=1h")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := New(g, plan.ComputeRegions(g), failingExec{},
		Options{Slots: 1, Restart: restart, Logger: slog.New(cancelOnFailover{slog.DiscardHandler, cancel})})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Run(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
	if res == nil || len(res.Failovers) != 1 {
		t.Fatalf("result %+v: want the one failover that set the delay", res)
	}
}
