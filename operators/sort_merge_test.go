package operators

import (
	"context"
	"fmt"
	"math/rand"
	"reflect"
	"slices"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators/internal/optest"
)

// finalInput is what a SortFinal is fed: runs sorted runs of random sizes
// (some empty) concatenated, then cut into batches of random sizes that
// ignore run boundaries. It returns the rows and the non-empty runs.
func finalInput(r *rand.Rand, in spec.Schema, keys []spec.SortKey, runs, maxRun int) ([][]any, int) {
	all := externalSortRows(runs * maxRun)
	for _, row := range all {
		if runs%2 == 0 && row[0] == nil {
			row[0] = int64(0) // a key without nulls: words alone decide
		}
	}
	var rows [][]any
	nonEmpty := 0
	for i := 0; i < runs; i++ {
		n := r.Intn(maxRun + 1)
		if r.Intn(5) == 0 {
			n = 0
		}
		if n > 0 {
			nonEmpty++
		}
		rows = append(rows, refSort(in, all[i*maxRun:i*maxRun+n], keys)...)
	}
	for i := range rows {
		rows[i][4] = int64(i) // seq: input position, shows stability
	}
	return rows, nonEmpty
}

// randomChunks cuts rows into records of 1 to max rows.
func randomChunks(t testing.TB, r *rand.Rand, mem memory.Allocator, s spec.Schema, rows [][]any, max int) []arrow.Record {
	var recs []arrow.Record
	for from := 0; from < len(rows); {
		to := min(from+1+r.Intn(max), len(rows))
		recs = append(recs, optest.Record(t, mem, s, rows[from:to]))
		from = to
	}
	return recs
}

var finalTestKeys = [][]spec.SortKey{
	{{Column: "a"}},
	{{Column: "a", Desc: true}},
	{{Column: "b", Desc: true}, {Column: "a"}},
	{{Column: "c"}, {Column: "d", Desc: true}},
	{{Column: "d"}, {Column: "c", Desc: true}, {Column: "b"}},
	{{Column: "a", Desc: true}, {Column: "b"}, {Column: "c"}, {Column: "d"}},
	{{Column: "a", Nulls: spec.NullsLast}, {Column: "b", Desc: true, Nulls: spec.NullsFirst}},
}

// runFinal sorts recs with a SortFinal, under budget when budget > 0, and
// returns its output, the runs in its buffer and the spill runs before
// Finish.
func runFinal(t *testing.T, mem memory.Allocator, in spec.Schema, keys []spec.SortKey, recs []arrow.Record, budget int64) (rows [][]any, runs, spilled int) {
	t.Helper()
	sink := &optest.Sink{}
	defer sink.Release()
	s, err := NewSort(SortFinal, in, keys, sink, mem)
	if err != nil {
		t.Fatal(err)
	}
	sp := &sortTestSpiller{}
	if budget > 0 {
		s.SetBudget(Budget{Bytes: budget, Spill: sp})
		s.ext.batchRows = 50
	}
	ctx := context.Background()
	for _, rec := range recs {
		if err := s.Push(ctx, rec); err != nil {
			t.Fatalf("Push: %v", err)
		}
		rec.Release()
	}
	spilled = len(s.ext.runs)
	flat, err := s.flattenAll()
	if err != nil {
		t.Fatal(err)
	}
	runs = len(runStarts(flat, s.rows))
	if err := s.Finish(ctx); err != nil {
		t.Fatalf("Finish: %v", err)
	}
	if sink.Finished != 1 {
		t.Errorf("downstream finished %d times", sink.Finished)
	}
	if sp.live != 0 {
		t.Errorf("%d of %d spill runs not discarded", sp.live, sp.runs)
	}
	return sink.Rows(), runs, spilled
}

