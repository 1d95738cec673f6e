package operators

import (
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators/arrowx"
)

// Stats counts the rows an operator consumed and produced, for the run
// report. Every operator has a Stats method; it is read by the goroutine
// that drives the operator, or after it finished.
type Stats struct {
	RowsIn, RowsOut int64
	// RowsSkipped counts the malformed input rows a scan dropped
	// (on_error skip or quarantine); 0 for other operators.
	RowsSkipped int64
}

// CheckSchema fails unless rec has exactly the columns of want, by type.
// Operators call it on every pushed batch (it is per batch, not per row), so
// a wiring mistake is an error instead of a panic in a typed loop.
func CheckSchema(who string, rec arrow.Record, want spec.Schema) error {
	if int(rec.NumCols()) != len(want) {
		return fmt.Errorf("operators: %s: batch has %d columns, want %d %s", who, rec.NumCols(), len(want), want)
	}
	for i, f := range want {
		got := rec.Column(i).DataType()
		if !arrow.TypeEqual(got, arrowx.ArrowType(f.Type)) {
			return fmt.Errorf("operators: %s: column %d (%s) is %s, want %s", who, i, f.Name, got, f.Type)
		}
	}
	return nil
}
