// Package plan compiles a logical job into what runs: a stage graph (steps
// chained into stages, joined by exchanges), expanded into subtasks and
// result partitions, grouped into pipelined regions.
//
// It owns: stages, edges (exchanges) with their partitioner and mode,
// subtask and partition ids, and region computation.
//
// It must not: do I/O, start goroutines, read the clock or use randomness.
// Everything is a pure function of a *spec.Job, and output never depends on
// map iteration order. It imports only jobs/spec and the standard library.
//
// Glossary:
//   - stage: a chain of steps (operators) that run in one subtask without an
//     exchange between them; its name is the id of its head step.
//   - edge (exchange): a connection from a producer stage to a consumer stage,
//     with a partitioner (forward, hash, broadcast, rebalance, random, global)
//     and a mode (pipelined or blocking).
//   - subtask: one parallel instance of a stage, written name[i] ("agg[2]").
//   - result partition: the output of one producer subtask on one edge,
//     split into one subpartition per consumer subtask.
//   - region: the subtasks connected by pipelined edges; they are scheduled,
//     and restarted, together. Blocking edges separate regions, except where
//     regions would form a cycle over blocking edges: those are merged
//     (Flink's rule), and the blocking partitions between their subtasks
//     stay inside the merged region (not among its Inputs).
//   - op role: a step split across an exchange runs as a partial op before
//     it and a final op after it (aggregate, sort, limit); otherwise whole.
//
// Entry points: Compile (job -> StageGraph), ComputeRegions (StageGraph ->
// Regions), Project (job -> the columns each read must emit and every
// step's schema with them) and Explain (text, json, dot). Tests are data-driven, in
// testdata/, run by datadriven_test.go (rewrite with -rewrite).
//
// Not done yet: range partitioning (a global sort merges in one subtask);
// a partial op does not chain onto an input that has other consumers (the
// step then runs whole behind the exchange); filters and selects do not
// inherit their input's parallelism (a step without one takes the job's,
// so a filter after a sort is rebalanced); no exchange is elided when the
// input is already partitioned on the right keys.
package plan
