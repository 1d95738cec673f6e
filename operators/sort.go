package operators

import (
	"context"
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators/arrowx"
)

// SortMode says which half of a global sort a Sort runs.
type SortMode uint8

const (
	// SortPartial sorts one subtask's input.
	SortPartial SortMode = iota
	// SortFinal merges sorted runs from several producers, arriving as one
	// stream: it finds where each ascending run ends and merges the runs
	// (sort_merge.go). Its output equals SortPartial's on the same input,
	// whose sort it falls back to when the input is far from sorted.
	SortFinal
)

func (m SortMode) String() string {
	if m == SortFinal {
		return "final"
	}
	return "partial"
}

// Sort buffers its whole input (retained batches), then emits it sorted by
// its keys in batches of BatchRows rows. Ascending keys put nulls first,
// descending keys put them last, unless the key says NULLS FIRST or NULLS
// LAST; NaN sorts above +Inf and -0 equals 0. The
// sort is stable: rows with equal keys keep their input order, so output is
// deterministic. With a bounded Budget (SetBudget) it is an external
// sort: see sort_external.go.
type Sort struct {
	mode    SortMode
	in      spec.Schema
	keys    []sortKey
	schema  *arrow.Schema
	out     Operator
	mem     memory.Allocator
	batches []arrow.Record
	rows    int
	stats   Stats
	ext     extSort
	chunk   sortChunks // SortPartial's sorted runs in memory (sort_chunks.go)
	fin     finalRuns  // SortFinal's state
}

// sortKey is one resolved sort column.
type sortKey struct {
	col        int
	typ        spec.Type
	desc       bool
	nullsFirst bool
}

// NewSort returns a sort of input schema in by keys.
func NewSort(mode SortMode, in spec.Schema, keys []spec.SortKey, out Operator, mem memory.Allocator) (*Sort, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("operators: sort has no keys")
	}
	s := &Sort{mode: mode, in: in, schema: arrowx.ArrowSchema(in), out: out, mem: mem}
	for _, k := range keys {
		i := in.Index(k.Column)
		if i < 0 {
			return nil, fmt.Errorf("operators: sort key %q is not a column of %s", k.Column, in)
		}
		s.keys = append(s.keys, sortKey{col: i, typ: in[i].Type.Physical(), desc: k.Desc, nullsFirst: k.NullsBefore()})
	}
	return s, nil
}

// Stats returns the rows consumed and emitted so far.
func (s *Sort) Stats() Stats { return s.stats }

// Push buffers one batch (retaining it).
func (s *Sort) Push(ctx context.Context, rec arrow.Record) error {
	if err := CheckSchema("Sort", rec, s.in); err != nil {
		return err
	}
	n := int(rec.NumRows())
	s.stats.RowsIn += int64(n)
	if n == 0 {
		return nil
	}
	if s.rows+n > 1<<32-1 {
		return fmt.Errorf("operators: Sort: more than 2^32-1 rows in one subtask")
	}
	rec.Retain()
	s.batches = append(s.batches, rec)
	s.rows += n
	if err := s.account(ctx, rec); err != nil {
		return err
	}
	if s.chunking() && s.rows >= s.chunk.limit() {
		return s.sortChunk(ctx)
	}
	return nil
}

// Finish sorts, emits the sorted rows, releases the input and finishes the
// downstream operator.
func (s *Sort) Finish(ctx context.Context) error {
	defer s.Close()
	if len(s.ext.runs) > 0 {
		return s.finishExternal(ctx)
	}
	emit := func(rec arrow.Record) error {
		s.stats.RowsOut += rec.NumRows()
		return s.out.Push(ctx, rec)
	}
	if s.chunking() {
		if err := s.mergeChunks(ctx, nil, emit); err != nil {
			return err
		}
		return s.out.Finish(ctx)
	}
	perm, err := s.permutation()
	if err != nil {
		return err
	}
	if err := s.emitPerm(ctx, perm, emit); err != nil {
		return err
	}
	return s.out.Finish(ctx)
}

