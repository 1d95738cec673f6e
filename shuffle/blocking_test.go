package shuffle

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/storage"
	"github.com/cockroachdb/pebble/v2/vfs"
)

func openStore(t testing.TB) *storage.Store {
	t.Helper()
	s, err := storage.Open("/store", storage.Options{FS: vfs.NewMem()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// partCase is an exchange to test: a partitioner per producer (fresh, so
// that expected outputs can be computed with an identical one).
type partCase struct {
	name      string
	consumers int
	part      func(producer int) Partitioner
}

var partCases = []partCase{
	{"forward", 1, func(int) Partitioner { return Forward() }},
	{"global", 1, func(int) Partitioner { return Global() }},
	{"hash", 4, func(int) Partitioner { return Hash("i", "s") }},
	{"broadcast", 3, func(int) Partitioner { return Broadcast() }},
	{"rebalance", 3, func(p int) Partitioner { return Rebalance(uint64(p)) }},
	{"random", 3, func(p int) Partitioner { return Random(rand.New(rand.NewPCG(uint64(p), 9))) }},
}

// testInputs is producerInputs(mem, producers), released when the test
// ends.
func testInputs(t *testing.T, mem memory.Allocator, producers int) [][]arrow.Record {
	in := producerInputs(mem, producers)
	t.Cleanup(func() {
		for _, recs := range in {
			releaseAll(recs)
		}
	})
	return in
}

// producerInputs makes each producer's records: a 64-row, a 1000-row and a
// 3000-row record (so that buffering and direct sends both happen with
// TargetRows 1024), with nulls.
func producerInputs(mem memory.Allocator, producers int) [][]arrow.Record {
	in := make([][]arrow.Record, producers)
	for p := range in {
		base := p * 10000
		in[p] = []arrow.Record{genAllTypes(mem, base, 64, 5), genAllTypes(mem, base+64, 1000, 7), genAllTypes(mem, base+1064, 3000, 11)}
	}
	return in
}

// expected routes the inputs with fresh partitioners: what each consumer
// must receive, producer by producer.
func expected(t *testing.T, pc partCase, in [][]arrow.Record) [][]string {
	want := make([][]string, pc.consumers)
	for p, recs := range in {
		part := pc.part(p)
		for _, rec := range recs {
			var r Route
			if err := part.Route(rec, pc.consumers, &r); err != nil {
				t.Fatal(err)
			}
			rows := rowStrings(rec)
			for i, row := range rows {
				switch r.Kind {
				case RouteOne:
					want[r.Consumer] = append(want[r.Consumer], row)
				case RouteAll:
					for c := range want {
						want[c] = append(want[c], row)
					}
				case RouteRows:
					want[r.Targets[i]] = append(want[r.Targets[i]], row)
				}
			}
		}
	}
	return want
}

func writeBlocking(t *testing.T, s *storage.Store, pc partCase, in [][]arrow.Record, opts Options) []storage.PartitionRef {
	t.Helper()
	var refs []storage.PartitionRef
	for p, recs := range in {
		ref := storage.PartitionRef{Run: 1, Edge: 2, Producer: uint32(p)}
		w := NewBlockingWriter(s, ref, 0, pc.consumers, pc.part(p), opts)
		for _, rec := range recs {
			if err := w.Write(context.Background(), rec); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Finish(context.Background()); err != nil {
			t.Fatal(err)
		}
		refs = append(refs, ref)
	}
	return refs
}

func readAllRows(ctx context.Context, r Reader) ([]string, int, error) {
	var rows []string
	n := 0
	for {
		rec, err := r.Next(ctx)
		if err == io.EOF {
			return rows, n, nil
		}
		if err != nil {
			return rows, n, err
		}
		rows = append(rows, rowStrings(rec)...)
		n++
		rec.Release()
	}
}

func TestBlockingRoundTrip(t *testing.T) {
	for _, pc := range partCases {
		t.Run(pc.name, func(t *testing.T) {
			mem := checked(t)
			s := openStore(t)
			in := producerInputs(mem, 3)
			defer func() {
				for _, recs := range in {
					releaseAll(recs)
				}
			}()
			opts := Options{Allocator: mem, TargetRows: 1024}
			refs := writeBlocking(t, s, pc, in, opts)
			want := expected(t, pc, in)
			for c := 0; c < pc.consumers; c++ {
				r := NewBlockingReader(s, refs, c, allTypesSchema, opts)
				got, _, err := readAllRows(context.Background(), r)
				r.Close()
				if err != nil {
					t.Fatal(err)
				}
				checkRows(t, fmt.Sprintf("consumer %d", c), got, want[c])
			}
		})
	}
}

// TestBlockingBuffering: hash-partitioning 64K-row batches 8 ways stores
// values of about TargetRows rows, not 8K-row slivers.
func TestBlockingBuffering(t *testing.T) {
	mem := checked(t)
	s := openStore(t)
	recs := genEvents(mem, 1, 8*64<<10, 64<<10, 0)
	defer releaseAll(recs)
	ref := storage.PartitionRef{Run: 1}
	w := NewBlockingWriter(s, ref, 0, 8, Hash("user_id"), Options{Allocator: mem})
	for _, r := range recs {
		if err := w.Write(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Finish(context.Background()); err != nil {
		t.Fatal(err)
	}
	var rows int64
	for c, st := range w.Stats() {
		rows += st.Rows
		// 64K rows per consumer on average: one or two full values, one
		// partial at the end.
		if st.Batches > 3 || st.Rows/st.Batches < 16<<10 {
			t.Errorf("consumer %d: %d rows in %d batches", c, st.Rows, st.Batches)
		}
		if st.StoredBytes <= 0 || st.StoredBytes >= st.RawBytes {
			t.Errorf("consumer %d: stored %d bytes of %d raw", c, st.StoredBytes, st.RawBytes)
		}
		rec, err := s.Commit(ref, c)
		if err != nil || rec.Rows != st.Rows || rec.Batches != st.Batches || rec.Bytes != st.StoredBytes {
			t.Errorf("consumer %d: commit record %v (%v), stats %+v", c, rec, err, st)
		}
	}
	if rows != 8*64<<10 {
		t.Errorf("%d rows written, want %d", rows, 8*64<<10)
	}
}

// TestBlockingMaxBuffered: with many consumers, pending rows are flushed
// early to stay under MaxBufferedBytes.
func TestBlockingMaxBuffered(t *testing.T) {
	mem := checked(t)
	s := openStore(t)
	recs := genEvents(mem, 2, 4*64<<10, 64<<10, 0)
	defer releaseAll(recs)
	w := NewBlockingWriter(s, storage.PartitionRef{Run: 1}, 0, 32, Hash("ts"),
		Options{Allocator: mem, TargetBytes: 1 << 20, MaxBufferedBytes: 2 << 20})
	for _, r := range recs {
		if err := w.Write(context.Background(), r); err != nil {
			t.Fatal(err)
		}
		if held := w.split.held; held > 2<<20 {
			t.Fatalf("%d bytes buffered, more than MaxBufferedBytes", held)
		}
	}
	if err := w.Finish(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestBlockingLostInputs(t *testing.T) {
	mem := checked(t)
	s := openStore(t)
	in := testInputs(t, mem, 3)
	pc := partCases[2] // hash, 4 consumers
	refs := writeBlocking(t, s, pc, in, Options{Allocator: mem})
	if err := s.CorruptPartition(refs[1], 2); err != nil {
		t.Fatal(err)
	}
	if err := s.DeletePartition(refs[2]); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		consumer int
		check    func(error) bool
		ref      int
		names    string
	}{
		{2, storage.IsCorrupt, 1, "storage: read e2.1 sub 2 attempt 0: corrupt: batch 0: checksum"},
		{0, func(err error) bool { return errors.Is(err, storage.ErrNotFound) }, 2, "storage: open e2.2 sub 0: not found"},
	}
	for _, c := range cases {
		r := NewBlockingReader(s, refs, c.consumer, allTypesSchema, Options{Allocator: mem})
		_, _, err := readAllRows(context.Background(), r)
		r.Close()
		var pe *storage.PartitionError
		if !c.check(err) || !errors.As(err, &pe) || pe.Ref != refs[c.ref] || !strings.HasPrefix(err.Error(), c.names) {
			t.Errorf("consumer %d: err = %v, want a typed error naming %s", c.consumer, err, c.names)
		}
	}
}

func TestBlockingAbort(t *testing.T) {
	mem := checked(t)
	s := openStore(t)
	rec := genAllTypes(mem, 0, 5000, 3)
	defer rec.Release()
	ref := storage.PartitionRef{Run: 3, Edge: 1}
	w := NewBlockingWriter(s, ref, 0, 2, Hash("i"), Options{Allocator: mem, TargetRows: 100})
	if err := w.Write(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	w.Abort()
	if err := w.Write(context.Background(), rec); err == nil {
		t.Error("Write after Abort succeeded")
	}
	if err := w.Finish(context.Background()); err == nil {
		t.Error("Finish after Abort succeeded")
	}
	r := NewBlockingReader(s, []storage.PartitionRef{ref}, 0, allTypesSchema, Options{Allocator: mem})
	defer r.Close()
	if _, err := r.Next(context.Background()); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("reading an aborted attempt: %v, want ErrNotFound", err)
	}
	// An empty attempt commits and reads as empty.
	w = NewBlockingWriter(s, ref, 1, 2, Hash("i"), Options{Allocator: mem})
	if err := w.Finish(context.Background()); err != nil {
		t.Fatal(err)
	}
	r2 := NewBlockingReader(s, []storage.PartitionRef{ref}, 1, allTypesSchema, Options{Allocator: mem})
	defer r2.Close()
	if _, err := r2.Next(context.Background()); err != io.EOF {
		t.Errorf("reading an empty partition: %v, want io.EOF", err)
	}
	if err := NewBlockingWriter(s, ref, 2, 0, Forward(), Options{}).Write(context.Background(), rec); err == nil || !strings.Contains(err.Error(), "numConsumers 0") {
		t.Errorf("a writer with 0 consumers: %v", err)
	}
}

// TestBlockingProducers: a reader split by producer reads, per producer,
// exactly what the whole reader reads of it, each on its own; a reader
// already read from does not split; a lost producer fails only its own
// reader, typed.
func TestBlockingProducers(t *testing.T) {
	mem := checked(t)
	s := openStore(t)
	in := testInputs(t, mem, 3)
	pc := partCases[2] // hash, 4 consumers
	opts := Options{Allocator: mem, TargetRows: 1024}
	refs := writeBlocking(t, s, pc, in, opts)
	for c := 0; c < pc.consumers; c++ {
		var want []string
		for p := range refs {
			one := NewBlockingReader(s, refs[p:p+1], c, allTypesSchema, opts)
			rows, _, err := readAllRows(context.Background(), one)
			one.Close()
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, rows...)
		}
		whole := NewBlockingReader(s, refs, c, allTypesSchema, opts)
		parts := whole.Producers()
		if len(parts) != len(refs) {
			t.Fatalf("consumer %d: %d producer readers, want %d", c, len(parts), len(refs))
		}
		var got []string
		for _, r := range parts {
			rows, _, err := readAllRows(context.Background(), r)
			r.Close()
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, rows...)
		}
		checkRows(t, fmt.Sprintf("consumer %d split", c), got, want)
		checkRows(t, fmt.Sprintf("consumer %d whole", c), want, expected(t, pc, in)[c])
		rec, err := whole.Next(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		rec.Release()
		if rs := whole.Producers(); rs != nil {
			t.Errorf("a reader read from split into %d readers", len(rs))
		}
		whole.Close()
	}
	if err := s.DeletePartition(refs[1]); err != nil {
		t.Fatal(err)
	}
	whole := NewBlockingReader(s, refs, 0, allTypesSchema, opts)
	defer whole.Close()
	for p, r := range whole.Producers() {
		_, _, err := readAllRows(context.Background(), r)
		r.Close()
		if lost := errors.Is(err, storage.ErrNotFound); lost != (p == 1) {
			t.Errorf("producer %d of a store without partition 1: err = %v", p, err)
		}
	}
}
