package storage

import (
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeOnDisk writes three partitions of two subpartitions into a store
// on the OS filesystem, every stream an sstable, and closes it. Values
// are small: Pebble's report of a corrupt block searches for a single
// flipped bit, a cost quadratic in the block size.
func writeOnDisk(t *testing.T, dir string) [][][][]byte {
	s, err := Open(dir, Options{SmallStreamBytes: 1})
	if err != nil {
		t.Fatal(err)
	}
	var all [][][][]byte
	for p := range 3 {
		tag := string(rune('a' + p))
		vals := [][][]byte{{value(tag+"0", 10), value(tag+"1", 12<<10)}, {value(tag+"2", 8<<10), value(tag+"3", 1)}}
		writeAttempt(t, s, PartitionRef{Run: 1, Edge: 0, Producer: uint32(p)}, 0, vals)
		all = append(all, vals)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return all
}

// TestCorruptSSTableIsAnError: a flipped byte in an sstable makes the read
// of the partition it holds fail with a corruption error naming the
// partition, and the others read back exactly; nothing panics or exits
// (Pebble's default reports read corruption through Logger.Fatalf).
func TestCorruptSSTableIsAnError(t *testing.T) {
	dir := t.TempDir()
	want := writeOnDisk(t, dir)
	ssts, _ := filepath.Glob(filepath.Join(dir, "*.sst"))
	if len(ssts) == 0 {
		t.Fatal("no sstable written")
	}
	for _, f := range ssts {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		data[len(data)/3] ^= 0x40
		if err := os.WriteFile(f, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	corrupt := 0
	for p := range 3 {
		ref := PartitionRef{Run: 1, Edge: 0, Producer: uint32(p)}
		for c := range want[p] {
			got, err := readAll(s, ref, c)
			var pe *PartitionError
			switch {
			case err == nil:
				if !equalValues(got, want[p][c]) {
					t.Fatalf("%s sub %d read back different values without an error", ref, c)
				}
			case IsCorrupt(err) && errors.As(err, &pe) && pe.Ref == ref:
				corrupt++
			default:
				t.Fatalf("%s sub %d: %v, want a corruption error naming the partition", ref, c, err)
			}
		}
	}
	if corrupt == 0 {
		t.Fatal("no read saw the corruption")
	}
}

func equalValues(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if string(a[i]) != string(b[i]) {
			return false
		}
	}
	return true
}

// TestRegenerateOverCorruptTable: once reads have found a table corrupt,
// the partitions it held can be committed again and read back exactly.
// The table is a flushed memtable: commit records and small streams of
// every partition, so its key span overlaps every new attempt's sstables,
// and Pebble reads it to place them, failing on it forever unless the
// store excises it (see heal).
func TestRegenerateOverCorruptTable(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	refs := []PartitionRef{{Run: 1, Producer: 0}, {Run: 1, Producer: 1}, {Run: 1, Producer: 2}}
	for _, ref := range refs {
		writeAttempt(t, s, ref, 0, [][][]byte{{value(ref.String(), 3<<10)}, {value(ref.String(), 10)}})
	}
	mustDo(t, s.db.Flush())
	mustDo(t, s.Close())
	ssts, _ := filepath.Glob(filepath.Join(dir, "*.sst"))
	if len(ssts) != 1 {
		t.Fatalf("%d tables, want the one flushed", len(ssts))
	}
	data, err := os.ReadFile(ssts[0])
	mustDo(t, err)
	data[len(data)/3] ^= 0x40
	mustDo(t, os.WriteFile(ssts[0], data, 0o644))

	if s, err = Open(dir, Options{SmallStreamBytes: 1}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	corrupt := 0
	for _, ref := range refs {
		for c := range 2 {
			if _, err := readAll(s, ref, c); IsCorrupt(err) {
				corrupt++
			} else if err != nil {
				t.Fatalf("%s sub %d: %v, want a corruption error", ref, c, err)
			}
		}
	}
	if corrupt == 0 {
		t.Fatal("no read met the corruption")
	}
	for _, ref := range refs {
		again := [][][]byte{{value("again", 9<<10)}, {value("again", 10)}}
		if err := appendAndCommit(s, ref, 1, again); err != nil {
			t.Fatalf("regenerate %s: %v", ref, err)
		}
		checkEqual(t, s, ref, again)
	}
	if _, err := os.Stat(ssts[0]); err == nil {
		t.Errorf("the corrupt table is still there")
	}
}

// TestCommitRecordBoundToKey: a commit record found under another
// subpartition's key (a damaged key) is corrupt, not that subpartition's.
func TestCommitRecordBoundToKey(t *testing.T) {
	s := openMem(t, Options{})
	ref := PartitionRef{Run: 1, Edge: 2, Producer: 3}
	writeAttempt(t, s, ref, 0, [][][]byte{{value("a", 10)}, {}})
	v, closer, err := s.db.Get(makeCommitKey(ref, 0))
	if err != nil {
		t.Fatal(err)
	}
	moved := append([]byte(nil), v...)
	closer.Close()
	if err := s.db.Set(makeCommitKey(ref, 1), moved, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Commit(ref, 1); !IsCorrupt(err) {
		t.Errorf("Commit of sub 1 holding sub 0's record: %v, want a corruption error", err)
	}
	if _, err := readAll(s, ref, 1); !IsCorrupt(err) {
		t.Errorf("read of sub 1 holding sub 0's record: %v, want a corruption error", err)
	}
	checkEqual(t, s, ref, [][][]byte{{value("a", 10)}})
}

// TestOpenUnusable: a store directory Open cannot use gives an error that
// wraps ErrUnusable, is one line and names the directory: a store that
// lost its MANIFEST or the marker naming it (CURRENT), whether or not it
// must exist (Pebble would otherwise start an empty store over the
// remains), a file, and with MustExist a directory without a store.
func TestOpenUnusable(t *testing.T) {
	for _, c := range []struct {
		name      string
		mustExist bool
		damage    func(t *testing.T, dir string)
	}{
		{"no MANIFEST", true, removeFiles("MANIFEST-*")},
		{"no MANIFEST, new run", false, removeFiles("MANIFEST-*")},
		{"no CURRENT", true, removeFiles("marker.manifest.*")},
		{"no CURRENT, new run", false, removeFiles("marker.manifest.*")},
		{"not a directory", false, func(t *testing.T, dir string) {
			mustDo(t, os.RemoveAll(dir))
			mustDo(t, os.WriteFile(dir, []byte("x"), 0o644))
		}},
		{"not a store", true, func(t *testing.T, dir string) {
			mustDo(t, os.RemoveAll(dir))
			mustDo(t, os.MkdirAll(dir, 0o755))
			mustDo(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o644))
		}},
		{"missing", true, func(t *testing.T, dir string) { mustDo(t, os.RemoveAll(dir)) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "store")
			writeOnDisk(t, dir)
			c.damage(t, dir)
			s, err := Open(dir, Options{MustExist: c.mustExist})
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			checkUnusable(t, dir, err)
		})
	}
}

func removeFiles(pattern string) func(t *testing.T, dir string) {
	return func(t *testing.T, dir string) {
		files, _ := filepath.Glob(filepath.Join(dir, pattern))
		if len(files) == 0 {
			t.Fatalf("no %s in the store", pattern)
		}
		for _, f := range files {
			mustDo(t, os.Remove(f))
		}
	}
}

// TestOpenInUse: a store another Store has open is not unusable (moving
// it aside would pull it from under its user): Open fails with a plain
// error.
func TestOpenInUse(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s2, err := Open(dir, Options{MustExist: true}); err == nil {
		s2.Close()
		t.Fatal("a second Open of the same store succeeded")
	} else if errors.Is(err, ErrUnusable) {
		t.Fatalf("a store in use: %v, want an error that is not ErrUnusable", err)
	}
}

// TestCloseTrimsWAL: a closed store does not keep the WAL preallocation
// (110% of the memtable) on disk.
func TestCloseTrimsWAL(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{MemTableSize: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	for p := range 3 {
		writeAttempt(t, s, PartitionRef{Run: 1, Producer: uint32(p)}, 0, testValues("x"))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if n := duBytes(t, dir); n > 1<<20 {
		t.Errorf("a closed store with three small partitions occupies %d bytes", n)
	}
}

// TestCompactionCorruptionIsAnError: a compaction that meets a corrupt
// table fails without ending the process (Pebble's default would call
// Logger.Fatalf), Close reports the corruption, and the next commit
// excises the table, after which the store reads and compacts cleanly.
func TestCompactionCorruptionIsAnError(t *testing.T) {
	dir := t.TempDir()
	writeOnDisk(t, dir)
	ssts, _ := filepath.Glob(filepath.Join(dir, "*.sst"))
	data, err := os.ReadFile(ssts[0])
	mustDo(t, err)
	data[len(data)/3] ^= 0x40
	mustDo(t, os.WriteFile(ssts[0], data, 0o644))

	s, err := Open(dir, Options{Logger: panicLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	// A key past the end of every stream (invisible), flushed, so that a
	// compaction merges every table with the new one.
	for p := range 3 {
		for c := range 2 {
			k := makeDataKey(PartitionRef{Run: 1, Producer: uint32(p)}, 0, uint32(c), 1000)
			mustDo(t, s.db.Set(k, nil, nil))
		}
	}
	mustDo(t, s.db.Flush())
	all := span{Start: []byte{0}, End: []byte{0xff}}
	if err := s.db.Compact(context.Background(), all.Start, all.End, false); !IsCorrupt(err) {
		t.Fatalf("compaction over a corrupt table: %v, want a corruption error", err)
	}
	if err := s.Close(); !IsCorrupt(err) || !strings.HasPrefix(err.Error(), "storage: close "+dir+": ") {
		t.Fatalf("Close after a compaction met corruption: %v, want a corruption error", err)
	}

	if s, err = Open(dir, Options{Logger: panicLogger{}}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ref := PartitionRef{Run: 1, Edge: 9}
	_ = s.db.Compact(context.Background(), all.Start, all.End, false) // finds the table again
	writeAttempt(t, s, ref, 0, testValues("after"))
	if _, err := os.Stat(ssts[0]); err == nil {
		t.Errorf("the corrupt table is still there after a commit")
	}
	if err := s.db.Compact(context.Background(), all.Start, all.End, false); err != nil {
		t.Errorf("compaction after the corrupt table was excised: %v", err)
	}
	checkEqual(t, s, ref, testValues("after"))
}

// TestCommitRecordVersion1: records written before the key was
// checksummed with them still read back.
func TestCommitRecordVersion1(t *testing.T) {
	rec := CommitRecord{Attempt: 3, NumConsumers: 2, Rows: 5, Bytes: 70, Batches: 2, Checksum: 0xfeed}
	key := makeCommitKey(PartitionRef{Run: 1}, 1)
	b := rec.encode(key)
	b[0] = 1
	binary.LittleEndian.PutUint32(b[37:], crc32.Checksum(b[:37], castagnoli))
	if got, err := decodeCommitRecord(key, b); err != nil || got != rec {
		t.Fatalf("version 1 record: %v, %v; want %v", got, err, rec)
	}
	b[3] ^= 1
	if _, err := decodeCommitRecord(key, b); !IsCorrupt(err) {
		t.Fatalf("damaged version 1 record: %v, want a corruption error", err)
	}
}
