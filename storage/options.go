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
	// MemTableSize is Pebble's memtable size in bytes (default 64 MiB).
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
	// the process on fatal ones (see quietLogger).
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
	if o.MemTableSize == 0 {
		o.MemTableSize = 64 << 20
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

func (o *Options) pebbleOptions() *pebble.Options {
	po := &pebble.Options{
		FS:                 o.FS,
		CacheSize:          o.CacheSize,
		MemTableSize:       o.MemTableSize,
		FormatMajorVersion: pebble.FormatNewest,
		Logger:             o.Logger,
		EventListener:      corruptionListener(o.Logger),
		ErrorIfNotExists:   o.MustExist,
	}
	// Values are already compressed (Arrow IPC + zstd/lz4): compressing
	// blocks again costs CPU and saves nothing.
	po.ApplyCompressionSettings(func() pebble.DBCompressionSettings { return pebble.DBCompressionNone })
	po.EnsureDefaults()
	return po
}

// corruptionListener makes a corruption Pebble detects in a read an error
// of that read (Pebble's default DataCorruption handler calls
// Logger.Fatalf, killing the process). The read then fails with an error
// for which IsCorrupt holds, and recovery regenerates the partition.
// Background errors (a compaction that read a corrupt block) are logged:
// the data stays readable or its readers fail the same way.
func corruptionListener(logger pebble.Logger) *pebble.EventListener {
	return &pebble.EventListener{
		DataCorruption:  func(info pebble.DataCorruptionInfo) { logger.Errorf("storage: %s", info) },
		BackgroundError: func(err error) { logger.Errorf("storage: background error: %s", err) },
	}
}

// quietLogger drops Pebble's informational and error messages. Pebble
// calls Fatalf only where it cannot go on (an invariant broken, a MANIFEST
// it cannot write, as on a full disk) and expects it not to return, from
// goroutines no caller can recover; it ends the process with one line and
// exit status 1, as a kill would: the run's record stays resumable and its
// locks go with the process. (Corruption in what Pebble reads does not
// come here: see corruptionListener.)
type quietLogger struct{}

func (quietLogger) Infof(string, ...any)  {}
func (quietLogger) Errorf(string, ...any) {}
func (quietLogger) Fatalf(f string, args ...any) {
	fmt.Fprintf(os.Stderr, "batchrun: storage: fatal: %s; the run can be resumed\n", fmt.Sprintf(f, args...))
	os.Exit(1)
}
