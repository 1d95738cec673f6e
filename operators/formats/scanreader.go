package formats

import (
	"bytes"
	"context"
	"fmt"
	"unicode/utf8"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators"
	"github.com/batchrun/batchrun/operators/arrowx"
)

// csvReader reads the spans of one split: big reads into one buffer, lines
// cut with bytes.IndexByte, fields parsed straight into column builders.
// Batches fill across files.
type csvReader struct {
	s       *CSVScan
	ch      chunker
	line    int64 // lines consumed in the current range, for errors
	sp      splitter
	fast    bool // unquoted fields may take the fused fast paths
	cols    []*arrowx.ColBuilder
	strCols []*arrowx.ColBuilder
	rows    int // rows in the current batch
	capRows int
	open    bool // builders hold a batch in progress
}

func newCSVReader(s *CSVScan, capRows int) *csvReader {
	r := &csvReader{s: s, capRows: max(capRows, 1), fast: s.null == nil}
	r.sp = splitter{delim: s.delim, quote: s.quote, fields: make([][]byte, len(s.schema))}
	for _, fld := range s.schema {
		b := arrowx.NewColBuilder(fld.Type, s.o.Mem)
		r.cols = append(r.cols, b)
		if fld.Type == spec.String {
			r.strCols = append(r.strCols, b)
		}
	}
	return r
}

// run reads every line of the chunker's range; it leaves the last,
// partial batch in the builders.
func (r *csvReader) run(ctx context.Context, out operators.Operator) error {
	return r.ch.each(ctx, func(data []byte, last bool) (int, error) {
		return r.lines(ctx, out, data, last)
	})
}

// lines parses the complete lines of data (and, when last, the final line
// without a newline) and returns how many bytes it consumed.
func (r *csvReader) lines(ctx context.Context, out operators.Operator, data []byte, last bool) (int, error) {
	p := 0
	for p < len(data) {
		i := bytes.IndexByte(data[p:], '\n')
		if i < 0 {
			if !last {
				break
			}
			i = len(data) - p
		}
		if err := r.row(data[p : p+i]); err != nil {
			for _, b := range r.cols {
				b.Truncate(r.rows)
			}
			if err := r.s.bad.handle(err, data[p:p+i]); err != nil {
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

func (r *csvReader) bigStrings() bool {
	for _, b := range r.strCols {
		if b.Dlen > maxBatchStrBytes {
			return true
		}
	}
	return false
}

// row parses one line (without its newline) into the builders. On error
// some columns may hold a value of the row: the caller truncates them.
func (r *csvReader) row(line []byte) error {
	r.line++
	line = trimCR(line)
	if len(line) == 0 && len(r.cols) > 1 {
		return nil
	}
	if len(line) > maxBatchStrBytes { // keeps a batch's strings under 2 GiB
		return r.errorf(1, "line is longer than %d bytes", maxBatchStrBytes)
	}
	if !r.open {
		for _, b := range r.cols {
			b.Reset(r.capRows)
		}
		r.open = true
	}
	r.sp.scratch = r.sp.scratch[:0]
	last := len(r.cols) - 1
	pos := 0
	for c, b := range r.cols {
		end, err := r.value(b, c, line, pos)
		if err != nil {
			return err
		}
		if c < last {
			if end >= len(line) {
				return r.errorf(c+2, "row has %d fields, want %d", c+1, len(r.cols))
			}
			pos = end + 1
		} else if end < len(line) {
			return r.errorf(len(r.cols)+1, "row has more than %d fields", len(r.cols))
		}
	}
	r.rows++
	return nil
}

// value parses the field of column c that starts at line[pos] and returns
// the index of the delimiter after it (or len(line)). Unquoted int64,
// float64 and string fields take a fused scan-and-parse path that touches
// each byte once; every other field goes through splitter.next and field.
func (r *csvReader) value(b *arrowx.ColBuilder, c int, line []byte, pos int) (int, error) {
	if r.fast && pos < len(line) && line[pos] != r.sp.quote {
		switch b.Typ {
		case spec.Int64:
			if v, end, ok := scanInt64(line, pos, r.s.delim); ok {
				b.I64[b.N] = v
				b.N++
				return end, nil
			}
		case spec.Float64:
			if v, end, ok := scanFloat64(line, pos, r.s.delim); ok {
				b.F64[b.N] = v
				b.N++
				return end, nil
			}
		case spec.String:
			end := len(line)
			if i := bytes.IndexByte(line[pos:], r.s.delim); i >= 0 {
				end = pos + i
			}
			if !utf8.Valid(line[pos:end]) {
				return 0, r.errorf(c+1, "invalid UTF-8 in string field")
			}
			b.AppendBytes(line[pos:end])
			return end, nil
		}
	}
	f, end, msg := r.sp.next(line, pos)
	if msg != "" {
		return 0, r.errorf(c+1, "%s", msg)
	}
	return end, r.field(b, c, f)
}

// field appends one field to its column's builder.
func (r *csvReader) field(b *arrowx.ColBuilder, c int, f []byte) error {
	if r.s.null != nil && bytes.Equal(f, r.s.null) {
		b.AppendNull()
		return nil
	}
	switch b.Typ {
	case spec.Int64:
		if v, ok := parseInt64(f); ok {
			b.I64[b.N] = v
			b.N++
			return nil
		}
	case spec.Float64:
		if v, ok := parseFloat64(f); ok {
			b.F64[b.N] = v
			b.N++
			return nil
		}
	case spec.Bool:
		if v, ok := parseBool(f); ok {
			b.AppendBool(v)
			return nil
		}
	default:
		if !utf8.Valid(f) {
			return r.errorf(c+1, "invalid UTF-8 in string field")
		}
		b.AppendBytes(f)
		return nil
	}
	if len(f) == 0 {
		b.AppendNull()
		return nil
	}
	return r.errorf(c+1, "%s", parseFailure(f, b.Typ.String()))
}

// errorf returns a *DataError at column col of the current line. The
// absolute line number is computed only now (once per range): it counts
// the newlines before the range.
func (r *csvReader) errorf(col int, format string, args ...any) error {
	return &operators.DataError{File: r.ch.path, Line: r.ch.absLine(r.line), Column: col, Msg: fmt.Sprintf(format, args...)}
}

// emit pushes the batch in progress.
func (r *csvReader) emit(ctx context.Context, out operators.Operator) error {
	if !r.open {
		return nil
	}
	cols := make([]arrow.Array, len(r.cols))
	for i, b := range r.cols {
		cols[i] = b.Finish()
	}
	r.open = false
	rec := arrowx.NewRecord(r.s.arrow, cols, r.rows)
	r.s.stats.RowsIn += int64(r.rows)
	r.s.stats.RowsOut += int64(r.rows)
	r.rows = 0
	err := out.Push(ctx, rec)
	rec.Release()
	return err
}

// release frees a batch in progress (after an error).
func (r *csvReader) release() {
	if r.open {
		for _, b := range r.cols {
			b.Release()
		}
		r.open = false
	}
}
