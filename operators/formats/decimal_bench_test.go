package formats

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/operators/internal/optest"
)

// BenchmarkCSVScanDecimal reads the events file with its amount column
// (two decimals) as float64 and as decimal(10,2).
func BenchmarkCSVScanDecimal(b *testing.B) {
	path, size, _ := optest.Events(b)
	for _, typ := range []string{"float64", "decimal(10,2)"} {
		s := optest.Schema(b, "user_id int64, country string, amount "+typ+", ts int64")
		b.Run("amount="+typ, func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			start := optest.StartClock()
			for i := 0; i < b.N; i++ {
				d := &optest.Discard{}
				sc, _ := NewCSVScan(path, s, ',', 0, 1, memory.DefaultAllocator)
				if err := sc.Run(context.Background(), d); err != nil {
					b.Fatal(err)
				}
				if d.Rows != optest.BenchRows {
					b.Fatalf("read %d rows", d.Rows)
				}
			}
			optest.ReportRows(b, optest.BenchRows, start)
		})
	}
}

// TestCSVScanDecimalAllocs: parsing decimals, dates and timestamps
// allocates nothing per row.
func TestCSVScanDecimalAllocs(t *testing.T) {
	s := optest.Schema(t, "price decimal(15,2), day date, ts timestamp")
	var allocs [2]float64
	for k, n := range []int{200, 20_000} {
		var sb strings.Builder
		sb.WriteString("price,day,ts\n")
		for i := range n {
			fmt.Fprintf(&sb, "%d.%02d,1998-%02d-%02d,1998-12-01 10:%02d:00.5\n", i, i%100, 1+i%12, 1+i%28, i%60)
		}
		path := writeTemp(t, filepath.Base(t.Name())+".csv", sb.String())
		allocs[k] = testing.AllocsPerRun(5, func() {
			d := &optest.Discard{}
			sc, err := NewCSVScan(path, s, ',', 0, 1, memory.NewGoAllocator())
			if err != nil {
				t.Fatal(err)
			}
			if err := sc.Run(context.Background(), d); err != nil || d.Rows != int64(n) {
				t.Fatalf("scan: %d rows, %v", d.Rows, err)
			}
		})
	}
	if allocs[1] > allocs[0]+2 {
		t.Errorf("scan allocations: %v for 200 rows, %v for 20000", allocs[0], allocs[1])
	}
}
