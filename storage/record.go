package storage

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"log/slog"
)

// PartitionRef names a result partition: the output of producer subtask
// Producer on edge Edge, in run Run. Its String is the canonical "e2.3".
// In SpaceSpill it names an operator's spill run instead, Edge being the
// run's number ("spill7.3").
type PartitionRef struct {
	Run      uint64
	Edge     uint32
	Producer uint32
	Space    Space
}

// Space is the key space of a partition: shuffle partitions, or operator
// spill runs, which are written and read the same way but never pass for
// partitions and are deleted apart from them (DeleteSpills).
type Space uint8

const (
	SpaceShuffle Space = iota
	SpaceSpill
)

func (r PartitionRef) String() string {
	if r.Space == SpaceSpill {
		return fmt.Sprintf("spill%d.%d", r.Edge, r.Producer)
	}
	return fmt.Sprintf("e%d.%d", r.Edge, r.Producer)
}

// LogValue implements slog.LogValuer.
func (r PartitionRef) LogValue() slog.Value { return slog.StringValue(r.String()) }

// CommitRecord describes one committed subpartition: which attempt is
// visible and what a reader must find there.
type CommitRecord struct {
	Attempt uint32
	// NumConsumers is the number of subpartitions of the partition.
	NumConsumers int
	Rows         int64 // sum of the rows passed to Append
	Bytes        int64 // sum of the value lengths
	Batches      int64 // number of values
	// Checksum is the CRC-32C (Castagnoli) over every value followed by its
	// row count (8 bytes, little-endian), in order.
	Checksum uint32
}

func (c CommitRecord) String() string {
	return fmt.Sprintf("attempt=%d consumers=%d rows=%d bytes=%d batches=%d crc=%08x",
		c.Attempt, c.NumConsumers, c.Rows, c.Bytes, c.Batches, c.Checksum)
}

const (
	// recordVersion 2 checksums the record's key with it (version 1, still
	// read, did not): a record that a damaged key moved to another
	// subpartition's key is then corrupt rather than that subpartition's.
	recordVersion = 2
	recordLen     = 1 + 4 + 4 + 8 + 8 + 8 + 4 + 4 // ..., checksum, record crc
	// trailerLen is what follows each stored value: its row count (8) and
	// the running checksum up to and including it (4).
	trailerLen = 8 + 4
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// encode returns the record stored under key.
func (c CommitRecord) encode(key []byte) []byte {
	b := make([]byte, recordLen)
	b[0] = recordVersion
	binary.LittleEndian.PutUint32(b[1:], c.Attempt)
	binary.LittleEndian.PutUint32(b[5:], uint32(c.NumConsumers))
	binary.LittleEndian.PutUint64(b[9:], uint64(c.Rows))
	binary.LittleEndian.PutUint64(b[17:], uint64(c.Bytes))
	binary.LittleEndian.PutUint64(b[25:], uint64(c.Batches))
	binary.LittleEndian.PutUint32(b[33:], c.Checksum)
	binary.LittleEndian.PutUint32(b[37:], recordCRC(b[0], key, b[:37]))
	return b
}

// recordCRC is the checksum of a record's fields, and of its key from
// version 2 on.
func recordCRC(version byte, key, fields []byte) uint32 {
	crc := uint32(0)
	if version >= 2 {
		crc = crc32.Update(crc, castagnoli, key)
	}
	return crc32.Update(crc, castagnoli, fields)
}

// decodeCommitRecord decodes the record b stored under key.
func decodeCommitRecord(key, b []byte) (CommitRecord, error) {
	if len(b) != recordLen || b[0] < 1 || b[0] > recordVersion {
		return CommitRecord{}, CorruptErrorf("commit record: %d bytes, version %d", len(b), firstByte(b))
	}
	if got, want := recordCRC(b[0], key, b[:37]), binary.LittleEndian.Uint32(b[37:]); got != want {
		return CommitRecord{}, CorruptErrorf("commit record checksum %08x, want %08x", got, want)
	}
	return CommitRecord{
		Attempt:      binary.LittleEndian.Uint32(b[1:]),
		NumConsumers: int(binary.LittleEndian.Uint32(b[5:])),
		Rows:         int64(binary.LittleEndian.Uint64(b[9:])),
		Bytes:        int64(binary.LittleEndian.Uint64(b[17:])),
		Batches:      int64(binary.LittleEndian.Uint64(b[25:])),
		Checksum:     binary.LittleEndian.Uint32(b[33:]),
	}, nil
}

func firstByte(b []byte) int {
	if len(b) == 0 {
		return -1
	}
	return int(b[0])
}

// streamSum accumulates one subpartition's commit record while it is
// written or read.
type streamSum struct {
	rows, bytes, batches int64
	crc                  uint32
}

// add folds one value in and returns its trailer.
func (s *streamSum) add(value []byte, rows int64) [trailerLen]byte {
	var t [trailerLen]byte
	binary.LittleEndian.PutUint64(t[:8], uint64(rows))
	s.crc = crc32.Update(s.crc, castagnoli, value)
	s.crc = crc32.Update(s.crc, castagnoli, t[:8])
	binary.LittleEndian.PutUint32(t[8:], s.crc)
	s.rows += rows
	s.bytes += int64(len(value))
	s.batches++
	return t
}

// check folds one stored value (payload and trailer) in and verifies the
// trailer. It returns the payload and its row count.
func (s *streamSum) check(stored []byte) ([]byte, int64, error) {
	if len(stored) < trailerLen {
		return nil, 0, CorruptErrorf("batch %d: %d bytes, shorter than its trailer", s.batches, len(stored))
	}
	n := len(stored) - trailerLen
	value, t := stored[:n], stored[n:]
	rows := int64(binary.LittleEndian.Uint64(t[:8]))
	s.crc = crc32.Update(s.crc, castagnoli, value)
	s.crc = crc32.Update(s.crc, castagnoli, t[:8])
	if want := binary.LittleEndian.Uint32(t[8:]); s.crc != want {
		return nil, 0, CorruptErrorf("batch %d: checksum %08x, want %08x", s.batches, s.crc, want)
	}
	s.rows += rows
	s.bytes += int64(n)
	s.batches++
	return value, rows, nil
}

// verify compares a fully read stream with its commit record.
func (s *streamSum) verify(c CommitRecord) error {
	if s.batches != c.Batches || s.rows != c.Rows || s.bytes != c.Bytes || s.crc != c.Checksum {
		return CorruptErrorf("read %d batches, %d rows, %d bytes, crc %08x; commit record says %d, %d, %d, %08x",
			s.batches, s.rows, s.bytes, s.crc, c.Batches, c.Rows, c.Bytes, c.Checksum)
	}
	return nil
}
