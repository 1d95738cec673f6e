package operators

import (
	"errors"
	"fmt"

	"github.com/batchrun/batchrun/operators/expr"
)

// DataError is a malformed input row: it names the file, the 1-based line
// and the 1-based column (field number). Callers branch on it (IsDataError)
// to choose the data-error exit code. Line 0 is bad input that is no one
// row (a corrupt compressed file): it names the file only.
type DataError struct {
	File   string
	Line   int64
	Column int
	Msg    string
}

func (e *DataError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("operators: %s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("operators: %s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
}

// Permanent implements the scheduler's test for failures that running
// again cannot fix: the same row fails the same way on every attempt.
func (e *DataError) Permanent() bool { return true }

// IsDataError reports whether err is, or wraps, a *DataError or an
// *expr.EvalError: input the job cannot process.
func IsDataError(err error) bool {
	var de *DataError
	var ee *expr.EvalError
	return errors.As(err, &de) || errors.As(err, &ee)
}
