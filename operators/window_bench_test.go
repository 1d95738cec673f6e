package operators

import (
	"context"
	"math/rand"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators/arrowx"
	"github.com/batchrun/batchrun/operators/internal/optest"
)

// windowBenchRecs is 1M rows (k: 1000 partitions, ts: unique order, amount
// with two decimals, n an int64) in batches of BatchRows, sorted by
// (k, ts) when sorted is set (the evaluator's input).
func windowBenchRecs(b *testing.B, sorted bool) (spec.Schema, []arrow.Record) {
	const n = 1 << 20
	in := spec.Schema{{Name: "k", Type: spec.Int64}, {Name: "ts", Type: spec.Int64},
		{Name: "amount", Type: spec.Float64}, {Name: "n", Type: spec.Int64}}
	rb := array.NewRecordBuilder(memory.DefaultAllocator, arrowx.ArrowSchema(in))
	defer rb.Release()
	r := rand.New(rand.NewSource(1))
	var recs []arrow.Record
	for i := 0; i < n; i++ {
		k, ts := int64(r.Intn(1000)), int64(r.Intn(1<<40))
		if sorted {
			k, ts = int64(i/(n/1000)), int64(i)
		}
		rb.Field(0).(*array.Int64Builder).Append(k)
		rb.Field(1).(*array.Int64Builder).Append(ts)
		rb.Field(2).(*array.Float64Builder).Append(float64(r.Intn(100000)) / 100)
		rb.Field(3).(*array.Int64Builder).Append(int64(r.Intn(1000)))
		if (i+1)%BatchRows == 0 || i == n-1 {
			recs = append(recs, rb.NewRecord())
		}
	}
	return in, recs
}

// BenchmarkWindow: running sums and other functions over 1M rows in 1000
// partitions, the whole operator (sort included) and the evaluator alone
// on sorted input. ns/row is per input row.
func BenchmarkWindow(b *testing.B) {
	for _, tc := range []struct {
		name  string
		funcs []string
	}{
		{"running-sum", []string{"sum(amount) ROWS UNBOUNDED PRECEDING"}},
		{"running-sum-default-frame", []string{"sum(amount)"}},
		{"int-sliding-sum", []string{"sum(n) ROWS BETWEEN 100 PRECEDING AND CURRENT ROW"}},
		{"float-sliding-sum-wide", []string{"sum(amount) ROWS BETWEEN 100 PRECEDING AND CURRENT ROW"}},
		{"row_number-rank-lag", []string{"row_number()", "rank()", "lag(amount)"}},
		{"sliding-max", []string{"max(amount) ROWS BETWEEN 50 PRECEDING AND 50 FOLLOWING"}},
	} {
		for _, evalOnly := range []bool{false, true} {
			name := tc.name + "/op"
			if evalOnly {
				name = tc.name + "/eval"
			}
			b.Run(name, func(b *testing.B) {
				in, recs := windowBenchRecs(b, evalOnly)
				w := windowStep(b, []string{"k"}, []string{"ts"}, tc.funcs...)
				out, err := spec.OutputSchema(&spec.Step{ID: "w", Kind: spec.KindWindow, Window: w}, []spec.Schema{in})
				if err != nil {
					b.Fatal(err)
				}
				var rows int64
				for _, rec := range recs {
					rows += rec.NumRows()
				}
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					op, err := NewWindow(in, w, out, &optest.Discard{}, memory.DefaultAllocator)
					if err != nil {
						b.Fatal(err)
					}
					var head Operator = op
					if evalOnly {
						head = op.eval
					}
					for _, rec := range recs {
						if err := head.Push(context.Background(), rec); err != nil {
							b.Fatal(err)
						}
					}
					if err := head.Finish(context.Background()); err != nil {
						b.Fatal(err)
					}
					op.Close()
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(rows*int64(b.N)), "ns/row")
			})
		}
	}
}
