package formats

import (
	"context"
	"fmt"
	"math"
	"os"
	"strconv"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators"
	"github.com/batchrun/batchrun/operators/arrowx"
)

// FileWrite is a sink that writes one part file: CSVWrite, JSONLWrite or
// ParquetWrite. Finish completes, syncs and closes the file; Close
// abandons it (idempotent).
type FileWrite interface {
	operators.Operator
	RowsWritten() int64
	Stats() operators.Stats
	Close() error
}

// NewFileWrite creates the part file path in the format of w (from w's
// path's extension when unset) for rows of schema.
func NewFileWrite(path string, schema spec.Schema, w *spec.WriteStep, mem memory.Allocator) (FileWrite, error) {
	switch spec.FormatOf(w.Path, w.Format) {
	case spec.FormatJSONL:
		return NewJSONLWrite(path, schema)
	case spec.FormatParquet:
		return NewParquetWrite(path, schema, ParquetWriteOptions{Compression: w.Compression}, mem)
	}
	return NewCSVWrite(path, schema)
}

// JSONLWrite is the JSON lines sink: one object per row with every column
// in schema order, '\n' line ends. NULL is null; strings are escaped per
// JSON (quote, backslash and control bytes; other bytes as they are);
// floats as strconv's 'f' format with the shortest exact digits (NaN and
// ±Inf, which JSON lacks, as null); bools as true/false.
type JSONLWrite struct {
	path  string
	w     *CSVWrite // the file, buffer and counters; its CSV methods are unused
	keys  [][]byte  // `{"name":` for column 0, `,"name":` after
	views []arrowx.ColView
}

// NewJSONLWrite creates (or truncates) path.
func NewJSONLWrite(path string, schema spec.Schema) (*JSONLWrite, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("operators: write: %w", err)
	}
	w := &JSONLWrite{path: path, w: &CSVWrite{path: path, schema: schema, f: f, buf: make([]byte, 0, writeBufSize)}}
	for i, fld := range schema {
		sep := byte(',')
		if i == 0 {
			sep = '{'
		}
		k := appendJSONString([]byte{sep}, []byte(fld.Name))
		w.keys = append(w.keys, append(k, ':'))
	}
	return w, nil
}

// RowsWritten is the number of rows written so far.
func (w *JSONLWrite) RowsWritten() int64 { return w.w.rows }

// Stats returns the rows consumed and written so far.
func (w *JSONLWrite) Stats() operators.Stats { return w.w.stats }

// Push writes the rows of rec.
func (w *JSONLWrite) Push(ctx context.Context, rec arrow.Record) error {
	if w.w.f == nil {
		return fmt.Errorf("operators: write %s: already closed", w.path)
	}
	if err := operators.CheckSchema("JSONLWrite", rec, w.w.schema); err != nil {
		return err
	}
	var err error
	if w.views, err = arrowx.ViewsOf(rec, seq(len(w.w.schema)), w.views); err != nil {
		return err
	}
	n := int(rec.NumRows())
	for i := 0; i < n; i++ {
		w.w.buf = w.appendRow(w.w.buf, i)
		if len(w.w.buf) >= writeBufSize-4096 {
			if err := w.w.flush(); err != nil {
				return err
			}
		}
	}
	w.w.rows += int64(n)
	w.w.stats.RowsIn += int64(n)
	w.w.stats.RowsOut += int64(n)
	return nil
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// appendRow appends row i of the current views as one JSON line.
func (w *JSONLWrite) appendRow(b []byte, i int) []byte {
	for c := range w.views {
		b = append(b, w.keys[c]...)
		v := &w.views[c]
		if v.Nulls > 0 && v.IsNull(i) {
			b = append(b, "null"...)
			continue
		}
		switch v.Typ {
		case spec.Int64:
			switch t := w.w.schema[c].Type; {
			case t == spec.Int64:
				b = strconv.AppendInt(b, v.I64[i], 10)
			case t.IsDecimal():
				b = appendIntText(b, v.I64[i], t) // a JSON number
			default:
				b = append(b, '"')
				b = append(appendIntText(b, v.I64[i], t), '"')
			}
		case spec.Float64:
			if f := v.F64[i]; math.IsNaN(f) || math.IsInf(f, 0) {
				b = append(b, "null"...)
			} else {
				b = appendFloat(b, f)
			}
		case spec.Bool:
			b = strconv.AppendBool(b, v.BoolAt(i))
		case spec.String:
			b = appendJSONString(b, v.Str(i))
		default:
			b = append(b, "null"...)
		}
	}
	if len(w.views) == 0 {
		b = append(b, '{')
	}
	return append(b, '}', '\n')
}

// jsonEscapes marks the bytes a JSON string must escape.
var jsonEscapes = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// appendJSONString appends s as a quoted JSON string.
func appendJSONString(b, s []byte) []byte {
	b = append(b, '"')
	start := 0
	for i, c := range s {
		if !jsonEscapes[c] {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', "0123456789abcdef"[c>>4], "0123456789abcdef"[c&15])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// Finish flushes, syncs and closes the file.
func (w *JSONLWrite) Finish(ctx context.Context) error { return w.w.Finish(ctx) }

// Close abandons the file when Finish did not run; idempotent.
func (w *JSONLWrite) Close() error { return w.w.Close() }
