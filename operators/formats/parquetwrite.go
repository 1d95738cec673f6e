package formats

import (
	"context"
	"fmt"
	"os"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/apache/arrow/go/v17/parquet"
	"github.com/apache/arrow/go/v17/parquet/compress"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators"
	"github.com/batchrun/batchrun/operators/arrowx"
)

// DefaultRowGroupRows is the row group size of ParquetWrite: large enough
// for good compression and column statistics, small enough that a
// Parquet input splits across subtasks (row groups are the split unit).
const DefaultRowGroupRows = 256 * 1024

// ParquetWriteOptions configure ParquetWrite; zero values are defaults.
type ParquetWriteOptions struct {
	Compression spec.Compression
	// RowGroupRows caps the rows of a row group (DefaultRowGroupRows).
	RowGroupRows int64
}

// ParquetWrite is the Parquet sink: one file, row groups of at most
// RowGroupRows rows, every column nullable, with the Arrow schema stored
// in the file's metadata. Dates, timestamps and decimals are written with
// their Parquet logical types: DATE (int32), TIMESTAMP(MICROS) without a
// zone (int64), DECIMAL(p,s) on int32 (p <= 9) or int64; their int64
// columns become Arrow Date32, Timestamp and Decimal128 only here. It writes into the path it is given (the
// caller's staging file) and syncs and closes it at Finish.
type ParquetWrite struct {
	path   string
	schema spec.Schema
	arrow  *arrow.Schema
	f      *os.File
	mem    memory.Allocator
	fw     *pqarrow.FileWriter
	rows   int64
	stats  operators.Stats
}

// NewParquetWrite creates (or truncates) path.
func NewParquetWrite(path string, schema spec.Schema, o ParquetWriteOptions, mem memory.Allocator) (*ParquetWrite, error) {
	codec := compress.Codecs.Snappy
	switch o.Compression {
	case spec.CompressionZstd:
		codec = compress.Codecs.Zstd
	case spec.CompressionNone:
		codec = compress.Codecs.Uncompressed
	}
	if o.RowGroupRows <= 0 {
		o.RowGroupRows = DefaultRowGroupRows
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("operators: write: %w", err)
	}
	w := &ParquetWrite{path: path, schema: schema, arrow: parquetArrowSchema(schema), f: f, mem: mem}
	props := parquet.NewWriterProperties(parquet.WithCompression(codec),
		parquet.WithMaxRowGroupLength(o.RowGroupRows), parquet.WithAllocator(mem),
		parquet.WithStoreDecimalAsInteger(true))
	w.fw, err = pqarrow.NewFileWriter(w.arrow, f, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("operators: write %s: %w", path, err)
	}
	return w, nil
}

// RowsWritten is the number of rows written so far.
func (w *ParquetWrite) RowsWritten() int64 { return w.rows }

// Stats returns the rows consumed and written so far.
func (w *ParquetWrite) Stats() operators.Stats { return w.stats }

// Push adds the rows of rec to the current row group.
func (w *ParquetWrite) Push(ctx context.Context, rec arrow.Record) error {
	if w.fw == nil {
		return fmt.Errorf("operators: write %s: already closed", w.path)
	}
	if err := operators.CheckSchema("ParquetWrite", rec, w.schema); err != nil {
		return err
	}
	// Same columns under the writer's schema (names, nullability, and the
	// Arrow types of dates, timestamps and decimals).
	cols := make([]arrow.Array, len(w.schema))
	for i, f := range w.schema {
		c, err := toParquetColumn(rec.Column(i), f, w.arrow.Field(i).Type, w.mem)
		if err != nil {
			arrowx.ReleaseAll(cols)
			return fmt.Errorf("operators: write %s: %w", w.path, err)
		}
		cols[i] = c
	}
	r := array.NewRecord(w.arrow, cols, rec.NumRows())
	arrowx.ReleaseAll(cols)
	err := w.fw.WriteBuffered(r)
	r.Release()
	if err != nil {
		w.fw = nil // WriteBuffered closed it
		return fmt.Errorf("operators: write %s: %w", w.path, err)
	}
	w.rows += rec.NumRows()
	w.stats.RowsIn += rec.NumRows()
	w.stats.RowsOut += rec.NumRows()
	return nil
}

// Finish writes the footer, syncs and closes the file.
func (w *ParquetWrite) Finish(ctx context.Context) error {
	if w.fw == nil {
		return fmt.Errorf("operators: write %s: already closed", w.path)
	}
	err := w.fw.Close() // closes f too
	w.fw = nil
	if err != nil {
		return fmt.Errorf("operators: write %s: %w", w.path, err)
	}
	// pqarrow closed the file; reopen to sync its data to disk.
	f, err := os.OpenFile(w.path, os.O_RDWR, 0)
	if err == nil {
		err = f.Sync()
		f.Close()
	}
	if err != nil {
		return fmt.Errorf("operators: write: sync %s: %w", w.path, err)
	}
	return nil
}

// Close abandons the file when Finish did not run; idempotent.
func (w *ParquetWrite) Close() error {
	if w.fw == nil {
		return nil
	}
	w.fw = nil
	return w.f.Close()
}

