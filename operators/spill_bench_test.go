package operators

import (
	"context"
	"fmt"
	"testing"

	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators/internal/optest"
)

// The spilling benchmarks run the hash aggregate and hash join unbounded
// and under budgets that make them spill to an in-memory Spiller (so they
// measure partitioning, the extra table builds and the gathers, not I/O),
// and report the spilled share of the input.

func BenchmarkHashAggregateSpill(b *testing.B) {
	_, _, recs := optest.Events(b)
	step := &spec.AggregateStep{Keys: []string{"user_id"}, Aggs: []spec.Agg{
		{Func: spec.AggCount, Alias: "cnt"}, {Func: spec.AggSum, Arg: "amount", Alias: "total"},
		{Func: spec.AggMax, Arg: "country", Alias: "maxc"},
	}}
	for _, budget := range []int64{0, 1 << 20, 256 << 10} {
		b.Run(fmt.Sprintf("budget=%dKiB", budget>>10), func(b *testing.B) {
			b.ReportAllocs()
			var stats SpillStats
			start := optest.StartClock()
			for i := 0; i < b.N; i++ {
				h, err := NewHashAggregate(AggWhole, optest.EventsSchema, step, &optest.Discard{}, memory.DefaultAllocator)
				if err != nil {
					b.Fatal(err)
				}
				h.SetBudget(Budget{Bytes: budget, Spill: &graceSpiller{t: b}, Stats: &stats})
				for _, rec := range recs {
					if err := h.Push(context.Background(), rec); err != nil {
						b.Fatal(err)
					}
				}
				if err := h.Finish(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
			optest.ReportRows(b, optest.BenchRows, start)
			b.ReportMetric(float64(stats.Rows)/float64(b.N), "spilled-rows/op")
		})
	}
}

func BenchmarkHashJoinSpill(b *testing.B) {
	_, _, recs := optest.Events(b)
	users := spec.Schema{{Name: "user_id", Type: spec.Int64}, {Name: "segment", Type: spec.String}}
	out := append(append(spec.Schema{}, optest.EventsSchema...), users[1])
	var urows [][]any
	for u := 1; u <= 100_000; u++ {
		urows = append(urows, []any{int64(u), fmt.Sprintf("seg%d", u%10)})
	}
	build := chunkRecords(&testing.T{}, memory.DefaultAllocator, users, urows, BatchRows)
	step := &spec.JoinStep{LeftKeys: []string{"user_id"}, RightKeys: []string{"user_id"}}
	for _, budget := range []int64{0, 1 << 20, 256 << 10} {
		b.Run(fmt.Sprintf("budget=%dKiB", budget>>10), func(b *testing.B) {
			b.ReportAllocs()
			var stats SpillStats
			start := optest.StartClock()
			for i := 0; i < b.N; i++ {
				j, err := NewHashJoin(step, optest.EventsSchema, users, out, &optest.Discard{}, memory.DefaultAllocator)
				if err != nil {
					b.Fatal(err)
				}
				j.SetBudget(Budget{Bytes: budget, Spill: &graceSpiller{t: b}, Stats: &stats})
				for _, rec := range build {
					if err := j.Build().Push(context.Background(), rec); err != nil {
						b.Fatal(err)
					}
				}
				if err := j.Build().Finish(context.Background()); err != nil {
					b.Fatal(err)
				}
				for _, rec := range recs {
					if err := j.Push(context.Background(), rec); err != nil {
						b.Fatal(err)
					}
				}
				if err := j.Finish(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
			optest.ReportRows(b, optest.BenchRows+100_000, start)
			b.ReportMetric(float64(stats.Rows)/float64(b.N), "spilled-rows/op")
		})
	}
}