func TestSortFinalMerge(t *testing.T) {
	in := optest.Schema(t, "a int64, b string, c float64, d bool, seq int64")
	r := rand.New(rand.NewSource(7))
	for runs := 1; runs <= 8; runs++ {
		for ki, keys := range finalTestKeys {
			t.Run(fmt.Sprintf("runs=%d/keys=%d", runs, ki), func(t *testing.T) {
				rows, nonEmpty := finalInput(r, in, keys, runs, 400)
				want := refSort(in, rows, keys)
				mem := optest.Checked(t)
				got, found, _ := runFinal(t, mem, in, keys, randomChunks(t, r, mem, in, rows, 150), 0)
				if !sameRows(got, want) {
					t.Errorf("SortFinal(%d runs, %+v) =\n%s, want\n%s", runs, keys, optest.Format(got), optest.Format(want))
				}
				// Adjacent producers' runs may join into one ascending run.
				if found < min(nonEmpty, 1) || found > nonEmpty {
					t.Errorf("SortFinal found %d runs in %d non-empty sorted runs", found, nonEmpty)
				}
			})
		}
	}
}

func TestSortFinalUnsorted(t *testing.T) {
	in := optest.Schema(t, "a int64, b string, c float64, d bool, seq int64")
	r := rand.New(rand.NewSource(8))
	keys := finalTestKeys[2]
	// 40 sorted runs are merged; 300 are too many and the buffer is
	// sorted; random rows are runs of about two rows; 4 range-partitioned
	// runs come out of order.
	for _, tc := range []struct{ runs, maxRun int }{{40, 30}, {300, 8}, {1, 0}, {4, 0}} {
		var rows [][]any
		switch tc.runs {
		case 1:
			rows = externalSortRows(2000)
		case 4: // range-partitioned runs, out of order
			sorted := refSort(in, externalSortRows(2000), keys)
			for _, i := range []int{1, 0, 3, 2} {
				rows = append(rows, sorted[i*500:(i+1)*500]...)
			}
		default:
			rows, _ = finalInput(r, in, keys, tc.runs, tc.maxRun)
		}
		want := refSort(in, rows, keys)
		for _, budget := range []int64{0, 6 << 10} {
			mem := optest.Checked(t)
			got, _, _ := runFinal(t, mem, in, keys, randomChunks(t, r, mem, in, rows, 100), budget)
			if !sameRows(got, want) {
				t.Errorf("SortFinal(%d rows of %d runs, budget %d) differs from the stable sort", len(rows), tc.runs, budget)
			}
		}
	}
}

func TestSortFinalSpill(t *testing.T) {
	in := optest.Schema(t, "a int64, b string, c float64, d bool, seq int64")
	r := rand.New(rand.NewSource(9))
	for _, runs := range []int{1, 3, 8} {
		for ki, keys := range finalTestKeys {
			for _, budget := range []int64{3 << 10, 12 << 10} {
				t.Run(fmt.Sprintf("runs=%d/keys=%d/budget=%d", runs, ki, budget), func(t *testing.T) {
					rows, nonEmpty := finalInput(r, in, keys, runs, 600)
					want := refSort(in, rows, keys)
					mem := optest.Checked(t)
					got, _, spilled := runFinal(t, mem, in, keys, randomChunks(t, r, mem, in, rows, 120), budget)
					if !sameRows(got, want) {
						t.Errorf("SortFinal(%d runs, %+v, budget %d) =\n%s, want\n%s", runs, keys, budget, optest.Format(got), optest.Format(want))
					}
					// Each sorted run spills into one spill run, however
					// many spills it takes.
					if spilled > nonEmpty {
						t.Errorf("SortFinal spilled %d runs for %d non-empty sorted runs", spilled, nonEmpty)
					}
				})
			}
		}
	}
}

