package scheduler

import (
	"time"

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
	Stats   TaskStats
	// Spilled are the uncompressed Arrow bytes the attempt wrote to
	// blocking partitions; Stored the bytes after compression.
	Spilled, Stored int64
	Err             error
}
