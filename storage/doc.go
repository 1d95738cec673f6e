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
//     and ErrCorrupt (CorruptErrorf, IsCorrupt: corrupt or unreadable),
//     both wrapped in a PartitionError that names the partition ("storage:
//     read e2.3 sub 1 attempt 2: ..."); and Open's ErrUnusable
//     (*UnusableError) for a directory that cannot be used as a store.
//   - What a store occupies on disk (DiskUsage), and giving space back
//     (Close, DeletePartition, DeleteRun, DeleteRunData).
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
// A commit record's own checksum covers its key too (record version 2),
// so a record under a damaged key is corrupt rather than another
// subpartition's. Keys are otherwise protected by Pebble's checksums
// (every sstable block and footer, every WAL and MANIFEST record).
//
// # Damage on disk
//
// A store is a cache of a run's intermediate results: damage costs
// recomputation, never a wrong answer, a crash or a person's time. What
// happens to each kind of damage is what TestDamagedStore checks over 200
// seeds (and TestUnreadableStore for reads failing with EIO):
//
//   - Open fails with an *UnusableError (ErrUnusable, one line naming the
//     directory) when Pebble cannot open the store: a MANIFEST missing or
//     damaged, the marker naming it (CURRENT) missing or wrong, a damaged
//     WAL record (Pebble's replay fails on it), an OPTIONS file or format
//     marker Pebble cannot parse, an sstable missing or truncated (Pebble
//     compares sizes at Open), unreadable files. Open also refuses store
//     files without a MANIFEST marker, with or without MustExist, where
//     Pebble would start an empty store over them; and with MustExist a
//     directory that holds no store. The caller (a resumed run) moves the
//     directory aside and starts over; a store in use by another process
//     is a plain error, not ErrUnusable.
//   - A read that meets a damaged block, or fails (EIO), fails with an
//     error that IsCorrupt, in a *PartitionError naming the partition, and
//     recovery regenerates it. Pebble's default reaction to corruption,
//     Logger.Fatalf (which must not return, so ends the process), is
//     replaced by an event listener (damage.go) that records it.
//   - The key spans of the tables Pebble found corrupt are excised before
//     the next commit (heal), with whatever else they held (partitions
//     that then read as not found or corrupt, and are regenerated).
//     Without that, a corrupt table would fail every ingestion it overlaps
//     (Pebble reads those tables to place the new ones) and a lost
//     partition could never be committed again.
//   - A compaction or the table stats job that meets damage reports it to
//     the listener, not to Fatalf, and the table is excised like the
//     others; Close returns the first such corruption (IsCorrupt) after
//     closing (TestCompactionCorruptionIsAnError). The checks that would
//     call Fatalf on what they read are off (ValidateOnIngest,
//     DebugCheck).
//
// Pebble still calls Fatalf where it cannot go on: a write to the WAL or
// the MANIFEST that failed (a full or failing disk), a WAL it cannot
// create, a broken invariant of its own. None of these comes from what is
// on disk. The default logger ends the process with one line and exit
// status 1, as a kill would, and the run stays resumable.
//
// # Disk space
//
// With WriteIngest a memtable holds commit records and small streams only
// (partition data is ingested), so the default is 4 MiB, and the WAL
// preallocates 110% of that (4.6 MB) rather than 70 MB. Pebble's reuse of obsolete WAL files,
// each with its preallocation, is off (noRecycleCleaner), and Close frees
// the live WAL's preallocation past what it holds: a small run's store
// takes 4.6 MB while open (what a killed run leaves) and ~20 KB closed
// (TestSmallStoreDiskUsage; it took 74 MB open before). DeletePartition,
// DeleteRun and DeleteRunData delete the commit records in a synced batch
// and then excise the data's key span: the sstables inside it leave the
// LSM at once and Pebble deletes their files, instead of waiting for a
// compaction that a failed run's store, waiting for its resume, would
// never run (TestDeleteGivesSpaceBack). A successful run's store is
// deleted whole by its caller.
//
// # Not done yet
//
//   - The older attempts a commit replaces, and an attempt Discard removes
//     after its data reached the store, are range deletions: their space
//     comes back when Pebble compacts them (delete-only compactions, once
//     the deletion is flushed), not at once. Both are rare (failovers).
//   - A damaged WAL record loses the whole store at Open, though most of
//     its partitions are in sstables.
//   - Healing excises a corrupt table's whole key span; a flushed memtable
//     spans many partitions, which are then all regenerated.
//   - Pebble's report of a corrupt block searches for a single flipped bit
//     in up to 40 KiB of it, computing the block's checksum each time: a
//     cost quadratic in the block size, ~17 s for one 1.3 MB value (a large
//     shuffle batch is one block). It is paid once per corrupt block.
package storage
