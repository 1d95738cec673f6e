package remote

import (
	"context"
	"errors"
	"io"
	"slices"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/batchrun/batchrun/executor"
	"github.com/batchrun/batchrun/plan"
	"github.com/batchrun/batchrun/shuffle"
	"github.com/batchrun/batchrun/storage"
)

var schema = arrow.NewSchema([]arrow.Field{{Name: "k", Type: arrow.PrimitiveTypes.Int64, Nullable: true}}, nil)

const run = 9

// worker is one process's store, served on an address.
type worker struct {
	store *storage.Store
	addr  string
	stop  func()
}

func startWorker(t *testing.T) *worker {
	t.Helper()
	store, err := storage.Open(t.TempDir(), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	srv := NewServer(shuffle.Options{})
	srv.Add(run, store)
	fs, err := Listen("127.0.0.1:0", srv)
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			fs.Stop()
		}
	}
	t.Cleanup(stop)
	return &worker{store: store, addr: fs.Addr().String(), stop: stop}
}

// write commits partition p (2 subpartitions, hash on k) holding keys
// from..to-1.
func (w *worker) write(t *testing.T, p plan.PartitionID, from, to int64) {
	t.Helper()
	ref := storage.PartitionRef{Run: run, Edge: uint32(p.Edge), Producer: uint32(p.Producer)}
	bw := shuffle.NewBlockingWriter(w.store, ref, 0, 2, shuffle.Hash("k"), shuffle.Options{})
	b := array.NewInt64Builder(memory.DefaultAllocator)
	for k := from; k < to; k++ {
		b.Append(k)
	}
	arr := b.NewArray()
	rec := array.NewRecord(schema, []arrow.Array{arr}, int64(arr.Len()))
	defer rec.Release()
	arr.Release()
	ctx := context.Background()
	if err := bw.Write(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if err := bw.Finish(ctx); err != nil {
		t.Fatal(err)
	}
}

func keys(t *testing.T, r shuffle.Reader) ([]int64, error) {
	t.Helper()
	defer r.Close()
	var out []int64
	for {
		rec, err := r.Next(context.Background())
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, rec.Column(0).(*array.Int64).Int64Values()...)
		rec.Release()
	}
}

// reader is how worker self reads subpartition sub of ps at locs.
func reader(t *testing.T, self *worker, ps []plan.PartitionID, locs []string, sub int) (*Partitions, shuffle.Reader) {
	t.Helper()
	parts := &Partitions{Local: &executor.StorePartitions{Store: self.store, Run: run}, Self: self.addr, Run: run}
	t.Cleanup(func() { parts.Close() })
	r, err := parts.Reader(plan.SubtaskID{Stage: 1, Index: int32(sub)}, executor.Input{Partitions: ps, Subpartition: sub, Locations: locs}, schema)
	if err != nil {
		t.Fatal(err)
	}
	return parts, r
}

// TestReadAcrossWorkers: a consumer reads its part of three partitions,
// one in its own store and two on other workers, in producer order, and
// gets exactly the rows a local read of each gives.
func TestReadAcrossWorkers(t *testing.T) {
	a, b, c := startWorker(t), startWorker(t), startWorker(t)
	ps := []plan.PartitionID{{Edge: 0, Producer: 0}, {Edge: 0, Producer: 1}, {Edge: 0, Producer: 2}}
	a.write(t, ps[0], 0, 1000)
	b.write(t, ps[1], 1000, 2500)
	c.write(t, ps[2], 2500, 2600)
	for sub := 0; sub < 2; sub++ {
		var want []int64
		var each [][]int64
		for i, w := range []*worker{a, b, c} {
			local := &executor.StorePartitions{Store: w.store, Run: run}
			r, _ := local.Reader(plan.SubtaskID{}, executor.Input{Partitions: ps[i : i+1], Subpartition: sub}, schema)
			got, err := keys(t, r)
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, got...)
			each = append(each, got)
		}
		// Split by producer (a final sort's merge), each reads its own.
		_, whole := reader(t, a, ps, []string{a.addr, b.addr, c.addr}, sub)
		parts := whole.(shuffle.ProducerSplitter).Producers()
		if len(parts) != len(ps) {
			t.Fatalf("sub %d: split into %d readers, want %d", sub, len(parts), len(ps))
		}
		for i, p := range parts {
			got, err := keys(t, p)
			if err != nil || !slices.Equal(got, each[i]) {
				t.Errorf("sub %d: producer %d's reader read %d keys (%v), want %d", sub, i, len(got), err, len(each[i]))
			}
		}
		whole.Close()
		_, r := reader(t, a, ps, []string{a.addr, b.addr, c.addr}, sub)
		got, err := keys(t, r)
		if err != nil {
			t.Fatalf("sub %d: %v", sub, err)
		}
		if len(got) == 0 || len(got) != len(want) {
			t.Fatalf("sub %d: read %d keys, want %d", sub, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("sub %d: key %d is %d, want %d", sub, i, got[i], want[i])
			}
		}
	}
}

// TestLostRemotePartition: a partition its holder does not have, and one
// whose holder is gone, are lost (recovery regenerates them); the error
// names the partition.
func TestLostRemotePartition(t *testing.T) {
	a, b := startWorker(t), startWorker(t)
	p := plan.PartitionID{Edge: 3, Producer: 1}
	for _, tc := range []struct {
		name  string
		setup func()
	}{
		{"never written", func() {}},
		{"holder gone", func() { b.write(t, p, 0, 10); b.stop() }},
	} {
		parts, r := reader(t, a, []plan.PartitionID{p}, []string{b.addr}, 0)
		tc.setup()
		_, err := keys(t, r)
		if got, ok := parts.Lost(err); !ok || got != p {
			t.Errorf("%s: Lost(%v) = %v, %v; want %v, true", tc.name, err, got, ok, p)
		}
	}
}

// TestLocalLostStillLost: an input in this process's store that is missing
// is lost as the local store says.
func TestLocalLostStillLost(t *testing.T) {
	a := startWorker(t)
	p := plan.PartitionID{Edge: 2, Producer: 0}
	parts, r := reader(t, a, []plan.PartitionID{p}, nil, 0)
	_, err := keys(t, r)
	if got, ok := parts.Lost(err); !ok || got != p {
		t.Errorf("Lost(%v) = %v, %v; want %v, true", err, got, ok, p)
	}
}
