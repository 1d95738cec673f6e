package operators

import (
	"fmt"
	"testing"

	"github.com/batchrun/batchrun/operators/internal/optest"
)

// TestSortChunked: a SortPartial sorting its input in chunks of any size,
// with or without spilling, gives the stable sort, and really chunks.
func TestSortChunked(t *testing.T) {
	in := optest.Schema(t, "a int64, b string, c float64, d bool, seq int64")
	rows := externalSortRows(2000)
	for ki, keys := range finalTestKeys {
		want := refSort(in, rows, keys)
		for _, chunk := range []int{1, 7, 100, 999, 5000} {
			for _, budget := range []int64{0, 6 << 10, 30 << 10} {
				t.Run(fmt.Sprintf("keys=%d/chunk=%d/budget=%d", ki, chunk, budget), func(t *testing.T) {
					mem := optest.Checked(t)
					sink := &optest.Sink{}
					defer sink.Release()
					s, sp, stats := newTestSort(t, mem, in, keys, sink, budget)
					s.chunk.rows, s.ext.batchRows = chunk, 64
					maxRuns := 0
					for _, rec := range sortTestChunks(t, mem, in, rows, 90) {
						err := s.Push(t.Context(), rec)
						rec.Release()
						if err != nil {
							t.Fatal(err)
						}
						maxRuns = max(maxRuns, len(s.chunk.runs))
					}
					if err := s.Finish(t.Context()); err != nil {
						t.Fatal(err)
					}
					if got := sink.Rows(); !sameRows(got, want) {
						t.Errorf("chunked sort =\n%s, want\n%s", optest.Format(got), optest.Format(want))
					}
					if chunk <= len(rows)/3 && budget == 0 && maxRuns < 2 {
						t.Errorf("chunks of %d rows: at most %d in-memory runs", chunk, maxRuns)
					}
					if budget > 0 && (stats.Runs < 2 || sp.live != 0) {
						t.Errorf("budget %d: %d spill runs, %d not discarded", budget, stats.Runs, sp.live)
					}
					if s.HeldBytes() != 0 || len(s.chunk.runs) != 0 {
						t.Errorf("after Finish: holding %d bytes, %d runs", s.HeldBytes(), len(s.chunk.runs))
					}
				})
			}
		}
	}
}

// TestSortChunkedFinishMergesHeld: a chunked sort that spilled finishes by
// merging its spill runs with what it holds, without spilling that too.
func TestSortChunkedFinishMergesHeld(t *testing.T) {
	in := optest.Schema(t, "a int64, b string, c float64, d bool, seq int64")
	rows := externalSortRows(2000)
	keys := finalTestKeys[2]
	for _, budget := range []int64{40 << 10, 48 << 10, 64 << 10} {
		mem := optest.Checked(t)
		sink := &optest.Sink{}
		s, sp, stats := newTestSort(t, mem, in, keys, sink, budget)
		s.chunk.rows, s.ext.batchRows = 100, 64
		optest.Push(t, s, sortTestChunks(t, mem, in, rows, 90)...)
		if got, want := sink.Rows(), refSort(in, rows, keys); !sameRows(got, want) {
			t.Errorf("budget %d: output differs from the stable sort", budget)
		}
		if stats.Runs == 0 || stats.Rows >= int64(len(rows)) || sp.live != 0 {
			t.Errorf("budget %d: spilled %d rows in %d runs (%d not discarded), want some but not all %d", budget, stats.Rows, stats.Runs, sp.live, len(rows))
		}
		sink.Release()
	}
}
