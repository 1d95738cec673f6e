package formats

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators/internal/optest"
)

// benchFormats writes the benchmark events in each format (once per run)
// and returns their paths by format.
func benchFormats(b *testing.B) map[spec.Format]string {
	path, _, recs := optest.Events(b)
	out := map[spec.Format]string{spec.FormatCSV: path}
	for _, f := range []spec.Format{spec.FormatJSONL, spec.FormatParquet} {
		p := filepath.Join(filepath.Dir(path), "events"+f.Ext())
		out[f] = p
		if _, err := os.Stat(p); err == nil {
			continue
		}
		w, err := NewFileWrite(p, optest.EventsSchema, &spec.WriteStep{Path: p}, memory.DefaultAllocator)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range recs {
			if err := w.Push(context.Background(), r); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Finish(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	return out
}

// BenchmarkFormatScan scans the same rows as CSV, JSON lines and Parquet
// (snappy), one split; rows/s is the figure to compare.
func BenchmarkFormatScan(b *testing.B) {
	paths := benchFormats(b)
	for _, f := range []spec.Format{spec.FormatCSV, spec.FormatJSONL, spec.FormatParquet} {
		b.Run(f.String(), func(b *testing.B) {
			fi, _ := os.Stat(paths[f])
			b.SetBytes(fi.Size())
			b.ReportAllocs()
			start := optest.StartClock()
			for i := 0; i < b.N; i++ {
				d := &optest.Discard{}
				sc, err := NewScan(ScanOptions{Read: &spec.ReadStep{Schema: optest.EventsSchema},
					Input: ScanInput{Files: []string{paths[f]}}, NumSplits: 1, Mem: memory.DefaultAllocator})
				if err != nil {
					b.Fatal(err)
				}
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

// BenchmarkFormatWrite writes the rows in each format.
func BenchmarkFormatWrite(b *testing.B) {
	_, _, recs := optest.Events(b)
	for _, f := range []spec.Format{spec.FormatCSV, spec.FormatJSONL, spec.FormatParquet} {
		b.Run(f.String(), func(b *testing.B) {
			start := optest.StartClock()
			for i := 0; i < b.N; i++ {
				p := filepath.Join(b.TempDir(), fmt.Sprintf("w%d%s", i, f.Ext()))
				w, err := NewFileWrite(p, optest.EventsSchema, &spec.WriteStep{Path: p}, memory.DefaultAllocator)
				if err != nil {
					b.Fatal(err)
				}
				for _, r := range recs {
					if err := w.Push(context.Background(), r); err != nil {
						b.Fatal(err)
					}
				}
				if err := w.Finish(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
			optest.ReportRows(b, optest.BenchRows, start)
		})
	}
}

func BenchmarkCSVScan(b *testing.B) {
	path, size, _ := optest.Events(b)
	for _, splits := range []int{1, 4} {
		b.Run(fmt.Sprintf("splits=%d", splits), func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			start := optest.StartClock()
			for i := 0; i < b.N; i++ {
				d := &optest.Discard{}
				for k := 0; k < splits; k++ {
					sc, _ := NewCSVScan(path, optest.EventsSchema, ',', k, splits, memory.DefaultAllocator)
					if err := sc.Run(context.Background(), d); err != nil {
						b.Fatal(err)
					}
				}
				if d.Rows != optest.BenchRows {
					b.Fatalf("read %d rows", d.Rows)
				}
			}
			optest.ReportRows(b, optest.BenchRows, start)
		})
	}
}

func BenchmarkCSVWrite(b *testing.B) {
	_, size, recs := optest.Events(b)
	path := filepath.Join(b.TempDir(), "out.csv")
	b.SetBytes(size)
	b.ReportAllocs()
	start := optest.StartClock()
	for i := 0; i < b.N; i++ {
		w, err := NewCSVWrite(path, optest.EventsSchema)
		if err != nil {
			b.Fatal(err)
		}
		for _, rec := range recs {
			if err := w.Push(context.Background(), rec); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil { // no fsync: measure formatting
			b.Fatal(err)
		}
	}
	optest.ReportRows(b, optest.BenchRows, start)
}
