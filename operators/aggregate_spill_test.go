package operators

import (
	"context"
	"fmt"
	"io"
	"math/rand"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators/internal/optest"
)

// graceSpiller keeps spill runs in memory (retained batches) and checks
// the SpillRun contract: no Write after Finish, no Open before it.
type graceSpiller struct {
	t       testing.TB
	created int
	live    int // runs not yet discarded
	open    int // readers not yet closed
}

func (sp *graceSpiller) NewRun(schema *arrow.Schema) (SpillRun, error) {
	sp.created++
	sp.live++
	return &graceRun{sp: sp, schema: schema}, nil
}

type graceRun struct {
	sp        *graceSpiller
	schema    *arrow.Schema
	recs      []arrow.Record
	finished  bool
	discarded bool
}

func (r *graceRun) Write(ctx context.Context, rec arrow.Record) error {
	if r.finished || r.discarded {
		r.sp.t.Errorf("spill: Write after Finish or Discard")
	}
	if !rec.Schema().Equal(r.schema) {
		r.sp.t.Errorf("spill: Write of schema %s to a run of %s", rec.Schema(), r.schema)
	}
	rec.Retain()
	r.recs = append(r.recs, rec)
	return nil
}

func (r *graceRun) Finish(ctx context.Context) error {
	r.finished = true
	return nil
}

func (r *graceRun) Open(ctx context.Context) (BatchReader, error) {
	if !r.finished || r.discarded {
		r.sp.t.Errorf("spill: Open before Finish or after Discard")
	}
	r.sp.open++
	return &graceReader{run: r}, nil
}

func (r *graceRun) Discard() {
	if r.discarded {
		return
	}
	r.discarded = true
	r.sp.live--
	for _, rec := range r.recs {
		rec.Release()
	}
	r.recs = nil
}

type graceReader struct {
	run  *graceRun
	next int
}

func (g *graceReader) Next(ctx context.Context) (arrow.Record, error) {
	if g.next == len(g.run.recs) {
		return nil, io.EOF
	}
	rec := g.run.recs[g.next]
	g.next++
	rec.Retain()
	return rec, nil
}

func (g *graceReader) Close() { g.run.sp.open-- }

// checkClean fails unless every run was discarded and every reader closed.
func (sp *graceSpiller) checkClean(t *testing.T, what string) {
	t.Helper()
	if sp.live != 0 || sp.open != 0 {
		t.Errorf("%s: %d spill runs left, %d readers open", what, sp.live, sp.open)
	}
}

// spillAggRows are many groups: k1 over 3000 values, k2 over 2000, with
// nulls; values as aggTestRows.
func spillAggRows(r *rand.Rand, n int) [][]any {
	rows := aggTestRows(r, n)
	for _, row := range rows {
		if row[0] != nil {
			row[0] = int64(r.Intn(3000))
		}
		if row[1] != nil {
			row[1] = fmt.Sprintf("g%d", r.Intn(2000))
		}
	}
	return rows
}

var spillAggAggs = append(append([]spec.Agg{}, aggTestAggs...),
	spec.Agg{Func: spec.AggFirst, Arg: "s", Alias: "fs"},
	spec.Agg{Func: spec.AggAnyValue, Arg: "v", Alias: "anyv"})

// runAggBudget is runAgg with a budget; it returns the rows and the
// aggregate.
func runAggBudget(t *testing.T, mem memory.Allocator, mode AggMode, step *spec.AggregateStep, b Budget, recs []arrow.Record) ([][]any, *HashAggregate) {
	t.Helper()
	sink := &optest.Sink{}
	defer sink.Release()
	h, err := NewHashAggregate(mode, aggTestSchema, step, sink, mem)
	if err != nil {
		t.Fatal(err)
	}
	h.SetBudget(b)
	h.spill.floor = 0 // spill at the tiny test budgets
	optest.Push(t, h, recs...)
	if sink.Finished != 1 {
		t.Errorf("downstream finished %d times", sink.Finished)
	}
	if h.Stats().RowsOut != int64(len(sink.Rows())) {
		t.Errorf("stats %+v, emitted %d rows", h.Stats(), len(sink.Rows()))
	}
	return sink.Rows(), h
}

