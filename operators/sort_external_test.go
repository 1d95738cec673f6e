package operators

import (
	"context"
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators/internal/optest"
)

// sortTestSpiller keeps spill runs in memory (retained batches).
type sortTestSpiller struct {
	runs int // runs started
	live int // runs started and not discarded
}

func (sp *sortTestSpiller) NewRun(schema *arrow.Schema) (SpillRun, error) {
	sp.runs++
	sp.live++
	return &sortTestRun{sp: sp, schema: schema}, nil
}

type sortTestRun struct {
	sp       *sortTestSpiller
	schema   *arrow.Schema
	recs     []arrow.Record
	finished bool
	gone     bool
}

func (r *sortTestRun) Write(ctx context.Context, rec arrow.Record) error {
	if r.finished || r.gone {
		return fmt.Errorf("write after Finish or Discard")
	}
	if !rec.Schema().Equal(r.schema) {
		return fmt.Errorf("schema %s, want %s", rec.Schema(), r.schema)
	}
	rec.Retain()
	r.recs = append(r.recs, rec)
	return nil
}

func (r *sortTestRun) Finish(ctx context.Context) error {
	r.finished = true
	return nil
}

func (r *sortTestRun) Open(ctx context.Context) (BatchReader, error) {
	if !r.finished || r.gone {
		return nil, fmt.Errorf("open of an unfinished or discarded run")
	}
	return &sortTestReader{recs: r.recs}, nil
}

func (r *sortTestRun) Discard() {
	if r.gone {
		return
	}
	r.gone = true
	r.sp.live--
	for _, rec := range r.recs {
		rec.Release()
	}
	r.recs = nil
}

// sortTestReader reads a test spill run.
type sortTestReader = recordsReader

// sortTestChunks cuts rows into records of size rows.
func sortTestChunks(t testing.TB, mem memory.Allocator, s spec.Schema, rows [][]any, size int) []arrow.Record {
	var recs []arrow.Record
	for from := 0; from < len(rows); from += size {
		recs = append(recs, optest.Record(t, mem, s, rows[from:min(from+size, len(rows))]))
	}
	return recs
}

// runExternalSort sorts recs with a budget of budget bytes and spilled
// batches of batchRows rows.
func runExternalSort(t *testing.T, mem memory.Allocator, in spec.Schema, keys []spec.SortKey, recs []arrow.Record, budget int64, batchRows int) ([][]any, SpillStats) {
	t.Helper()
	sink := &optest.Sink{}
	defer sink.Release()
	s, sp, stats := newTestSort(t, mem, in, keys, sink, budget)
	s.ext.batchRows = batchRows
	optest.Push(t, s, recs...)
	if sink.Finished != 1 {
		t.Errorf("downstream finished %d times", sink.Finished)
	}
	if sp.live != 0 {
		t.Errorf("%d of %d spill runs not discarded", sp.live, sp.runs)
	}
	if stats.Runs != int64(sp.runs) {
		t.Errorf("stats.Runs = %d, want %d", stats.Runs, sp.runs)
	}
	return sink.Rows(), *stats
}

// newTestSort is a SortPartial into sink under a budget of budget bytes
// (0: unbounded) spilling to a test spiller, and its spill counts.
func newTestSort(t *testing.T, mem memory.Allocator, in spec.Schema, keys []spec.SortKey, sink Operator, budget int64) (*Sort, *sortTestSpiller, *SpillStats) {
	t.Helper()
	s, err := NewSort(SortPartial, in, keys, sink, mem)
	if err != nil {
		t.Fatal(err)
	}
	sp, stats := &sortTestSpiller{}, &SpillStats{}
	s.SetBudget(Budget{Bytes: budget, Spill: sp, Stats: stats})
	return s, sp, stats
}

func externalSortRows(n int) [][]any {
	r := rand.New(rand.NewSource(11))
	strs := []string{"", "a", "ab", "abcdefg", "abcdefgh", "abcdefgA", "abcdefgAA", "zz", "b"}
	floats := []float64{math.Inf(-1), -1.5, math.Copysign(0, -1), 0, 2.25, math.Inf(1), math.NaN()}
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = []any{int64(r.Intn(9) - 4), strs[r.Intn(len(strs))], floats[r.Intn(len(floats))], r.Intn(2) == 0, int64(i)}
		for c := 0; c < 4; c++ {
			if r.Intn(7) == 0 {
				rows[i][c] = nil
			}
		}
	}
	return rows
}

