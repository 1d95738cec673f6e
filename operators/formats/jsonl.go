package formats

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"unicode/utf8"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators"
	"github.com/batchrun/batchrun/operators/arrowx"
)

// JSONLScan is the JSON lines source: one JSON object per line, split
// across subtasks by byte ranges aligned to lines as CSVScan's. Members
// fill the schema's columns by key; a missing key is NULL, a key the
// schema lacks is skipped, a duplicate key is an error. null is NULL in
// every type; an int64 column takes integers, a float64 column any number,
// a bool column true/false, a string column strings (valid UTF-8) and
// also numbers and booleans as their literal text. Nested objects and
// arrays in a schema column are an error. Blank lines are skipped.
//
// Errors name the file, the line and, as the column, the 1-based position
// of the member in the line's object (the message names the key):
//
//	operators: events.jsonl:7:2: key "amount": want float64, got string
type JSONLScan struct {
	o     ScanOptions
	arrow *arrow.Schema
	stats operators.Stats
	bad   badRows
}

func newJSONLScan(o ScanOptions) *JSONLScan {
	return &JSONLScan{o: o, arrow: arrowx.ArrowSchema(o.Read.Schema), bad: newBadRows(&o)}
}

// Stats returns the rows read and skipped so far.
func (s *JSONLScan) Stats() operators.Stats { return s.stats }

// Run reads the split, pushes its rows in batches and finishes out.
func (s *JSONLScan) Run(ctx context.Context, out operators.Operator) error {
	spans, n, err := s.o.splitSpans()
	if err != nil {
		return err
	}
	r := newJSONLReader(s, int(min(int64(operators.BatchRows), n+1)))
	defer r.release()
	for _, sp := range spans {
		if err := s.runSpan(ctx, r, sp, out); err != nil {
			return err
		}
	}
	if err := r.emit(ctx, out); err != nil {
		return err
	}
	return out.Finish(ctx)
}

func (s *JSONLScan) runSpan(ctx context.Context, r *jsonlReader, sp Span, out operators.Operator) error {
	path, size := s.o.Input.Files[sp.File], s.o.Input.Sizes[sp.File]
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("operators: scan: %w", err)
	}
	defer f.Close()
	start, end, err := alignSpan(f, sp, size, 0)
	if err != nil {
		return err
	}
	r.line = 0
	r.ch.reset(f, path, start, end)
	err = r.run(ctx, out)
	s.bad.endFile(path)
	s.stats.RowsSkipped = s.bad.total
	return err
}

// jsonlReader parses lines into the column builders.
type jsonlReader struct {
	s       *JSONLScan
	ch      chunker
	line    int64
	cols    []*arrowx.ColBuilder
	names   [][]byte
	index   map[string]int
	seen    []uint64 // the row stamp of the last value set per column
	stamp   uint64
	scratch []byte
	rows    int
	capRows int
	open    bool
}

func newJSONLReader(s *JSONLScan, capRows int) *jsonlReader {
	schema := s.o.Read.Schema
	r := &jsonlReader{s: s, capRows: max(capRows, 1), index: make(map[string]int, len(schema)),
		seen: make([]uint64, len(schema))}
	for i, f := range schema {
		r.cols = append(r.cols, arrowx.NewColBuilder(f.Type, s.o.Mem))
		r.names = append(r.names, []byte(f.Name))
		r.index[f.Name] = i
	}
	return r
}

func (r *jsonlReader) run(ctx context.Context, out operators.Operator) error {
	return r.ch.each(ctx, func(data []byte, last bool) (int, error) {
		return r.lines(ctx, out, data, last)
	})
}

