package storage

import (
	"fmt"
	"os"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// WritePath is how a partition writer moves data into Pebble.
type WritePath uint8

const (
	// WriteIngest (the default) writes each subpartition stream of an attempt
	// as its own sstable in a temporary directory and ingests all of them in
	// one atomic, durable db.Ingest at Commit; streams smaller than
	// Options.SmallStreamBytes go into the commit batch instead. Measured
	// 2.5-3x faster than WriteBatch for the same bytes (see bench_test.go).
	WriteIngest WritePath = iota
	// WriteBatch writes data through Pebble batches committed with NoSync
	// (WAL on, not synced); the synced commit batch that follows makes them
	// durable, because the WAL is one sequential log.
	WriteBatch
)

func (p WritePath) String() string {
	switch p {
	case WriteIngest:
		return "ingest"
	case WriteBatch:
		return "batch"
	}
	return fmt.Sprintf("writepath(%d)", uint8(p))
}

// Options configures a Store. Zero values are the defaults.
type Options struct {
	// FS is the filesystem (default vfs.Default). Tests pass vfs.NewMem(),
	// errorfs or vfs.NewCrashableMem.
	FS vfs.FS
	// CacheSize is Pebble's block cache size in bytes (default 64 MiB).
	CacheSize int64
	// MemTableSize is Pebble's memtable size in bytes (default 4 MiB, or
	// 64 MiB with WriteBatch). With WriteIngest partition data is ingested
	// as sstables, so a memtable holds commit records and small streams,
	// and a small one is enough; the WAL preallocates 110% of it on disk,
	// which is most of what a small run's store occupies. (Streams that
	// all ride in commit batches are written ~15% slower than with 64 MiB,
	// which never flushed them: BenchmarkSmallCommits.) WriteBatch writes
	// all data through memtables, and twice as fast with 64 MiB
	// (BenchmarkWritePath).
	MemTableSize uint64
	// WritePath picks how partition data is written (default WriteIngest).
	WritePath WritePath
	// BlockSize is the sstable data block size of ingested partition data
	// (default 256 KiB).
	BlockSize int
	// SmallStreamBytes: with WriteIngest, a subpartition stream stays in
	// memory until it holds this many bytes; streams that never reach it are
	// written in the commit batch rather than as a tiny sstable (default
	// 256 KiB). Memory per writer is at most numConsumers times this.
	SmallStreamBytes int
	// BatchBytes: with WriteBatch, data is committed (NoSync) every
	// BatchBytes bytes (default 4 MiB).
	BatchBytes int
	// MustExist makes Open fail (ErrUnusable) when dir holds no store, or
	// one whose MANIFEST is lost, instead of creating an empty one: a
	// resumed run's store must be there.
	MustExist bool
	// Logger receives Pebble's messages. The default drops informational
	// messages and errors (Pebble prints "Found 0 WALs" otherwise) and ends
	// the process on fatal ones, which damage on disk does not cause (see
	// quietLogger).
	Logger pebble.Logger
}

// EnsureDefaults fills zero fields with their defaults.
func (o *Options) EnsureDefaults() {
	if o.FS == nil {
		o.FS = vfs.Default
	}
	if o.CacheSize == 0 {
		o.CacheSize = 64 << 20
	}
	if o.MemTableSize == 0 && o.WritePath == WriteBatch {
		o.MemTableSize = 64 << 20
	} else if o.MemTableSize == 0 {
		o.MemTableSize = 4 << 20
	}
	if o.BlockSize == 0 {
		o.BlockSize = 256 << 10
	}
	if o.SmallStreamBytes == 0 {
		o.SmallStreamBytes = 256 << 10
	}
	if o.BatchBytes == 0 {
		o.BatchBytes = 4 << 20
	}
	if o.Logger == nil {
		o.Logger = quietLogger{}
	}
}

// Validate reports the first invalid field.
func (o *Options) Validate() error {
	switch {
	case o.CacheSize < 0:
		return fmt.Errorf("storage: options: CacheSize %d < 0", o.CacheSize)
	case o.WritePath > WriteBatch:
		return fmt.Errorf("storage: options: unknown WritePath %d", o.WritePath)
	case o.BlockSize < 0 || o.BlockSize > 64<<20:
		return fmt.Errorf("storage: options: BlockSize %d not in [0, 64 MiB]", o.BlockSize)
	case o.SmallStreamBytes < 0:
		return fmt.Errorf("storage: options: SmallStreamBytes %d < 0", o.SmallStreamBytes)
	case o.BatchBytes < 0:
		return fmt.Errorf("storage: options: BatchBytes %d < 0", o.BatchBytes)
	}
	return nil
}

func (o *Options) String() string {
	return fmt.Sprintf("write_path=%s cache=%d memtable=%d block=%d small_stream=%d batch=%d",
		o.WritePath, o.CacheSize, o.MemTableSize, o.BlockSize, o.SmallStreamBytes, o.BatchBytes)
}

// pebbleOptions configures Pebble so that nothing on disk reaches its
// Logger.Fatalf (which must not return, so ends the process) or a panic:
// corruption goes to listener (see damage.listener), and the checks that
// would call Fatalf on what they read stay off (see the comments).
func (o *Options) pebbleOptions(listener *pebble.EventListener) *pebble.Options {
	po := &pebble.Options{
		FS:                 o.FS,
		CacheSize:          o.CacheSize,
		MemTableSize:       o.MemTableSize,
		FormatMajorVersion: pebble.FormatNewest,
		Logger:             o.Logger,
		EventListener:      listener,
		ErrorIfNotExists:   o.MustExist,
	}
	// Values are already compressed (Arrow IPC + zstd/lz4): compressing
	// blocks again costs CPU and saves nothing.
	po.ApplyCompressionSettings(func() pebble.DBCompressionSettings { return pebble.DBCompressionNone })
	// Validating ingested sstables in the background calls Fatalf on a
	// corrupt one; the store built them a moment before, and db.Ingest
	// reads what it needs with checksums.
	po.Experimental.ValidateOnIngest = false
	// DebugCheck calls Fatalf when a check of the LSM fails.
	po.DebugCheck = nil
	// At Open, compare each sstable's size with the MANIFEST's: a missing
	// or truncated table makes the store unusable (an error of Open)
	// rather than an error of whatever read meets it later.
	po.DisableConsistencyCheck = false
	po.Cleaner = noRecycleCleaner{Cleaner: pebble.DeleteCleaner{}}
	po.EnsureDefaults()
	return po
}

// noRecycleCleaner deletes obsolete files, as Pebble's default cleaner
// does, and also stops Pebble from keeping obsolete WAL files to reuse:
// each keeps its preallocated space (110% of the memtable), up to
// MemTableStopWritesThreshold+1 of them, which is most of a small store's
// footprint and all that a killed run leaves beyond its data. (Reuse
// saves a little fsync latency on busy stores; ours write little to the
// WAL.) Pebble recycles nothing when its Cleaner implements the unexported
// base.NeedsFileContents, as pebble.ArchiveCleaner does: the embedded
// archiver lends that method only (Clean, one level up, comes from
// Cleaner); TestNoWALRecycling checks that it still works.
type noRecycleCleaner struct {
	pebble.Cleaner
	archiverMethods
}

type archiverMethods struct{ pebble.ArchiveCleaner }

func (noRecycleCleaner) String() string { return "delete" }

// quietLogger drops Pebble's informational and error messages. Pebble
// calls Fatalf only where it cannot go on, expecting it not to return,
// from goroutines no caller can recover: a write to the WAL or the
// MANIFEST that failed (a full or failing disk), a WAL it cannot create
// (the directory removed under the open store), or a broken invariant of
// its own. Damage to what is on disk does not lead there (corruption is
// an error: see pebbleOptions and damage.listener). Fatalf ends the
// process with one line and exit status 1, as a kill would: the run's
// record stays resumable and its locks go with the process.
type quietLogger struct{}

func (quietLogger) Infof(string, ...any)  {}
func (quietLogger) Errorf(string, ...any) {}
func (quietLogger) Fatalf(f string, args ...any) {
	fmt.Fprintf(os.Stderr, "batchrun: storage: fatal: %s; the run can be resumed\n", fmt.Sprintf(f, args...))
	os.Exit(1)
}
