// Package commit publishes a run's outputs: all of them or none, and
// crash-safe at every step. It owns the output commit protocol, the checks
// that refuse a target before anything is touched, and the manifest that
// marks a directory as batchrun's own.
//
// It must not: know about specs, plans or the store. Callers (package jobs)
// give it outputs as paths and persist its Plan in the run's log.
//
// # The protocol
//
// Subtasks write an output into a staging path next to its target (same
// directory, so same filesystem): a hidden ".batchrun-staging-RUN"
// directory. Streams ("-", FIFOs, character devices) are staged in the
// state directory instead.
//
//  1. Check (before the run starts, and again at commit): every target is
//     refused unless the write mode allows what is there. overwrite (the
//     default) replaces nothing but a regular file, an empty directory or a
//     directory batchrun wrote (its manifest, _BATCHRUN, lists every entry).
//     Targets that overlap an input or another output are refused.
//  2. Prepare: write the manifest of each directory output, sync the staged
//     files and directories, record what is at each target (HadOld) and
//     the identity (device, inode) of each staged result. The caller writes
//     the Plan to the run log, synced, before step 3.
//  3. Apply: write streams first (they cannot be taken back; each is marked
//     Done in the log once written), then swap each output into place:
//     with an old target, an atomic exchange of staged and target (Linux
//     renameat2 RENAME_EXCHANGE) and a rename of the old one to Backup; where
//     exchange is unsupported, rename the old one to Backup, then staged to
//     target. Then sync the directories.
//  4. The commit point: the Plan, with Committed set, is written to the log.
//     Only then is the run succeeded. Backups are removed after it.
//
// A failure before the commit point is rolled back in process (Rollback).
// A crash is resolved by the next invocation (Recover): with Committed in
// the log it rolls forward (removes backups); without it, it rolls back,
// and the caller checks and applies again. Every state between two steps
// is recognized from the filesystem alone: the staged result by its
// identity, the old one by its Backup path, so rollback is re-entrant. If
// the commit point cannot be written, Apply records the opposite decision
// before rolling back; if that fails too it stops and leaves the decision
// to Recover, which acts on whichever record is durable.
//
// Glossary:
//   - target: the path the user named, symlinks resolved.
//   - staged: this run's result, waiting to be swapped in.
//   - backup: where the old target goes while the commit can be undone.
package commit