func (r *jsonlReader) lines(ctx context.Context, out operators.Operator, data []byte, last bool) (int, error) {
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

func (r *jsonlReader) bigStrings() bool {
	for _, b := range r.cols {
		if b.Dlen > maxBatchStrBytes {
			return true
		}
	}
	return false
}

// row parses one line: an object whose members go to their columns.
func (r *jsonlReader) row(line []byte) error {
	r.line++
	p := skipWS(line, 0)
	if p == len(line) {
		return nil
	}
	if !r.open {
		for _, b := range r.cols {
			b.Reset(r.capRows)
		}
		r.open = true
	}
	if line[p] != '{' {
		return r.errorf(1, "want a JSON object")
	}
	r.stamp++
	r.scratch = r.scratch[:0]
	p, err := r.members(line, skipWS(line, p+1))
	if err != nil {
		return err
	}
	if p = skipWS(line, p); p != len(line) {
		return r.errorf(1, "unexpected data after the object")
	}
	for c, b := range r.cols {
		if r.seen[c] != r.stamp {
			b.AppendNull()
		}
	}
	r.rows++
	return nil
}

// members parses the members of the object whose '{' precedes line[p] and
// returns the position after its '}'.
func (r *jsonlReader) members(line []byte, p int) (int, error) {
	if p < len(line) && line[p] == '}' {
		return p + 1, nil
	}
	for key := 1; ; key++ {
		if p >= len(line) || line[p] != '"' {
			return 0, r.errorf(key, "want a key string")
		}
		name, np, msg := jsonString(line, p, &r.scratch)
		if msg != "" {
			return 0, r.errorf(key, "key: %s", msg)
		}
		p = skipWS(line, np)
		if p >= len(line) || line[p] != ':' {
			return 0, r.errorf(key, "key %q: want ':'", name)
		}
		end, err := r.member(line, skipWS(line, p+1), key, name)
		if err != nil {
			return 0, err
		}
		p = skipWS(line, end)
		switch {
		case p < len(line) && line[p] == ',':
			p = skipWS(line, p+1)
		case p < len(line) && line[p] == '}':
			return p + 1, nil
		default:
			return 0, r.errorf(key, "key %q: want ',' or '}' after the value", name)
		}
	}
}

// member parses one member's value into its column (or skips it).
func (r *jsonlReader) member(line []byte, p, key int, name []byte) (int, error) {
	c := -1
	if key <= len(r.names) && bytes.Equal(r.names[key-1], name) {
		c = key - 1 // keys in schema order: no map lookup
	} else if i, ok := r.index[string(name)]; ok {
		c = i
	}
	if c < 0 {
		end, msg := jsonSkip(line, p, &r.scratch)
		if msg != "" {
			return 0, r.errorf(key, "key %q: %s", name, msg)
		}
		return end, nil
	}
	if r.seen[c] == r.stamp {
		return 0, r.errorf(key, "duplicate key %q", name)
	}
	r.seen[c] = r.stamp
	return r.value(r.cols[c], line, p, key, name)
}

// value parses a value of the column's type at line[p].
func (r *jsonlReader) value(b *arrowx.ColBuilder, line []byte, p, key int, name []byte) (int, error) {
	if p >= len(line) {
		return 0, r.errorf(key, "key %q: missing value", name)
	}
	c := line[p]
	switch {
	case c == 'n' && jsonLiteral(line, p, "null"):
		b.AppendNull()
		return p + 4, nil
	case c == '"':
		if b.Typ != spec.String {
			return 0, r.errorf(key, "key %q: want %s, got string", name, b.Typ)
		}
		s, end, msg := jsonString(line, p, &r.scratch)
		if msg == "" && !utf8.Valid(s) {
			msg = "invalid UTF-8 in string"
		}
		if msg != "" {
			return 0, r.errorf(key, "key %q: %s", name, msg)
		}
		b.AppendBytes(s)
		return end, nil
	case c == '-' || c >= '0' && c <= '9':
		return r.number(b, line, p, key, name)
	case c == 't' && jsonLiteral(line, p, "true"), c == 'f' && jsonLiteral(line, p, "false"):
		return r.boolean(b, line, p, key, name)
	case c == '{' || c == '[':
		return 0, r.errorf(key, "key %q: want %s, got a nested object or array", name, b.Typ)
	}
	return 0, r.errorf(key, "key %q: invalid value", name)
}

func (r *jsonlReader) number(b *arrowx.ColBuilder, line []byte, p, key int, name []byte) (int, error) {
	end := jsonNumberEnd(line, p)
	tok := line[p:end]
	switch b.Typ {
	case spec.Int64:
		if v, ok := parseInt64(tok); ok {
			b.I64[b.N] = v
			b.N++
			return end, nil
		}
		return 0, r.errorf(key, "key %q: %s", name, parseFailure(tok, "int64"))
	case spec.Float64:
		if v, ok := parseFloat64(tok); ok {
			b.F64[b.N] = v
			b.N++
			return end, nil
		}
		return 0, r.errorf(key, "key %q: %s", name, parseFailure(tok, "float64"))
	case spec.String:
		b.AppendBytes(tok)
		return end, nil
	}
	return 0, r.errorf(key, "key %q: want %s, got number", name, b.Typ)
}

func (r *jsonlReader) boolean(b *arrowx.ColBuilder, line []byte, p, key int, name []byte) (int, error) {
	v := line[p] == 't'
	end := p + 5
	if v {
		end = p + 4
	}
	switch b.Typ {
	case spec.Bool:
		b.AppendBool(v)
		return end, nil
	case spec.String:
		b.AppendBytes(line[p:end])
		return end, nil
	}
	return 0, r.errorf(key, "key %q: want %s, got boolean", name, b.Typ)
}

func (r *jsonlReader) errorf(col int, format string, args ...any) error {
	return &operators.DataError{File: r.ch.path, Line: r.ch.absLine(r.line), Column: col, Msg: fmt.Sprintf(format, args...)}
}

// emit pushes the batch in progress, if any rows.
func (r *jsonlReader) emit(ctx context.Context, out operators.Operator) error {
	if !r.open || r.rows == 0 {
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

func (r *jsonlReader) release() {
	if r.open {
		for _, b := range r.cols {
			b.Release()
		}
		r.open = false
	}
}
