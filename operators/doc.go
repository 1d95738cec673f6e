// Package operators holds the operator contract and the relational
// operators that run inside a stage, over Arrow record batches.
//
// It owns: the Operator and Source interfaces, BatchRows, Stats,
// CheckSchema and DataError (with IsDataError, which also recognizes an
// expr.EvalError); Filter, Project, HashAggregate (partial and final),
// HashDistinct, HashJoin (inner, outer, semi and anti, with a residual
// condition tested on batches of candidate pairs, and without keys as a
// nested loop over the build side), Sort (local sort and k-way merge,
// NULLS FIRST or LAST per key), TopN, Limit (with an offset), Explode,
// Window (window functions: a Sort feeding an evaluator of whole
// partitions, window*.go), Passthrough (union); the key encoding,
// hashing and group tables they share (keys.go, table.go), the gathers
// (take.go) and spilling (spill*.go, sort_external.go, aggregate_spill.go,
// join_spill.go).
//
// It does not own: the expression language (package expr, whose compiled
// expressions Filter and Project evaluate), file formats, scans and
// writers (package formats, which implements Operator and Source), or the
// typed views and builders over Arrow arrays and the spec-to-Arrow type
// mapping (package arrowx). It must not know about failover, exchanges,
// Pebble, stages or regions. It imports only jobs/spec, Arrow, XXH3 and its
// subpackages expr and arrowx.
//
// Contract: operators are push based. A producer calls Push with a batch it
// owns; the operator must not keep the batch after Push returns unless it
// calls Retain on it (and later Release). Finish signals end of input: the
// operator flushes what it holds, pushes it downstream, then calls Finish on
// its downstream. An operator is used by one goroutine.
//
// Glossary:
//   - batch: an arrow.Record of at most BatchRows rows.
//   - partial / final: the two halves of an aggregate split across a shuffle.
//   - group: the rows of an aggregate (or the build rows of a join) sharing
//     one key tuple; group ids are dense and assigned in first-seen order.
//   - row reference: (batch, row) packed in a uint64, what gather kernels
//     take rows by.
//   - candidate pair: a probe row and a build row with equal keys (any two
//     rows in a join without keys), which a join's residual condition
//     tests.
//   - partition, peers, frame (Window): the rows equal on a window's
//     partition keys; rows of a partition equal on its order keys; the
//     rows of its partition a function aggregates for a row, [lo, hi).
//   - segment (Window): whole partitions computed together.
//
// Every operator reports Stats (rows in and out). Operators that keep
// batches (Sort, HashJoin) release them at Finish, or at Close when the
// caller abandons them.
//
// Memory: under a bounded Budget (SetBudget) Sort is an external sort
// (sort_external.go): it counts the Arrow buffer bytes it holds, spills
// sorted runs past the budget and k-way merges them at Finish; a
// SortPartial sorts in cache-sized chunks merged when it spills or
// finishes (sort_chunks.go). A
// SortFinal whose producers' sorted partitions can be read side by side
// (shuffle.ProducerSplitter) merges them as it reads them (MergeSorted):
// one batch per producer held, nothing buffered or spilled. TopN keeps
// O(n + BatchRows) rows and never spills. HashAggregate (partial: emits
// its states early; whole and final: spills them) and HashJoin (a grace
// hash join) partition by key hash into spill runs past the budget and
// finish one partition at a time (aggregate_spill.go, join_spill.go); their
// output then comes in partition order.
//
// Not done yet: HashAggregate and HashJoin bound their memory only by an
// estimate taken per batch (one batch's growth may pass the budget); an
// aggregate with count_distinct and HashDistinct are not bounded; Window
// holds a partition whole, outside its budget (its Sort spills); Sort
// counts its buffered batches and its sort scratch, but not the merge's one
// batch per run (it bounds that by merging in several passes).
package operators
