package formats

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/parquet/file"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators"
	"github.com/batchrun/batchrun/operators/arrowx"
)

// ParquetScan is the Parquet source. It reads only the columns it emits
// (by name: the schema's, or their projection on ScanOptions.Columns;
// pushed into the reader, so no other column chunk is read or decoded),
// though every schema column must be in each file with its type, and splits the input by row groups: the row groups of all the
// files, in order, are assigned to splits with AssignUnits weighted by
// their compressed bytes. File types map to spec types: int8-int64 and
// uint8-uint32 to int64, float32 and float64 to float64, bool, string,
// DECIMAL(p,s) with p <= 18 (on int32, int64 or fixed-length bytes) to
// decimal(p,s) (also read into a decimal of the same scale and a larger
// precision), DATE to date and TIMESTAMP of any unit to timestamp
// (microseconds; nanoseconds are floored); any other type of a schema
// column is an error that names it.
type ParquetScan struct {
	o     ScanOptions
	arrow *arrow.Schema
	stats operators.Stats
}

func newParquetScan(o ScanOptions) *ParquetScan {
	return &ParquetScan{o: o, arrow: arrowx.ArrowSchema(o.out)}
}

// Stats returns the rows read so far.
func (s *ParquetScan) Stats() operators.Stats { return s.stats }

// Run reads the split's row groups and finishes out.
func (s *ParquetScan) Run(ctx context.Context, out operators.Operator) error {
	files := s.o.Input.Files
	readers := make([]*file.Reader, len(files))
	defer func() {
		for _, r := range readers {
			if r != nil {
				r.Close()
			}
		}
	}()
	var weights []int64
	var units [][2]int // (file, row group)
	for i, path := range files {
		r, err := file.OpenParquetFile(path, false)
		if err != nil {
			return fmt.Errorf("operators: scan %s: %w", path, err)
		}
		readers[i] = r
		for g := 0; g < r.NumRowGroups(); g++ {
			rg := r.MetaData().RowGroup(g)
			w := rg.TotalCompressedSize()
			if w <= 0 {
				w = rg.TotalByteSize()
			}
			weights = append(weights, w)
			units = append(units, [2]int{i, g})
		}
	}
	assign := AssignUnits(weights, s.o.NumSplits)
	for i := 0; i < len(files); i++ {
		var groups []int
		var bytes int64
		for u, a := range assign {
			if a == s.o.Split && units[u][0] == i {
				groups = append(groups, units[u][1])
				bytes += weights[u]
			}
		}
		if len(groups) == 0 {
			continue
		}
		if err := s.readGroups(ctx, files[i], readers[i], groups, out); err != nil {
			return err
		}
		if s.o.Progress != nil {
			s.o.Progress.Add(bytes) // the row groups' compressed bytes, once read
		}
	}
	return out.Finish(ctx)
}

