package operators

import (
	"context"
	"math"

	"github.com/apache/arrow/go/v17/arrow"
)

// Limit drops the first offset rows of its input, passes through the next
// n and drops the rest; a batch that crosses either bound is sliced. Once
// offset + n rows went by, Done reports true so the caller can stop
// feeding it (stopping early is optional: later batches are dropped).
type Limit struct {
	n, offset int64
	seen      int64 // input rows counted, at most offset + n
	out       Operator
	stats     Stats
}

// NewLimit returns a limit of n rows (n >= 0).
func NewLimit(n int64, out Operator) *Limit { return NewLimitOffset(n, 0, out) }

// NewLimitOffset returns a limit of n rows after the first offset rows (n,
// offset >= 0).
func NewLimitOffset(n, offset int64, out Operator) *Limit {
	l := &Limit{n: max(n, 0), offset: max(offset, 0), out: out}
	l.n = min(l.n, math.MaxInt64-l.offset)
	return l
}

// Done reports whether offset + n rows have gone by.
func (l *Limit) Done() bool { return l.seen >= l.offset+l.n }

// Stats returns the rows consumed and emitted so far.
func (l *Limit) Stats() Stats { return l.stats }

// Push forwards the rows of rec between offset and offset + n.
func (l *Limit) Push(ctx context.Context, rec arrow.Record) error {
	rows := rec.NumRows()
	l.stats.RowsIn += rows
	if l.Done() || rows == 0 {
		return nil
	}
	from := min(rows, max(l.offset-l.seen, 0))
	to := min(rows, l.offset+l.n-l.seen)
	l.seen += to
	if from == to {
		return nil
	}
	l.stats.RowsOut += to - from
	if from == 0 && to == rows {
		return l.out.Push(ctx, rec)
	}
	part := rec.NewSlice(from, to)
	defer part.Release()
	return l.out.Push(ctx, part)
}

// Finish finishes the downstream operator.
func (l *Limit) Finish(ctx context.Context) error { return l.out.Finish(ctx) }
