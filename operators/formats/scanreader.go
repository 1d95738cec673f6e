package formats

import (
	"bytes"
	"unicode/utf8"

	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators/arrowx"
)

// csvReader reads the spans of one split (see lineReader), fields parsed
// straight into column builders. The fields of columns the scan does not
// emit (ScanOptions.Columns) are only delimited: no conversion, no copy,
// no check of their value; past the last emitted column the rest of the
// line is only counted.
type csvReader struct {
	lineReader
	s    *CSVScan
	sp   splitter
	fast bool // unquoted fields may take the fused fast paths
	// fileCols has one entry per column of the file (the read's schema):
	// its builder, or nil for a column the scan skips.
	fileCols []*arrowx.ColBuilder
	lastKept int    // the index in fileCols of the last emitted column
	delim    []byte // the delimiter, for bytes.Count
}

func newCSVReader(s *CSVScan, capRows int) *csvReader {
	r := &csvReader{s: s, fast: s.null == nil, delim: []byte{s.delim}}
	r.sp = splitter{delim: s.delim, quote: s.quote, fields: make([][]byte, len(s.schema))}
	r.init(&s.lineScan, capRows, r.row)
	r.fileCols = make([]*arrowx.ColBuilder, len(s.schema))
	k := 0
	for i, keep := range s.o.keep {
		if keep {
			r.fileCols[i], r.lastKept = r.cols[k], i
			k++
		}
	}
	return r
}

// row parses one line (without its newline) into the builders. On error
// some columns may hold a value of the row: the caller truncates them.
func (r *csvReader) row(line []byte) error {
	r.line++
	line = trimCR(line)
	n := len(r.fileCols)
	if len(line) == 0 && n > 1 {
		return nil
	}
	if len(line) > maxBatchStrBytes { // keeps a batch's strings under 2 GiB
		return r.errorf(1, "line is longer than %d bytes", maxBatchStrBytes)
	}
	r.startBatch()
	r.sp.scratch = r.sp.scratch[:0]
	last := n - 1
	pos := 0
	for c, b := range r.fileCols[:r.lastKept+1] {
		var end int
		var err error
		if b != nil {
			end, err = r.value(b, c, line, pos)
		} else {
			end, err = r.skip(c, line, pos)
		}
		if err != nil {
			return err
		}
		if c < last {
			if end >= len(line) {
				return r.errorf(c+2, "row has %d fields, want %d", c+1, n)
			}
			pos = end + 1
		} else if end < len(line) {
			return r.errorf(n+1, "row has more than %d fields", n)
		}
	}
	if r.lastKept < last {
		if err := r.rest(line, pos); err != nil {
			return err
		}
	}
	r.rows++
	return nil
}

// rest checks the skipped fields after the last emitted column, from
// line[pos]: the line must hold exactly one field per remaining column.
// Without a quote byte there, counting delimiters says so in one
// memchr-like pass; otherwise the fields are delimited one by one, as a
// quoted field may hold the delimiter.
func (r *csvReader) rest(line []byte, pos int) error {
	n, first := len(r.fileCols), r.lastKept+1
	if bytes.IndexByte(line[pos:], r.sp.quote) < 0 {
		got := first + bytes.Count(line[pos:], r.delim) + 1
		switch {
		case got < n:
			return r.errorf(got+1, "row has %d fields, want %d", got, n)
		case got > n:
			return r.errorf(n+1, "row has more than %d fields", n)
		}
		return nil
	}
	for c := first; c < n; c++ {
		end, err := r.skip(c, line, pos)
		if err != nil {
			return err
		}
		if c < n-1 {
			if end >= len(line) {
				return r.errorf(c+2, "row has %d fields, want %d", c+1, n)
			}
			pos = end + 1
		} else if end < len(line) {
			return r.errorf(n+1, "row has more than %d fields", n)
		}
	}
	return nil
}

// skip returns the end of column c's field at line[pos] (the index of the
// delimiter after it, or len(line)) without converting or copying it.
func (r *csvReader) skip(c int, line []byte, pos int) (int, error) {
	if pos < len(line) && line[pos] == r.sp.quote {
		end, msg := skipQuoted(line, pos, r.sp.quote, r.s.delim)
		if msg != "" {
			return 0, r.errorf(c+1, "%s", msg)
		}
		return end, nil
	}
	if i := bytes.IndexByte(line[pos:], r.s.delim); i >= 0 {
		return pos + i, nil
	}
	return len(line), nil
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
	if isIntText(b.Typ) {
		v, err := parseIntText(f, b.Typ)
		switch {
		case err == nil:
			b.I64[b.N] = v
			b.N++
		case len(f) == 0:
			b.AppendNull()
		default:
			return r.errorf(c+1, "%s", intTextFailure(f, b.Typ, err))
		}
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
