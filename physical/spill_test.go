package physical

import (
	"context"
	"errors"
	"io"
	"sync/atomic"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/batchrun/batchrun/operators"
	"github.com/batchrun/batchrun/shuffle"
	"github.com/batchrun/batchrun/storage"
)

// TestStoreSpiller writes two spill runs, reads both back (twice), and
// checks that Discard deletes a run and DeleteRunData the other.
func TestStoreSpiller(t *testing.T) {
	ctx := context.Background()
	store, mem, opts := testStore(t)
	var seq atomic.Uint32
	sp := &storeSpiller{store: store, run: 7, producer: 3, attempt: 1, seq: &seq, opts: opts}
	defer sp.close()
	schema := arrow.NewSchema([]arrow.Field{{Name: "k", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true}}, nil)
	want := [][][]int64{{{1, 2, 3}, {4}}, {{10, 20}, {30, 40, 50}, {}}}
	var runs []operators.SpillRun
	for _, batches := range want {
		run, err := sp.NewRun(schema)
		if err != nil {
			t.Fatal(err)
		}
		for _, vals := range batches {
			rec := spillTestRecord(mem, schema, vals)
			err := run.Write(ctx, rec)
			rec.Release()
			if err != nil {
				t.Fatal(err)
			}
		}
		if err := run.Finish(ctx); err != nil {
			t.Fatal(err)
		}
		runs = append(runs, run)
	}
	for pass := 0; pass < 2; pass++ {
		for i, run := range runs {
			if got := spillTestRead(t, run); !equalBatches(got, want[i]) {
				t.Errorf("pass %d: run %d read back %v, want %v", pass, i, got, want[i])
			}
		}
	}
	ref0 := storage.PartitionRef{Run: 7, Edge: 1, Producer: 3, Space: storage.SpaceSpill}
	if _, err := store.Commit(ref0, 0); err != nil {
		t.Fatalf("run 0 is not stored as %s: %v", ref0, err)
	}
	runs[0].Discard()
	runs[0].Discard() // idempotent
	if _, err := store.Commit(ref0, 0); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("after Discard: commit record of %s: %v, want ErrNotFound", ref0, err)
	}
	if err := store.DeleteRunData(7); err != nil {
		t.Fatal(err)
	}
	ref1 := storage.PartitionRef{Run: 7, Edge: 2, Producer: 3, Space: storage.SpaceSpill}
	if _, err := store.Commit(ref1, 0); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("after DeleteRunData: commit record of %s: %v, want ErrNotFound", ref1, err)
	}
}

// testStore opens a store in a temporary directory and a checked
// allocator, both checked and closed when the test ends, and shuffle
// options using them.
func testStore(t *testing.T) (*storage.Store, *memory.CheckedAllocator, shuffle.Options) {
	store, err := storage.Open(t.TempDir(), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() {
		store.Close()
		mem.AssertSize(t, 0)
	})
	opts := shuffle.Options{Allocator: mem}
	opts.EnsureDefaults()
	return store, mem, opts
}

func spillTestRecord(mem memory.Allocator, schema *arrow.Schema, vals []int64) arrow.Record {
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	for _, v := range vals {
		b.Field(0).(*array.Int64Builder).Append(v)
		b.Field(1).(*array.StringBuilder).Append("v")
	}
	return b.NewRecord()
}

func spillTestRead(t *testing.T, run operators.SpillRun) [][]int64 {
	t.Helper()
	r, err := run.Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out [][]int64
	for {
		rec, err := r.Next(context.Background())
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, append([]int64{}, rec.Column(0).(*array.Int64).Int64Values()...))
		rec.Release()
	}
}

func equalBatches(a, b [][]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for j := range a[i] {
			if a[i][j] != b[i][j] {
				return false
			}
		}
	}
	return true
}
