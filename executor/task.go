package executor

import (
	"context"
	"fmt"
	"time"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/batchrun/batchrun/plan"
	"github.com/batchrun/batchrun/shuffle"
)

// Executor runs groups of subtask attempts.
type Executor interface {
	// Run runs every task of g at once (they may exchange data through
	// pipelined edges) and returns when all have ended. It calls done once
	// per task as it ends, from any goroutine. The returned error is the
	// group's root cause: the first task failure (a *SubtaskError), or nil
	// when every task succeeded. Run returns promptly once ctx is done.
	Run(ctx context.Context, g *Group, done func(*Task, Result, error)) error
}

// Group is one attempt of a region: the subtasks that run together.
type Group struct {
	Region plan.RegionID
	Tasks  []Task
}

// Task is one attempt of one subtask, described completely.
type Task struct {
	Subtask plan.SubtaskID
	Name    string // "agg[2]"
	// Attempt counts the subtask's attempts in this run from 0.
	Attempt int
	// StoreAttempt numbers the attempt's partitions in the store; it never
	// repeats across the invocations of a run, so a resumed run never
	// reuses the number of an attempt a killed one left half written.
	StoreAttempt uint32
	Inputs       []Input  // one per input port of the stage
	Outputs      []Output // one per output edge of the stage
}

// Input is what one input port of a task reads.
type Input struct {
	Edge plan.EdgeID
	Mode plan.Mode
	// Partitions are the blocking partitions read, in producer order, and
	// Subpartition the part of each that belongs to this consumer.
	Partitions   []plan.PartitionID
	Subpartition int
	// Locations say where each partition is (Locations[i] is the address
	// of the process holding Partitions[i]); nil when all are in this
	// process's store. The scheduler leaves them nil: an executor that
	// runs tasks across processes fills them in.
	Locations []string
}

// Output is one exchange a task writes.
type Output struct {
	Edge        plan.EdgeID
	Mode        plan.Mode
	Partitioner plan.Partitioner
	Keys        []string
	// Seed seeds a nondeterministic partitioner (rebalance, random): the
	// same seed deals the same rows the same way.
	Seed uint64
	// Subpartitions is the number of parts of a blocking partition: one
	// per consumer, or one for a forward edge.
	Subpartitions int
}

// Result is what a task reports when it ends.
type Result struct {
	Start, End time.Time
	// Worker names where it ran ("local", or a worker's address).
	Worker string `json:"worker,omitempty"`
	// Canceled says it ended because its group was stopped (another task
	// of it failed, or a failover or an interrupt stopped it), not by a
	// failure of its own.
	Canceled bool `json:"canceled,omitempty"`
	Stats    Stats
	// Written are the blocking partitions the task committed.
	Written []Written
}

// Written is one committed blocking partition and its size.
type Written struct {
	Partition plan.PartitionID
	// RawBytes are the uncompressed Arrow bytes, StoredBytes the bytes
	// after compression.
	RawBytes, StoredBytes int64
}

// Stats is what a computation reports about its work.
type Stats struct {
	RowsIn, RowsOut int64
	// RowsSkipped counts malformed input rows a read dropped (on_error
	// skip or quarantine).
	RowsSkipped int64
	// OperatorSpilled are the Arrow bytes the task's operators (sort,
	// aggregate, join) spilled to the store under their memory budget, in
	// SpillRuns runs.
	OperatorSpilled, SpillRuns int64
}

// Program is what each stage computes. Implementations must be safe for
// concurrent use by many tasks.
type Program interface {
	// NewTask builds the computation of one attempt of subtask st.
	NewTask(st plan.SubtaskID, attempt int) (Computation, error)
	// EdgeSchema is the schema of the rows that cross edge e.
	EdgeSchema(e plan.EdgeID) *arrow.Schema
}

// Computation is one subtask attempt's work.
type Computation interface {
	// Run reads inputs[p] for each input port p, in whatever order the
	// computation needs, and pushes its output into out, which fans out to
	// every output edge (it discards when the stage has none). Run must
	// call out.Finish on success and return promptly once ctx is done.
	Run(ctx context.Context, inputs []shuffle.Reader, out Sink) (Stats, error)
}

// Sink receives a computation's output batches; operators.Operator has the
// same methods.
type Sink interface {
	Push(ctx context.Context, rec arrow.Record) error
	Finish(ctx context.Context) error
}

// SubtaskError is a task's failure.
type SubtaskError struct {
	Subtask plan.SubtaskID
	Name    string // "agg[2]"
	Attempt int
	Err     error
}

func (e *SubtaskError) Error() string { return fmt.Sprintf("%s#%d: %v", e.Name, e.Attempt, e.Err) }

func (e *SubtaskError) Unwrap() error { return e.Err }

// LostPartitionError says a task could not read a blocking input: its
// commit record or a batch is missing, or a checksum does not match.
// Recovery regenerates the partition instead of just retrying the reader.
type LostPartitionError struct {
	Partition plan.PartitionID
	Name      string // "events[0]->agg": producer and consumer stage
	Err       error
}

func (e *LostPartitionError) Error() string {
	return fmt.Sprintf("lost partition %s (%s): %v", e.Name, e.Partition, e.Err)
}

func (e *LostPartitionError) Unwrap() error { return e.Err }

// WorkerLostError says the process that ran a task, or that held
// partitions a task read, is gone, and with it every partition it held
// (Lost). Recovery regenerates those that are still needed, in one
// failover.
type WorkerLostError struct {
	Worker string
	Lost   []plan.PartitionID
	// Known says the executor reported the loss before (by another task's
	// error). The scheduler decides by itself whether a failover already
	// counted the loss; Known is for the executor's own tests and logs.
	Known bool
	Err   error
}

func (e *WorkerLostError) Error() string {
	return fmt.Sprintf("worker %s lost (%d partitions): %v", e.Worker, len(e.Lost), e.Err)
}

func (e *WorkerLostError) Unwrap() error { return e.Err }
