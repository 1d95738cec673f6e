package operators

import (
	"context"
	"fmt"
	"slices"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/batchrun/batchrun/jobs/spec"
)

// SortFinal merges instead of sorting. Its input is the producers' sorted
// outputs concatenated, and nothing marks where one ends, so it finds the
// maximal ascending runs itself: over the flattened keys it compares every
// row with the one before it, one key column at a time (orderBreaks). A row
// that sorts strictly before its predecessor starts a run; equal rows stay
// in one. Runs are consecutive stretches of the input, each sorted, so
// merging adjacent runs pairwise, a tie taking the left run's row (the
// last rounds of a merge sort), gives exactly the stable sort of the whole
// input, in ceil(log2 runs) passes of one comparison a row. Input that is
// not sorted is only many runs: past mergeMaxRuns it is sorted as
// SortPartial sorts it.
//
// Under a bounded budget a spill writes the buffered runs as they are, with
// no sort and no gather (a batch cut by a run boundary is written as two
// slices). The last spill run stays open: when the next buffer's first row
// does not sort before the last row spilled, that buffer's first run is
// appended to it, so a producer's output cut by several spills is still one
// spill run and Finish k-way merges about one spill run per producer. A
// buffer of more than spillMaxRuns runs is merged (or sorted) into one run
// instead, so unsorted input spills no more runs than SortPartial would.

const (
	// mergeMaxRuns is the most runs SortFinal merges; past it the radix
	// sort (a few passes over the rows) costs less than log2(runs) merge
	// passes.
	mergeMaxRuns = 64
	// spillMaxRuns is the most runs one spill writes as they are.
	spillMaxRuns = 8
)

// finalRuns is SortFinal's state across spills.
type finalRuns struct {
	// last is the last row spilled (one row of each key), nil before the
	// first spill.
	last []*keyData
	open SpillRun // the last spill run, still being written, or nil
	// resort makes SortFinal sort its buffer as SortPartial does; the
	// benchmark compares the two.
	resort bool
}

// runStarts returns the first row of each maximal ascending run of rows
// [0, n) of keys.
func runStarts(keys []*keyData, n int) []uint32 {
	if n == 0 {
		return nil
	}
	_, starts := orderBreaks(keys, n, nil, []uint32{0})
	return starts
}

// order returns rows [0, n), whose ascending runs start at starts, in
// sorted order.
func order(keys []*keyData, starts []uint32, n int) []uint32 {
	if len(starts) > mergeMaxRuns {
		return sortRows(keys, n)
	}
	return mergeRuns(keys, starts, n)
}

// mergeRuns returns rows [0, n), whose ascending runs start at starts,
// merged into sorted order: adjacent runs are merged pairwise, round by
// round.
func mergeRuns(keys []*keyData, starts []uint32, n int) []uint32 {
	perm := make([]uint32, n)
	for i := range perm {
		perm[i] = uint32(i)
	}
	if len(starts) <= 1 {
		return perm
	}
	bounds := append(slices.Clone(starts), uint32(n))
	tmp := make([]uint32, n)
	m := newRowMerger(keys)
	for len(bounds) > 2 {
		next := make([]uint32, 0, len(bounds)/2+1)
		for r := 0; r+1 < len(bounds); r += 2 {
			lo, mid := bounds[r], bounds[r+1]
			if r+2 < len(bounds) {
				hi := bounds[r+2]
				m.merge(tmp[lo:hi], perm[lo:mid], perm[mid:hi])
			} else {
				copy(tmp[lo:mid], perm[lo:mid])
			}
			next = append(next, lo)
		}
		perm, tmp, bounds = tmp, perm, append(next, uint32(n))
	}
	return perm
}

// rowMerger merges runs of rows of keys. When the first key has no nulls
// and is not a string, its words alone order rows that differ in it.
type rowMerger struct {
	keys  []*keyData
	first []uint64 // the first key's words, when they decide
	rest  []*keyData
}

func newRowMerger(keys []*keyData) *rowMerger {
	m := &rowMerger{keys: keys}
	if k := keys[0]; k.null == nil && k.typ != spec.String {
		m.first, m.rest = k.norm, keys[1:]
	}
	return m
}

// before reports whether row x sorts strictly before row y.
func (m *rowMerger) before(x, y uint32) bool {
	if m.first != nil {
		if a, b := m.first[x], m.first[y]; a != b {
			return a < b
		}
		return compareRows(m.rest, x, m.rest, y) < 0
	}
	return compareRows(m.keys, x, m.keys, y) < 0
}

