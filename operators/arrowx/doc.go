// Package arrowx holds the Arrow helpers that the expression language, the
// file formats and the relational operators all need.
//
// It owns: the mapping between spec types and schemas and Arrow ones
// (ArrowType, ArrowSchema, SpecType; the Arrow type is the physical one, so
// a date, a timestamp or a decimal is an int64 array, and mapping back gives
// only physical types); ColView, a typed read-only view of an
// array's raw buffers for typed loops (ViewOf, ViewsOf); ColBuilder, which
// appends values straight into allocator buffers; and the small
// constructors over buffers, arrays and records (NewBuffer, NewBitmap,
// NewArray, NewRecord, ReleaseAll).
//
// It does not own: any operator, expression or file format, nor the
// Operator contract (package operators). It imports only jobs/spec and
// Arrow, and no other package of batchrun.
package arrowx
