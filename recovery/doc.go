// Package recovery decides what a failure costs: which subtasks restart
// (the failover strategy) and whether and when (the restart strategy).
//
// It owns: the execution-level Topology recovery reasons about (subtasks,
// the regions they form, result partitions with their mode and
// determinism), the run State a failure arrives in, the failover strategies
// (region, the default; all; individual) with the explanation of each
// restart set, Flink's region rule for comparison, and the restart
// strategies (none, fixed-delay, exponential-delay, failure-rate) with
// their option-string parser.
//
// It must not: do I/O, start goroutines, read the clock, sleep, or use
// randomness other than the *rand.Rand passed to RestartConfig.New. Every
// answer is a function of its arguments, and output never depends on map
// order. It imports only the standard library; in particular not plan:
// the scheduler converts plan's graph and regions into a Topology.
//
// Glossary:
//   - subtask: one parallel instance of a stage, named for display
//     ("agg[2]"); SubtaskID indexes Topology's subtasks.
//   - region: subtasks connected by pipelined partitions, scheduled and
//     restarted together. Regions are given (plan computes them).
//   - result partition: the output of one producer subtask on one edge,
//     read by its consumer subtasks; blocking (stored, committed when the
//     producer finishes) or pipelined (streamed within a region).
//   - deterministic: a re-run producer on unchanged inputs gives every
//     consumer the same records (forward, hash, broadcast, global); a
//     rebalance or random partition is not.
//   - available: a blocking partition that is committed and intact.
//   - lost: a blocking partition whose producer finished but that is not
//     available, or that a failed consumer could not read (Failure.Lost).
//     Only its producer's re-run can regenerate it.
//   - changed: a partition whose producer restarts and whose new content
//     may differ from what consumers read: it is nondeterministic, or its
//     producer reads a changed partition. Consumers that started on it
//     restart; pending ones read the new data.
//   - restart set: the regions and subtasks a failure restarts, the
//     partitions they regenerate, and the reasons (RestartSet).
//   - restart strategy: a state machine fed failure times that answers with
//     a Decision (restart after a delay, or give up: ErrGiveUp).
//
// Not done yet: a partition is deterministic or not as a whole (no Spark
// style per-consumer checks), and operators are assumed deterministic on
// their input: the scheduler must mark nondeterministic the outputs of an
// order-sensitive operator fed by several pipelined producers; a running subtask that reads a lost input
// outside the restart set is not restarted pre-emptively (it fails on its
// own read, and that failure gets its own restart set); the garbage
// collection of replaced attempts must wait for readers of the old attempt
// (the scheduler's concern, see Regenerate); individual failover refuses a
// lost input instead of falling back to region failover.
package recovery
