// Package operators holds the vectorized operators that run inside a stage:
// sources, transforms and sinks over Arrow record batches.
//
// It owns: the scans of CSV and JSON lines (byte-range splits of files,
// globs and directories planned by Splits, parsed straight into Arrow
// builders, bad rows failed, skipped or quarantined) and Parquet (row
// groups assigned by AssignUnits, columns projected), the CSV, JSON lines
// and Parquet writers, expression evaluation on whole arrays, Filter, Project,
// HashAggregate (partial and final), HashJoin, Sort (local sort and k-way
// merge), Limit, Union, and the CSV Write sink (into a staging file).
//
// It must not: know about failover, exchanges, Pebble, stages or regions.
// It imports only jobs/spec and Arrow.
//
// Contract: operators are push based. A producer calls Push with a batch it
// owns; the operator must not keep the batch after Push returns unless it
// calls Retain on it (and later Release). Finish signals end of input: the
// operator flushes what it holds, pushes it downstream, then calls Finish on
// its downstream. An operator is used by one goroutine.
//
// Glossary:
//   - batch: an arrow.Record of at most BatchRows rows.
//   - split: a byte range of a CSV file, aligned to line starts, read by one
//     subtask.
//   - partial / final: the two halves of an aggregate split across a shuffle.
//   - group: the rows of an aggregate (or the build rows of a join) sharing
//     one key tuple; group ids are dense and assigned in first-seen order.
//   - row reference: (batch, row) packed in a uint64, what gather kernels
//     take rows by.
//
// Every operator reports Stats (rows in and out). Operators that keep
// batches (Sort, HashJoin) release them at Finish, or at Close when the
// caller abandons them.
//
// Memory: under a bounded Budget (SetBudget) Sort is an external sort
// (sort_external.go): it counts the Arrow buffer bytes it holds, spills
// sorted runs past the budget and k-way merges them at Finish. TopN keeps
// O(n + BatchRows) rows and never spills. HashAggregate (partial: emits
// its states early; whole and final: spills them) and HashJoin (a grace
// hash join) partition by key hash into spill runs past the budget and
// finish one partition at a time (aggregate_spill.go, join_spill.go); their
// output then comes in partition order.
//
// Not done yet: HashAggregate and HashJoin bound their memory only by an
// estimate taken per batch (one batch's growth may pass the budget); an
// aggregate with count_distinct and HashDistinct are not bounded; Sort
// counts its buffered batches and its sort scratch, but not the merge's one
// batch per run (it bounds that by merging in several passes); CSV quoted
// fields may not span lines; Parquet reads flat columns of scalar types
// only, and every Parquet subtask reads the footers of every input file to
// plan its row groups.
package operators
