package operators

import (
	"context"

	"github.com/apache/arrow/go/v17/arrow"
)

// BatchRows is the target number of rows per batch.
const BatchRows = 64 * 1024

// Operator consumes batches pushed into it.
type Operator interface {
	// Push hands one batch to the operator. The caller keeps ownership.
	Push(ctx context.Context, rec arrow.Record) error
	// Finish ends the input: flush, push the rest downstream, then Finish it.
	Finish(ctx context.Context) error
}

// Source produces batches into an operator and then finishes it.
type Source interface {
	Run(ctx context.Context, out Operator) error
}
