package formats

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/klauspost/compress/zstd"

	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators/internal/optest"
)

// TestScanProgress: a scan counts the bytes of its input it read, as it
// reads them (a compressed file's compressed bytes); over every split,
// each byte of the file once.
func TestScanProgress(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("k,v\n")
	for range 20000 {
		b.WriteString("1234567,abcdefghij\n")
	}
	plain := filepath.Join(dir, "in.csv")
	if err := os.WriteFile(plain, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	enc, _ := zstd.NewWriter(nil)
	compressed := filepath.Join(dir, "in.csv.zst")
	if err := os.WriteFile(compressed, enc.EncodeAll([]byte(b.String()), nil), 0o644); err != nil {
		t.Fatal(err)
	}
	schema := optest.Schema(t, "k int64, v string")
	for _, c := range []struct {
		path   string
		splits int
	}{{plain, 3}, {compressed, 1}} {
		fi, err := os.Stat(c.path)
		if err != nil {
			t.Fatal(err)
		}
		var read atomic.Int64
		for split := range c.splits {
			scan, err := NewScan(ScanOptions{Read: &spec.ReadStep{Path: c.path, Schema: schema},
				Input: ScanInput{Files: []string{c.path}, Sizes: []int64{fi.Size()}}, Split: split, NumSplits: c.splits,
				Mem: memory.DefaultAllocator, Progress: &read})
			if err != nil {
				t.Fatal(err)
			}
			if err := scan.Run(context.Background(), &optest.Discard{}); err != nil {
				t.Fatal(err)
			}
		}
		if got, want := read.Load(), fi.Size(); got != want {
			t.Errorf("%s: progress %d bytes, want %d", filepath.Base(c.path), got, want)
		}
	}
}
