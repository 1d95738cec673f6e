package operators

import (
	"context"
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators/arrowx"
)

// HashDistinct keeps, for each distinct tuple of its key columns, the first
// row in input order, and drops the rest; nulls equal nulls. It streams:
// each pushed batch yields its new rows right away (the batch itself when
// every row is new), so partial and final halves are the same operator.
// The table holds every distinct key seen (no spilling yet).
type HashDistinct struct {
	in     spec.Schema
	keys   []int
	table  *groupTable
	schema *arrow.Schema
	out    Operator
	mem    memory.Allocator
	bk     batchKeys
	views  []arrowx.ColView
	gids   []int32
	refs   []uint64
	stats  Stats
}

// NewHashDistinct returns a distinct over the columns keys of in (every
// column when keys is empty).
func NewHashDistinct(in spec.Schema, keys []string, out Operator, mem memory.Allocator) (*HashDistinct, error) {
	d := &HashDistinct{in: in, schema: arrowx.ArrowSchema(in), out: out, mem: mem}
	if len(keys) == 0 {
		keys = in.Names()
	}
	var types []spec.Type
	for _, k := range keys {
		i := in.Index(k)
		if i < 0 {
			return nil, fmt.Errorf("operators: distinct column %q is not a column of %s", k, in)
		}
		d.keys = append(d.keys, i)
		types = append(types, in[i].Type)
	}
	codec, err := newKeyCodec(types)
	if err != nil {
		return nil, err
	}
	d.table = newGroupTable(codec, true)
	return d, nil
}

// Stats returns the rows consumed and emitted so far.
func (d *HashDistinct) Stats() Stats { return d.stats }

// Push emits the rows of rec whose key was not seen before.
func (d *HashDistinct) Push(ctx context.Context, rec arrow.Record) error {
	if err := CheckSchema("HashDistinct", rec, d.in); err != nil {
		return err
	}
	n := int(rec.NumRows())
	d.stats.RowsIn += int64(n)
	if n == 0 {
		return nil
	}
	views, err := arrowx.ViewsOf(rec, d.keys, d.views)
	if err != nil {
		return err
	}
	d.views = views
	if err := d.table.codec.prepare(views, n, &d.bk); err != nil {
		return err
	}
	d.gids = sizedSlice(d.gids, n)
	next := int32(d.table.len())
	d.table.insert(&d.bk, d.gids)
	// Groups are numbered in first-seen order, so a row is the first of
	// its key exactly when its group is the next new one.
	d.refs = d.refs[:0]
	for i, g := range d.gids {
		if g == next {
			d.refs = append(d.refs, uint64(i))
			next++
		}
	}
	switch len(d.refs) {
	case 0:
		return nil
	case n:
		d.stats.RowsOut += int64(n)
		return d.out.Push(ctx, rec)
	}
	return d.emit(ctx, rec)
}

func (d *HashDistinct) emit(ctx context.Context, rec arrow.Record) error {
	cols := make([][]arrowx.ColView, len(d.in))
	types := make([]spec.Type, len(d.in))
	for c := range d.in {
		v, err := arrowx.ViewOf(rec.Column(c))
		if err != nil {
			return err
		}
		cols[c], types[c] = []arrowx.ColView{v}, d.in[c].Type
	}
	out, err := gatherRecord(d.schema, types, cols, d.refs, d.mem)
	if err != nil {
		return err
	}
	d.stats.RowsOut += int64(len(d.refs))
	err = d.out.Push(ctx, out)
	out.Release()
	return err
}

// Finish finishes the downstream operator.
func (d *HashDistinct) Finish(ctx context.Context) error { return d.out.Finish(ctx) }
