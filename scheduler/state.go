package scheduler

import (
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
	Err             error
}

// Observer hears about subtask attempts as they end. Calls come from the
// scheduler's loop; implementations must be quick.
type Observer interface {
	SubtaskFinished(stage, index int, rowsOut int64, err error)
}
