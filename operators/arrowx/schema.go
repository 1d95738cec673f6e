package arrowx

import (
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/batchrun/batchrun/jobs/spec"
)

// ArrowType maps a spec type to the Arrow type batches carry: that of its
// physical type (int64 for dates, timestamps and decimals).
func ArrowType(t spec.Type) arrow.DataType {
	if !t.Valid() {
		return arrow.Null
	}
	switch t.Physical() {
	case spec.Bool:
		return arrow.FixedWidthTypes.Boolean
	case spec.Int64:
		return arrow.PrimitiveTypes.Int64
	case spec.Float64:
		return arrow.PrimitiveTypes.Float64
	case spec.String:
		return arrow.BinaryTypes.String
	}
	return arrow.Null
}

// ArrowSchema maps a spec schema to an Arrow schema; every field is
// nullable. The Arrow types are physical: the logical types stay in the
// spec schema, which is what maps an Arrow schema back.
func ArrowSchema(s spec.Schema) *arrow.Schema {
	fields := make([]arrow.Field, len(s))
	for i, f := range s {
		fields[i] = arrow.Field{Name: f.Name, Type: ArrowType(f.Type), Nullable: true}
	}
	return arrow.NewSchema(fields, nil)
}

// SpecType maps an Arrow type back to the physical spec type of its values:
// an int64 column may hold a date, a timestamp or a decimal, which only a
// spec schema says.
func SpecType(t arrow.DataType) (spec.Type, error) {
	switch t.ID() {
	case arrow.BOOL:
		return spec.Bool, nil
	case arrow.INT64:
		return spec.Int64, nil
	case arrow.FLOAT64:
		return spec.Float64, nil
	case arrow.STRING:
		return spec.String, nil
	case arrow.NULL:
		return spec.Null, nil
	}
	return spec.Null, fmt.Errorf("operators: unsupported arrow type %s", t)
}
