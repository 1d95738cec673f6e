package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators/formats"
)

// writeParquetCopies writes events.parquet and users.parquet next to the
// CSV files in dir, with batchrun's own CSV scan and Parquet writer.
func writeParquetCopies(dir string) error {
	for _, name := range []string{"events", "users"} {
		src := filepath.Join(dir, name+".csv")
		schema, err := formats.InferCSVSchema(src, ',', 0)
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, name+".parquet")
		w, err := formats.NewParquetWrite(dst, schema, formats.ParquetWriteOptions{Compression: spec.CompressionSnappy}, memory.DefaultAllocator)
		if err != nil {
			return err
		}
		sc, err := formats.NewCSVScan(src, schema, ',', 0, 1, memory.DefaultAllocator)
		if err != nil {
			w.Close()
			return err
		}
		if err := sc.Run(context.Background(), w); err != nil { // Run finishes w
			w.Close()
			return fmt.Errorf("%s: %w", dst, err)
		}
	}
	return nil
}
