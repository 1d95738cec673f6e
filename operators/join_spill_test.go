package operators

import (
	"context"
	"fmt"
	"math/rand"
	"testing"

	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators/internal/optest"
)

// spillJoinRows generates join inputs with duplicate keys (id over keys
// values) and null keys.
func spillJoinRows(r *rand.Rand, n, keys int, right bool) [][]any {
	rows := make([][]any, n)
	for i := range rows {
		var id, name any = int64(r.Intn(keys)), fmt.Sprint("n", r.Intn(keys/4))
		if r.Intn(12) == 0 {
			id = nil
		}
		if r.Intn(12) == 0 {
			name = nil
		}
		if right {
			rows[i] = []any{id, name, fmt.Sprint("seg", i), float64(i)}
		} else {
			rows[i] = []any{id, name, float64(i) / 2}
		}
	}
	return rows
}

func TestHashJoinSpill(t *testing.T) {
	left := optest.Schema(t, "id int64, name string, x float64")
	right := optest.Schema(t, "id int64, name string, seg string, y float64")
	r := rand.New(rand.NewSource(11))
	lrows, rrows := spillJoinRows(r, 2400, 400, false), spillJoinRows(r, 1500, 400, true)
	tests := []struct {
		name     string
		lk, rk   []string
		rightOut []int
		out      string
	}{
		{"int key", []string{"id"}, []string{"id"}, []int{1, 2, 3}, "id int64, name string, x float64, name2 string, seg string, y float64"},
		{"string key", []string{"name"}, []string{"name"}, []int{0, 2, 3}, "id int64, name string, x float64, id2 int64, seg string, y float64"},
		{"two keys", []string{"id", "name"}, []string{"id", "name"}, []int{2, 3}, "id int64, name string, x float64, seg string, y float64"},
	}
	for _, tc := range tests {
		var lk, rk []int
		using := map[int]int{}
		for i := range tc.lk {
			lk, rk = append(lk, left.Index(tc.lk[i])), append(rk, right.Index(tc.rk[i]))
			if tc.lk[i] == tc.rk[i] {
				using[lk[i]] = rk[i]
			}
		}
		for typ := spec.InnerJoin; typ <= spec.AntiJoin; typ++ {
			rightOut, outSchema := tc.rightOut, optest.Schema(t, tc.out)
			if typ.LeftOnly() {
				rightOut, outSchema = nil, outSchema[:len(left)]
			}
			want := refJoin(typ, lrows, rrows, lk, rk, rightOut, using)
			for _, budget := range []int64{0, 20 << 10, 48 << 10} {
				name := fmt.Sprintf("%s %s join, budget %d", tc.name, typ, budget)
				step := &spec.JoinStep{Type: typ, LeftKeys: tc.lk, RightKeys: tc.rk}
				got, stats := runJoinBudget(t, step, left, right, outSchema, lrows, rrows, budget)
				checkSpilledRows(t, name, got, want, budget == 0)
				if (stats.Runs > 0) != (budget > 0) {
					t.Errorf("%s: spill stats %+v", name, stats)
				}
			}
		}
	}
}

// runJoinBudget joins rows under a budget, checking stats, leaks and the
// spill runs, and returns the output rows and the spill stats.
func runJoinBudget(t *testing.T, step *spec.JoinStep, left, right, out spec.Schema, lrows, rrows [][]any, budget int64) ([][]any, SpillStats) {
	t.Helper()
	mem := optest.Checked(t)
	sp := &graceSpiller{t: t}
	var stats SpillStats
	sink := &optest.Sink{}
	defer sink.Release()
	j, err := NewHashJoin(step, left, right, out, sink, mem)
	if err != nil {
		t.Fatal(err)
	}
	j.SetBudget(Budget{Bytes: budget, Spill: sp, Stats: &stats})
	j.spill.floor = 0 // spill at the tiny test budgets
	optest.Push(t, j.Build(), chunkRecords(t, mem, right, rrows, 300)...)
	optest.Push(t, j, chunkRecords(t, mem, left, lrows, 500)...)
	rows := sink.Rows()
	if s := j.Stats(); s.RowsIn != int64(len(lrows)+len(rrows)) || s.RowsOut != int64(len(rows)) || sink.Finished != 1 {
		t.Errorf("%s join, budget %d: stats %+v, finished %d; want in %d out %d", step.Type, budget, s, sink.Finished, len(lrows)+len(rrows), len(rows))
	}
	for _, r := range sink.Recs {
		if r.NumRows() > BatchRows {
			t.Errorf("output batch of %d rows", r.NumRows())
		}
	}
	sp.checkClean(t, fmt.Sprintf("%s join, budget %d", step.Type, budget))
	return rows, stats
}

