package storage

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// Store is the Pebble store of one state directory. It is safe for
// concurrent use; each PartitionWriter and SubpartitionReader is used by one
// goroutine at a time.
type Store struct {
	db     *pebble.DB
	dir    string
	opts   Options
	popts  *pebble.Options
	tmpDir string
	// fileSeq numbers temporary sstables.
	fileSeq atomic.Uint64
	// commitMu serializes commits, so that checking the committed attempt
	// and replacing it is atomic.
	commitMu sync.Mutex
}

// tmpDirName is the directory, inside the store, where sstables are built
// before ingestion. Anything left there is removed by Open.
const tmpDirName = "ingest-tmp"

// Open opens (or creates) the store in dir.
func Open(dir string, opts Options) (*Store, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	s := &Store{opts: opts, popts: opts.pebbleOptions()}
	s.tmpDir = opts.FS.PathJoin(dir, tmpDirName)
	if err := opts.FS.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("storage: open %s: %w", dir, err)
	}
	if err := opts.FS.RemoveAll(s.tmpDir); err != nil {
		return nil, fmt.Errorf("storage: open %s: clear %s: %w", dir, tmpDirName, err)
	}
	if err := opts.FS.MkdirAll(s.tmpDir, 0o755); err != nil {
		return nil, fmt.Errorf("storage: open %s: %w", dir, err)
	}
	db, err := pebble.Open(dir, s.popts)
	if err != nil {
		return nil, &UnusableError{Dir: dir, Err: err}
	}
	s.db, s.dir = db, dir
	return s, nil
}

// Close closes the store. Writers and readers must be closed first. It
// then gives back the disk space Pebble preallocated for its WAL (110% of
// the memtable size, 70 MB by default) beyond what the WAL holds, so that
// a failed run waiting to be resumed occupies what it stored.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("storage: close: %w", err)
	}
	return s.trimWALs()
}

// trimWALs truncates each WAL file of the closed store to its own size:
// the content stays, the preallocated blocks past the end are freed.
func (s *Store) trimWALs() error {
	names, err := s.opts.FS.List(s.dir)
	if err != nil {
		return fmt.Errorf("storage: close: %w", err)
	}
	for _, name := range names {
		if !strings.HasSuffix(name, ".log") {
			continue
		}
		path := s.opts.FS.PathJoin(s.dir, name)
		fi, err := s.opts.FS.Stat(path)
		if err != nil {
			return fmt.Errorf("storage: close: %w", err)
		}
		if err := truncate(s.opts.FS, path, fi.Size()); err != nil {
			return fmt.Errorf("storage: close: trim %s: %w", name, err)
		}
	}
	return nil
}

// truncate sets the size of path. vfs.FS has no Truncate: the OS
// filesystem's is used where path is on it, and other filesystems (in
// memory, in tests) preallocate nothing.
func truncate(fs vfs.FS, path string, size int64) error {
	if fs != vfs.Default {
		return nil
	}
	return os.Truncate(path, size)
}

// Options returns the store's options, defaults filled in.
func (s *Store) Options() Options { return s.opts }

// Commit returns the commit record of subpartition consumer of ref. A
// partition that was never committed (or was deleted) gives an error
// wrapping ErrNotFound.
func (s *Store) Commit(ref PartitionRef, consumer int) (CommitRecord, error) {
	rec, err := s.commitRecord(ref, consumer)
	return rec, partErr("read commit", ref, consumer, -1, err)
}

func (s *Store) commitRecord(ref PartitionRef, consumer int) (CommitRecord, error) {
	if consumer < 0 {
		return CommitRecord{}, fmt.Errorf("storage: consumer %d < 0", consumer)
	}
	v, closer, err := s.db.Get(makeCommitKey(ref, uint32(consumer)))
	if errors.Is(err, pebble.ErrNotFound) {
		return CommitRecord{}, ErrNotFound
	} else if err != nil {
		return CommitRecord{}, err
	}
	defer closer.Close()
	return decodeCommitRecord(v)
}

// Verify reads every subpartition of ref in full and checks it against its
// commit record (used when a resumed run re-validates committed
// partitions).
func (s *Store) Verify(ref PartitionRef) error {
	rec, err := s.Commit(ref, 0)
	if err != nil {
		return err
	}
	for c := 0; c < rec.NumConsumers; c++ {
		r, err := s.OpenSubpartition(ref, c)
		if err != nil {
			return err
		}
		for err == nil {
			_, err = r.Next()
		}
		r.Close()
		if !isEOF(err) {
			return err
		}
	}
	return nil
}

// DeletePartition deletes every commit record and every attempt's data of
// ref (fault injection: a lost partition; or garbage collection).
func (s *Store) DeletePartition(ref PartitionRef) error {
	b := s.db.NewBatch()
	defer b.Close()
	for _, sp := range []span{partitionCommitSpan(ref), partitionDataSpan(ref)} {
		if err := b.DeleteRange(sp.Start, sp.End, nil); err != nil {
			return partErr("delete", ref, -1, -1, err)
		}
	}
	return partErr("delete", ref, -1, -1, b.Commit(pebble.Sync))
}

// DeleteRun deletes everything stored for run: partitions, commit records,
// event log and metadata. Space is reclaimed by later compactions.
func (s *Store) DeleteRun(run uint64) error {
	b := s.db.NewBatch()
	defer b.Close()
	for k := kindData; k < numKinds; k++ {
		sp := runSpan(k, run)
		if err := b.DeleteRange(sp.Start, sp.End, nil); err != nil {
			return fmt.Errorf("storage: delete run %d: %w", run, err)
		}
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("storage: delete run %d: %w", run, err)
	}
	return nil
}

// DeleteRunData deletes run's partitions and commit records but keeps its
// run record and event log, the history `batchrun runs` shows.
func (s *Store) DeleteRunData(run uint64) error {
	b := s.db.NewBatch()
	defer b.Close()
	for _, k := range []keyKind{kindData, kindCommit} {
		sp := runSpan(k, run)
		if err := b.DeleteRange(sp.Start, sp.End, nil); err != nil {
			return fmt.Errorf("storage: delete data of run %s: %w", fmt.Sprintf("%016x", run), err)
		}
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("storage: delete data of run %s: %w", fmt.Sprintf("%016x", run), err)
	}
	return nil
}

// CorruptPartition flips bytes in the first stored batch of the committed
// attempt of (ref, consumer), or in its commit record when it has no batch
// (fault injection). Readers then fail with an error that IsCorrupt.
func (s *Store) CorruptPartition(ref PartitionRef, consumer int) error {
	rec, err := s.commitRecord(ref, consumer)
	if err != nil {
		return partErr("corrupt", ref, consumer, -1, err)
	}
	k, v := makeCommitKey(ref, uint32(consumer)), rec.encode()
	if rec.Batches > 0 {
		k = makeDataKey(ref, rec.Attempt, uint32(consumer), 0)
		stored, closer, err := s.db.Get(k)
		if err != nil {
			return partErr("corrupt", ref, consumer, int64(rec.Attempt), err)
		}
		v = append([]byte(nil), stored...)
		closer.Close()
	}
	v[len(v)/2] ^= 0xff
	return partErr("corrupt", ref, consumer, int64(rec.Attempt), s.db.Set(k, v, pebble.Sync))
}
