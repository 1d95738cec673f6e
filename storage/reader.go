package storage

import (
	"errors"
	"fmt"
	"io"

	"github.com/cockroachdb/pebble/v2"
)

// SubpartitionReader reads the committed attempt of one subpartition, value
// by value, in the order they were appended. It checks each value's running
// checksum as it goes, so a flipped byte is reported before the value is
// returned, and checks the batch count, rows, bytes and checksum against
// the commit record before returning io.EOF. It reads a consistent
// snapshot: a commit of a newer attempt while reading does not affect it.
// A SubpartitionReader is used by one goroutine.
type SubpartitionReader struct {
	ref      PartitionRef
	consumer int
	rec      CommitRecord
	iter     *pebble.Iterator
	sum      streamSum
	rows     int64
	err      error
}

// OpenSubpartition opens subpartition consumer of ref for reading. Without
// a commit record it fails with an error wrapping ErrNotFound.
func (s *Store) OpenSubpartition(ref PartitionRef, consumer int) (*SubpartitionReader, error) {
	if consumer < 0 {
		return nil, partErr("open", ref, consumer, -1, fmt.Errorf("consumer < 0"))
	}
	ck := makeCommitKey(ref, uint32(consumer))
	// One iterator reads the commit record and then the data, so both come
	// from the same point-in-time view.
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: ck, UpperBound: prefixEnd(ck)})
	if err != nil {
		return nil, readErr("open", ref, consumer, -1, err)
	}
	rec, err := readRecord(it)
	if err != nil {
		it.Close()
		return nil, readErr("open", ref, consumer, -1, err)
	}
	sp := subpartitionSpan(ref, rec.Attempt, uint32(consumer))
	it.SetBounds(sp.Start, sp.End)
	return &SubpartitionReader{ref: ref, consumer: consumer, rec: rec, iter: it}, nil
}

func readRecord(it *pebble.Iterator) (CommitRecord, error) {
	if !it.First() {
		if err := it.Error(); err != nil {
			return CommitRecord{}, err
		}
		return CommitRecord{}, ErrNotFound
	}
	v, err := it.ValueAndErr()
	if err != nil {
		return CommitRecord{}, err
	}
	return decodeCommitRecord(it.Key(), v)
}

// Commit returns the commit record the reader follows.
func (r *SubpartitionReader) Commit() CommitRecord { return r.rec }

// Rows returns the row count of the value last returned by Next.
func (r *SubpartitionReader) Rows() int64 { return r.rows }

// Next returns the next value. The slice is valid until the next call to
// Next or Close. At the end it returns io.EOF, after verifying the stream
// against the commit record; a mismatch is an error that IsCorrupt.
func (r *SubpartitionReader) Next() ([]byte, error) {
	if r.err != nil {
		return nil, r.err
	}
	v, err := r.next()
	if err != nil {
		if err != io.EOF {
			err = readErr("read", r.ref, r.consumer, int64(r.rec.Attempt), err)
		}
		r.err = err
	}
	return v, err
}

func (r *SubpartitionReader) next() ([]byte, error) {
	i := r.sum.batches
	if i == r.rec.Batches {
		// Values past the count (left by an uncommitted earlier use of the
		// same attempt number) are not part of the stream.
		if err := r.sum.verify(r.rec); err != nil {
			return nil, err
		}
		return nil, io.EOF
	}
	var ok bool
	if i == 0 {
		ok = r.iter.SeekGE(makeDataKey(r.ref, r.rec.Attempt, uint32(r.consumer), 0))
	} else {
		ok = r.iter.Next()
	}
	if !ok {
		if err := r.iter.Error(); err != nil {
			return nil, err
		}
		return nil, CorruptErrorf("batch %d of %d is missing", i, r.rec.Batches)
	}
	k, err := parseKey(r.iter.Key())
	if err != nil {
		return nil, err
	}
	if k.Seq != uint64(i) || k.Marker != notMarker {
		return nil, CorruptErrorf("batch %d of %d is missing (found batch %d)", i, r.rec.Batches, k.Seq)
	}
	stored, err := r.iter.ValueAndErr()
	if err != nil {
		return nil, err
	}
	v, rows, err := r.sum.check(stored)
	if err != nil {
		return nil, err
	}
	r.rows = rows
	return v, nil
}

// Close releases the reader. It is safe to call more than once.
func (r *SubpartitionReader) Close() error {
	if r.iter == nil {
		return nil
	}
	err := r.iter.Close()
	r.iter = nil
	if r.err == nil {
		r.err = errors.New("storage: reader closed")
	}
	return readErr("close", r.ref, r.consumer, int64(r.rec.Attempt), err)
}

func isEOF(err error) bool { return err == io.EOF }
