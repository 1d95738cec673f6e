package scheduler

import (
	"context"
	"errors"
	"time"

	"github.com/batchrun/batchrun/executor"
	"github.com/batchrun/batchrun/plan"
)

// State is a subtask attempt's lifecycle state, ordered by progress.
type State uint8

const (
	Created State = iota
	Running
	Finished
	Failed
	Cancelled
)

var stateNames = [...]string{"created", "running", "finished", "failed", "cancelled"}

func (s State) String() string { return stateNames[s] }

// Attempt records one execution of a subtask.
type Attempt struct {
	Subtask plan.SubtaskID
	Region  plan.RegionID
	Attempt int
	State   State
	Start   time.Time
	End     time.Time
	Stats   executor.Stats
	// Spilled are the uncompressed Arrow bytes the attempt wrote to
	// blocking partitions; Stored the bytes after compression.
	Spilled, Stored int64
	// Worker is where it ran; Canceled says it was stopped, not failed.
	Worker   string
	Canceled bool
	Err      error
}

// Outcome is how the attempt ended: succeeded, failed, canceled (stopped
// by another task's failure, a failover or an interrupt) or lost (its
// worker is gone).
func (a Attempt) Outcome() string {
	var wl *executor.WorkerLostError
	switch {
	case a.State == Finished:
		return "succeeded"
	case errors.As(a.Err, &wl) && wl.Worker == a.Worker:
		return "lost"
	case a.Canceled || errors.Is(a.Err, errRestarted) || errors.Is(a.Err, context.Canceled):
		return "canceled"
	}
	return "failed"
}

// Observer hears about subtask attempts as they end. Calls come from the
// scheduler's loop; implementations must be quick.
type Observer interface {
	SubtaskFinished(stage, index int, rowsOut int64, err error)
}

// AttemptObserver is an Observer that also hears each attempt whole, as
// the run's result will list it (after SubtaskFinished).
type AttemptObserver interface {
	Observer
	AttemptEnded(a Attempt)
}
