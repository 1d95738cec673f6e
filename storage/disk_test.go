package storage

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// duBytes is what the files under dir occupy on disk, counted as du
// does and independently of DiskUsage.
func duBytes(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	err := filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		n += allocatedBytes(fi)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// writeSmallRun writes what a run of a few rows leaves: a few partitions
// of a few small subpartitions, committed one by one.
func writeSmallRun(t *testing.T, s *Store) {
	t.Helper()
	for p := range 4 {
		vals := [][][]byte{{value("row", 40)}, {value("row", 45)}, {}}
		writeAttempt(t, s, PartitionRef{Run: 1, Edge: uint32(p % 2), Producer: uint32(p)}, 0, vals)
	}
}

// TestSmallStoreDiskUsage: a small run's store takes well under 8 MiB of
// disk, as du counts it (allocated blocks, preallocation included), both
// while it is open (what a killed run leaves: the WAL preallocates 110%
// of the memtable, 4 MiB by default) and after Close (which frees the
// preallocation). With the former 64 MiB memtable it took 74 MB open.
func TestSmallStoreDiskUsage(t *testing.T) {
	const limit = 8 << 20
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	writeSmallRun(t, s)
	open, err := s.DiskUsage()
	if err != nil {
		t.Fatal(err)
	}
	if du := duBytes(t, dir); open != du || open > limit {
		t.Errorf("open store: DiskUsage %d bytes, du %d, want equal and under %d", open, du, limit)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	closed := duBytes(t, dir)
	if closed > 1<<20 {
		t.Errorf("closed store: %d bytes on disk, want under 1 MiB", closed)
	}
	t.Logf("small run's store: %d bytes on disk open, %d closed", open, closed)
}

// TestDeleteGivesSpaceBack: after DeletePartition, DeleteRunData and
// DeleteRun the deleted partitions' sstables leave the disk at once (they
// are excised, not left to a compaction), while the others stay
// readable.
func TestDeleteGivesSpaceBack(t *testing.T) {
	// big is a 4 MiB partition.
	big := func(tag string) [][][]byte {
		var vals [][][]byte
		for c := range 2 {
			var sub [][]byte
			for i := range 8 {
				sub = append(sub, value(fmt.Sprintf("%s%d.%d", tag, c, i), 256<<10))
			}
			vals = append(vals, sub)
		}
		return vals
	}
	for _, del := range []struct {
		name string
		f    func(s *Store) error
	}{
		{"DeletePartition", func(s *Store) error { return s.DeletePartition(PartitionRef{Run: 1, Producer: 1}) }},
		{"DeleteRunData", func(s *Store) error { return s.DeleteRunData(1) }},
		{"DeleteRun", func(s *Store) error { return s.DeleteRun(1) }},
	} {
		for _, p := range writePaths {
			t.Run(del.name+"/"+p.String(), func(t *testing.T) {
				s, err := Open(t.TempDir(), Options{WritePath: p})
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				keep, gone := PartitionRef{Run: 2}, PartitionRef{Run: 1, Producer: 1}
				writeAttempt(t, s, keep, 0, big("keep"))
				writeAttempt(t, s, gone, 0, big("gone"))
				if err := del.f(s); err != nil {
					t.Fatal(err)
				}
				// 4 MiB kept, 4 MiB gone; the slack is for small tables
				// flushed from the memtable (commit records).
				waitForTables(t, s, 5<<20)
				checkEqual(t, s, keep, big("keep"))
				if _, err := s.OpenSubpartition(gone, 0); !errors.Is(err, ErrNotFound) {
					t.Errorf("deleted partition: %v, want ErrNotFound", err)
				}
			})
		}
	}
}

// tableBytes is what the store's sstables occupy on disk.
func tableBytes(t *testing.T, s *Store) int64 {
	t.Helper()
	tables, err := filepath.Glob(filepath.Join(s.dir, "*.sst"))
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, f := range tables {
		if fi, err := os.Stat(f); err == nil {
			n += allocatedBytes(fi)
		}
	}
	return n
}

// waitForTables waits for the store's sstables to take at most limit
// bytes: Pebble deletes obsolete files in the background, a moment after
// they leave the LSM.
func waitForTables(t *testing.T, s *Store, limit int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := tableBytes(t, s)
		if n <= limit {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the store's sstables still take %d bytes, want at most %d", n, limit)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestNoWALRecycling: once the memtable has been flushed a few times, the
// store keeps no obsolete WAL files (Pebble would keep up to three for
// reuse, each with its preallocated space: see noRecycleCleaner).
func TestNoWALRecycling(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// 48 commits of 8 streams of 32 KiB, all in commit batches: 12 MiB
	// through the WAL and three 4 MiB memtables.
	vals := make([][][]byte, 8)
	for c := range vals {
		vals[c] = [][]byte{value(fmt.Sprint(c), 32<<10)}
	}
	for p := range 48 {
		writeAttempt(t, s, PartitionRef{Run: 1, Producer: uint32(p)}, 0, vals)
	}
	if n := s.db.Metrics().Flush.Count; n < 2 {
		t.Fatalf("%d flushes, want a few", n)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		wals, _ := filepath.Glob(filepath.Join(dir, "*.log"))
		if len(wals) <= 2 { // the live WAL, and one whose memtable is flushing
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d WAL files after the memtables were flushed: %v", len(wals), wals)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