// readGroups reads the given row groups of one file.
func (s *ParquetScan) readGroups(ctx context.Context, path string, r *file.Reader, groups []int, out operators.Operator) error {
	fr, err := pqarrow.NewFileReader(r, pqarrow.ArrowReadProperties{BatchSize: operators.BatchRows}, s.o.Mem)
	if err != nil {
		return fmt.Errorf("operators: scan %s: %w", path, err)
	}
	cols, convs, err := parquetColumns(path, r, fr, s.o.Read.Schema)
	if err != nil {
		return err
	}
	cols, convs = keepParquetColumns(cols, convs, s.o.keep)
	rr, err := fr.GetRecordReader(ctx, cols, groups)
	if err != nil {
		return fmt.Errorf("operators: scan %s: %w", path, err)
	}
	defer rr.Release()
	for {
		rec, err := rr.Read()
		if rec != nil && rec.NumRows() > 0 {
			if perr := s.push(ctx, rec, convs, out); perr != nil {
				return perr
			}
		}
		if errors.Is(err, io.EOF) || (err == nil && rec == nil) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("operators: scan %s: %w", path, err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// push converts one batch to the schema's types and pushes it.
func (s *ParquetScan) push(ctx context.Context, rec arrow.Record, convs []arrow.Type, out operators.Operator) error {
	cols := make([]arrow.Array, len(convs))
	for i, from := range convs {
		cols[i] = convertColumn(rec.Column(i), from, s.o.out[i].Type, s.o.Mem)
	}
	b := array.NewRecord(s.arrow, cols, rec.NumRows())
	for _, c := range cols {
		c.Release()
	}
	s.stats.RowsIn += b.NumRows()
	s.stats.RowsOut += b.NumRows()
	err := out.Push(ctx, b)
	b.Release()
	return err
}

// parquetColumns finds the leaf column of each schema field and checks
// that its type maps to the field's type; convs are the file's types.
func parquetColumns(path string, r *file.Reader, fr *pqarrow.FileReader, schema spec.Schema) ([]int, []arrow.Type, error) {
	sc, err := fr.Schema()
	if err != nil {
		return nil, nil, fmt.Errorf("operators: scan %s: %w", path, err)
	}
	cols := make([]int, len(schema))
	convs := make([]arrow.Type, len(schema))
	for i, f := range schema {
		cols[i] = r.MetaData().Schema.ColumnIndexByName(f.Name)
		idx := sc.FieldIndices(f.Name)
		if cols[i] < 0 || len(idx) == 0 {
			return nil, nil, fmt.Errorf("operators: scan %s: no column %q in the file (it has %s)", path, f.Name, parquetNames(sc))
		}
		t := sc.Field(idx[0]).Type
		got, ok := parquetSpecType(t)
		if !ok || got != f.Type && !widerDecimal(got, f.Type) {
			return nil, nil, fmt.Errorf("operators: scan %s: column %q is %s in the file, want %s", path, f.Name, t, f.Type)
		}
		convs[i] = t.ID()
	}
	return cols, convs, nil
}

// keepParquetColumns keeps the leaf columns (and their file types) of the
// schema columns the scan emits: the record reader reads those only.
func keepParquetColumns(cols []int, convs []arrow.Type, keep []bool) ([]int, []arrow.Type) {
	var kc []int
	var kv []arrow.Type
	for i, k := range keep {
		if k {
			kc, kv = append(kc, cols[i]), append(kv, convs[i])
		}
	}
	return kc, kv
}

func parquetNames(sc *arrow.Schema) string {
	s := ""
	for i, f := range sc.Fields() {
		if i > 0 {
			s += ", "
		}
		s += f.Name
	}
	return s
}

// widerDecimal reports whether values of decimal type from are values of
// decimal type to: the same scale, no more digits.
func widerDecimal(from, to spec.Type) bool {
	return from.IsDecimal() && to.IsDecimal() && from.Scale() == to.Scale() && from.Precision() <= to.Precision()
}

// parquetSpecType maps a file's Arrow type to the spec type it reads as.
func parquetSpecType(t arrow.DataType) (spec.Type, bool) {
	switch t.ID() {
	case arrow.DECIMAL128:
		d := t.(*arrow.Decimal128Type)
		if d.Precision < 1 || d.Precision > spec.MaxDecimalPrecision || d.Scale < 0 || d.Scale > d.Precision {
			return spec.Null, false
		}
		return spec.DecimalType(int(d.Precision), int(d.Scale)), true
	case arrow.DATE32:
		return spec.Date, true
	case arrow.TIMESTAMP:
		return spec.Timestamp, true
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.UINT8, arrow.UINT16, arrow.UINT32:
		return spec.Int64, true
	case arrow.FLOAT32, arrow.FLOAT64:
		return spec.Float64, true
	case arrow.BOOL:
		return spec.Bool, true
	case arrow.STRING:
		return spec.String, true
	}
	return spec.Null, false
}

// InferParquetSchema returns the schema of the Parquet file at path: every
// column, typed as ParquetScan reads it. A column of another type is an
// error: give the read a schema of the columns it needs.
func InferParquetSchema(path string) (spec.Schema, error) {
	r, err := file.OpenParquetFile(path, false)
	if err != nil {
		return nil, fmt.Errorf("operators: infer schema of %s: %w", path, err)
	}
	defer r.Close()
	sc, err := pqarrow.FromParquet(r.MetaData().Schema, nil, r.MetaData().KeyValueMetadata())
	if err != nil {
		return nil, fmt.Errorf("operators: infer schema of %s: %w", path, err)
	}
	var s spec.Schema
	for _, f := range sc.Fields() {
		t, ok := parquetSpecType(f.Type)
		if !ok {
			return nil, fmt.Errorf("operators: infer schema of %s: column %q has type %s, which batchrun does not read: give the read a schema without it", path, f.Name, f.Type)
		}
		s = append(s, spec.Field{Name: f.Name, Type: t})
	}
	return s, nil
}