func TestHashAggregateSpill(t *testing.T) {
	rows := spillAggRows(rand.New(rand.NewSource(3)), 12000)
	for _, keys := range [][]string{{"k1"}, {"k2"}, {"k3"}, {"k1", "k2"}, nil} {
		step := &spec.AggregateStep{Keys: keys, Aggs: spillAggAggs}
		want := refAggregate(aggTestSchema, rows, step)
		for _, budget := range []int64{0, 24 << 10, 96 << 10} {
			mem := optest.Checked(t)
			sp := &graceSpiller{t: t}
			var stats SpillStats
			b := Budget{Bytes: budget, Spill: sp, Stats: &stats}
			name := fmt.Sprintf("keys %v, budget %d", keys, budget)
			got, _ := runAggBudget(t, mem, AggWhole, step, b, chunkRecords(t, mem, aggTestSchema, rows, 1000))
			checkSpilledRows(t, name, got, want, budget == 0)
			bounded := budget > 0 && len(want) > 100
			if (stats.Runs > 0) != bounded || (stats.Rows > 0) != bounded || (stats.Bytes > 0) != bounded {
				t.Errorf("%s: spill stats %+v, want spilling %v", name, stats, bounded)
			}
			sp.checkClean(t, name)
		}
	}
}

// checkSpilledRows compares as multisets, or exactly when ordered.
func checkSpilledRows(t *testing.T, name string, got, want [][]any, ordered bool) {
	t.Helper()
	if ordered {
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %d rows, want %d; got\n%s, want\n%s", name, len(got), len(want), optest.Format(got), optest.Format(want))
		}
		return
	}
	count := map[string]int{}
	for _, r := range got {
		count[fmt.Sprintf("%#v", r)]++
	}
	for _, r := range want {
		count[fmt.Sprintf("%#v", r)]--
	}
	var diff []string
	for row, n := range count {
		if n != 0 {
			diff = append(diff, fmt.Sprintf("%+d %s", n, row))
		}
	}
	if len(diff) > 0 {
		sort.Strings(diff)
		t.Errorf("%s: %d rows, want %d; differences (got - want):\n%s", name, len(got), len(want), strings.Join(diff[:min(len(diff), 20)], "\n"))
	}
}

func TestHashAggregateSpillPartialFinal(t *testing.T) {
	rows := spillAggRows(rand.New(rand.NewSource(4)), 12000)
	for _, keys := range [][]string{{"k1"}, {"k1", "k2"}} {
		step := &spec.AggregateStep{Keys: keys, Aggs: spillAggAggs}
		want := refAggregate(aggTestSchema, rows, step)
		partial, err := PartialAggSchema(aggTestSchema, step)
		if err != nil {
			t.Fatal(err)
		}
		mem := optest.Checked(t)
		sp := &graceSpiller{t: t}
		var pstats, fstats SpillStats
		// Two partial aggregates over budget emit early (more states than
		// groups) and never spill; the final one spills.
		var states []arrow.Record
		flushed := 0
		for _, part := range [][][]any{rows[:5000], rows[5000:]} {
			out, h := runAggBudget(t, mem, AggPartial, step, Budget{Bytes: 16 << 10, Spill: sp, Stats: &pstats}, chunkRecords(t, mem, aggTestSchema, part, 500))
			flushed += len(out)
			states = append(states, optest.Record(t, mem, partial, out))
			if h.Groups() > len(out) {
				t.Errorf("keys %v: partial holds %d groups after Finish", keys, h.Groups())
			}
		}
		if flushed <= len(want) || pstats != (SpillStats{}) {
			t.Errorf("keys %v: partials emitted %d states for %d groups, spill stats %+v; want early flushes, no spill", keys, flushed, len(want), pstats)
		}
		got, _ := runAggBudget(t, mem, AggFinal, step, Budget{Bytes: 24 << 10, Spill: sp, Stats: &fstats}, states)
		checkSpilledRows(t, fmt.Sprintf("final(partial(keys %v))", keys), got, want, false)
		if fstats.Runs == 0 {
			t.Errorf("keys %v: final did not spill: %+v", keys, fstats)
		}
		sp.checkClean(t, fmt.Sprint(keys))
	}
}

