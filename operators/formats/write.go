package formats

import (
	"context"
	"fmt"
	"math"
	"os"
	"strconv"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators"
	"github.com/batchrun/batchrun/operators/arrowx"
)

// writeBufSize is how much CSVWrite buffers before it writes to the file.
const writeBufSize = 1 << 20

// CSVWrite is the CSV sink: a header row, then one line per row, '\n'
// line ends, ',' between fields. A NULL is an empty field; an empty string
// is "" (so the two stay apart); a string is quoted (RFC 4180, quotes
// doubled) when it holds ',', '"', '\r' or '\n'. Floats are printed in the
// shortest form that reads back exactly, without exponent (12.5, 1e21 as
// 1000000000000000000000; NaN, +Inf, -Inf as such); bools as true/false.
// It writes into the path it is given (the caller's staging file), and
// syncs and closes it at Finish.
type CSVWrite struct {
	path   string
	schema spec.Schema
	f      *os.File
	buf    []byte
	views  []arrowx.ColView
	rows   int64
	bytes  int64
	stats  operators.Stats
}

// NewCSVWrite creates (or truncates) path and writes the header.
func NewCSVWrite(path string, schema spec.Schema) (*CSVWrite, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("operators: write: %w", err)
	}
	w := &CSVWrite{path: path, schema: schema, f: f, buf: make([]byte, 0, writeBufSize)}
	for i, fld := range schema {
		if i > 0 {
			w.buf = append(w.buf, ',')
		}
		w.buf = appendCSVString(w.buf, []byte(fld.Name))
	}
	w.buf = append(w.buf, '\n')
	return w, nil
}

// RowsWritten is the number of data rows written so far.
func (w *CSVWrite) RowsWritten() int64 { return w.rows }

// BytesWritten is the number of bytes written so far, header included
// (counting bytes still buffered).
func (w *CSVWrite) BytesWritten() int64 { return w.bytes + int64(len(w.buf)) }

// Stats returns the rows consumed and written so far.
func (w *CSVWrite) Stats() operators.Stats { return w.stats }

// Push writes the rows of rec.
func (w *CSVWrite) Push(ctx context.Context, rec arrow.Record) error {
	if w.f == nil {
		return fmt.Errorf("operators: write %s: already closed", w.path)
	}
	if err := operators.CheckSchema("CSVWrite", rec, w.schema); err != nil {
		return err
	}
	w.views = w.views[:0]
	for c := range w.schema {
		v, err := arrowx.ViewOf(rec.Column(c))
		if err != nil {
			return err
		}
		w.views = append(w.views, v)
	}
	n := int(rec.NumRows())
	for i := 0; i < n; i++ {
		w.buf = w.appendRow(w.buf, i)
		if len(w.buf) >= writeBufSize-4096 {
			if err := w.flush(); err != nil {
				return err
			}
		}
	}
	w.rows += int64(n)
	w.stats.RowsIn += int64(n)
	w.stats.RowsOut += int64(n)
	return nil
}

// appendRow appends row i of the current views as one CSV line.
func (w *CSVWrite) appendRow(b []byte, i int) []byte {
	for c := range w.views {
		if c > 0 {
			b = append(b, ',')
		}
		v := &w.views[c]
		if v.Nulls > 0 && v.IsNull(i) {
			continue
		}
		switch v.Typ {
		case spec.Int64:
			if t := w.schema[c].Type; t != spec.Int64 {
				b = appendIntText(b, v.I64[i], t)
				break
			}
			b = strconv.AppendInt(b, v.I64[i], 10)
		case spec.Float64:
			b = appendFloat(b, v.F64[i])
		case spec.Bool:
			b = strconv.AppendBool(b, v.BoolAt(i))
		case spec.String:
			b = appendCSVString(b, v.Str(i))
		}
	}
	return append(b, '\n')
}

// appendFloat appends f as strconv.AppendFloat(b, f, 'f', -1, 64) does.
// Values with at most two decimals and |f| < 1e13 (amounts, counts) take a
// fast path: m = round(f*100) is exact when m/100 == f, and below 1e13 the
// float's spacing is under 0.005, so m/100 is the only decimal with two
// places that reads back as f, hence the shortest one strconv prints.
func appendFloat(b []byte, f float64) []byte {
	m := math.Round(f * 100)
	if f == 0 || m/100 != f || math.Abs(m) >= 1e15 {
		return strconv.AppendFloat(b, f, 'f', -1, 64)
	}
	c := int64(m)
	if c < 0 {
		b = append(b, '-')
		c = -c
	}
	b = strconv.AppendInt(b, c/100, 10)
	switch cents := c % 100; {
	case cents == 0:
	case cents%10 == 0:
		b = append(b, '.', byte('0'+cents/10))
	default:
		b = append(b, '.', byte('0'+cents/10), byte('0'+cents%10))
	}
	return b
}

// csvSpecial marks the bytes that force a string field into quotes.
var csvSpecial = [256]bool{',': true, '"': true, '\r': true, '\n': true}

// appendCSVString appends s as one CSV field, quoted when needed.
func appendCSVString(b, s []byte) []byte {
	quote := len(s) == 0
	for _, c := range s {
		if csvSpecial[c] {
			quote = true
			break
		}
	}
	if !quote {
		return append(b, s...)
	}
	b = append(b, '"')
	for _, c := range s {
		if c == '"' {
			b = append(b, '"')
		}
		b = append(b, c)
	}
	return append(b, '"')
}

func (w *CSVWrite) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	n, err := w.f.Write(w.buf)
	w.bytes += int64(n)
	w.buf = w.buf[:0]
	if err != nil {
		return fmt.Errorf("operators: write: %w", err)
	}
	return nil
}

// Finish flushes, syncs and closes the file. A sink has no downstream.
func (w *CSVWrite) Finish(ctx context.Context) error {
	if w.f == nil {
		return fmt.Errorf("operators: write %s: already closed", w.path)
	}
	err := w.flush()
	if err == nil {
		if err = w.f.Sync(); err != nil {
			err = fmt.Errorf("operators: write: sync %s: %w", w.path, err)
		}
	}
	if cerr := w.f.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("operators: write: %w", cerr)
	}
	w.f = nil
	return err
}

// Close closes the file without syncing when Finish did not run (the
// caller abandons the staging file). It is idempotent.
func (w *CSVWrite) Close() error {
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	return err
}
