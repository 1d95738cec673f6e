package operators

import (
	"errors"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/jobs/spec"
)

// CompiledExpr is a spec.Expr bound to an input schema, evaluated on whole
// batches. It is safe for use by one goroutine at a time.
type CompiledExpr struct {
	typ spec.Type
}

// CompileExpr binds e to the input schema in. The schema's column i is
// column i of every batch later passed to Eval.
func CompileExpr(e spec.Expr, in spec.Schema) (*CompiledExpr, error) {
	return nil, errors.New("operators: expression evaluation not implemented yet")
}

// Type is the expression's result type.
func (c *CompiledExpr) Type() spec.Type { return c.typ }

// Eval evaluates the expression over every row of rec and returns an array
// of rec.NumRows() values of Type(). The caller releases the result.
func (c *CompiledExpr) Eval(rec arrow.Record, mem memory.Allocator) (arrow.Array, error) {
	return nil, errors.New("operators: expression evaluation not implemented yet")
}
