package storage

import (
	"encoding/binary"
	"fmt"
)

// All Pebble keys of the store are built and parsed in this file. Every
// field is big-endian and fixed-width, so keys sort by
// (kind, run, edge, producer, attempt, consumer, seq):
//
//	data     kind(1) run(8) edge(4) producer(4) attempt(4) consumer(4) seq(8)  33 bytes
//	  head   the data key without seq                                          25 bytes
//	  tail   the data key with a 9-byte 0xff seq                               34 bytes
//	commit   kind(1) run(8) edge(4) producer(4) consumer(4)                    21 bytes
//	event    kind(1) run(8) seq(8)                                             17 bytes
//	run      kind(1) run(8)                                                     9 bytes
//
// Operator spill runs (PartitionRef.Space SpaceSpill) have data and commit
// keys of the same layout under kinds of their own (spilldata,
// spillcommit): they never pass for shuffle partitions, and are removed
// apart from them (DeleteSpills).
//
// Head and tail are markers that bracket an ingested subpartition stream:
// they sort before and after every seq of the stream, and keep its first
// and last sstable blocks tiny (db.Ingest reads both to find the bounds).
// Readers seek to seq 0 and stop after the committed count, so never see
// them.
//
// A commit key has no attempt: there is at most one commit record per
// subpartition and its value names the committed attempt, so a reader finds
// it with one point lookup.

// keyKind is the first byte of every key.
type keyKind uint8

const (
	_ keyKind = iota // 0 is no kind: a zeroed key byte is never valid
	// kindData is one encoded batch of a partition attempt's subpartition.
	kindData
	// kindCommit is the commit record of one subpartition.
	kindCommit
	// kindEvent is an entry of a run's job event log (reserved).
	kindEvent
	// kindRun is a run's metadata (reserved).
	kindRun
	// kindSpillData and kindSpillCommit are kindData and kindCommit of
	// operator spill runs.
	kindSpillData
	kindSpillCommit
	numKinds
)

var kindNames = [...]string{"invalid", "data", "commit", "event", "run", "spilldata", "spillcommit"}

// isData reports whether k has the data key layout (and markers).
func (k keyKind) isData() bool { return k == kindData || k == kindSpillData }

// isCommit reports whether k has the commit key layout.
func (k keyKind) isCommit() bool { return k == kindCommit || k == kindSpillCommit }

// dataKind and commitKind are the kinds of ref's keys, by its space.
func (r PartitionRef) dataKind() keyKind {
	if r.Space == SpaceSpill {
		return kindSpillData
	}
	return kindData
}

func (r PartitionRef) commitKind() keyKind {
	if r.Space == SpaceSpill {
		return kindSpillCommit
	}
	return kindCommit
}

