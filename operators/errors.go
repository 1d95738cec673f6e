package operators

import (
	"errors"
	"fmt"
)

// DataError is a malformed input row: it names the file, the 1-based line
// and the 1-based column (field number). Callers branch on it (IsDataError)
// to choose the data-error exit code.
type DataError struct {
	File   string
	Line   int64
	Column int
	Msg    string
}

func (e *DataError) Error() string {
	return fmt.Sprintf("operators: %s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
}

// IsDataError reports whether err is, or wraps, a *DataError.
func IsDataError(err error) bool {
	var de *DataError
	return errors.As(err, &de)
}