// convertColumn returns a (a new reference) as the spec type's Arrow type:
// narrower integers and dates widen to int64, float32 to float64,
// timestamps become microseconds and 128-bit decimals (of at most 18
// digits) int64.
func convertColumn(a arrow.Array, from arrow.Type, to spec.Type, mem memory.Allocator) arrow.Array {
	switch {
	case from == arrow.INT64, from == arrow.FLOAT64, from == arrow.BOOL, from == arrow.STRING:
		a.Retain()
		return a
	case from == arrow.TIMESTAMP && a.DataType().(*arrow.TimestampType).Unit == arrow.Microsecond:
		d := a.Data()
		nd := array.NewData(arrowx.ArrowType(to), d.Len(), d.Buffers(), nil, d.NullN(), d.Offset())
		defer nd.Release()
		return array.MakeFromData(nd)
	}
	n := a.Len()
	d := a.Data()
	vals := memory.NewResizableBuffer(mem)
	vals.Resize((d.Offset() + n) * 8)
	switch to.Kind() {
	case spec.Int64, spec.Date, spec.Timestamp, spec.Decimal:
		widenInts(a, arrow.Int64Traits.CastFromBytes(vals.Bytes())[d.Offset():])
	case spec.Float64:
		out := arrow.Float64Traits.CastFromBytes(vals.Bytes())[d.Offset():]
		for i, v := range a.(*array.Float32).Float32Values() {
			out[i] = float64(v)
		}
	}
	buffers := []*memory.Buffer{d.Buffers()[0], vals}
	nd := array.NewData(arrowx.ArrowType(to), n, buffers, nil, a.NullN(), d.Offset())
	vals.Release()
	out := array.MakeFromData(nd)
	nd.Release()
	return out
}

// widenInts copies the values of an integer, date, timestamp or decimal
// array into out (timestamps in microseconds).
func widenInts(a arrow.Array, out []int64) {
	switch a := a.(type) {
	case *array.Date32:
		for i, v := range a.Date32Values() {
			out[i] = int64(v)
		}
	case *array.Timestamp:
		timestampMicros(a, out)
	case *array.Decimal128:
		for i, v := range a.Values() {
			out[i] = int64(v.LowBits())
		}
	case *array.Int8:
		for i, v := range a.Int8Values() {
			out[i] = int64(v)
		}
	case *array.Int16:
		for i, v := range a.Int16Values() {
			out[i] = int64(v)
		}
	case *array.Int32:
		for i, v := range a.Int32Values() {
			out[i] = int64(v)
		}
	case *array.Uint8:
		for i, v := range a.Uint8Values() {
			out[i] = int64(v)
		}
	case *array.Uint16:
		for i, v := range a.Uint16Values() {
			out[i] = int64(v)
		}
	case *array.Uint32:
		for i, v := range a.Uint32Values() {
			out[i] = int64(v)
		}
	}
}

// parquetArrowSchema is the Arrow schema ParquetWrite gives pqarrow: the
// physical Arrow types, except Date32 for a date, Timestamp(us) for a
// timestamp and Decimal128(p,s) for a decimal.
func parquetArrowSchema(s spec.Schema) *arrow.Schema {
	fields := arrowx.ArrowSchema(s).Fields()
	for i, f := range s {
		switch {
		case f.Type == spec.Date:
			fields[i].Type = arrow.FixedWidthTypes.Date32
		case f.Type == spec.Timestamp:
			fields[i].Type = &arrow.TimestampType{Unit: arrow.Microsecond}
		case f.Type.IsDecimal():
			fields[i].Type = &arrow.Decimal128Type{Precision: int32(f.Type.Precision()), Scale: int32(f.Type.Scale())}
		}
	}
	return arrow.NewSchema(fields, nil)
}

// toParquetColumn returns a (a new reference) with the Arrow type to of
// parquetArrowSchema: a timestamp is retyped in place, a date narrowed to
// int32 days (a date out of its range is an error), a decimal widened to
// 128 bits.
func toParquetColumn(a arrow.Array, f spec.Field, to arrow.DataType, mem memory.Allocator) (arrow.Array, error) {
	d := a.Data()
	var vals *memory.Buffer
	switch {
	case f.Type == spec.Timestamp:
		nd := array.NewData(to, d.Len(), d.Buffers(), nil, d.NullN(), d.Offset())
		defer nd.Release()
		return array.MakeFromData(nd), nil
	case f.Type == spec.Date:
		in := a.(*array.Int64).Int64Values()
		vals = arrowx.NewBuffer(mem, (d.Offset()+len(in))*4)
		out := arrow.Int32Traits.CastFromBytes(vals.Bytes())[d.Offset():]
		for i, v := range in {
			if int64(int32(v)) != v && a.IsValid(i) {
				vals.Release()
				return nil, fmt.Errorf("column %q: date %d days from 1970 does not fit Parquet's int32 dates", f.Name, v)
			}
			out[i] = int32(v)
		}
	case f.Type.IsDecimal():
		in := a.(*array.Int64).Int64Values()
		vals = arrowx.NewBuffer(mem, (d.Offset()+len(in))*16)
		out := arrow.Uint64Traits.CastFromBytes(vals.Bytes())[2*d.Offset():]
		for i, v := range in {
			out[2*i], out[2*i+1] = uint64(v), uint64(v>>63)
		}
	default:
		a.Retain()
		return a, nil
	}
	nd := array.NewData(to, d.Len(), []*memory.Buffer{d.Buffers()[0], vals}, nil, d.NullN(), d.Offset())
	vals.Release()
	defer nd.Release()
	return array.MakeFromData(nd), nil
}

// timestampMicros converts the values of a timestamp array of any unit
// to microseconds (nanoseconds floored).
func timestampMicros(a *array.Timestamp, out []int64) {
	vals := a.TimestampValues()
	switch a.DataType().(*arrow.TimestampType).Unit {
	case arrow.Second:
		for i, v := range vals {
			out[i] = int64(v) * spec.MicrosPerSecond
		}
	case arrow.Millisecond:
		for i, v := range vals {
			out[i] = int64(v) * 1000
		}
	case arrow.Nanosecond:
		for i, v := range vals {
			out[i], _ = spec.FloorDivMod(int64(v), 1000)
		}
	default:
		for i, v := range vals {
			out[i] = int64(v)
		}
	}
}
