package operators

import (
	"context"

	"github.com/apache/arrow/go/v17/arrow"
)

// Limit passes through the first n rows of its input and drops the rest;
// the batch that crosses n is sliced. Once n rows passed, Done reports true
// so the caller can stop feeding it (stopping early is optional: later
// batches are dropped).
type Limit struct {
	n, seen int64
	out     Operator
	stats   Stats
}

// NewLimit returns a limit of n rows (n >= 0).
func NewLimit(n int64, out Operator) *Limit {
	return &Limit{n: max(n, 0), out: out}
}

// Done reports whether n rows have passed.
func (l *Limit) Done() bool { return l.seen >= l.n }

// Stats returns the rows consumed and emitted so far.
func (l *Limit) Stats() Stats { return l.stats }

// Push forwards rec, or its head, while fewer than n rows passed.
func (l *Limit) Push(ctx context.Context, rec arrow.Record) error {
	rows := rec.NumRows()
	l.stats.RowsIn += rows
	if l.Done() || rows == 0 {
		return nil
	}
	take := min(rows, l.n-l.seen)
	l.seen += take
	l.stats.RowsOut += take
	if take == rows {
		return l.out.Push(ctx, rec)
	}
	head := rec.NewSlice(0, take)
	defer head.Release()
	return l.out.Push(ctx, head)
}

// Finish finishes the downstream operator.
func (l *Limit) Finish(ctx context.Context) error { return l.out.Finish(ctx) }
