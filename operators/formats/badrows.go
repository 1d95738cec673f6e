package formats

import (
	"errors"
	"fmt"
	"io"

	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators"
)

// badRows applies a read's on_error to malformed rows: fail returns the
// row's *DataError; skip counts the row; quarantine counts it and writes
// it to the quarantine writer. Only the bad-row path runs here, so its
// allocations do not touch the per-row cost of good rows.
type badRows struct {
	mode     spec.OnError
	w        io.Writer
	skipped  func(file string, rows int64)
	total    int64 // rows dropped by this scan
	fileRows int64 // rows dropped from the current file
	line     []byte
}

func newBadRows(o *ScanOptions) badRows {
	return badRows{mode: o.Read.OnError, w: o.Quarantine, skipped: o.Skipped}
}

// handle decides about one malformed row: err is its error (a *DataError
// for a data problem; any other error is returned as is), raw its line.
func (b *badRows) handle(err error, raw []byte) error {
	var de *operators.DataError
	if b.mode == spec.OnErrorFail || !errors.As(err, &de) {
		return err
	}
	b.total++
	b.fileRows++
	if b.mode != spec.OnErrorQuarantine {
		return nil
	}
	b.line = fmt.Appendf(b.line[:0], "%s:%d:%d: %s\t", de.File, de.Line, de.Column, de.Msg)
	b.line = append(append(b.line, trimCR(raw)...), '\n')
	if _, werr := b.w.Write(b.line); werr != nil {
		return fmt.Errorf("operators: quarantine: %w", werr)
	}
	return nil
}

// endFile reports the rows dropped from file and resets the file count.
func (b *badRows) endFile(file string) {
	if b.fileRows > 0 && b.skipped != nil {
		b.skipped(file, b.fileRows)
	}
	b.fileRows = 0
}
