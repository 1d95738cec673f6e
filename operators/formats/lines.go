package formats

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"sync/atomic"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators"
	"github.com/batchrun/batchrun/operators/arrowx"
)

// lineScan is what the scans of the line formats (CSV, JSON lines) share:
// the split's spans, each aligned to line starts and read by a lineReader
// into batches, the read's on_error for bad rows, and the stats.
type lineScan struct {
	o         ScanOptions
	arrow     *arrow.Schema
	bytesRead int64
	stats     operators.Stats
	bad       badRows
	dec       decoders // reused from file to file
}

func newLineScan(o ScanOptions) lineScan {
	return lineScan{o: o, arrow: arrowx.ArrowSchema(o.out), bad: newBadRows(&o)}
}

// Stats returns the rows read and skipped so far (RowsIn = RowsOut).
func (s *lineScan) Stats() operators.Stats { return s.stats }

// run reads the split with the reader newReader returns, pushes its rows
// into out in batches of at most BatchRows rows, then finishes out. On
// error it does not finish out. dataStart, when not nil, reads what comes
// before the data of a file (CSV: the header) from the file's content
// (decompressed) and returns the offset where the data starts.
func (s *lineScan) run(ctx context.Context, out operators.Operator, newReader func(capRows int) *lineReader,
	dataStart func(r *bufio.Reader, path string) (int64, error)) error {
	spans, bytes, err := s.o.splitSpans()
	if err != nil {
		return err
	}
	r := newReader(int(min(int64(operators.BatchRows), bytes+1)))
	defer r.release()
	defer s.dec.close()
	for _, sp := range spans {
		if err := s.runSpan(ctx, r, sp, out, dataStart); err != nil {
			return err
		}
	}
	if err := r.emit(ctx, out); err != nil {
		return err
	}
	s.stats.RowsSkipped = s.bad.total
	return out.Finish(ctx)
}

// runSpan reads one span of one file into r: its line-aligned byte range,
// or a compressed file whole as a stream.
func (s *lineScan) runSpan(ctx context.Context, r *lineReader, sp Span, out operators.Operator,
	dataStart func(r *bufio.Reader, path string) (int64, error)) error {
	path, size := s.o.Input.Files[sp.File], s.o.Input.Sizes[sp.File]
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("operators: scan: %w", err)
	}
	defer f.Close()
	compressed := codecOf(path) != codecNone
	var from int64
	var content *bufio.Reader
	if dataStart != nil || compressed {
		// A plain file's bytes are counted by the chunker, ranges only.
		var read *atomic.Int64
		if compressed {
			read = s.o.Progress
		}
		if content, err = s.dec.open(f, path, read); err != nil {
			return err
		}
	}
	if dataStart != nil {
		if from, err = dataStart(content, path); err != nil {
			return err
		}
	}
	r.line = 0
	if compressed {
		s.bytesRead += size
		r.ch.resetStream(content, path, min(from, 1)) // the header's newline
	} else {
		start, end, err := alignSpan(f, sp, size, from)
		if err != nil {
			return err
		}
		s.bytesRead += end - start
		r.ch.reset(f, path, start, end)
		r.ch.progress = s.o.Progress
		if s.o.Progress != nil && sp.Start == 0 {
			s.o.Progress.Add(start) // the header: every byte of the file counts once
		}
	}
	err = r.run(ctx, out)
	s.bad.endFile(path)
	s.stats.RowsSkipped = s.bad.total
	return err
}

// lineReader is what the CSV and JSON lines readers share: big reads of a
// span into one buffer, lines cut with bytes.IndexByte and handed to parse,
// the batch in progress (one builder per column; batches fill across
// files), bad lines truncated away and handed to the read's on_error, and
// full batches pushed.
type lineReader struct {
	scan    *lineScan
	ch      chunker
	line    int64                   // lines consumed in the current range, for errors
	parse   func(line []byte) error // parses one line (without its newline)
	cols    []*arrowx.ColBuilder
	strCols []*arrowx.ColBuilder
	rows    int // rows in the current batch
	capRows int
	open    bool // builders hold a batch in progress
}

// init readies r to read batches of at most capRows rows of the scan's
// emitted schema (one builder per emitted column), each line parsed by
// parse.
func (r *lineReader) init(s *lineScan, capRows int, parse func(line []byte) error) {
	r.scan, r.capRows, r.parse = s, max(capRows, 1), parse
	for _, fld := range s.o.out {
		b := arrowx.NewColBuilder(fld.Type, s.o.Mem)
		r.cols = append(r.cols, b)
		if fld.Type == spec.String {
			r.strCols = append(r.strCols, b)
		}
	}
}

// run reads every line of the chunker's range; it leaves the last,
// partial batch in the builders.
func (r *lineReader) run(ctx context.Context, out operators.Operator) error {
	return r.ch.each(ctx, func(data []byte, last bool) (int, error) {
		return r.lines(ctx, out, data, last)
	})
}

// lines parses the complete lines of data (and, when last, the final line
// without a newline) and returns how many bytes it consumed.
func (r *lineReader) lines(ctx context.Context, out operators.Operator, data []byte, last bool) (int, error) {
	p := 0
	for p < len(data) {
		i := bytes.IndexByte(data[p:], '\n')
		if i < 0 {
			if !last {
				break
			}
			i = len(data) - p
		}
		if err := r.parse(data[p : p+i]); err != nil {
			for _, b := range r.cols {
				b.Truncate(r.rows)
			}
			if err := r.scan.bad.handle(err, data[p:p+i]); err != nil {
				return p, err
			}
		}
		p += i + 1
		if r.rows == r.capRows || r.bigStrings() {
			if err := r.emit(ctx, out); err != nil {
				return p, err
			}
		}
	}
	return min(p, len(data)), nil
}

func (r *lineReader) bigStrings() bool {
	for _, b := range r.strCols {
		if b.Dlen > maxBatchStrBytes {
			return true
		}
	}
	return false
}

// startBatch readies the builders for a batch unless one is in progress.
func (r *lineReader) startBatch() {
	if !r.open {
		for _, b := range r.cols {
			b.Reset(r.capRows)
		}
		r.open = true
	}
}

// errorf returns a *DataError at column col of the current line. The
// absolute line number is computed only now (once per range): it counts
// the newlines before the range.
func (r *lineReader) errorf(col int, format string, args ...any) error {
	return &operators.DataError{File: r.ch.path, Line: r.ch.absLine(r.line), Column: col, Msg: fmt.Sprintf(format, args...)}
}

// emit pushes the batch in progress, if any rows.
func (r *lineReader) emit(ctx context.Context, out operators.Operator) error {
	if !r.open || r.rows == 0 {
		return nil
	}
	cols := make([]arrow.Array, len(r.cols))
	for i, b := range r.cols {
		cols[i] = b.Finish()
	}
	r.open = false
	rec := arrowx.NewRecord(r.scan.arrow, cols, r.rows)
	r.scan.stats.RowsIn += int64(r.rows)
	r.scan.stats.RowsOut += int64(r.rows)
	r.rows = 0
	err := out.Push(ctx, rec)
	rec.Release()
	return err
}

// release frees a batch in progress (after an error).
func (r *lineReader) release() {
	if r.open {
		for _, b := range r.cols {
			b.Release()
		}
		r.open = false
	}
}