func TestOrderBreaks(t *testing.T) {
	in := optest.Schema(t, "a int64, b string")
	mem := optest.Checked(t)
	tests := []struct {
		rows [][]any
		keys []spec.SortKey
		want []uint32
	}{
		{[][]any{{int64(1), "x"}, {int64(1), "x"}, {int64(2), "a"}}, []spec.SortKey{{Column: "a"}}, nil},
		{[][]any{{int64(3), "x"}, {int64(1), "x"}, {int64(2), "a"}, {int64(0), "a"}}, []spec.SortKey{{Column: "a"}}, []uint32{1, 3}},
		{[][]any{{int64(1), "b"}, {int64(1), "a"}, {int64(2), "a"}, {int64(2), "c"}}, []spec.SortKey{{Column: "a"}, {Column: "b"}}, []uint32{1}},
		{[][]any{{int64(1), "b"}, {int64(1), "a"}, {int64(2), "a"}}, []spec.SortKey{{Column: "a"}, {Column: "b", Desc: true}}, nil},
		{[][]any{{int64(1), nil}, {int64(1), "a"}, {int64(1), nil}}, []spec.SortKey{{Column: "a"}, {Column: "b"}}, []uint32{2}},
		{[][]any{{nil, "a"}, {int64(5), "a"}, {nil, "a"}}, []spec.SortKey{{Column: "a", Desc: true}}, []uint32{1}},
		{[][]any{{int64(7), "abcdefgh2"}, {int64(7), "abcdefgh1"}}, []spec.SortKey{{Column: "a"}, {Column: "b"}}, []uint32{1}},
	}
	for _, tc := range tests {
		s, err := NewSort(SortFinal, in, tc.keys, nil, mem)
		if err != nil {
			t.Fatal(err)
		}
		s.batches, s.rows = []arrow.Record{optest.Record(t, mem, in, tc.rows)}, len(tc.rows)
		keys, err := s.flattenAll()
		s.Close()
		if err != nil {
			t.Fatal(err)
		}
		if _, got := orderBreaks(keys, len(tc.rows), nil, nil); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("orderBreaks(%v by %+v) = %v, want %v", tc.rows, tc.keys, got, tc.want)
		}
	}
}

// BenchmarkSortFinalMerge feeds a SortFinal 4 sorted runs of 256K rows
// (W4's keys user_id, ts): pushed (merge: it finds the runs and merges
// them; resort: it sorts them again) or streamed (MergeSorted). Without a
// budget the streamed merge and the pushed one cost the same; under one,
// the pushed merge spills what it buffers first.
func BenchmarkSortFinalMerge(b *testing.B) {
	const runs, perRun = 4, 256 << 10
	in := optest.Schema(b, "user_id int64, ts int64, amount float64")
	keys := []spec.SortKey{{Column: "user_id"}, {Column: "ts"}}
	r := rand.New(rand.NewSource(5))
	mem := memory.NewGoAllocator()
	var recs []arrow.Record
	for i := 0; i < runs; i++ {
		rows := make([][]any, perRun)
		for j := range rows {
			rows[j] = []any{int64(r.Intn(100000)), int64(r.Intn(1 << 40)), r.Float64()}
		}
		slices.SortStableFunc(rows, func(x, y []any) int {
			if c := cmpInt(x[0].(int64), y[0].(int64)); c != 0 {
				return c
			}
			return cmpInt(x[1].(int64), y[1].(int64))
		})
		recs = append(recs, sortTestChunks(b, mem, in, rows, BatchRows)...)
	}
	// streamed: MergeSorted over the runs as separate streams (a final
	// sort reading its producers' partitions side by side).
	b.Run("streamed", func(b *testing.B) {
		per := len(recs) / runs
		for b.Loop() {
			s, err := NewSort(SortFinal, in, keys, discardOp{}, mem)
			if err != nil {
				b.Fatal(err)
			}
			streams := make([]BatchReader, runs)
			for i := range streams {
				streams[i] = &recordsReader{recs: recs[i*per : (i+1)*per]}
			}
			if err := s.MergeSorted(context.Background(), streams); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(runs*perRun)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
	for _, resort := range []bool{false, true} {
		name := "merge"
		if resort {
			name = "resort"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				s, err := NewSort(SortFinal, in, keys, discardOp{}, mem)
				if err != nil {
					b.Fatal(err)
				}
				s.fin.resort = resort
				for _, rec := range recs {
					if err := s.Push(context.Background(), rec); err != nil {
						b.Fatal(err)
					}
				}
				if err := s.Finish(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(runs*perRun)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
