// Package expr is the expression language of select and filter steps,
// evaluated on whole Arrow arrays.
//
// It owns: CompileExpr, which type-checks a spec.Expr against a schema
// once and returns a CompiledExpr of typed nodes; the vector kernels those
// nodes run (arithmetic, comparisons and IN, AND/OR/NOT, CASE and
// COALESCE, casts, LIKE and ILIKE (a pattern compiled once, with string
// searches for the common shapes), string and date functions, decimal
// arithmetic with its overflow checks, and the gathers that pick rows of
// the arms of a CASE); and EvalError, a value an expression cannot be
// evaluated on. Filters, projections and join residual conditions
// (package operators) evaluate it.
//
// It does not own: the operators that evaluate expressions (Filter and
// Project, in package operators), file formats, or the typed views over
// Arrow arrays (package arrowx). It imports only jobs/spec, Arrow and
// arrowx.
package expr
