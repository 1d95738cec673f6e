package storage

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

var writePaths = []WritePath{WriteIngest, WriteBatch}

func openMem(t testing.TB, opts Options) *Store {
	t.Helper()
	if opts.FS == nil {
		opts.FS = vfs.NewMem()
	}
	s, err := Open("/store", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// value returns a deterministic test value of n bytes.
func value(tag string, n int) []byte {
	b := bytes.Repeat([]byte(tag+"."), n/(len(tag)+1)+1)
	return b[:n]
}

// writeAttempt appends vals[c] to subpartition c and commits.
func writeAttempt(t *testing.T, s *Store, ref PartitionRef, attempt uint32, vals [][][]byte) {
	t.Helper()
	w := s.NewPartitionWriter(ref, attempt, len(vals))
	defer w.Discard()
	for i := 0; ; i++ {
		more := false
		for c := range vals {
			if i < len(vals[c]) {
				more = true
				if err := w.Append(c, int64(len(vals[c][i])), vals[c][i]); err != nil {
					t.Fatal(err)
				}
			}
		}
		if !more {
			break
		}
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
}

func readAll(s *Store, ref PartitionRef, consumer int) ([][]byte, error) {
	r, err := s.OpenSubpartition(ref, consumer)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var out [][]byte
	for {
		v, err := r.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		if r.Rows() != int64(len(v)) {
			return out, fmt.Errorf("rows %d, want %d", r.Rows(), len(v))
		}
		out = append(out, append([]byte(nil), v...))
	}
}

// testValues has a small stream (stays in the commit batch), a large one
// (an ingested sstable) and an empty one.
func testValues(tag string) [][][]byte {
	return [][][]byte{
		{value(tag+"a0", 10), value(tag+"a1", 0), value(tag+"a2", 300)},
		{value(tag+"b0", 200<<10), value(tag+"b1", 100<<10), value(tag+"b2", 1)},
		{},
	}
}

func checkEqual(t *testing.T, s *Store, ref PartitionRef, want [][][]byte) {
	t.Helper()
	for c := range want {
		got, err := readAll(s, ref, c)
		if err != nil {
			t.Fatalf("read sub %d: %v", c, err)
		}
		if len(got) != len(want[c]) {
			t.Fatalf("sub %d: %d values, want %d", c, len(got), len(want[c]))
		}
		for i := range got {
			if !bytes.Equal(got[i], want[c][i]) {
				t.Fatalf("sub %d value %d differs (%d bytes, want %d)", c, i, len(got[i]), len(want[c][i]))
			}
		}
	}
}

func forEachPath(t *testing.T, f func(t *testing.T, s *Store)) {
	for _, p := range writePaths {
		t.Run(p.String(), func(t *testing.T) {
			f(t, openMem(t, Options{WritePath: p, SmallStreamBytes: 64 << 10}))
		})
	}
}

func TestCommitVisibility(t *testing.T) {
	forEachPath(t, func(t *testing.T, s *Store) {
		ref := PartitionRef{Run: 1, Edge: 2, Producer: 3}
		vals := testValues("x")
		w := s.NewPartitionWriter(ref, 0, len(vals))
		for c := range vals {
			for _, v := range vals[c] {
				if err := w.Append(c, int64(len(v)), v); err != nil {
					t.Fatal(err)
				}
			}
		}
		for c := range vals {
			if _, err := s.OpenSubpartition(ref, c); !errors.Is(err, ErrNotFound) {
				t.Fatalf("before commit: open sub %d: %v, want ErrNotFound", c, err)
			}
		}
		if err := w.Commit(); err != nil {
			t.Fatal(err)
		}
		checkEqual(t, s, ref, vals)
		rec, err := s.Commit(ref, 1)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Attempt != 0 || rec.NumConsumers != 3 || rec.Batches != 3 || rec.Bytes != 300<<10+1 || rec.Rows != rec.Bytes {
			t.Errorf("commit record = %v", rec)
		}
		if err := w.Append(0, 1, []byte("late")); err == nil {
			t.Error("Append after Commit succeeded")
		}
		if err := s.Verify(ref); err != nil {
			t.Error(err)
		}
	})
}

func TestAttemptReplacement(t *testing.T) {
	forEachPath(t, func(t *testing.T, s *Store) {
		ref := PartitionRef{Run: 1, Edge: 0, Producer: 0}
		writeAttempt(t, s, ref, 0, testValues("first"))
		// A reader opened before the replacement keeps reading attempt 0.
		old, err := s.OpenSubpartition(ref, 1)
		if err != nil {
			t.Fatal(err)
		}
		second := [][][]byte{{value("s0", 5)}, {value("s1", 70<<10), value("s2", 7)}}
		writeAttempt(t, s, ref, 2, second)
		checkEqual(t, s, ref, second)
		if _, err := s.OpenSubpartition(ref, 2); !errors.Is(err, ErrNotFound) {
			t.Errorf("sub 2 of the replaced attempt: %v, want ErrNotFound", err)
		}
		v, err := old.Next()
		if err != nil || !bytes.Equal(v, testValues("first")[1][0]) {
			t.Errorf("old reader: %d bytes, %v", len(v), err)
		}
		old.Close()
		// Only attempt 2's data is left.
		if got := dataAttempts(t, s, ref); got != "2" {
			t.Errorf("attempts with data = %q, want \"2\"", got)
		}
		// A stale attempt cannot replace a newer one.
		w := s.NewPartitionWriter(ref, 1, 2)
		w.Append(0, 1, []byte("stale"))
		if err := w.Commit(); err == nil || !strings.Contains(err.Error(), "attempt 2 is already committed") {
			t.Errorf("stale commit: %v", err)
		}
		w.Discard()
		checkEqual(t, s, ref, second)
	})
}

// dataAttempts lists the attempts that have data keys for ref.
func dataAttempts(t *testing.T, s *Store, ref PartitionRef) string {
	t.Helper()
	sp := partitionDataSpan(ref)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: sp.Start, UpperBound: sp.End})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	seen := map[uint32]bool{}
	var out []string
	for ok := it.First(); ok; ok = it.Next() {
		k := mustParse(t, it.Key())
		if !seen[k.Attempt] {
			seen[k.Attempt] = true
			out = append(out, fmt.Sprint(k.Attempt))
		}
	}
	return strings.Join(out, ",")
}

func TestChecksumMismatch(t *testing.T) {
	forEachPath(t, func(t *testing.T, s *Store) {
		ref := PartitionRef{Run: 1, Edge: 4, Producer: 1}
		writeAttempt(t, s, ref, 3, testValues("c"))
		for _, c := range []int{0, 1, 2} { // 2 has no batch: its record is hit
			if err := s.CorruptPartition(ref, c); err != nil {
				t.Fatal(err)
			}
			_, err := readAll(s, ref, c)
			if !IsCorrupt(err) || !errors.Is(err, ErrCorrupt) {
				t.Fatalf("sub %d: %v, want a corruption error", c, err)
			}
			var pe *PartitionError
			if !errors.As(err, &pe) || pe.Ref != ref || pe.Consumer != c {
				t.Errorf("sub %d: error %v does not name the subpartition", c, err)
			}
			if !strings.HasPrefix(err.Error(), "storage: ") || !strings.Contains(err.Error(), fmt.Sprintf("e4.1 sub %d", c)) {
				t.Errorf("sub %d: error text %q", c, err)
			}
		}
		if err := s.Verify(ref); !IsCorrupt(err) {
			t.Errorf("Verify = %v, want a corruption error", err)
		}
	})
}

func TestMissingBatch(t *testing.T) {
	forEachPath(t, func(t *testing.T, s *Store) {
		ref := PartitionRef{Run: 1, Edge: 1, Producer: 1}
		for _, seq := range []uint64{1, 2} { // middle batch, last batch
			writeAttempt(t, s, ref, uint32(seq), testValues("m"))
			if err := s.db.Delete(makeDataKey(ref, uint32(seq), 1, seq), pebble.Sync); err != nil {
				t.Fatal(err)
			}
			got, err := readAll(s, ref, 1)
			if !IsCorrupt(err) || !strings.Contains(err.Error(), "batch 2 of 3 is missing") && !strings.Contains(err.Error(), "batch 1 of 3 is missing") {
				t.Errorf("seq %d deleted: read %d values, err %v", seq, len(got), err)
			}
		}
	})
}

func TestMissingPartition(t *testing.T) {
	s := openMem(t, Options{})
	ref := PartitionRef{Run: 9, Edge: 2, Producer: 3}
	_, err := s.OpenSubpartition(ref, 1)
	if !errors.Is(err, ErrNotFound) || IsCorrupt(err) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
	if got, want := err.Error(), "storage: open e2.3 sub 1: not found"; got != want {
		t.Errorf("error text = %q, want %q", got, want)
	}
	writeAttempt(t, s, ref, 0, testValues("d"))
	if err := s.DeletePartition(ref); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Commit(ref, 0); !errors.Is(err, ErrNotFound) {
		t.Errorf("after DeletePartition: %v, want ErrNotFound", err)
	}
	if got := dataAttempts(t, s, ref); got != "" {
		t.Errorf("data left after DeletePartition: attempts %q", got)
	}
}

func TestDiscard(t *testing.T) {
	forEachPath(t, func(t *testing.T, s *Store) {
		ref := PartitionRef{Run: 1, Edge: 1, Producer: 0}
		w := s.NewPartitionWriter(ref, 0, 2)
		for i := 0; i < 40; i++ { // 40 x 200 KiB: sstables, and NoSync batches
			if err := w.Append(i%2, 1, value(fmt.Sprint(i), 200<<10)); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Discard(); err != nil {
			t.Fatal(err)
		}
		if err := w.Commit(); err == nil {
			t.Error("Commit after Discard succeeded")
		}
		if got := dataAttempts(t, s, ref); got != "" {
			t.Errorf("data left after Discard: attempts %q", got)
		}
		if files := tmpFiles(t, s); len(files) != 0 {
			t.Errorf("temporary files left: %v", files)
		}
		if _, err := s.OpenSubpartition(ref, 0); !errors.Is(err, ErrNotFound) {
			t.Errorf("open after Discard: %v", err)
		}
	})
}

func tmpFiles(t *testing.T, s *Store) []string {
	t.Helper()
	files, err := s.opts.FS.List(s.tmpDir)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestDeleteRun(t *testing.T) {
	s := openMem(t, Options{})
	a, b := PartitionRef{Run: 1, Edge: 0, Producer: 0}, PartitionRef{Run: 2, Edge: 0, Producer: 0}
	writeAttempt(t, s, a, 0, testValues("a"))
	writeAttempt(t, s, b, 0, testValues("b"))
	if err := s.DeleteRun(1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Commit(a, 0); !errors.Is(err, ErrNotFound) {
		t.Errorf("run 1 after DeleteRun: %v", err)
	}
	checkEqual(t, s, b, testValues("b"))
}

func TestNumConsumersShrink(t *testing.T) {
	s := openMem(t, Options{})
	ref := PartitionRef{Run: 1}
	writeAttempt(t, s, ref, 0, testValues("n"))
	writeAttempt(t, s, ref, 1, [][][]byte{{value("z", 3)}})
	if _, err := s.OpenSubpartition(ref, 2); !errors.Is(err, ErrNotFound) {
		t.Errorf("sub 2 of an attempt with 1 consumer: %v", err)
	}
}

func TestWriterArgs(t *testing.T) {
	s := openMem(t, Options{})
	ref := PartitionRef{Run: 1, Edge: 5, Producer: 6}
	w := s.NewPartitionWriter(ref, 0, 2)
	err := w.Append(2, 1, []byte("x"))
	if got, want := fmt.Sprint(err), "storage: write e5.6 sub 2 attempt 0: consumer out of range [0, 2)"; got != want {
		t.Errorf("Append(2) = %q, want %q", got, want)
	}
	if err := w.Commit(); err == nil {
		t.Error("Commit after a failed Append succeeded")
	}
	w.Discard()
	if err := s.NewPartitionWriter(ref, 0, 0).Commit(); err == nil {
		t.Error("a writer with 0 consumers committed")
	}
	if o := (Options{CacheSize: -1}); o.Validate() == nil {
		t.Error("Validate accepted CacheSize -1")
	}
}

// TestNewAttemptOverCorruptCommit: a corrupt commit record is what a
// failover regenerates, so it must not stop the next attempt's commit.
func TestNewAttemptOverCorruptCommit(t *testing.T) {
	forEachPath(t, func(t *testing.T, s *Store) {
		ref := PartitionRef{Run: 1, Edge: 2, Producer: 0}
		writeAttempt(t, s, ref, 0, testValues("old"))
		// Sub 0's commit record is the one a new commit reads first; corrupt
		// it (through a subpartition without batches, the record itself).
		writeAttempt(t, s, ref, 1, [][][]byte{{}, {value("x", 10)}, {}})
		if err := s.CorruptPartition(ref, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Commit(ref, 0); !IsCorrupt(err) {
			t.Fatalf("commit record after corruption: %v, want corrupt", err)
		}
		writeAttempt(t, s, ref, 2, testValues("new"))
		checkEqual(t, s, ref, testValues("new"))
	})
}

// TestSpillSpace: a spill run and a shuffle partition with the same
// numbers are apart; DeleteSpills removes spill runs only, of every
// attempt.
func TestSpillSpace(t *testing.T) {
	forEachPath(t, func(t *testing.T, s *Store) {
		part := PartitionRef{Run: 1, Edge: 4, Producer: 0}
		spill := PartitionRef{Run: 1, Edge: 4, Producer: 0, Space: SpaceSpill}
		writeAttempt(t, s, part, 0, testValues("part"))
		writeAttempt(t, s, spill, 0, [][][]byte{{value("spill", 100)}})
		writeAttempt(t, s, spill, 1, [][][]byte{{value("spill1", 100)}})
		checkEqual(t, s, part, testValues("part"))
		checkEqual(t, s, spill, [][][]byte{{value("spill1", 100)}})
		if err := s.DeleteSpills(1); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Commit(spill, 0); !errors.Is(err, ErrNotFound) {
			t.Fatalf("spill run after DeleteSpills: %v, want ErrNotFound", err)
		}
		checkEqual(t, s, part, testValues("part"))
		if got := fmt.Sprint(spill); got != "spill4.0" {
			t.Errorf("spill ref prints %q", got)
		}
	})
}
