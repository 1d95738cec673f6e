package scheduler

import (
	"context"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/batchrun/batchrun/operators"
	"github.com/batchrun/batchrun/plan"
	"github.com/batchrun/batchrun/shuffle"
)

// Program is the computation of a compiled job, as the scheduler sees it.
// Implementations must be safe for concurrent use by many subtasks.
type Program interface {
	// NewTask builds one attempt of subtask st.
	NewTask(st plan.SubtaskID, attempt int) (Task, error)
	// EdgeSchema is the schema of the rows that cross edge e.
	EdgeSchema(e plan.EdgeID) *arrow.Schema
}

// Task is one subtask attempt's computation.
type Task interface {
	// Run reads inputs[p] for each input port p of the stage, in whatever
	// order the computation needs, and pushes its output into out, which
	// fans out to every output edge (out is a discarding operator when the
	// stage has none). Run must call out.Finish on success; it must return
	// promptly once ctx is cancelled.
	Run(ctx context.Context, inputs []shuffle.Reader, out operators.Operator) (TaskStats, error)
}

// TaskStats is what a task reports about its work.
type TaskStats struct {
	RowsIn, RowsOut int64
	// RowsSkipped counts malformed input rows a read dropped (on_error
	// skip or quarantine).
	RowsSkipped int64
	// OperatorSpilled are the Arrow bytes the task's operators (sort,
	// aggregate, join) spilled to the store under their memory budget, in
	// SpillRuns runs.
	OperatorSpilled, SpillRuns int64
}

// Observer hears about subtask attempts as they end. Calls come from many
// goroutines; implementations must be safe for concurrent use and quick.
type Observer interface {
	SubtaskFinished(stage, index int, rowsOut int64, err error)
}
