package operators

import (
	"context"
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/bitutil"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators/arrowx"
	"github.com/batchrun/batchrun/operators/expr"
)

// evalFunc evaluates an expression over a batch (CompiledExpr.Eval, or a
// stand-in in tests).
type evalFunc func(rec arrow.Record, mem memory.Allocator) (arrow.Array, error)

// Filter keeps the rows where its predicate is true (NULL drops the row).
// A batch where every row passes is forwarded as is; otherwise the kept
// rows are gathered into a new batch, and an empty result is not pushed.
type Filter struct {
	pred  evalFunc
	in    spec.Schema
	types []spec.Type
	out   Operator
	mem   memory.Allocator
	refs  []uint64
	cols  [][]arrowx.ColView
	stats Stats
	// keep and kept, when set (Keep), are the input columns emitted and
	// the schema of the batches emitted.
	keep []int
	kept *arrow.Schema
}

// Keep makes the filter emit only the input columns named (in input
// order): the columns only its predicate reads do not travel on. Call it
// before Push.
func (f *Filter) Keep(names []string) error {
	f.keep, f.types = nil, nil
	var sub spec.Schema
	for _, n := range names {
		i := f.in.Index(n)
		if i < 0 {
			return fmt.Errorf("operators: filter keeps %q, not a column of %s", n, f.in)
		}
		f.keep = append(f.keep, i)
		f.types = append(f.types, f.in[i].Type)
		sub = append(sub, f.in[i])
	}
	f.kept = arrowx.ArrowSchema(sub)
	f.cols = make([][]arrowx.ColView, len(f.keep))
	return nil
}

// column is input column c of the output (the c-th kept one).
func (f *Filter) column(c int) int {
	if f.keep == nil {
		return c
	}
	return f.keep[c]
}

// NewFilter returns a filter of batches of schema in by pred, a bool
// expression compiled against in.
func NewFilter(pred *expr.CompiledExpr, in spec.Schema, out Operator, mem memory.Allocator) (*Filter, error) {
	if t := pred.Type(); t != spec.Bool && t != spec.Null {
		return nil, fmt.Errorf("operators: filter predicate has type %s, want bool", t)
	}
	return newFilterFunc(pred.Eval, in, out, mem), nil
}

func newFilterFunc(pred evalFunc, in spec.Schema, out Operator, mem memory.Allocator) *Filter {
	f := &Filter{pred: pred, in: in, out: out, mem: mem}
	for _, fld := range in {
		f.types = append(f.types, fld.Type)
	}
	f.cols = make([][]arrowx.ColView, len(in))
	return f
}

// Stats returns the rows consumed and passed so far.
func (f *Filter) Stats() Stats { return f.stats }

// Push filters one batch.
func (f *Filter) Push(ctx context.Context, rec arrow.Record) error {
	if err := CheckSchema("Filter", rec, f.in); err != nil {
		return err
	}
	n := int(rec.NumRows())
	f.stats.RowsIn += int64(n)
	if n == 0 {
		return nil
	}
	mask, err := f.pred(rec, f.mem)
	if err != nil {
		return err
	}
	v, err := arrowx.ViewOf(mask)
	defer mask.Release()
	if err != nil {
		return err
	}
	if v.Typ != spec.Bool && v.Typ != spec.Null || v.N != n {
		return fmt.Errorf("operators: filter predicate gave %d values of type %s for %d rows", v.N, v.Typ, n)
	}
	f.selection(&v)
	switch len(f.refs) {
	case 0:
		return nil
	case n:
		f.stats.RowsOut += int64(n)
		if f.keep == nil {
			return f.out.Push(ctx, rec)
		}
		arrs := make([]arrow.Array, len(f.keep))
		for c, i := range f.keep {
			arrs[c] = rec.Column(i)
		}
		sub := array.NewRecord(f.kept, arrs, int64(n))
		defer sub.Release()
		return f.out.Push(ctx, sub)
	}
	return f.gatherPush(ctx, rec)
}

// selection sets f.refs to the rows where v is true and not null.
func (f *Filter) selection(v *arrowx.ColView) {
	f.refs = f.refs[:0]
	if v.Typ == spec.Null {
		return
	}
	if v.Nulls == 0 && bitutil.CountSetBits(v.Bits, v.Voff, v.N) == v.N {
		f.refs = sizedSlice(f.refs, v.N) // all pass: only the length matters
		return
	}
	for i := 0; i < v.N; i++ {
		if v.BoolAt(i) && !v.IsNull(i) {
			f.refs = append(f.refs, uint64(i))
		}
	}
}

func (f *Filter) gatherPush(ctx context.Context, rec arrow.Record) error {
	for c := range f.cols {
		v, err := arrowx.ViewOf(rec.Column(f.column(c)))
		if err != nil {
			return err
		}
		f.cols[c] = append(f.cols[c][:0], v)
	}
	schema := rec.Schema()
	if f.kept != nil {
		schema = f.kept
	}
	outRec, err := gatherRecord(schema, f.types, f.cols, f.refs, f.mem)
	if err != nil {
		return err
	}
	f.stats.RowsOut += int64(len(f.refs))
	err = f.out.Push(ctx, outRec)
	outRec.Release()
	return err
}

// Finish finishes the downstream operator.
func (f *Filter) Finish(ctx context.Context) error { return f.out.Finish(ctx) }