// merge merges the sorted rows a and b (a's rows first in the input) into
// dst; on ties a's row comes first.
func (m *rowMerger) merge(dst, a, b []uint32) {
	i, j, o := 0, 0, 0
	for i < len(a) && j < len(b) {
		if m.before(b[j], a[i]) {
			dst[o] = b[j]
			j++
		} else {
			dst[o] = a[i]
			i++
		}
		o++
	}
	o += copy(dst[o:], a[i:])
	copy(dst[o:], b[j:])
}

// spillFinal writes the buffer to spill runs as it is when it is a few
// sorted runs, else merged or sorted into one run, and drops it.
func (s *Sort) spillFinal(ctx context.Context) error {
	keys, err := s.flattenAll()
	if err != nil {
		return err
	}
	starts := runStarts(keys, s.rows)
	cont := s.fin.open != nil && compareRows(keys, 0, s.fin.last, 0) >= 0
	s.fin.last = make([]*keyData, len(keys))
	for i, kd := range keys {
		s.fin.last[i] = kd.rowCopy(uint32(s.rows - 1))
	}
	if len(starts) <= spillMaxRuns {
		return s.spillRuns(ctx, starts, cont)
	}
	if err := s.fin.closeOpen(ctx); err != nil {
		return err
	}
	return s.spillSorted(ctx, order(keys, starts, s.rows))
}

// spillRuns writes each buffered run (rows from starts[i]) to a spill run
// of its own, the first one to the open spill run when cont, and drops
// the buffer. The last spill run stays open.
func (s *Sort) spillRuns(ctx context.Context, starts []uint32, cont bool) error {
	next, base := 0, 0 // starts[next] is the next run to begin; base is rec's first row
	for _, rec := range s.batches {
		n := int(rec.NumRows())
		for from := 0; from < n; {
			if next < len(starts) && int(starts[next]) == base+from {
				if err := s.startRun(ctx, next == 0 && cont); err != nil {
					return err
				}
				next++
			}
			to := n
			if next < len(starts) && int(starts[next]) < base+n {
				to = int(starts[next]) - base
			}
			if err := s.ext.writeRows(ctx, s.fin.open, rec, from, to); err != nil {
				return fmt.Errorf("operators: Sort: spill: %w", err)
			}
			from = to
		}
		base += n
	}
	s.release()
	return nil
}

// startRun finishes the open spill run and starts a new one, unless the
// next rows continue the open one.
func (s *Sort) startRun(ctx context.Context, cont bool) error {
	if cont && s.fin.open != nil {
		return nil
	}
	if err := s.fin.closeOpen(ctx); err != nil {
		return err
	}
	run, err := s.ext.newRun(s.schema)
	if err != nil {
		return err
	}
	s.ext.runs = append(s.ext.runs, run) // Close discards it on error
	s.fin.open = run
	return nil
}

// writeRows appends rows [from, to) of rec to run.
func (e *extSort) writeRows(ctx context.Context, run SpillRun, rec arrow.Record, from, to int) error {
	if from == 0 && to == int(rec.NumRows()) {
		return e.write(ctx, run, rec)
	}
	sl := rec.NewSlice(int64(from), int64(to))
	defer sl.Release()
	return e.write(ctx, run, sl)
}

// closeOpen finishes the open spill run, if any.
func (f *finalRuns) closeOpen(ctx context.Context) error {
	run := f.open
	if run == nil {
		return nil
	}
	f.open = nil
	if err := run.Finish(ctx); err != nil {
		return fmt.Errorf("operators: Sort: spill: %w", err)
	}
	return nil
}

// Mode returns which half of a global sort s runs.
func (s *Sort) Mode() SortMode { return s.mode }

// MergeSorted runs a SortFinal over its input given as sorted streams,
// one per producer in the order their rows would have been pushed (each a
// partial sort's output), instead of Push and Finish: it k-way merges the
// streams as it reads them, holding one batch of each, so nothing is
// buffered or spilled and output starts with the first batches. Ties keep
// stream order, so the output equals Push-then-Finish's. A stream out of
// sort order is an error (errSortInput), never unsorted output. It closes
// the streams and s, and finishes the downstream operator.
func (s *Sort) MergeSorted(ctx context.Context, streams []BatchReader) error {
	defer s.Close()
	m := s.newMerger()
	defer m.close()
	if s.mode != SortFinal || s.rows > 0 {
		closeAll(streams)
		return fmt.Errorf("operators: Sort: MergeSorted on a %s sort holding %d pushed rows", s.mode, s.rows)
	}
	for i, r := range streams {
		if err := m.add(ctx, r, true); err != nil {
			closeAll(streams[i+1:])
			return err
		}
	}
	err := m.run(ctx, func(rec arrow.Record) error {
		s.stats.RowsOut += rec.NumRows()
		return s.out.Push(ctx, rec)
	})
	if err != nil {
		return err
	}
	return s.out.Finish(ctx)
}

func closeAll(rs []BatchReader) {
	for _, r := range rs {
		r.Close()
	}
}
