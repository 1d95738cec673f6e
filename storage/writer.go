package storage

import (
	"context"
	"errors"
	"fmt"
	iofs "io/fs"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/objstorage/objstorageprovider"
	"github.com/cockroachdb/pebble/v2/sstable"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// PartitionWriter writes one attempt of one partition: numConsumers
// subpartition streams of values (encoded batches). Nothing it writes is
// visible to readers until Commit returns; a failed or discarded attempt
// leaves nothing visible. A PartitionWriter is used by one goroutine.
//
// The usual pattern is:
//
//	w := store.NewPartitionWriter(ref, attempt, n)
//	defer w.Discard() // no-op after a successful Commit
//	... w.Append(c, rows, value) ...
//	return w.Commit()
type PartitionWriter struct {
	s            *Store
	ref          PartitionRef
	attempt      uint32
	numConsumers int
	streams      []stream
	state        writerState
	err          error
	// batch holds not yet committed data (WriteBatch only).
	batch *pebble.Batch
	// inDB is set once some of the attempt's data may be in the DB
	// (a NoSync data batch, or an ingest whose commit batch then failed).
	inDB    bool
	scratch []byte
	key     []byte
}

type writerState uint8

const (
	writerOpen writerState = iota
	writerCommitted
	writerFailed
	writerDiscarded
)

// stream is one subpartition of the attempt.
type stream struct {
	sum streamSum
	// pending holds stored values (payload and trailer) while the stream
	// is smaller than Options.SmallStreamBytes (WriteIngest only).
	pending      [][]byte
	pendingBytes int
	sst          *sstable.Writer
	path         string
}

// NewPartitionWriter starts attempt of partition ref with numConsumers
// subpartitions. Errors (a bad argument, a write error) are reported by
// Append and Commit.
func (s *Store) NewPartitionWriter(ref PartitionRef, attempt uint32, numConsumers int) *PartitionWriter {
	w := &PartitionWriter{s: s, ref: ref, attempt: attempt, numConsumers: numConsumers}
	if numConsumers <= 0 {
		w.fail(fmt.Errorf("numConsumers %d <= 0", numConsumers))
		return w
	}
	w.streams = make([]stream, numConsumers)
	if s.opts.WritePath == WriteBatch {
		w.batch = s.db.NewBatch()
	}
	return w
}

func (w *PartitionWriter) fail(err error) {
	if w.err == nil {
		w.err = partErr("write", w.ref, -1, int64(w.attempt), err)
	}
	w.state = writerFailed
}

func (w *PartitionWriter) usable() error {
	switch w.state {
	case writerFailed:
		return w.err
	case writerCommitted:
		return partErr("write", w.ref, -1, int64(w.attempt), errors.New("already committed"))
	case writerDiscarded:
		return partErr("write", w.ref, -1, int64(w.attempt), errors.New("discarded"))
	}
	return nil
}

// Append adds value (one encoded batch of rows rows) at the end of
// subpartition consumer. The writer does not retain value.
func (w *PartitionWriter) Append(consumer int, rows int64, value []byte) error {
	if err := w.usable(); err != nil {
		return err
	}
	if consumer < 0 || consumer >= w.numConsumers {
		err := partErr("write", w.ref, consumer, int64(w.attempt), fmt.Errorf("consumer out of range [0, %d)", w.numConsumers))
		w.fail(err)
		return err
	}
	st := &w.streams[consumer]
	seq := uint64(st.sum.batches)
	t := st.sum.add(value, rows)
	var err error
	if w.batch != nil {
		err = w.appendBatch(consumer, seq, value, t[:])
	} else {
		err = w.appendIngest(consumer, st, seq, value, t[:])
	}
	if err != nil {
		err = partErr("write", w.ref, consumer, int64(w.attempt), err)
		w.fail(err)
	}
	return err
}

func (w *PartitionWriter) appendBatch(consumer int, seq uint64, value, trailer []byte) error {
	w.key = appendDataKey(w.key[:0], w.ref, w.attempt, uint32(consumer), seq)
	op := w.batch.SetDeferred(len(w.key), len(value)+len(trailer))
	copy(op.Key, w.key)
	copy(op.Value[copy(op.Value, value):], trailer)
	if err := op.Finish(); err != nil {
		return err
	}
	if w.batch.Len() < w.s.opts.BatchBytes {
		return nil
	}
	w.inDB = true
	if err := w.batch.Commit(pebble.NoSync); err != nil {
		return err
	}
	w.batch.Reset()
	return nil
}

func (w *PartitionWriter) appendIngest(consumer int, st *stream, seq uint64, value, trailer []byte) error {
	if st.sst == nil && st.pendingBytes+len(value) < w.s.opts.SmallStreamBytes {
		v := make([]byte, 0, len(value)+len(trailer))
		st.pending = append(st.pending, append(append(v, value...), trailer...))
		st.pendingBytes += len(value)
		return nil
	}
	if st.sst == nil {
		if err := w.startSST(consumer, st); err != nil {
			return err
		}
	}
	w.scratch = append(append(w.scratch[:0], value...), trailer...)
	w.key = appendDataKey(w.key[:0], w.ref, w.attempt, uint32(consumer), seq)
	return st.sst.Set(w.key, w.scratch)
}

// startSST opens the stream's sstable and moves its pending values there.
func (w *PartitionWriter) startSST(consumer int, st *stream) error {
	fs := w.s.opts.FS
	st.path = fs.PathJoin(w.s.tmpDir, fmt.Sprintf("%06d.sst", w.s.fileSeq.Add(1)))
	f, err := fs.Create(st.path, vfs.WriteCategoryUnspecified)
	if err != nil {
		st.path = ""
		return err
	}
	// Write dirty pages out as we go (as Pebble does for its own sstables),
	// so that the sync before ingestion has little left to do.
	f = vfs.NewSyncingFile(f, vfs.SyncingFileOptions{BytesPerSync: 1 << 20})
	wo := w.s.popts.MakeWriterOptions(6, w.s.db.TableFormat())
	wo.BlockSize = w.s.opts.BlockSize
	// Let a block end as soon as it holds 1% of BlockSize, so that the
	// head marker gets a block of its own (see keys.go).
	wo.BlockSizeThreshold, wo.SizeClassAwareThreshold, wo.AllocatorSizeClasses = 1, 1, nil
	wo.Compression = sstable.NoCompression
	wo.FilterPolicy = nil
	st.sst = sstable.NewWriter(objstorageprovider.NewFileWritable(f), wo)
	pad := make([]byte, w.s.opts.BlockSize/100+64)
	if err := st.sst.Set(makeMarkerKey(w.ref, w.attempt, uint32(consumer), headMarker), pad); err != nil {
		return err
	}
	for i, v := range st.pending {
		w.key = appendDataKey(w.key[:0], w.ref, w.attempt, uint32(consumer), uint64(i))
		if err := st.sst.Set(w.key, v); err != nil {
			return err
		}
	}
	st.pending, st.pendingBytes = nil, 0
	return nil
}

// Commit makes the attempt visible: it ingests the attempt's sstables
// (WriteIngest), then writes one commit record per subpartition, the small
// streams' data (WriteIngest) or the last data (WriteBatch), and a range
// deletion of every older attempt, all in one synced batch. It fails if an
// attempt >= this one is already committed. After an error, nothing of the
// attempt is visible; call Discard to remove what was written.
func (w *PartitionWriter) Commit() error {
	if err := w.usable(); err != nil {
		return err
	}
	if err := w.commit(); err != nil {
		err = partErr("commit", w.ref, -1, int64(w.attempt), err)
		w.fail(err)
		return err
	}
	w.state = writerCommitted
	w.release()
	return nil
}

func (w *PartitionWriter) commit() error {
	paths, err := w.finishSSTs()
	if err != nil {
		return err
	}
	w.s.commitMu.Lock()
	defer w.s.commitMu.Unlock()
	if err := w.s.heal(); err != nil {
		return err
	}
	prev, err := w.s.commitRecord(w.ref, 0)
	// A corrupt previous record is what a failover regenerates: the old
	// attempt is unusable, so every old commit record goes.
	clearCommits := IsCorrupt(err)
	switch {
	case errors.Is(err, ErrNotFound) || clearCommits:
		prev = CommitRecord{}
	case err != nil:
		return fmt.Errorf("read previous commit record: %w", err)
	case prev.Attempt >= w.attempt:
		return fmt.Errorf("attempt %d is already committed", prev.Attempt)
	}
	clearCommits = clearCommits || prev.NumConsumers > w.numConsumers
	if len(paths) > 0 {
		w.inDB = true
		if err := w.s.ingest(paths); err != nil {
			return fmt.Errorf("ingest: %w", err)
		}
	}
	b := w.batch
	if b == nil {
		b = w.s.db.NewBatch()
		defer b.Close()
	}
	if err := w.fillCommitBatch(b, clearCommits); err != nil {
		return err
	}
	return b.Commit(pebble.Sync)
}

// ingest ingests the sstables at paths. To choose their level, Pebble
// reads the tables they overlap: one it finds corrupt is excised (heal)
// and the ingestion tried again, so that a damaged table near a lost
// partition does not stop its regeneration. The caller holds commitMu.
func (s *Store) ingest(paths []string) error {
	err := s.db.Ingest(context.Background(), paths)
	if err == nil || !IsCorrupt(err) || !s.damage.pending() {
		return err
	}
	if herr := s.heal(); herr != nil {
		return fmt.Errorf("%w (then: %w)", err, herr)
	}
	return s.db.Ingest(context.Background(), paths)
}

// finishSSTs closes every stream's sstable and returns their paths.
func (w *PartitionWriter) finishSSTs() ([]string, error) {
	var paths []string
	for i := range w.streams {
		st := &w.streams[i]
		if st.sst == nil {
			continue
		}
		err := st.sst.Set(makeMarkerKey(w.ref, w.attempt, uint32(i), tailMarker), nil)
		err = errors.Join(err, st.sst.Close())
		st.sst = nil
		if err != nil {
			return nil, fmt.Errorf("finish sstable for sub %d: %w", i, err)
		}
		paths = append(paths, st.path)
	}
	return paths, nil
}

// fillCommitBatch adds the attempt's pending data, the deletion of older
// attempts and the commit records to b; clearCommits also deletes every
// existing commit record of the partition first.
func (w *PartitionWriter) fillCommitBatch(b *pebble.Batch, clearCommits bool) error {
	for c := range w.streams {
		st := &w.streams[c]
		for i, v := range st.pending {
			if err := b.Set(makeDataKey(w.ref, w.attempt, uint32(c), uint64(i)), v, nil); err != nil {
				return err
			}
		}
	}
	// Attempt 0 has no older attempts, and a range deletion over nothing
	// would still make a later excision of the partition (DeletePartition)
	// overlap the memtable, and wait for its flush.
	if w.attempt > 0 {
		old := olderAttemptsSpan(w.ref, w.attempt)
		if err := b.DeleteRange(old.Start, old.End, nil); err != nil {
			return err
		}
	}
	if clearCommits {
		cs := partitionCommitSpan(w.ref)
		if err := b.DeleteRange(cs.Start, cs.End, nil); err != nil {
			return err
		}
	}
	for c := range w.streams {
		s := w.streams[c].sum
		rec := CommitRecord{Attempt: w.attempt, NumConsumers: w.numConsumers,
			Rows: s.rows, Bytes: s.bytes, Batches: s.batches, Checksum: s.crc}
		k := makeCommitKey(w.ref, uint32(c))
		if err := b.Set(k, rec.encode(k), nil); err != nil {
			return err
		}
	}
	return nil
}

// Discard abandons the attempt: it removes its temporary files and deletes
// whatever of its data reached the DB. It does nothing after a successful
// Commit, so it can be deferred.
func (w *PartitionWriter) Discard() error {
	if w.state == writerCommitted || w.state == writerDiscarded {
		return nil
	}
	w.state = writerDiscarded
	var errs []error
	for i := range w.streams {
		st := &w.streams[i]
		if st.sst != nil {
			_ = st.sst.Close() // an error here only concerns a file we remove
			st.sst = nil
		}
		if st.path != "" {
			if err := w.s.opts.FS.Remove(st.path); err != nil && !errors.Is(err, iofs.ErrNotExist) {
				errs = append(errs, err)
			}
		}
	}
	if w.inDB {
		sp := attemptSpan(w.ref, w.attempt)
		errs = append(errs, w.s.db.DeleteRange(sp.Start, sp.End, pebble.NoSync))
	}
	w.release()
	return partErr("discard", w.ref, -1, int64(w.attempt), errors.Join(errs...))
}

func (w *PartitionWriter) release() {
	if w.batch != nil {
		_ = w.batch.Close()
		w.batch = nil
	}
	for i := range w.streams {
		w.streams[i].pending = nil
	}
	w.scratch = nil
}

// Stats returns the commit record each subpartition would get (or got)
// from what was appended so far.
func (w *PartitionWriter) Stats() []CommitRecord {
	out := make([]CommitRecord, len(w.streams))
	for c, st := range w.streams {
		out[c] = CommitRecord{Attempt: w.attempt, NumConsumers: w.numConsumers,
			Rows: st.sum.rows, Bytes: st.sum.bytes, Batches: st.sum.batches, Checksum: st.sum.crc}
	}
	return out
}