// emitPerm gathers the buffered rows perm, in order, into batches of at
// most rowsPerBatch (BatchRows) rows and calls fn with each; fn does not
// keep the batch unless it retains it.
func (s *Sort) emitPerm(ctx context.Context, perm []uint32, fn func(arrow.Record) error) error {
	return s.emitPermN(ctx, perm, s.ext.rowsPerBatch(), fn)
}

// emitPermN is emitPerm with batches of at most size rows.
func (s *Sort) emitPermN(ctx context.Context, perm []uint32, size int, fn func(arrow.Record) error) error {
	cols, types, err := s.chunkViews()
	if err != nil {
		return err
	}
	loc := s.locator()
	refs := make([]uint64, 0, min(size, len(perm)))
	for from := 0; from < len(perm); from += size {
		if err := ctx.Err(); err != nil {
			return err
		}
		refs = refs[:0]
		for _, r := range perm[from:min(from+size, len(perm))] {
			refs = append(refs, loc[r])
		}
		rec, err := gatherRecord(s.schema, types, cols, refs, s.mem)
		if err != nil {
			return err
		}
		err = fn(rec)
		rec.Release()
		if err != nil {
			return err
		}
	}
	return nil
}

// permutation returns the rows (numbered across batches) in sorted order.
// SortFinal merges the buffer's ascending runs (sort_merge.go).
func (s *Sort) permutation() ([]uint32, error) {
	keys, err := s.flattenAll()
	if err != nil {
		return nil, err
	}
	if s.mode == SortFinal && !s.fin.resort {
		return order(keys, runStarts(keys, s.rows), s.rows), nil
	}
	return sortRows(keys, s.rows), nil
}

// flattenAll flattens every sort key over the buffered rows.
func (s *Sort) flattenAll() ([]*keyData, error) {
	keys := make([]*keyData, len(s.keys))
	for i, k := range s.keys {
		kd, err := s.flatten(k)
		if err != nil {
			return nil, err
		}
		keys[i] = kd
	}
	return keys, nil
}

// sortRows returns rows [0, n) stably sorted by keys.
func sortRows(keys []*keyData, n int) []uint32 {
	perm := make([]uint32, n)
	for i := range perm {
		perm[i] = uint32(i)
	}
	st := &sorter{keys: keys, k: make([]uint64, n), tk: make([]uint64, n), tr: make([]uint32, n)}
	st.sortRange(perm, 0)
	return perm
}

// chunkViews returns, per column, its view in every batch.
func (s *Sort) chunkViews() ([][]arrowx.ColView, []spec.Type, error) {
	cols := make([][]arrowx.ColView, len(s.in))
	types := make([]spec.Type, len(s.in))
	for c := range s.in {
		types[c] = s.in[c].Type
		for _, rec := range s.batches {
			v, err := arrowx.ViewOf(rec.Column(c))
			if err != nil {
				return nil, nil, err
			}
			cols[c] = append(cols[c], v)
		}
	}
	return cols, types, nil
}

// locator maps each row number to its (batch, row) reference.
func (s *Sort) locator() []uint64 {
	loc := make([]uint64, 0, s.rows)
	for b, rec := range s.batches {
		for r := 0; r < int(rec.NumRows()); r++ {
			loc = append(loc, mkRef(b, r))
		}
	}
	return loc
}

// flatten extracts one key column over all batches into order-preserving
// words (see keyData).
func (s *Sort) flatten(k sortKey) (*keyData, error) {
	kd := &keyData{typ: k.typ, desc: k.desc, nullsFirst: k.nullsFirst, norm: make([]uint64, 0, s.rows)}
	for _, rec := range s.batches {
		v, err := arrowx.ViewOf(rec.Column(k.col))
		if err != nil {
			return nil, err
		}
		kd.add(&v)
	}
	return kd, nil
}

// Close releases the buffered batches and discards the spill runs. Finish
// calls it; call it directly when abandoning the sort. It is idempotent.
func (s *Sort) Close() {
	s.release()
	s.dropChunks()
	s.ext.discard()
}

// release drops the buffered batches.
func (s *Sort) release() {
	for _, rec := range s.batches {
		rec.Release()
	}
	s.batches, s.rows, s.ext.held = nil, 0, 0
}
