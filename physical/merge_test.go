package physical

import (
	"context"
	"math/rand"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"

	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators"
	"github.com/batchrun/batchrun/shuffle"
	"github.com/batchrun/batchrun/storage"
)

// hiddenSplit is a reader that does not offer its producers.
type hiddenSplit struct{ shuffle.Reader }

// collect keeps the k column of what reaches the end of a chain.
type collect struct{ ks []int64 }

func (c *collect) Push(_ context.Context, rec arrow.Record) error {
	c.ks = append(c.ks, rec.Column(0).(*array.Int64).Int64Values()...)
	return nil
}
func (c *collect) Finish(context.Context) error { return nil }

// TestDrainHeadMergesProducers: a final sort over a blocking exchange
// merges the producers' sorted partitions as it reads them, so a budget
// that makes the buffering path spill makes it spill nothing; both give
// the same sorted rows.
func TestDrainHeadMergesProducers(t *testing.T) {
	ctx := context.Background()
	store, mem, opts := testStore(t)
	schema := arrow.NewSchema([]arrow.Field{{Name: "k", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true}}, nil)
	r := rand.New(rand.NewSource(5))
	var refs []storage.PartitionRef
	var all []int64
	for p := 0; p < 3; p++ {
		ks := make([]int64, 3000)
		for i := range ks {
			ks[i] = r.Int63n(500)
		}
		slices.Sort(ks)
		all = append(all, ks...)
		ref := storage.PartitionRef{Run: 1, Edge: 0, Producer: uint32(p)}
		w := shuffle.NewBlockingWriter(store, ref, 0, 1, shuffle.Global(), opts)
		for from := 0; from < len(ks); from += 700 {
			rec := spillTestRecord(mem, schema, ks[from:min(from+700, len(ks))])
			err := w.Write(ctx, rec)
			rec.Release()
			if err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Finish(ctx); err != nil {
			t.Fatal(err)
		}
		refs = append(refs, ref)
	}
	slices.Sort(all)
	in := spec.Schema{{Name: "k", Type: spec.Int64}, {Name: "s", Type: spec.String}}
	for _, split := range []bool{true, false} {
		var seq atomic.Uint32
		sp := &storeSpiller{store: store, run: 2, producer: 0, seq: &seq, opts: opts}
		stats := &operators.SpillStats{}
		out := &collect{}
		s, err := operators.NewSort(operators.SortFinal, in, []spec.SortKey{{Column: "k"}}, out, mem)
		if err != nil {
			t.Fatal(err)
		}
		s.SetBudget(operators.Budget{Bytes: 16 << 10, Spill: sp, Stats: stats})
		var rd shuffle.Reader = shuffle.NewBlockingReader(store, refs, 0, schema, opts)
		if !split {
			rd = hiddenSplit{rd}
		}
		rows, err := drainHead(ctx, s, []shuffle.Reader{rd})
		rd.Close()
		sp.close()
		if err != nil {
			t.Fatalf("split=%v: %v", split, err)
		}
		if rows != int64(len(all)) || !slices.Equal(out.ks, all) {
			t.Errorf("split=%v: %d rows in, %d out, sorted %v; want %d", split, rows, len(out.ks), slices.Equal(out.ks, all), len(all))
		}
		if spilled := stats.Runs > 0; spilled == split {
			t.Errorf("split=%v: %d spill runs", split, stats.Runs)
		}
	}
}
