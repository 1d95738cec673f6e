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
// in the file's metadata. It writes into the path it is given (the
// caller's staging file) and syncs and closes it at Finish.
type ParquetWrite struct {
	path   string
	schema spec.Schema
	arrow  *arrow.Schema
	f      *os.File
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
	w := &ParquetWrite{path: path, schema: schema, arrow: arrowx.ArrowSchema(schema), f: f}
	props := parquet.NewWriterProperties(parquet.WithCompression(codec),
		parquet.WithMaxRowGroupLength(o.RowGroupRows), parquet.WithAllocator(mem))
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
	// Same columns under the writer's schema (names and nullability).
	r := array.NewRecord(w.arrow, rec.Columns(), rec.NumRows())
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
// narrower integers widen to int64 and float32 to float64.
func convertColumn(a arrow.Array, from arrow.Type, to spec.Type, mem memory.Allocator) arrow.Array {
	switch from {
	case arrow.INT64, arrow.FLOAT64, arrow.BOOL, arrow.STRING:
		a.Retain()
		return a
	}
	n := a.Len()
	d := a.Data()
	vals := memory.NewResizableBuffer(mem)
	vals.Resize((d.Offset() + n) * 8)
	switch to {
	case spec.Int64:
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

// widenInts copies the values of an integer array into out.
func widenInts(a arrow.Array, out []int64) {
	switch a := a.(type) {
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
