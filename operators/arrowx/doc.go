// Package arrowx holds the Arrow helpers that the expression language, the
// file formats and the relational operators all need.
//
// It owns: the mapping between spec types and schemas and Arrow ones
// (ArrowType, ArrowSchema, SpecType); ColView, a typed read-only view of an
// array's raw buffers for typed loops (ViewOf, ViewsOf); ColBuilder, which
// appends values straight into allocator buffers; and the small
// constructors over buffers, arrays and records (NewBuffer, NewBitmap,
// NewArray, NewRecord, ReleaseAll).
//
// It does not own: any operator, expression or file format, nor the
// Operator contract (package operators). It imports only jobs/spec and
// Arrow, and no other package of batchrun.
package arrowx
