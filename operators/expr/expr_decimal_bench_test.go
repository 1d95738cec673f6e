package expr

import (
	"math/rand"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators/arrowx"
	"github.com/batchrun/batchrun/operators/internal/optest"
)

// lineitemSchema has TPC-H's price and discount as decimals and as floats.
var lineitemSchema = spec.Schema{
	{Name: "price", Type: spec.DecimalType(15, 2)},
	{Name: "disc", Type: spec.DecimalType(15, 2)},
	{Name: "fprice", Type: spec.Float64},
	{Name: "fdisc", Type: spec.Float64},
}

// lineitemRecord builds n rows: prices 900.00-104949.50, discounts
// 0.00-0.10, as TPC-H's l_extendedprice and l_discount.
func lineitemRecord(tb testing.TB, mem memory.Allocator, n int) arrow.Record {
	r := rand.New(rand.NewSource(1))
	b := array.NewRecordBuilder(mem, arrowx.ArrowSchema(lineitemSchema))
	defer b.Release()
	for range n {
		p, d := int64(90000+r.Intn(10404950)), int64(r.Intn(11))
		b.Field(0).(*array.Int64Builder).Append(p)
		b.Field(1).(*array.Int64Builder).Append(d)
		b.Field(2).(*array.Float64Builder).Append(float64(p) / 100)
		b.Field(3).(*array.Float64Builder).Append(float64(d) / 100)
	}
	return b.NewRecord()
}

// BenchmarkDecimalMul evaluates TPC-H's revenue expression on decimals and
// on floats, over one batch of 64K rows.
func BenchmarkDecimalMul(b *testing.B) {
	for _, src := range []string{"price * disc", "price * (1 - disc)", "fprice * (1 - fdisc)", "price + disc"} {
		b.Run(src, func(b *testing.B) {
			mem := &poolAllocator{free: map[int][][]byte{}}
			rec := lineitemRecord(b, mem, optest.BatchRows)
			defer rec.Release()
			e, _ := spec.ParseExpr(src)
			c, err := CompileExpr(e, lineitemSchema)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				arr, err := c.Eval(rec, mem)
				if err != nil {
					b.Fatal(err)
				}
				arr.Release()
			}
			b.ReportMetric(float64(b.N)*float64(rec.NumRows())/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// TestDecimalKernelAllocs: the decimal kernels allocate per batch, never
// per row.
func TestDecimalKernelAllocs(t *testing.T) {
	for _, src := range []string{"price * (1 - disc)", "price + disc > 100", "CAST(price AS decimal(18,4))", "round(price * disc, 2)"} {
		e, _ := spec.ParseExpr(src)
		c, err := CompileExpr(e, lineitemSchema)
		if err != nil {
			t.Fatal(err)
		}
		var allocs [2]float64
		for k, n := range []int{100, 20_000} {
			mem := &poolAllocator{free: map[int][][]byte{}}
			rec := lineitemRecord(t, mem, n)
			allocs[k] = testing.AllocsPerRun(20, func() {
				arr, err := c.Eval(rec, mem)
				if err != nil {
					t.Fatal(err)
				}
				arr.Release()
			})
			rec.Release()
		}
		if allocs[1] > allocs[0] {
			t.Errorf("%s: %v allocations for 100 rows, %v for 20000", src, allocs[0], allocs[1])
		}
	}
}