func TestHashAggregateSpillLevels(t *testing.T) {
	// 40000 groups under a budget that one sixteenth of them still
	// exceeds: partitions spill again at the next level.
	n := 40000
	rows := make([][]any, 0, 2*n)
	for i := 0; i < 2*n; i++ {
		k := int64((i * 7919) % n)
		rows = append(rows, []any{k, fmt.Sprint("x", k%977), nil, nil, k, float64(i), fmt.Sprint("s", i)})
	}
	step := &spec.AggregateStep{Keys: []string{"k1", "k2"}, Aggs: spillAggAggs}
	want := refAggregate(aggTestSchema, rows, step)
	mem := optest.Checked(t)
	sp := &graceSpiller{t: t}
	var stats SpillStats
	got, _ := runAggBudget(t, mem, AggWhole, step, Budget{Bytes: 64 << 10, Spill: sp, Stats: &stats}, chunkRecords(t, mem, aggTestSchema, rows, 8000))
	checkSpilledRows(t, "two levels", got, want, false)
	if stats.Runs <= spillFanout {
		t.Errorf("spill stats %+v: want more than %d runs (a second level)", stats, spillFanout)
	}
	sp.checkClean(t, "two levels")
}

func TestHashAggregateSpillCountDistinct(t *testing.T) {
	// count_distinct is not bounded: it holds its sets and never spills.
	rows := spillAggRows(rand.New(rand.NewSource(5)), 5000)
	step := &spec.AggregateStep{Keys: []string{"k1"}, Aggs: []spec.Agg{
		{Func: spec.AggCountDistinct, Arg: "s", Alias: "ds"}, {Func: spec.AggSum, Arg: "v", Alias: "sv"},
	}}
	want := refAggregate(aggTestSchema, rows, step)
	mem := optest.Checked(t)
	sp := &graceSpiller{t: t}
	var stats SpillStats
	got, h := runAggBudget(t, mem, AggWhole, step, Budget{Bytes: 8 << 10, Spill: sp, Stats: &stats}, chunkRecords(t, mem, aggTestSchema, rows, 1000))
	checkSpilledRows(t, "count_distinct", got, want, true)
	if stats != (SpillStats{}) || h.HeldBytes() <= 8<<10 {
		t.Errorf("count_distinct: spill stats %+v, held %d; want no spill, over budget", stats, h.HeldBytes())
	}
}

func TestHashAggregateSpillAbandon(t *testing.T) {
	rows := spillAggRows(rand.New(rand.NewSource(6)), 5000)
	mem := optest.Checked(t)
	sp := &graceSpiller{t: t}
	step := &spec.AggregateStep{Keys: []string{"k1"}, Aggs: spillAggAggs}
	h, err := NewHashAggregate(AggWhole, aggTestSchema, step, &optest.Sink{}, mem)
	if err != nil {
		t.Fatal(err)
	}
	h.SetBudget(Budget{Bytes: 16 << 10, Spill: sp})
	h.spill.floor = 0
	for _, rec := range chunkRecords(t, mem, aggTestSchema, rows, 1000) {
		if err := h.Push(context.Background(), rec); err != nil {
			t.Fatal(err)
		}
		rec.Release()
	}
	if sp.created == 0 {
		t.Fatalf("no spill runs")
	}
	h.Close()
	sp.checkClean(t, "abandoned aggregate")
}

func TestSpillFloor(t *testing.T) {
	// A budget under minSpillBudget counts as minSpillBudget: a few
	// groups never spill, however small the budget.
	rows := aggTestRows(rand.New(rand.NewSource(8)), 3000)
	step := &spec.AggregateStep{Keys: []string{"k1"}, Aggs: aggTestAggs}
	mem := optest.Checked(t)
	sp := &graceSpiller{t: t}
	var stats SpillStats
	sink := &optest.Sink{}
	defer sink.Release()
	h, err := NewHashAggregate(AggWhole, aggTestSchema, step, sink, mem)
	if err != nil {
		t.Fatal(err)
	}
	h.SetBudget(Budget{Bytes: 1 << 10, Spill: sp, Stats: &stats})
	optest.Push(t, h, chunkRecords(t, mem, aggTestSchema, rows, 500)...)
	if stats != (SpillStats{}) {
		t.Errorf("aggregate under a 1 KiB budget spilled %+v, want nothing below %d bytes", stats, minSpillBudget)
	}
}
