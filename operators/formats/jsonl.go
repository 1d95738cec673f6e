package formats

import (
	"bytes"
	"context"
	"unicode/utf8"

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
// arrays in a schema column are an error. Blank lines are skipped. A
// column the scan does not emit (ScanOptions.Columns) is read like a key
// the schema lacks: its value is skipped, whatever its type.
//
// Errors name the file, the line and, as the column, the 1-based position
// of the member in the line's object (the message names the key):
//
//	operators: events.jsonl:7:2: key "amount": want float64, got string
type JSONLScan struct{ lineScan }

func newJSONLScan(o ScanOptions) *JSONLScan { return &JSONLScan{newLineScan(o)} }

// Run reads the split, pushes its rows in batches and finishes out.
func (s *JSONLScan) Run(ctx context.Context, out operators.Operator) error {
	return s.run(ctx, out, func(capRows int) *lineReader { return &newJSONLReader(s, capRows).lineReader }, nil)
}

// jsonlReader parses lines (see lineReader) into the column builders.
// Keys are matched against the read's whole schema (so that the fast
// path of keys in schema order holds under a projection); slot maps a
// schema column to its builder in cols.
type jsonlReader struct {
	lineReader
	names   [][]byte
	index   map[string]int
	slot    []int    // per schema column, its index in cols, or -1: skipped
	seen    []uint64 // the row stamp of the last value set per emitted column
	stamp   uint64
	scratch []byte
}

func newJSONLReader(s *JSONLScan, capRows int) *jsonlReader {
	schema := s.o.Read.Schema
	r := &jsonlReader{index: make(map[string]int, len(schema)), slot: make([]int, len(schema))}
	r.init(&s.lineScan, capRows, r.row)
	r.seen = make([]uint64, len(r.cols))
	k := 0
	for i, f := range schema {
		r.names = append(r.names, []byte(f.Name))
		r.index[f.Name] = i
		r.slot[i] = -1
		if s.o.keep[i] {
			r.slot[i] = k
			k++
		}
	}
	return r
}

// row parses one line: an object whose members go to their columns.
func (r *jsonlReader) row(line []byte) error {
	r.line++
	p := skipWS(line, 0)
	if p == len(line) {
		return nil
	}
	r.startBatch()
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
	if c >= 0 {
		c = r.slot[c]
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
		if b.Typ != spec.String && !isIntText(b.Typ) {
			return 0, r.errorf(key, "key %q: want %s, got string", name, b.Typ)
		}
		s, end, msg := jsonString(line, p, &r.scratch)
		if msg == "" && !utf8.Valid(s) {
			msg = "invalid UTF-8 in string"
		}
		if msg != "" {
			return 0, r.errorf(key, "key %q: %s", name, msg)
		}
		if b.Typ != spec.String {
			return end, r.intText(b, s, key, name)
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
	if b.Typ.IsDecimal() {
		return end, r.intText(b, tok, key, name)
	}
	return 0, r.errorf(key, "key %q: want %s, got number", name, b.Typ)
}

// intText appends a date, a timestamp or a decimal from its text s.
func (r *jsonlReader) intText(b *arrowx.ColBuilder, s []byte, key int, name []byte) error {
	v, err := parseIntText(s, b.Typ)
	if err != nil {
		return r.errorf(key, "key %q: %s", name, intTextFailure(s, b.Typ, err))
	}
	b.I64[b.N] = v
	b.N++
	return nil
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
