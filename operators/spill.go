package operators

import (
	"context"

	"github.com/apache/arrow/go/v17/arrow"
)

// Spiller is where memory-bounded operators (Sort, HashAggregate,
// HashJoin) put data that does not fit their budget. The caller (package
// jobs) implements it over the store; operators never see Pebble. A
// Spiller is used by one subtask, from one goroutine.
type Spiller interface {
	// NewRun starts a spill run of batches of schema. Batches written to a
	// run are read back in the order written.
	NewRun(schema *arrow.Schema) (SpillRun, error)
}

// SpillRun is one sequence of spilled batches.
type SpillRun interface {
	// Write appends rec; the caller keeps ownership of rec.
	Write(ctx context.Context, rec arrow.Record) error
	// Finish ends writing; Open may then be called, any number of times.
	Finish(ctx context.Context) error
	// Open reads the run from the start; the caller releases each batch.
	Open(ctx context.Context) (BatchReader, error)
	// Discard deletes the run; it is safe to call more than once.
	Discard()
}

// BatchReader reads batches; Next returns io.EOF at the end.
type BatchReader interface {
	Next(ctx context.Context) (arrow.Record, error)
	Close()
}

// Budget bounds the memory an operator holds (hash tables, sort buffers,
// join build sides) and says where to spill past it. The zero Budget is
// unbounded (no spilling).
type Budget struct {
	// Bytes the operator may hold; 0 means unbounded.
	Bytes int64
	// Spill receives what does not fit; required when Bytes > 0.
	Spill Spiller
	// Stats, when set, accumulates what the operator spilled.
	Stats *SpillStats
}

// SpillStats counts spilling, for the run report.
type SpillStats struct {
	Runs  int64 // spill runs written
	Rows  int64 // rows written to spill runs
	Bytes int64 // Arrow bytes written to spill runs
}

// Bounded reports whether the budget limits memory.
func (b Budget) Bounded() bool { return b.Bytes > 0 && b.Spill != nil }
