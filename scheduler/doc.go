// Package scheduler runs a compiled job: it starts pipelined regions when
// the blocking partitions they read are committed, runs all subtasks of a
// region together within a slot budget, fails over as package recovery
// says when one fails, and reports what ran.
//
// It owns: region scheduling, slots, subtask attempts and their lifecycle,
// which partitions each attempt reads and writes (and the seed of its
// nondeterministic partitioners), failover and resume decisions, and the
// per-subtask run records the report and recovery use.
//
// It must not: know operator kinds, spec steps, Pebble keys or where a
// subtask runs. It sees stages, regions, subtasks and partitions (package
// plan) and hands each region attempt, fully described, to an
// executor.Executor.
//
// Every decision is made by one goroutine (Run's loop) from events: a
// task ended, a region ended, a restart delay passed. The decisions are
// methods on Scheduler that take no locks and start no goroutines, so the
// tests drive them step by step from text files (testdata/).
//
// Glossary:
//   - attempt: one execution of a subtask; attempt 0 is the first. A
//     re-run writes its partitions under a new attempt.
//   - slot: the budget of concurrently running subtasks (Options.Slots).
//   - group: one attempt of a region, as the executor gets it.
package scheduler
