// Package executor runs subtask attempts. The scheduler decides what runs
// and when; an Executor decides nothing: it is handed a Group (one attempt
// of a region: subtasks that run together, joined by pipelined edges), each
// Task described completely (which blocking partitions to read, which
// exchange to write, with what partitioner and seed), and it reports per
// task the partitions it committed and its row counts.
//
// Local runs a group as goroutines of this process over the run's store.
// A remote worker is the next implementation: a Task names its stage and
// partitions, never a pointer into the scheduler, so it can be sent.
//
// What a stage computes is the Program's business (package jobs builds
// operator chains); where blocking partitions live is the Partitions'
// (the run's Pebble store, or a decorator that injects faults). The
// executor owns neither: it wires them together, catches panics, and
// classifies a failed read of a blocking input as a LostPartitionError so
// that recovery regenerates the partition instead of retrying the reader.
package executor
