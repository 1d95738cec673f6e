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
//     and restarted, together. Blocking edges separate regions.
package plan
