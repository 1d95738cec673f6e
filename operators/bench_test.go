package operators

import (
	"context"
	"fmt"
	"testing"

	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/jobs/spec"
)

func BenchmarkHashAggregate(b *testing.B) {
	_, _, recs := benchEvents(b)
	aggs := []spec.Agg{{Func: spec.AggCount, Alias: "cnt"}, {Func: spec.AggSum, Arg: "amount", Alias: "total"}}
	for _, tc := range []struct {
		name string
		keys []string
	}{{"country", []string{"country"}}, {"user_id", []string{"user_id"}}, {"country,user_id", []string{"country", "user_id"}}} {
		b.Run(tc.name, func(b *testing.B) {
			step := &spec.AggregateStep{Keys: tc.keys, Aggs: aggs}
			b.ReportAllocs()
			start := startClock()
			for i := 0; i < b.N; i++ {
				h, err := NewHashAggregate(AggPartial, eventsSchema, step, &discard{}, memory.DefaultAllocator)
				if err != nil {
					b.Fatal(err)
				}
				for _, rec := range recs {
					if err := h.Push(context.Background(), rec); err != nil {
						b.Fatal(err)
					}
				}
				if err := h.Finish(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
			reportRows(b, benchRows, start)
		})
	}
}

func BenchmarkHashJoinProbe(b *testing.B) {
	_, _, recs := benchEvents(b)
	users := spec.Schema{{Name: "user_id", Type: spec.Int64}, {Name: "segment", Type: spec.String}}
	out := append(append(spec.Schema{}, eventsSchema...), users[1])
	var urows [][]any
	for u := 1; u <= 100_000; u++ {
		urows = append(urows, []any{int64(u), fmt.Sprintf("seg%d", u%10)})
	}
	build := chunkRecords(&testing.T{}, memory.DefaultAllocator, users, urows, BatchRows)
	step := &spec.JoinStep{LeftKeys: []string{"user_id"}, RightKeys: []string{"user_id"}}
	j, err := NewHashJoin(step, eventsSchema, users, out, &discard{}, memory.DefaultAllocator)
	if err != nil {
		b.Fatal(err)
	}
	for _, rec := range build {
		if err := j.Build().Push(context.Background(), rec); err != nil {
			b.Fatal(err)
		}
	}
	if err := j.Build().Finish(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := startClock()
	for i := 0; i < b.N; i++ {
		for _, rec := range recs {
			if err := j.Push(context.Background(), rec); err != nil {
				b.Fatal(err)
			}
		}
	}
	reportRows(b, benchRows, start)
}

func BenchmarkSort(b *testing.B) {
	_, _, recs := benchEvents(b)
	for _, tc := range []struct {
		name string
		keys []spec.SortKey
	}{
		{"user_id,ts", []spec.SortKey{{Column: "user_id"}, {Column: "ts"}}},
		{"country,amount_desc", []spec.SortKey{{Column: "country"}, {Column: "amount", Desc: true}}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			start := startClock()
			for i := 0; i < b.N; i++ {
				s, err := NewSort(SortPartial, eventsSchema, tc.keys, &discard{}, memory.DefaultAllocator)
				if err != nil {
					b.Fatal(err)
				}
				for _, rec := range recs {
					if err := s.Push(context.Background(), rec); err != nil {
						b.Fatal(err)
					}
				}
				if err := s.Finish(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
			reportRows(b, benchRows, start)
		})
	}
}

// BenchmarkFilter keeps about half the rows (amount > 500), gathering the
// kept rows of every column by hand.
func BenchmarkFilter(b *testing.B) {
	_, _, recs := benchEvents(b)
	e, err := spec.ParseExpr("amount > 500")
	if err != nil {
		b.Fatal(err)
	}
	pred, err := CompileExpr(e, eventsSchema)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	start := startClock()
	for i := 0; i < b.N; i++ {
		f, err := NewFilter(pred, eventsSchema, &discard{}, memory.DefaultAllocator)
		if err != nil {
			b.Fatal(err)
		}
		for _, rec := range recs {
			if err := f.Push(context.Background(), rec); err != nil {
				b.Fatal(err)
			}
		}
	}
	reportRows(b, benchRows, start)
}
