package storage

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
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

// TestOpenUnusable: a store that must exist (a resumed run's) but has lost
// its MANIFEST or the marker naming it cannot be opened (Pebble would
// otherwise start an empty store over the remains); the error says so in
// one line, names the directory and wraps ErrUnusable.
func TestOpenUnusable(t *testing.T) {
	for _, pattern := range []string{"MANIFEST-*", "marker.manifest.*"} {
		dir := t.TempDir()
		writeOnDisk(t, dir)
		files, _ := filepath.Glob(filepath.Join(dir, pattern))
		for _, f := range files {
			if err := os.Remove(f); err != nil {
				t.Fatal(err)
			}
		}
		_, err := Open(dir, Options{MustExist: true})
		if !errors.Is(err, ErrUnusable) || !strings.HasPrefix(err.Error(), "storage: store "+dir+" is unusable (") {
			t.Errorf("Open without %s: %v, want ErrUnusable naming %s", pattern, err, dir)
		}
	}
}

// TestCloseTrimsWAL: a closed store does not keep the WAL preallocation
// (110% of the memtable, 70 MB by default) on disk.
func TestCloseTrimsWAL(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	writeAttempt(t, s, PartitionRef{Run: 1}, 0, testValues("x"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	var blocks int64
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			blocks += st.Blocks * 512
		}
	}
	if blocks > 1<<20 {
		t.Errorf("a closed store with one small partition occupies %d bytes", blocks)
	}
}
