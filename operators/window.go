package operators

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators/arrowx"
)

// Window computes window functions (spec.WindowStep). It is a Sort by
// (partition keys, order keys), with its spilling and its stable order,
// feeding a windowEval, which cuts the sorted stream into partitions and
// computes every function over each partition. Without keys the whole
// input is one partition, in input order, and nothing sorts.
//
// Each subtask must receive every row of its partitions (the plan hashes
// on the partition keys). Output: the input rows sorted by (partition
// keys, order keys), ties in input order, each with its function columns.
//
// Memory: the sort holds its input under the Budget and spills past it
// (sort_external.go); the evaluator holds one partition at a time (with
// the rows of smaller partitions that came in the same batches) and its
// per-row scratch, which the budget does not bound: a partition must fit
// in memory.
type Window struct {
	sort *Sort // nil without keys
	eval *windowEval
	head Operator
}

// NewWindow returns the window step w over input schema in; out is the
// step's output schema (in's columns, then one per function).
func NewWindow(in spec.Schema, w *spec.WindowStep, out spec.Schema, next Operator, mem memory.Allocator) (*Window, error) {
	keys := make([]spec.SortKey, 0, len(w.PartitionBy)+len(w.OrderBy))
	for _, k := range w.PartitionBy {
		keys = append(keys, spec.SortKey{Column: k})
	}
	keys = append(keys, w.OrderBy...)
	eval, err := newWindowEval(in, w, keys, out, next, mem)
	if err != nil {
		return nil, err
	}
	op := &Window{eval: eval, head: eval}
	if len(keys) > 0 {
		if op.sort, err = NewSort(SortPartial, in, keys, eval, mem); err != nil {
			eval.close()
			return nil, err
		}
		op.head = op.sort
	}
	return op, nil
}

// Push implements Operator.
func (w *Window) Push(ctx context.Context, rec arrow.Record) error { return w.head.Push(ctx, rec) }

// Finish sorts, computes and emits every row, then finishes downstream.
func (w *Window) Finish(ctx context.Context) error {
	defer w.Close()
	return w.head.Finish(ctx)
}

// SetBudget bounds the memory of the sort (see Window). Call it before
// Push.
func (w *Window) SetBudget(b Budget) {
	if w.sort != nil {
		w.sort.SetBudget(b)
	}
}

// Close releases what the window holds and discards the sort's spill
// runs; it is idempotent.
func (w *Window) Close() {
	if w.sort != nil {
		w.sort.Close()
	}
	w.eval.close()
}

// Stats returns the rows consumed and emitted so far.
func (w *Window) Stats() Stats {
	st := w.eval.stats
	if w.sort != nil {
		st.RowsIn = w.sort.Stats().RowsIn
	}
	return st
}

// Break levels of a row against the row before it (windowEval.brk).
const (
	samePeer     = 0 // equal on every key
	newPeer      = 1 // same partition, a new peer group
	newPartition = 2
)

// windowEval computes window functions over a stream sorted by
// (partition keys, order keys). It holds the rows of the current
// partition (pend) and, per row, how it breaks from the row before it
// (brk). A batch in which a partition starts completes everything held
// before that row: those rows, whole partitions, are computed together
// (a segment) and emitted in their batches with the functions' columns
// appended, so output batches are the input's.
type windowEval struct {
	in     spec.Schema
	schema *arrow.Schema
	nPart  int       // keys[:nPart] are the partition keys
	keys   []sortKey // partition keys, then order keys
	funcs  []*winFunc
	out    Operator
	mem    memory.Allocator
	stats  Stats

	kd   []*keyData // keys of the batch being pushed (reused)
	prev []*keyData // the last row pushed: one row per key
	// started is set once a row was pushed (prev holds it).
	started bool
	tied    []uint32       // scratch of breaks
	pend    []arrow.Record // retained rows not yet computed
	brk     []uint8        // break level of each pending row
	bb      []uint8        // break levels of the batch being pushed (scratch)
	rows    int            // rows in pend
	seg     segment
}

// newWindowEval returns the evaluator of w; keys are the sort's, the
// partition keys first.
func newWindowEval(in spec.Schema, w *spec.WindowStep, keys []spec.SortKey, out spec.Schema, next Operator, mem memory.Allocator) (*windowEval, error) {
	if len(out) != len(in)+len(w.Funcs) {
		return nil, fmt.Errorf("operators: window: output schema %s does not have the %d input columns and %d functions", out, len(in), len(w.Funcs))
	}
	e := &windowEval{in: in, schema: arrowx.ArrowSchema(out), nPart: len(w.PartitionBy), out: next, mem: mem}
	for _, k := range keys {
		c := in.Index(k.Column)
		if c < 0 {
			return nil, fmt.Errorf("operators: window key %q is not a column of %s", k.Column, in)
		}
		e.keys = append(e.keys, sortKey{col: c, typ: in[c].Type.Physical(), desc: k.Desc, nullsFirst: k.NullsBefore()})
		e.kd = append(e.kd, &keyData{typ: in[c].Type.Physical(), desc: k.Desc, nullsFirst: k.NullsBefore()})
	}
	for i, f := range w.Funcs {
		wf, err := newWinFunc(f, in, out[len(in)+i].Type, mem)
		if err != nil {
			e.close()
			return nil, err
		}
		e.funcs = append(e.funcs, wf)
	}
	return e, nil
}

