package formats

import (
	"bytes"
	"unicode/utf8"

	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators/arrowx"
)

// csvReader reads the spans of one split (see lineReader), fields parsed
// straight into column builders.
type csvReader struct {
	lineReader
	s    *CSVScan
	sp   splitter
	fast bool // unquoted fields may take the fused fast paths
}

func newCSVReader(s *CSVScan, capRows int) *csvReader {
	r := &csvReader{s: s, fast: s.null == nil}
	r.sp = splitter{delim: s.delim, quote: s.quote, fields: make([][]byte, len(s.schema))}
	r.init(&s.lineScan, capRows, r.row)
	return r
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
	r.startBatch()
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
