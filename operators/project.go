package operators

import (
	"context"
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators/arrowx"
	"github.com/batchrun/batchrun/operators/expr"
)

// Project computes a new batch of named columns, one expression each, from
// every input batch (SELECT).
type Project struct {
	exprs  []evalFunc
	types  []spec.Type
	schema *arrow.Schema
	out    Operator
	mem    memory.Allocator
	stats  Stats
}

// NewProject returns a projection computing exprs (compiled against the
// input schema) as columns named names.
func NewProject(exprs []*expr.CompiledExpr, names []string, out Operator, mem memory.Allocator) (*Project, error) {
	if len(exprs) != len(names) {
		return nil, fmt.Errorf("operators: project has %d expressions and %d names", len(exprs), len(names))
	}
	funcs := make([]evalFunc, len(exprs))
	types := make([]spec.Type, len(exprs))
	for i, e := range exprs {
		funcs[i], types[i] = e.Eval, e.Type()
	}
	return newProjectFuncs(funcs, types, names, out, mem), nil
}

func newProjectFuncs(funcs []evalFunc, types []spec.Type, names []string, out Operator, mem memory.Allocator) *Project {
	s := make(spec.Schema, len(names))
	for i, n := range names {
		s[i] = spec.Field{Name: n, Type: types[i]}
	}
	return &Project{exprs: funcs, types: types, schema: arrowx.ArrowSchema(s), out: out, mem: mem}
}

// Stats returns the rows consumed and produced so far.
func (p *Project) Stats() Stats { return p.stats }

// Push evaluates every expression over rec and pushes the new batch.
func (p *Project) Push(ctx context.Context, rec arrow.Record) error {
	n := int(rec.NumRows())
	p.stats.RowsIn += int64(n)
	cols := make([]arrow.Array, len(p.exprs))
	for i, e := range p.exprs {
		a, err := e(rec, p.mem)
		if err != nil {
			arrowx.ReleaseAll(cols)
			return err
		}
		cols[i] = a
		if a.Len() != n || !arrow.TypeEqual(a.DataType(), p.schema.Field(i).Type) {
			arrowx.ReleaseAll(cols)
			return fmt.Errorf("operators: project column %s: got %d values of %s, want %d of %s",
				p.schema.Field(i).Name, a.Len(), a.DataType(), n, p.schema.Field(i).Type)
		}
	}
	out := arrowx.NewRecord(p.schema, cols, n)
	p.stats.RowsOut += int64(n)
	err := p.out.Push(ctx, out)
	out.Release()
	return err
}

// Finish finishes the downstream operator.
func (p *Project) Finish(ctx context.Context) error { return p.out.Finish(ctx) }