func TestExternalSort(t *testing.T) {
	in := optest.Schema(t, "a int64, b string, c float64, d bool, seq int64")
	rows := externalSortRows(3000)
	keyLists := [][]spec.SortKey{
		{{Column: "a"}},
		{{Column: "b", Desc: true}, {Column: "a"}},
		{{Column: "c"}, {Column: "d", Desc: true}},
		{{Column: "d"}, {Column: "c", Desc: true}, {Column: "b"}},
		{{Column: "a", Desc: true}, {Column: "b"}, {Column: "c"}, {Column: "d"}},
		{{Column: "b", Nulls: spec.NullsLast}, {Column: "a", Desc: true, Nulls: spec.NullsFirst}},
	}
	budgets := []struct {
		bytes     int64
		batchRows int
	}{
		{4 << 10, 64},    // many runs, merged in several passes
		{16 << 10, 1000}, // one batch per run, merged two by two
		{20 << 10, 64},   // several batches per run, one merge
	}
	for _, keys := range keyLists {
		for _, b := range budgets {
			t.Run(fmt.Sprintf("%v/%d", keys, b.bytes), func(t *testing.T) {
				mem := optest.Checked(t)
				want := runSort(t, mem, SortPartial, in, keys, sortTestChunks(t, mem, in, rows, 250))
				got, stats := runExternalSort(t, mem, in, keys, sortTestChunks(t, mem, in, rows, 250), b.bytes, b.batchRows)
				if !sameRows(got, want) {
					t.Errorf("external sort(%+v) =\n%s, want\n%s", keys, optest.Format(got), optest.Format(want))
				}
				if !sameRows(want, refSort(in, rows, keys)) {
					t.Errorf("in-memory sort differs from the reference")
				}
				if stats.Runs <= 3 || stats.Rows < int64(len(rows)) || stats.Bytes <= 0 {
					t.Errorf("spill stats = %+v, want > 3 runs and >= %d rows", stats, len(rows))
				}
			})
		}
	}
}

func TestExternalSortUnboundedAndEmpty(t *testing.T) {
	in := optest.Schema(t, "a int64, seq int64")
	keys := []spec.SortKey{{Column: "a"}}
	mem := optest.Checked(t)
	rows := [][]any{{int64(2), int64(0)}, {nil, int64(1)}, {int64(1), int64(2)}}
	got, stats := runExternalSort(t, mem, in, keys, sortTestChunks(t, mem, in, rows, 1), 1<<30, 0)
	if want := refSort(in, rows, keys); !sameRows(got, want) || stats != (SpillStats{}) {
		t.Errorf("sort under a large budget = %v, %+v; want %v, no spilling", got, stats, want)
	}
	got, _ = runExternalSort(t, mem, in, keys, nil, 1, 0)
	if len(got) != 0 {
		t.Errorf("external sort(nothing) = %v", got)
	}
}

// BenchmarkExternalSort compares the in-memory sort with the external one
// (spilling to an in-memory Spiller, so it measures the sort and merge,
// not I/O) on W4's keys (user_id, ts).
func BenchmarkExternalSort(b *testing.B) {
	const n = 1 << 20
	in := optest.Schema(b, "user_id int64, ts int64, amount float64")
	r := rand.New(rand.NewSource(5))
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = []any{int64(r.Intn(100000)), int64(r.Intn(1 << 40)), r.Float64()}
	}
	mem := memory.NewGoAllocator()
	recs := sortTestChunks(b, mem, in, rows, BatchRows)
	keys := []spec.SortKey{{Column: "user_id"}, {Column: "ts"}}
	for _, budget := range []int64{0, 8 << 20, 2 << 20} {
		b.Run(fmt.Sprintf("budget=%dMiB", budget>>20), func(b *testing.B) {
			var stats SpillStats
			for b.Loop() {
				benchSort(b, in, keys, recs, Budget{Bytes: budget, Spill: &sortTestSpiller{}, Stats: &stats})
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(stats.Runs)/float64(b.N), "runs/op")
		})
	}
}

type discardOp struct{}

func (discardOp) Push(context.Context, arrow.Record) error { return nil }
func (discardOp) Finish(context.Context) error             { return nil }

// BenchmarkSortMillions sorts 4M event rows (W4's columns and keys) in
// one subtask under a budget that makes it spill twice, as W4's subtasks
// do: the gathers of a sort this size miss the caches, which chunked
// sorting avoids.
func BenchmarkSortMillions(b *testing.B) {
	const n = 4 << 20
	in := optest.Schema(b, "user_id int64, country string, amount float64, ts int64")
	r := rand.New(rand.NewSource(6))
	countries := []string{"US", "DE", "FR", "GB", "JP", "BR", "IN", "CN"}
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = []any{int64(r.Intn(1000000)), countries[r.Intn(len(countries))], r.Float64() * 100, int64(r.Intn(1 << 40))}
	}
	mem := memory.NewGoAllocator()
	recs := sortTestChunks(b, mem, in, rows, BatchRows)
	keys := []spec.SortKey{{Column: "user_id"}, {Column: "ts"}}
	for b.Loop() {
		// A budget of half the input, as W4's subtasks have: two spill runs.
		benchSort(b, in, keys, recs, Budget{Bytes: 100 << 20, Spill: &sortTestSpiller{}})
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// benchSort sorts recs once under budget, discarding the output.
func benchSort(b *testing.B, in spec.Schema, keys []spec.SortKey, recs []arrow.Record, budget Budget) {
	s, err := NewSort(SortPartial, in, keys, discardOp{}, memory.NewGoAllocator())
	if err != nil {
		b.Fatal(err)
	}
	s.SetBudget(budget)
	for _, rec := range recs {
		if err := s.Push(context.Background(), rec); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Finish(context.Background()); err != nil {
		b.Fatal(err)
	}
}
