package operators

import (
	"context"
	"math"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/jobs/spec"
)

// TopN emits the first n rows of its input in sort order: a sort followed
// by a limit, without sorting everything. It buffers batches; whenever the
// buffer exceeds n + max(n, BatchRows) rows it sorts them (the radix sort
// of Sort) and keeps only the first n, so memory is O(n + BatchRows) and
// the total work O(rows) sort passes over small buffers. HeldBytes
// reports what it holds; it never spills. The sort is
// stable and the kept rows precede later input, so ties keep input order
// and the result equals a stable sort then limit. The partial and final
// halves are the same operator: each producer keeps its top n, the final
// takes the top n of their union. With an offset (LIMIT n OFFSET k) the
// final keeps n + k rows and emits all but the first k; the partial ones
// are plain top-(n + k)s.
type TopN struct {
	buf       *Sort
	n         int // rows kept: the limit plus the offset
	skip      int // rows of the n not emitted
	threshold int
	out       Operator
	stats     Stats
}

// NewTopN returns a top-n of input schema in by keys that emits the rows
// after the first offset of them (n, offset >= 0).
func NewTopN(in spec.Schema, keys []spec.SortKey, n, offset int64, out Operator, mem memory.Allocator) (*TopN, error) {
	s, err := NewSort(SortPartial, in, keys, nil, mem)
	if err != nil {
		return nil, err
	}
	s.chunk.off = true // compact sorts the buffer itself
	t := &TopN{buf: s, out: out, threshold: math.MaxInt}
	n, offset = max(n, 0), max(offset, 0)
	keep := min(n, math.MaxInt64-offset) + offset
	t.n = int(min(keep, 1<<31))
	t.skip = int(min(offset, int64(t.n)))
	if t.n <= 1<<26 {
		t.threshold = t.n + max(t.n, BatchRows)
	}
	return t, nil
}

// Stats returns the rows consumed and emitted so far.
func (t *TopN) Stats() Stats { return t.stats }

// Push buffers rec and compacts the buffer when it is full.
func (t *TopN) Push(ctx context.Context, rec arrow.Record) error {
	t.stats.RowsIn += rec.NumRows()
	if t.n == 0 {
		return CheckSchema("TopN", rec, t.buf.in)
	}
	if err := t.buf.Push(ctx, rec); err != nil {
		return err
	}
	if t.buf.rows < t.threshold {
		return nil
	}
	return t.compact(ctx)
}

// compact replaces the buffer by its first n rows in sort order.
func (t *TopN) compact(ctx context.Context) error {
	var kept []arrow.Record
	err := t.sorted(ctx, 0, func(rec arrow.Record) error {
		rec.Retain()
		kept = append(kept, rec)
		return nil
	})
	if err != nil {
		for _, r := range kept {
			r.Release()
		}
		return err
	}
	rows := min(t.buf.rows, t.n)
	t.buf.Close()
	t.buf.batches, t.buf.rows = kept, rows
	for _, r := range kept {
		t.buf.ext.held += batchBufferBytes(r)
	}
	return nil
}

// HeldBytes returns the Arrow buffer bytes the top-n holds: at most about
// n + max(n, BatchRows) rows, so it needs no spilling (it ignores any
// Budget).
func (t *TopN) HeldBytes() int64 { return t.buf.HeldBytes() }

// sorted sorts the buffer and calls fn with its first n rows but the
// first skip of them, in batches of at most BatchRows rows.
func (t *TopN) sorted(ctx context.Context, skip int, fn func(arrow.Record) error) error {
	s := t.buf
	if s.rows == 0 {
		return nil
	}
	perm, err := s.permutation()
	if err != nil {
		return err
	}
	perm = perm[:min(len(perm), t.n)]
	perm = perm[min(len(perm), skip):]
	return s.emitPerm(ctx, perm, fn)
}

// Finish emits the top n rows (after the offset), releases the buffer and finishes the
// downstream operator.
func (t *TopN) Finish(ctx context.Context) error {
	defer t.buf.Close()
	err := t.sorted(ctx, t.skip, func(rec arrow.Record) error {
		t.stats.RowsOut += rec.NumRows()
		return t.out.Push(ctx, rec)
	})
	if err != nil {
		return err
	}
	return t.out.Finish(ctx)
}

// Close releases the buffered batches; it is idempotent.
func (t *TopN) Close() { t.buf.Close() }