func TestHashJoinSpillSkew(t *testing.T) {
	// One key holds most build rows: its partition stays over budget at
	// every level, and the last level holds it whole.
	s := optest.Schema(t, "k int64, v int64")
	out := optest.Schema(t, "k int64, v int64, v2 int64")
	var build, probe [][]any
	for i := 0; i < 3000; i++ {
		k := int64(7)
		if i%10 == 0 {
			k = int64(i)
		}
		build = append(build, []any{k, int64(i)})
	}
	for i := 0; i < 40; i++ {
		probe = append(probe, []any{int64(i % 20), int64(-i)})
	}
	for _, typ := range []spec.JoinType{spec.InnerJoin, spec.FullJoin} {
		step := &spec.JoinStep{Type: typ, LeftKeys: []string{"k"}, RightKeys: []string{"k"}}
		want := refJoin(typ, probe, build, []int{0}, []int{0}, []int{1}, map[int]int{0: 0})
		got, stats := runJoinBudget(t, step, s, s, out, probe, build, 16<<10)
		checkSpilledRows(t, fmt.Sprintf("skewed %s join", typ), got, want, false)
		if stats.Runs <= maxSpillLevel {
			t.Errorf("skewed %s join: spill stats %+v, want a run per level", typ, stats)
		}
	}
}

func TestHashJoinSpillAbandon(t *testing.T) {
	s := optest.Schema(t, "k int64, v int64")
	mem := optest.Checked(t)
	sp := &graceSpiller{t: t}
	j, err := NewHashJoin(&spec.JoinStep{LeftKeys: []string{"k"}, RightKeys: []string{"k"}}, s, s, optest.Schema(t, "k int64, v int64, v2 int64"), &optest.Sink{}, mem)
	if err != nil {
		t.Fatal(err)
	}
	j.SetBudget(Budget{Bytes: 4 << 10, Spill: sp})
	j.spill.floor = 0
	var rows [][]any
	for i := 0; i < 2000; i++ {
		rows = append(rows, []any{int64(i), int64(i)})
	}
	for _, rec := range chunkRecords(t, mem, s, rows, 500) {
		if err := j.Build().Push(context.Background(), rec); err != nil {
			t.Fatal(err)
		}
		rec.Release()
	}
	if sp.created == 0 {
		t.Fatalf("build side did not spill")
	}
	j.Close()
	sp.checkClean(t, "abandoned join")
}

func TestHashJoinSpillSparseBuild(t *testing.T) {
	// Build keys fall in a few partitions, probe keys in all of them (and
	// the reverse): partitions with one side only still output what the
	// join type keeps.
	s := optest.Schema(t, "k int64, v int64")
	out := optest.Schema(t, "k int64, v int64, v2 int64")
	var few, many [][]any
	for i := 0; i < 2000; i++ {
		var k any = int64(i % 3)
		if i%50 == 0 {
			k = nil
		}
		few = append(few, []any{k, int64(i)})
	}
	for i := 0; i < 600; i++ {
		var k any = int64(i)
		if i%40 == 0 {
			k = nil
		}
		many = append(many, []any{k, int64(-i)})
	}
	for typ := spec.InnerJoin; typ <= spec.AntiJoin; typ++ {
		outSchema, rightOut := out, []int{1}
		if typ.LeftOnly() {
			outSchema, rightOut = out[:2], nil
		}
		step := &spec.JoinStep{Type: typ, LeftKeys: []string{"k"}, RightKeys: []string{"k"}}
		for _, sides := range [][2][][]any{{many, few}, {few, many}} {
			want := refJoin(typ, sides[0], sides[1], []int{0}, []int{0}, rightOut, map[int]int{0: 0})
			got, stats := runJoinBudget(t, step, s, s, outSchema, sides[0], sides[1], 8<<10)
			checkSpilledRows(t, fmt.Sprintf("sparse %s join (%d probe rows)", typ, len(sides[0])), got, want, false)
			if stats.Runs == 0 {
				t.Errorf("sparse %s join did not spill", typ)
			}
		}
	}
}
