// Package spec is the logical job: steps, their inputs, schemas and
// expressions. It is the leaf every other package builds on.
//
// It owns: the Job and Step types, column types and schemas, the expression
// AST with its SQL-syntax parser and type checker, and Resolve, which
// validates a job and derives every step's output schema.
//
// It must not: read files, know YAML, Arrow, Pebble, stages or subtasks.
// plan and recovery import only this package and the standard library.
//
// Glossary:
//   - step: one relational operation (read, filter, select, aggregate, join,
//     sort, limit, union, repartition, distinct, explode, window, write)
//     with an id unique in the job.
//   - input: the id of a step whose output a step consumes; inputs form a DAG.
//   - schema: the ordered, typed columns a step outputs.
//   - expr: a typed scalar expression over the columns of a step's input
//     (Walk and ExprColumns visit its nodes and the columns it reads).
//   - residual condition (JoinStep.Where): a bool expr over a pair of join
//     rows, left and right columns together; only pairs where it is TRUE
//     match. A join without keys (Keyless) pairs every left row with every
//     right row before it.
//   - window function (WindowFunc): a column computed for every row over
//     its partition (the rows equal on the window's PartitionBy), ordered
//     by OrderBy (rows equal on it are peers), from the rows of its frame
//     (WindowFrame: ROWS or RANGE bounds; the zero value is SQL's default).
//   - line: the 1-based line of the step in its YAML file (0 for the builder),
//     carried so every error can name it.
//   - type: a logical column type (Type): bool, int64, float64, string,
//     date, timestamp or decimal(p,s). Its physical type (Type.Physical) is
//     what its values are in batches: int64 for a date (days), a timestamp
//     (microseconds) and a decimal (the value times 10^s).
//   - kind: a type without its parameters (Type.Kind): Decimal for every
//     decimal(p,s).
package spec
