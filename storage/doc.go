// Package storage is batchrun's embedded Pebble store of one run: blocking
// result partitions, their commit records and checksums, garbage
// collection of replaced attempts, operator spill runs. (Run records and
// event logs are files of the state directory: package jobs/statedir.)
//
// # Owns
//
//   - The key layout (keys.go, the only file that builds or parses keys).
//   - Writing a partition attempt (PartitionWriter) so that it is invisible
//     until committed, and reading committed subpartitions
//     (SubpartitionReader) with every byte checked.
//   - The typed errors recovery branches on: ErrNotFound (no commit record)
//     and ErrCorrupt (CorruptErrorf, IsCorrupt), both wrapped in a
//     PartitionError that names the partition ("storage: read e2.3 sub 1
//     attempt 2: ...").
//   - Fault-injection helpers: DeletePartition, CorruptPartition.
//
// # Must not
//
//   - Import any batchrun package, know about Arrow, operators or plans:
//     values are opaque bytes; ids are plain integers.
//   - Expose Pebble keys: callers name data by PartitionRef and consumer.
//
// # Glossary
//
//   - run: one execution of a job on a state directory (uint64).
//   - partition: the output of one producer subtask on one edge
//     (PartitionRef{Run, Edge, Producer}, printed "e2.3").
//   - subpartition: the part of a partition for one consumer (its index
//     within the partition, from 0; printed "sub 1").
//   - attempt: one execution of the producer; each writes its own keys.
//   - value / batch: one opaque encoded batch appended to a subpartition,
//     numbered by seq from 0.
//   - commit record: per subpartition, the committed attempt and its rows,
//     bytes, batch count and checksum; written for all subpartitions of an
//     attempt in one synced batch. Readers read only what a commit record
//     names; everything else is garbage.
//
// # Write path and durability
//
// The default, WriteIngest, builds one sstable per subpartition stream
// (256 KiB blocks, no block compression: values are already compressed) in
// a temporary directory and ingests them all in one db.Ingest at Commit.
// Ingestion is atomic and durable (the files are synced and the manifest
// edit is synced), and ingested data never goes through the WAL or the
// memtable. The commit records then go in one batch committed with
// pebble.Sync (the WAL stays on for them). So when a commit record is
// durable, the data it names is too. A crash between the ingest and the
// commit batch leaves data without a commit record: invisible, and deleted
// by the next commit of the partition (or DeleteRun). Streams smaller than
// Options.SmallStreamBytes are put in the commit batch itself, to avoid
// tiny sstables. Until Commit, nothing of the attempt is in the DB.
//
// WriteBatch (the alternative) writes data in Pebble batches committed with
// pebble.NoSync and the WAL on; the synced commit batch then makes the
// earlier unsynced WAL records durable too (the WAL is one sequential log).
// Turning the WAL off for data would not be safe without a Flush before the
// commit record. Measured with BenchmarkWritePath (64 MiB of incompressible
// 1 MiB values into 8 subpartitions, 2 cores): ingest writes 2.5-3x faster
// than batch (800 vs 330 MB/s on a quiet machine, 300-380 vs 110-150 on the
// shared 2-core VM) and reads back at 4-5 GB/s, so it is the default. Both
// are fsync-bound: the data is made durable before its commit record.
//
// Every stored value is followed by a 12-byte trailer: its row count and
// the running CRC-32C of the subpartition up to and including it. A reader
// therefore detects a flipped byte before returning the value, a missing
// batch by its seq, and a truncated stream by the commit record's count.
//
// # Damage on disk
//
// A store is a cache of a run's intermediate results: damage costs
// recomputation, never a wrong answer or a crash. A corruption Pebble
// detects while reading (a block checksum) is an error of that read, not
// Pebble's default Logger.Fatalf (corruptionListener), and every value
// carries its own checksum besides. Open wraps every failure in an
// *UnusableError (ErrUnusable); with MustExist a store whose MANIFEST is
// lost is one too, rather than a new empty store over the remains. The
// caller (a resumed run) then moves the directory aside and starts over.
// Pebble still calls Fatalf where it cannot go on (a MANIFEST it cannot
// write, a broken invariant): the default logger ends the process with one
// line and exit status 1, as a kill would, and the run stays resumable.
//
// Close frees the WAL's preallocated space (110% of the memtable) past
// what it holds, so a failed run waiting for its resume occupies what it
// stored. A successful run's store is deleted whole by its caller.
//
// # Not done yet
//
//   - Range deletions (DeletePartition, DeleteRun) are not followed by
//     explicit compactions; a run's store is short-lived and removed whole.
//   - Pebble's report of a corrupt block searches for a single flipped bit
//     in up to 40 KiB of it, computing the block's checksum each time: a
//     cost quadratic in the block size, ~17 s for one 1.3 MB value (a large
//     shuffle batch is one block). It is paid once per corrupt block.
package storage
