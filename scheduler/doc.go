// Package scheduler runs a compiled job: it starts pipelined regions when
// the blocking partitions they read are committed, runs all subtasks of a
// region together within a slot budget, wires their inputs and outputs
// (in-memory pipes for pipelined edges, the store for blocking ones), and
// reports what ran.
//
// It owns: region scheduling, slots, subtask attempts and their lifecycle,
// the wiring of shuffles, and the per-subtask run records the report and
// recovery use.
//
// It must not: know operator kinds, spec steps or Pebble keys. It sees
// stages, regions, subtasks and partitions (package plan); what a subtask
// computes is a Task built by the Program the caller passes in.
//
// Glossary:
//   - attempt: one execution of a subtask; attempt 0 is the first. A
//     re-run writes its partitions under a new attempt.
//   - slot: the budget of concurrently running subtasks (Options.Slots).
//   - program: the caller's view of the job's computation: tasks, the schema
//     of every edge and the key columns of hash edges.
package scheduler
