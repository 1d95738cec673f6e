package storage

import (
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// Store is the Pebble store of one run's directory. It is safe for
// concurrent use; each PartitionWriter and SubpartitionReader is used by
// one goroutine at a time.
type Store struct {
	db     *pebble.DB
	dir    string
	opts   Options
	popts  *pebble.Options
	lock   *pebble.Lock
	tmpDir string
	damage damage
	// fileSeq numbers temporary sstables.
	fileSeq atomic.Uint64
	// commitMu serializes commits, deletions and heal, so that checking the
	// committed attempt and replacing it is atomic.
	commitMu sync.Mutex
}

// tmpDirName is the directory, inside the store, where sstables are built
// before ingestion. Anything left there is removed by Open.
const tmpDirName = "ingest-tmp"

// Open opens (or creates) the store in dir. A directory that cannot be
// used as a store (see ErrUnusable) gives an *UnusableError; Open never
// creates a store over the remains of one, nor, with MustExist, creates
// one at all.
func Open(dir string, opts Options) (*Store, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	s := &Store{dir: dir, opts: opts, tmpDir: opts.FS.PathJoin(dir, tmpDirName)}
	s.popts = opts.pebbleOptions(s.damage.listener(opts.Logger))
	if err := checkDir(opts.FS, dir, opts.MustExist); err != nil {
		return nil, &UnusableError{Dir: dir, Err: err}
	}
	if err := opts.FS.MkdirAll(dir, 0o755); err != nil {
		return nil, &UnusableError{Dir: dir, Err: err}
	}
	// Locking first tells a store in use (not damage: no reason to move it
	// aside) from one Pebble cannot open.
	lock, err := pebble.LockDirectory(dir, opts.FS)
	if err != nil {
		return nil, fmt.Errorf("storage: open %s: lock (is another process using the store?): %w", dir, err)
	}
	if err := s.openLocked(lock); err != nil {
		lock.Close()
		return nil, &UnusableError{Dir: dir, Err: err}
	}
	return s, nil
}

// openLocked opens Pebble in the locked directory.
func (s *Store) openLocked(lock *pebble.Lock) error {
	fs := s.opts.FS
	if err := fs.RemoveAll(s.tmpDir); err != nil {
		return fmt.Errorf("clear %s: %w", tmpDirName, err)
	}
	if err := fs.MkdirAll(s.tmpDir, 0o755); err != nil {
		return err
	}
	s.popts.Lock = lock
	db, err := pebble.Open(s.dir, s.popts)
	if err != nil {
		return err
	}
	s.db, s.lock = db, lock
	return nil
}

// checkDir refuses what Pebble would open as a new, empty store over
// something else: a file, a store whose MANIFEST marker is lost (Pebble
// looks no further than the marker), and with mustExist anything but a
// store.
func checkDir(fs vfs.FS, dir string, mustExist bool) error {
	fi, err := fs.Stat(dir)
	switch {
	case errors.Is(err, iofs.ErrNotExist) && mustExist:
		return errors.New("no store there: the directory does not exist")
	case errors.Is(err, iofs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case !fi.IsDir():
		return errors.New("not a directory")
	}
	names, err := fs.List(dir)
	if err != nil {
		return err
	}
	var marker, remains bool
	for _, name := range names {
		marker = marker || strings.HasPrefix(name, "marker.manifest.") || name == "CURRENT"
		remains = remains || isStoreFile(name)
	}
	switch {
	case marker:
		return nil
	case remains:
		return errors.New("its MANIFEST marker (CURRENT) is missing")
	case mustExist:
		return errors.New("no store there: no MANIFEST marker (CURRENT)")
	}
	return nil
}

// isStoreFile reports whether name is one of the files Pebble keeps for a
// store's data: sstables, blob files, WALs, MANIFESTs, OPTIONS.
func isStoreFile(name string) bool {
	for _, suffix := range []string{".sst", ".blob", ".log"} {
		if strings.HasSuffix(name, suffix) {
			return true
		}
	}
	return strings.HasPrefix(name, "MANIFEST-") || strings.HasPrefix(name, "OPTIONS-")
}

// Close closes the store. Writers and readers must be closed first. It
// then gives back the disk space Pebble preallocated for its WAL (110% of
// the memtable size) beyond what the WAL holds, so that a failed run
// waiting to be resumed occupies what it stored. A corruption met by a
// background compaction is reported here (IsCorrupt), after the store is
// closed.
func (s *Store) Close() error {
	err := s.db.Close()
	if err == nil {
		err = s.trimWALs()
	}
	if lerr := s.lock.Close(); err == nil && lerr != nil {
		err = fmt.Errorf("unlock: %w", lerr)
	}
	if err == nil {
		err = s.damage.backgroundErr()
	}
	if err != nil {
		return fmt.Errorf("storage: close %s: %w", s.dir, err)
	}
	return nil
}

// trimWALs truncates each WAL file of the closed store to its own size:
// the content stays, the preallocated blocks past the end are freed.
func (s *Store) trimWALs() error {
	names, err := s.opts.FS.List(s.dir)
	if err != nil {
		return err
	}
	for _, name := range names {
		if !strings.HasSuffix(name, ".log") {
			continue
		}
		path := s.opts.FS.PathJoin(s.dir, name)
		fi, err := s.opts.FS.Stat(path)
		if err != nil {
			return err
		}
		if err := truncate(s.opts.FS, path, fi.Size()); err != nil {
			return fmt.Errorf("trim %s: %w", name, err)
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

// DiskUsage returns what the store directory occupies on disk, itself
// and the files under it: their allocated blocks, as du counts them (so
// space preallocated past a file's end counts), or their sizes where the
// file system does not say (in memory, or off Unix).
func (s *Store) DiskUsage() (int64, error) {
	n, err := diskUsage(s.opts.FS, s.dir)
	if err != nil {
		return n, fmt.Errorf("storage: disk usage of %s: %w", s.dir, err)
	}
	return n, nil
}

func diskUsage(fs vfs.FS, path string) (int64, error) {
	fi, err := fs.Stat(path)
	if errors.Is(err, iofs.ErrNotExist) {
		return 0, nil // deleted meanwhile (an obsolete file)
	} else if err != nil {
		return 0, err
	}
	n := allocatedBytes(fi)
	if !fi.IsDir() {
		return n, nil
	}
	names, err := fs.List(path)
	if err != nil {
		return n, err
	}
	for _, name := range names {
		sub, err := diskUsage(fs, fs.PathJoin(path, name))
		n += sub
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// Options returns the store's options, defaults filled in.
func (s *Store) Options() Options { return s.opts }

// Commit returns the commit record of subpartition consumer of ref. A
// partition that was never committed (or was deleted) gives an error
// wrapping ErrNotFound.
func (s *Store) Commit(ref PartitionRef, consumer int) (CommitRecord, error) {
	rec, err := s.commitRecord(ref, consumer)
	return rec, readErr("read commit", ref, consumer, -1, err)
}

func (s *Store) commitRecord(ref PartitionRef, consumer int) (CommitRecord, error) {
	if consumer < 0 {
		return CommitRecord{}, fmt.Errorf("storage: consumer %d < 0", consumer)
	}
	k := makeCommitKey(ref, uint32(consumer))
	v, closer, err := s.db.Get(k)
	if errors.Is(err, pebble.ErrNotFound) {
		return CommitRecord{}, ErrNotFound
	} else if err != nil {
		return CommitRecord{}, err
	}
	defer closer.Close()
	return decodeCommitRecord(k, v)
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
// ref (fault injection: a lost partition; or garbage collection), and
// gives the data's disk space back (see reclaim).
func (s *Store) DeletePartition(ref PartitionRef) error {
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	if err := s.deleteRanges(partitionCommitSpan(ref)); err != nil {
		return partErr("delete", ref, -1, -1, err)
	}
	return partErr("delete", ref, -1, -1, s.reclaim(partitionDataSpan(ref)))
}

// DeleteRun deletes everything stored for run: partitions, spill runs,
// commit records, event log and metadata, and gives the data's disk space
// back.
func (s *Store) DeleteRun(run uint64) error {
	var others []span
	for k := kindData; k < numKinds; k++ {
		if !k.isData() {
			others = append(others, runSpan(k, run))
		}
	}
	return s.deleteKinds(run, "run", others, kindData, kindSpillData)
}

// DeleteRunData deletes run's partitions, spill runs and commit records
// but keeps its run record and event log, and gives the data's disk space
// back.
func (s *Store) DeleteRunData(run uint64) error {
	commits := []span{runSpan(kindCommit, run), runSpan(kindSpillCommit, run)}
	return s.deleteKinds(run, "data of run", commits, kindData, kindSpillData)
}

// DeleteSpills deletes run's operator spill runs, whatever attempt wrote
// them (a resumed run drops what a killed invocation spilled), and gives
// their disk space back; partitions stay.
func (s *Store) DeleteSpills(run uint64) error {
	return s.deleteKinds(run, "spill runs of run", []span{runSpan(kindSpillCommit, run)}, kindSpillData)
}

// deleteKinds deletes the spans first (commit records: what makes data
// visible), in one synced batch, then reclaims each data kind's span.
func (s *Store) deleteKinds(run uint64, what string, first []span, data ...keyKind) error {
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	if err := s.deleteRanges(first...); err != nil {
		return fmt.Errorf("storage: delete %s %016x: %w", what, run, err)
	}
	for _, k := range data {
		if err := s.reclaim(runSpan(k, run)); err != nil {
			return fmt.Errorf("storage: delete %s %016x: %w", what, run, err)
		}
	}
	return nil
}

// deleteRanges deletes spans in one synced batch.
func (s *Store) deleteRanges(spans ...span) error {
	b := s.db.NewBatch()
	defer b.Close()
	for _, sp := range spans {
		if err := b.DeleteRange(sp.Start, sp.End, nil); err != nil {
			return err
		}
	}
	return b.Commit(pebble.Sync)
}

// reclaim deletes the data in sp and gives its disk space back at once.
// A range deletion alone would leave the space taken until a compaction
// met it, which may never come in a failed run's store waiting for its
// resume: so the span is excised instead (a manifest edit that drops the
// ingested sstables inside it, whose files Pebble then deletes). The
// caller deletes the commit records first, so that the data is invisible
// from then on: a crash before the excision leaves invisible garbage,
// deleted with the next attempt of the partition or the run's store.
// Should the excision fail (it may open a table it cuts, and find it
// corrupt), a range deletion still deletes the data.
func (s *Store) reclaim(sp span) error {
	err := s.excise([]span{sp})
	if err == nil {
		return nil
	}
	if derr := s.deleteRanges(sp); derr != nil {
		return fmt.Errorf("excise: %w; delete range: %w", err, derr)
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
	k := makeCommitKey(ref, uint32(consumer))
	v := rec.encode(k)
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
