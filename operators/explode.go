package operators

import (
	"bytes"
	"context"
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators/arrowx"
)

// Explode splits a string column by a separator into one row per piece,
// the other columns repeated, in input order. A null value yields no row;
// an empty string yields one empty piece (as strings.Split). The output
// has the input's columns with the split column replaced in place by the
// pieces. Per batch it counts the pieces of every row first, then gathers
// the other columns by row references and appends the pieces straight
// into one string buffer, in chunks of about BatchRows output rows.
type Explode struct {
	in     spec.Schema
	col    int
	sep    []byte
	schema *arrow.Schema
	out    Operator
	mem    memory.Allocator
	counts []int
	refs   []uint64
	stats  Stats
}

// NewExplode returns an explode of column col of in by sep; outSchema is
// the step's output schema (in with col renamed).
func NewExplode(in spec.Schema, col, sep string, outSchema spec.Schema, out Operator, mem memory.Allocator) (*Explode, error) {
	i := in.Index(col)
	if i < 0 || in[i].Type != spec.String {
		return nil, fmt.Errorf("operators: explode column %q is not a string column of %s", col, in)
	}
	if sep == "" {
		return nil, fmt.Errorf("operators: explode separator is empty")
	}
	if len(outSchema) != len(in) {
		return nil, fmt.Errorf("operators: explode output schema %s does not match input %s", outSchema, in)
	}
	return &Explode{in: in, col: i, sep: []byte(sep), schema: arrowx.ArrowSchema(outSchema), out: out, mem: mem}, nil
}

// Stats returns the rows consumed and emitted so far.
func (e *Explode) Stats() Stats { return e.stats }

// Push explodes one batch.
func (e *Explode) Push(ctx context.Context, rec arrow.Record) error {
	if err := CheckSchema("Explode", rec, e.in); err != nil {
		return err
	}
	n := int(rec.NumRows())
	e.stats.RowsIn += int64(n)
	if n == 0 {
		return nil
	}
	v, err := arrowx.ViewOf(rec.Column(e.col))
	if err != nil {
		return err
	}
	e.counts = sizedSlice(e.counts, n)
	for i := 0; i < n; i++ {
		e.counts[i] = 0
		if v.Nulls == 0 || !v.IsNull(i) {
			e.counts[i] = bytes.Count(v.Str(i), e.sep) + 1
		}
	}
	for from := 0; from < n; {
		to, rows := from, 0
		for to < n && (rows == 0 || rows+e.counts[to] <= BatchRows) {
			rows += e.counts[to]
			to++
		}
		if rows > 0 {
			if err := e.emit(ctx, rec, &v, from, to, rows); err != nil {
				return err
			}
		}
		from = to
	}
	return nil
}

// emit builds and pushes the output rows of input rows [from, to).
func (e *Explode) emit(ctx context.Context, rec arrow.Record, v *arrowx.ColView, from, to, rows int) error {
	e.refs = sizedSlice(e.refs, rows)[:0]
	pieces := arrowx.NewColBuilder(spec.String, e.mem)
	pieces.Reset(rows)
	for i := from; i < to; i++ {
		if e.counts[i] == 0 {
			continue
		}
		s := v.Str(i)
		for k := 0; k < e.counts[i]; k++ {
			e.refs = append(e.refs, uint64(i))
			j := bytes.Index(s, e.sep)
			if j < 0 {
				pieces.AppendBytes(s)
				break
			}
			pieces.AppendBytes(s[:j])
			s = s[j+len(e.sep):]
		}
	}
	cols := make([]arrow.Array, len(e.in))
	for c := range e.in {
		if c == e.col {
			cols[c] = pieces.Finish()
			continue
		}
		cv, err := arrowx.ViewOf(rec.Column(c))
		if err == nil {
			cols[c], err = gather(e.in[c].Type, []arrowx.ColView{cv}, e.refs, e.mem)
		}
		if err != nil {
			pieces.Release()
			arrowx.ReleaseAll(cols)
			return err
		}
	}
	out := arrowx.NewRecord(e.schema, cols, rows)
	e.stats.RowsOut += int64(rows)
	err := e.out.Push(ctx, out)
	out.Release()
	return err
}

// Finish finishes the downstream operator.
func (e *Explode) Finish(ctx context.Context) error { return e.out.Finish(ctx) }