func (k keyKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

const (
	dataKeyLen   = 1 + 8 + 4 + 4 + 4 + 4 + 8
	headKeyLen   = dataKeyLen - 8
	tailKeyLen   = dataKeyLen + 1
	commitKeyLen = 1 + 8 + 4 + 4 + 4
	eventKeyLen  = 1 + 8 + 8
	runKeyLen    = 1 + 8
	// partPrefixLen is kind, run, edge and producer: the prefix shared by
	// the data keys (or commit keys) of one partition.
	partPrefixLen = 1 + 8 + 4 + 4
)

var keyLens = [numKinds]int{kindData: dataKeyLen, kindCommit: commitKeyLen, kindEvent: eventKeyLen, kindRun: runKeyLen,
	kindSpillData: dataKeyLen, kindSpillCommit: commitKeyLen}

// marker tells a stream's head and tail markers from its data keys.
type marker uint8

const (
	notMarker marker = iota
	headMarker
	tailMarker
)

// key is a parsed key. Fields a kind does not have are zero.
type key struct {
	Kind     keyKind
	Marker   marker // kindData only
	Run      uint64
	Edge     uint32
	Producer uint32
	Attempt  uint32
	Consumer uint32
	Seq      uint64
}

func (k key) String() string {
	switch {
	case k.Kind.isData():
		seq := fmt.Sprint(k.Seq)
		if k.Marker != notMarker {
			seq = [...]string{headMarker: "head", tailMarker: "tail"}[k.Marker]
		}
		return fmt.Sprintf("%s/%d/e%d.%d#%d/sub%d/%s", k.Kind, k.Run, k.Edge, k.Producer, k.Attempt, k.Consumer, seq)
	case k.Kind.isCommit():
		return fmt.Sprintf("%s/%d/e%d.%d/sub%d", k.Kind, k.Run, k.Edge, k.Producer, k.Consumer)
	case k.Kind == kindEvent:
		return fmt.Sprintf("event/%d/%d", k.Run, k.Seq)
	case k.Kind == kindRun:
		return fmt.Sprintf("run/%d", k.Run)
	}
	return k.Kind.String()
}

func putPartPrefix(b []byte, kind keyKind, ref PartitionRef) {
	b[0] = byte(kind)
	binary.BigEndian.PutUint64(b[1:], ref.Run)
	binary.BigEndian.PutUint32(b[9:], ref.Edge)
	binary.BigEndian.PutUint32(b[13:], ref.Producer)
}

// makeDataKey is the key of batch seq of (ref, attempt, consumer).
func makeDataKey(ref PartitionRef, attempt, consumer uint32, seq uint64) []byte {
	return appendDataKey(make([]byte, 0, dataKeyLen), ref, attempt, consumer, seq)
}

// appendDataKey appends the data key to dst (for reused key buffers).
func appendDataKey(dst []byte, ref PartitionRef, attempt, consumer uint32, seq uint64) []byte {
	n := len(dst)
	dst = append(dst, make([]byte, dataKeyLen)...)
	b := dst[n:]
	putPartPrefix(b, ref.dataKind(), ref)
	binary.BigEndian.PutUint32(b[17:], attempt)
	binary.BigEndian.PutUint32(b[21:], consumer)
	binary.BigEndian.PutUint64(b[25:], seq)
	return dst
}

// makeMarkerKey is the head or tail marker of (ref, attempt, consumer).
func makeMarkerKey(ref PartitionRef, attempt, consumer uint32, m marker) []byte {
	b := makeDataKey(ref, attempt, consumer, 1<<64-1)
	if m == headMarker {
		return b[:headKeyLen]
	}
	return append(b, 0xff)
}

// makeCommitKey is the key of the commit record of (ref, consumer).
func makeCommitKey(ref PartitionRef, consumer uint32) []byte {
	b := make([]byte, commitKeyLen)
	putPartPrefix(b, ref.commitKind(), ref)
	binary.BigEndian.PutUint32(b[17:], consumer)
	return b
}

// makeEventKey is the key of event seq of run's event log (reserved).
func makeEventKey(run, seq uint64) []byte {
	b := make([]byte, eventKeyLen)
	b[0] = byte(kindEvent)
	binary.BigEndian.PutUint64(b[1:], run)
	binary.BigEndian.PutUint64(b[9:], seq)
	return b
}

// makeRunKey is the key of run's metadata (reserved).
func makeRunKey(run uint64) []byte {
	b := make([]byte, runKeyLen)
	b[0] = byte(kindRun)
	binary.BigEndian.PutUint64(b[1:], run)
	return b
}

// parseKey is the single parser for every key kind.
func parseKey(b []byte) (key, error) {
	if len(b) == 0 {
		return key{}, CorruptErrorf("empty key")
	}
	k := key{Kind: keyKind(b[0])}
	if k.Kind.isData() && (len(b) == headKeyLen || len(b) == tailKeyLen) {
		return parseMarker(b)
	}
	if k.Kind >= numKinds || keyLens[k.Kind] == 0 || len(b) != keyLens[k.Kind] {
		return key{}, CorruptErrorf("bad key %x: kind %s, %d bytes", b, k.Kind, len(b))
	}
	k.Run = binary.BigEndian.Uint64(b[1:])
	switch {
	case k.Kind.isData():
		k.Edge = binary.BigEndian.Uint32(b[9:])
		k.Producer = binary.BigEndian.Uint32(b[13:])
		k.Attempt = binary.BigEndian.Uint32(b[17:])
		k.Consumer = binary.BigEndian.Uint32(b[21:])
		k.Seq = binary.BigEndian.Uint64(b[25:])
	case k.Kind.isCommit():
		k.Edge = binary.BigEndian.Uint32(b[9:])
		k.Producer = binary.BigEndian.Uint32(b[13:])
		k.Consumer = binary.BigEndian.Uint32(b[17:])
	case k.Kind == kindEvent:
		k.Seq = binary.BigEndian.Uint64(b[9:])
	}
	return k, nil
}

func parseMarker(b []byte) (key, error) {
	if len(b) == tailKeyLen {
		if [9]byte(b[dataKeyLen-8:]) != [9]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff} {
			return key{}, CorruptErrorf("bad tail marker key %x", b)
		}
	}
	k, err := parseKey(append(b[:headKeyLen:headKeyLen], make([]byte, 8)...))
	k.Marker = headMarker
	if len(b) == tailKeyLen {
		k.Marker, k.Seq = tailMarker, 0
	}
	return k, err
}

// span is a half-open key range [Start, End).
type span struct{ Start, End []byte }

// prefixEnd is the smallest key greater than every key with prefix p.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil // p is all 0xff: no upper bound
}

// partitionDataSpan covers every attempt's data of ref.
func partitionDataSpan(ref PartitionRef) span {
	p := make([]byte, partPrefixLen)
	putPartPrefix(p, ref.dataKind(), ref)
	return span{p, prefixEnd(p)}
}

// partitionCommitSpan covers every commit record of ref.
func partitionCommitSpan(ref PartitionRef) span {
	p := make([]byte, partPrefixLen)
	putPartPrefix(p, ref.commitKind(), ref)
	return span{p, prefixEnd(p)}
}

// attemptSpan covers all data of one attempt of ref.
func attemptSpan(ref PartitionRef, attempt uint32) span {
	p := makeDataKey(ref, attempt, 0, 0)[:partPrefixLen+4]
	return span{p, prefixEnd(p)}
}

// olderAttemptsSpan covers the data of every attempt of ref below attempt.
func olderAttemptsSpan(ref PartitionRef, attempt uint32) span {
	return span{partitionDataSpan(ref).Start, attemptSpan(ref, attempt).Start}
}

// subpartitionSpan covers the data of (ref, attempt, consumer).
func subpartitionSpan(ref PartitionRef, attempt, consumer uint32) span {
	p := makeDataKey(ref, attempt, consumer, 0)[:partPrefixLen+8]
	return span{p, prefixEnd(p)}
}

// runSpan covers every key of kind belonging to run.
func runSpan(kind keyKind, run uint64) span {
	p := make([]byte, 9)
	p[0] = byte(kind)
	binary.BigEndian.PutUint64(p[1:], run)
	return span{p, prefixEnd(p)}
}
