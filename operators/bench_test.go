package operators

import (
	"context"
	"fmt"
	"testing"

	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators/expr"
	"github.com/batchrun/batchrun/operators/internal/optest"
)

func BenchmarkHashAggregate(b *testing.B) {
	_, _, recs := optest.Events(b)
	aggs := []spec.Agg{{Func: spec.AggCount, Alias: "cnt"}, {Func: spec.AggSum, Arg: "amount", Alias: "total"}}
	for _, tc := range []struct {
		name string
		keys []string
	}{{"country", []string{"country"}}, {"user_id", []string{"user_id"}}, {"country,user_id", []string{"country", "user_id"}}} {
		b.Run(tc.name, func(b *testing.B) {
			step := &spec.AggregateStep{Keys: tc.keys, Aggs: aggs}
			b.ReportAllocs()
			start := optest.StartClock()
			for i := 0; i < b.N; i++ {
				h, err := NewHashAggregate(AggPartial, optest.EventsSchema, step, &optest.Discard{}, memory.DefaultAllocator)
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
			optest.ReportRows(b, optest.BenchRows, start)
		})
	}
}

// BenchmarkHashJoinProbe probes a 100K-row build side with the events,
// without and with a residual condition over both sides (inner, and a
// semi join, which tests candidates until one passes).
func BenchmarkHashJoinProbe(b *testing.B) {
	for _, tc := range []struct {
		typ   spec.JoinType
		where string
	}{
		{spec.InnerJoin, ""},
		{spec.InnerJoin, "amount > 100 AND segment <> 'seg3'"},
		{spec.SemiJoin, "amount > 100 AND segment <> 'seg3'"},
	} {
		b.Run(fmt.Sprintf("%s/where=%q", tc.typ, tc.where), func(b *testing.B) {
			step := &spec.JoinStep{Type: tc.typ, LeftKeys: []string{"user_id"}, RightKeys: []string{"user_id"}}
			if tc.where != "" {
				e, err := spec.ParseExpr(tc.where)
				if err != nil {
					b.Fatal(err)
				}
				step.Where = e
			}
			benchmarkJoinProbe(b, step)
		})
	}
}

func benchmarkJoinProbe(b *testing.B, step *spec.JoinStep) {
	_, _, recs := optest.Events(b)
	users := spec.Schema{{Name: "user_id", Type: spec.Int64}, {Name: "segment", Type: spec.String}}
	out := append(append(spec.Schema{}, optest.EventsSchema...), users[1])
	if step.Type.LeftOnly() {
		out = out[:len(optest.EventsSchema)]
	}
	var urows [][]any
	for u := 1; u <= 100_000; u++ {
		urows = append(urows, []any{int64(u), fmt.Sprintf("seg%d", u%10)})
	}
	build := chunkRecords(&testing.T{}, memory.DefaultAllocator, users, urows, BatchRows)
	j, err := NewHashJoin(step, optest.EventsSchema, users, out, &optest.Discard{}, memory.DefaultAllocator)
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
	start := optest.StartClock()
	for i := 0; i < b.N; i++ {
		for _, rec := range recs {
			if err := j.Push(context.Background(), rec); err != nil {
				b.Fatal(err)
			}
		}
	}
	optest.ReportRows(b, optest.BenchRows, start)
}

func BenchmarkSort(b *testing.B) {
	_, _, recs := optest.Events(b)
	for _, tc := range []struct {
		name string
		keys []spec.SortKey
	}{
		{"user_id,ts", []spec.SortKey{{Column: "user_id"}, {Column: "ts"}}},
		{"country,amount_desc", []spec.SortKey{{Column: "country"}, {Column: "amount", Desc: true}}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			start := optest.StartClock()
			for i := 0; i < b.N; i++ {
				s, err := NewSort(SortPartial, optest.EventsSchema, tc.keys, &optest.Discard{}, memory.DefaultAllocator)
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
			optest.ReportRows(b, optest.BenchRows, start)
		})
	}
}

// BenchmarkFilter keeps about half the rows (amount > 500), gathering the
// kept rows of every column by hand.
func BenchmarkFilter(b *testing.B) {
	_, _, recs := optest.Events(b)
	e, err := spec.ParseExpr("amount > 500")
	if err != nil {
		b.Fatal(err)
	}
	pred, err := expr.CompileExpr(e, optest.EventsSchema)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	start := optest.StartClock()
	for i := 0; i < b.N; i++ {
		f, err := NewFilter(pred, optest.EventsSchema, &optest.Discard{}, memory.DefaultAllocator)
		if err != nil {
			b.Fatal(err)
		}
		for _, rec := range recs {
			if err := f.Push(context.Background(), rec); err != nil {
				b.Fatal(err)
			}
		}
	}
	optest.ReportRows(b, optest.BenchRows, start)
}