// Push cuts rec where partitions start: the rows before the last start in
// rec complete the pending partitions, which are computed and emitted;
// the rest is held.
func (e *windowEval) Push(ctx context.Context, rec arrow.Record) error {
	if err := CheckSchema("Window", rec, e.in); err != nil {
		return err
	}
	n := int(rec.NumRows())
	e.stats.RowsIn += int64(n)
	if n == 0 {
		return nil
	}
	if e.rows+n > math.MaxInt32 {
		return fmt.Errorf("operators: Window: more than %d rows in one partition (a partition is held whole)", math.MaxInt32)
	}
	e.bb = slices.Grow(e.bb[:0], n)[:n]
	bb := e.bb
	if err := e.breaks(rec, bb); err != nil {
		return err
	}
	last := n - 1
	for last >= 0 && bb[last] != newPartition {
		last--
	}
	if last < 0 {
		e.brk = append(e.brk, bb...)
		e.hold(rec, 0, n)
		return nil
	}
	if last > 0 {
		e.brk = append(e.brk, bb[:last]...)
		e.hold(rec, 0, last)
	}
	if err := e.flush(ctx); err != nil {
		return err
	}
	e.brk = append(e.brk, bb[last:]...)
	e.hold(rec, last, n)
	return nil
}

// hold keeps rows [from, to) of rec pending.
func (e *windowEval) hold(rec arrow.Record, from, to int) {
	if from == 0 && to == int(rec.NumRows()) {
		rec.Retain()
	} else {
		rec = rec.NewSlice(int64(from), int64(to))
	}
	e.pend = append(e.pend, rec)
	e.rows += to - from
}

// breaks sets brk[i] to the break level of row i of rec against the row
// before it (for row 0, the last row pushed before rec), comparing one key
// column at a time over the rows the keys before it left tied.
func (e *windowEval) breaks(rec arrow.Record, brk []uint8) error {
	n := len(brk)
	clear(brk)
	for k, kd := range e.kd {
		v, err := arrowx.ViewOf(rec.Column(e.keys[k].col))
		if err != nil {
			return err
		}
		kd.norm, kd.data, kd.null = kd.norm[:0], kd.data[:0], kd.null[:0]
		if v.Nulls == 0 {
			kd.null = nil // the words alone decide (the fast path below)
		}
		if kd.offs != nil {
			kd.offs = kd.offs[:1]
		}
		kd.add(&v)
	}
	brk[0] = newPartition
	if e.started {
		brk[0] = breakLevel(e.prev, 0, e.kd, 0, e.nPart)
	}
	e.started = true
	tied := e.tied[:0]
	for i := 1; i < n; i++ {
		tied = append(tied, uint32(i))
	}
	for k, kd := range e.kd {
		level := uint8(newPeer)
		if k < e.nPart {
			level = newPartition
		}
		next := tied[:0]
		if kd.null == nil && kd.typ != spec.String {
			// Words decide equality: no nulls, no string ties.
			norm := kd.norm
			for _, i := range tied {
				if norm[i-1] != norm[i] {
					brk[i] = level
				} else {
					next = append(next, i)
				}
			}
		} else {
			for _, i := range tied {
				if kd.compare(i-1, i) != 0 {
					brk[i] = level
				} else {
					next = append(next, i)
				}
			}
		}
		tied = next
	}
	e.tied = tied
	e.prev = e.prev[:0]
	for _, kd := range e.kd {
		e.prev = append(e.prev, kd.rowCopy(uint32(n-1)))
	}
	return nil
}

// breakLevel is the break level of row b of y against row a of x.
func breakLevel(x []*keyData, a uint32, y []*keyData, b uint32, nPart int) uint8 {
	for k := range x {
		if compareKey(x[k], a, y[k], b) != 0 {
			if k < nPart {
				return newPartition
			}
			return newPeer
		}
	}
	return samePeer
}

// Finish computes and emits the last partitions, then finishes downstream.
func (e *windowEval) Finish(ctx context.Context) error {
	if err := e.flush(ctx); err != nil {
		return err
	}
	return e.out.Finish(ctx)
}

// flush computes the pending rows, whole partitions, and emits them.
func (e *windowEval) flush(ctx context.Context) error {
	if e.rows == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	e.seg.reset(e.pend, e.brk[:e.rows])
	cols := make([]arrow.Array, len(e.funcs))
	defer arrowx.ReleaseAll(cols)
	for i, f := range e.funcs {
		a, err := f.compute(&e.seg, e.mem)
		if err != nil {
			return err
		}
		cols[i] = a
	}
	if err := e.emit(ctx, cols); err != nil {
		return err
	}
	e.release()
	return nil
}

// emit pushes each pending batch with its slice of the function columns.
func (e *windowEval) emit(ctx context.Context, cols []arrow.Array) error {
	off := 0
	arrs := make([]arrow.Array, 0, len(e.in)+len(cols))
	for _, rec := range e.pend {
		n := int(rec.NumRows())
		arrs = append(arrs[:0], rec.Columns()...)
		for _, c := range cols {
			arrs = append(arrs, array.NewSlice(c, int64(off), int64(off+n)))
		}
		out := array.NewRecord(e.schema, arrs, int64(n))
		arrowx.ReleaseAll(arrs[len(e.in):])
		e.stats.RowsOut += int64(n)
		err := e.out.Push(ctx, out)
		out.Release()
		if err != nil {
			return err
		}
		off += n
	}
	return nil
}

// close releases the pending rows and the functions' defaults.
func (e *windowEval) close() {
	e.release()
	for _, f := range e.funcs {
		f.close()
	}
	e.funcs = nil
}

// release drops the pending rows.
func (e *windowEval) release() {
	for _, rec := range e.pend {
		rec.Release()
	}
	e.pend, e.rows, e.brk = e.pend[:0], 0, e.brk[:0]
}
