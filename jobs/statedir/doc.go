// Package statedir owns the layout of a state directory and everything in
// it but the partitions themselves: run records (the run log), event logs,
// the job locks and the liveness of a run's owner.
//
//	<state>/locks/<job>.lock        held by the run of <job> in progress
//	<state>/runs/<id>/run.json      the run's record, replaced atomically
//	<state>/runs/<id>/events.jsonl  its event log, appended
//	<state>/runs/<id>/LOCK          held by the process working on the run
//	<state>/runs/<id>/store/        its Pebble store (package storage)
//	<state>/runs/<id>/staging/      staged stream outputs
//
// Each run has a store of its own, so a damaged store costs one run its
// partitions and nothing else, the disk is freed by removing a directory,
// and the records can be read by anyone at any time without opening
// Pebble or taking a lock (`batchrun runs` beside a running job). A run
// whose record says running or committing while nobody holds its LOCK was
// abandoned: its owner died (the kernel released the lock).
//
// It must not: open the store or know what is in it; interpret specs.
package statedir
