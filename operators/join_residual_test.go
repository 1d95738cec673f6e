package operators

import (
	"fmt"
	"math/rand"
	"reflect"
	"testing"

	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators/internal/optest"
)

// refJoinMatch is refJoin with any pair condition: match decides whether
// a left and a right row join (keys and residual condition together).
func refJoinMatch(typ spec.JoinType, left, right [][]any, match func(l, r []any) bool, width int, rightOut []int, using map[int]int) [][]any {
	var out [][]any
	hit := make([]bool, len(right))
	for _, l := range left {
		matched := false
		for ri, r := range right {
			if !match(l, r) {
				continue
			}
			matched, hit[ri] = true, true
			if !typ.LeftOnly() {
				row := append([]any{}, l...)
				for _, c := range rightOut {
					row = append(row, r[c])
				}
				out = append(out, row)
			}
		}
		switch {
		case typ == spec.SemiJoin && matched, typ == spec.AntiJoin && !matched:
			out = append(out, append([]any{}, l...))
		case !matched && (typ == spec.LeftJoin || typ == spec.FullJoin):
			row := append([]any{}, l...)
			for range rightOut {
				row = append(row, nil)
			}
			out = append(out, row)
		}
	}
	if typ.KeepsUnmatchedRight() {
		for ri, r := range right {
			if hit[ri] {
				continue
			}
			row := make([]any, width)
			for lc, rc := range using {
				row[lc] = r[rc]
			}
			for _, c := range rightOut {
				row = append(row, r[c])
			}
			out = append(out, row)
		}
	}
	return out
}

// whereStep returns a join step with the residual condition where.
func whereStep(t testing.TB, typ spec.JoinType, lk, rk []string, where string) *spec.JoinStep {
	step := &spec.JoinStep{Type: typ, LeftKeys: lk, RightKeys: rk, Broadcast: len(lk) == 0}
	if where != "" {
		e, err := spec.ParseExpr(where)
		if err != nil {
			t.Fatal(err)
		}
		step.Where = e
	}
	return step
}

// f64 is a nullable float of a test row.
func f64(v any) (float64, bool) {
	f, ok := v.(float64)
	return f, ok
}

// residualCase is a residual condition and its meaning on (left, right)
// rows of the schemas of TestHashJoinResidual.
type residualCase struct {
	where string
	pred  func(l, r []any) bool
}

var residualCases = []residualCase{
	{"x < y", func(l, r []any) bool { // NULL is no match
		x, okx := f64(l[2])
		y, oky := f64(r[2])
		return okx && oky && x < y
	}},
	{"seg <> name OR y IS NULL", func(l, r []any) bool {
		if r[2] == nil {
			return true
		}
		return l[1] != nil && r[1] != nil && l[1] != r[1]
	}},
	{"id > 5 AND x + y > 40", func(l, r []any) bool { // id is the USING key
		x, okx := f64(l[2])
		y, oky := f64(r[2])
		return l[0].(int64) > 5 && okx && oky && x+y > 40
	}},
	{"CAST(NULL AS bool)", func(l, r []any) bool { return false }},
	{"TRUE", func(l, r []any) bool { return true }},
}

// residualRows generates rows of (id, name|seg, x|y): ids over keys
// values, a few NULLs everywhere.
func residualRows(r *rand.Rand, n, keys int, right bool) [][]any {
	rows := make([][]any, n)
	for i := range rows {
		var id, s, f any = int64(r.Intn(keys)), fmt.Sprint("n", r.Intn(3)), float64(r.Intn(40))
		if r.Intn(10) == 0 {
			id = nil
		}
		if r.Intn(8) == 0 {
			s = nil
		}
		if r.Intn(6) == 0 {
			f = nil
		}
		if right && s != nil {
			s = fmt.Sprint("n", r.Intn(4))
		}
		rows[i] = []any{id, s, f}
	}
	return rows
}

// TestHashJoinResidual joins on id with a residual condition, every join
// type, against the nested-loop reference, in its exact order; the
// skewed data has probe rows with more candidates than a batch.
func TestHashJoinResidual(t *testing.T) {
	left := optest.Schema(t, "id int64, name string, x float64")
	right := optest.Schema(t, "id int64, seg string, y float64")
	out := optest.Schema(t, "id int64, name string, x float64, seg string, y float64")
	r := rand.New(rand.NewSource(21))
	data := []struct {
		name        string
		lrows, rows [][]any
	}{
		{"spread", residualRows(r, 600, 40, false), residualRows(r, 300, 40, true)},
		{"skewed", residualRows(r, 400, 3, false), residualRows(r, 700, 3, true)},
	}
	for _, d := range data {
		for _, rc := range residualCases {
			for typ := spec.InnerJoin; typ <= spec.AntiJoin; typ++ {
				match := func(l, r []any) bool { return keysMatch(l, r, []int{0}, []int{0}) && rc.pred(l, r) }
				rightOut, outSchema := []int{1, 2}, out
				if typ.LeftOnly() {
					rightOut, outSchema = nil, out[:3]
				}
				want := refJoinMatch(typ, d.lrows, d.rows, match, 3, rightOut, map[int]int{0: 0})
				mem := optest.Checked(t)
				step := whereStep(t, typ, []string{"id"}, []string{"id"}, rc.where)
				got, j := runJoin(t, mem, step, left, right, outSchema,
					chunkRecords(t, mem, left, d.lrows, 128), chunkRecords(t, mem, right, d.rows, 64))
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s %s join where %s = %d rows, want %d; first diff at %d", d.name, typ, rc.where, len(got), len(want), firstDiff(got, want))
				}
				if s := j.Stats(); s.RowsOut != int64(len(want)) {
					t.Errorf("%s %s join where %s: stats %+v, want out %d", d.name, typ, rc.where, s, len(want))
				}
			}
		}
	}
}

// TestHashJoinResidualLaterCandidate: a probe row's first candidates fail
// the condition and a later one passes, also past a batch of candidates:
// semi keeps the row, anti drops it, left joins emit only the passing
// pair and right joins the failing build rows as unmatched.
func TestHashJoinResidualLaterCandidate(t *testing.T) {
	left := optest.Schema(t, "k int64, x int64")
	right := optest.Schema(t, "k int64, y int64")
	out := optest.Schema(t, "k int64, x int64, y int64")
	for _, n := range []int{3, BatchRows + 5} {
		var build [][]any
		for i := range n {
			build = append(build, []any{int64(1), int64(i)})
		}
		probe := [][]any{{int64(1), int64(n - 2)}, {int64(2), int64(0)}, {int64(1), int64(n)}}
		for typ := spec.InnerJoin; typ <= spec.AntiJoin; typ++ {
			match := func(l, r []any) bool { return l[0] == r[0] && l[1].(int64) < r[1].(int64) }
			rightOut, outSchema := []int{1}, out
			if typ.LeftOnly() {
				rightOut, outSchema = nil, out[:2]
			}
			want := refJoinMatch(typ, probe, build, match, 2, rightOut, map[int]int{0: 0})
			mem := optest.Checked(t)
			step := whereStep(t, typ, []string{"k"}, []string{"k"}, "x < y")
			got, _ := runJoin(t, mem, step, left, right, outSchema,
				chunkRecords(t, mem, left, probe, 2), chunkRecords(t, mem, right, build, 1000))
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%d build rows, %s join: %d rows, want %d; first diff at %d", n, typ, len(got), len(want), firstDiff(got, want))
			}
			switch typ {
			case spec.SemiJoin:
				if len(got) != 1 || got[0][1] != int64(n-2) {
					t.Errorf("semi join = %v, want the first probe row", got)
				}
			case spec.AntiJoin:
				if len(got) != 2 {
					t.Errorf("anti join = %v, want the last two probe rows", got)
				}
			}
		}
	}
}

// TestHashJoinKeyless: a join without keys pairs every probe row with
// every build row (more pairs than a batch), with and without a residual
// condition, and with either side empty.
func TestHashJoinKeyless(t *testing.T) {
	left := optest.Schema(t, "a int64, s string")
	right := optest.Schema(t, "b int64, u string")
	out := optest.Schema(t, "a int64, s string, b int64, u string")
	r := rand.New(rand.NewSource(5))
	gen := func(n int) [][]any {
		rows := make([][]any, n)
		for i := range rows {
			var v, s any = int64(r.Intn(20)), fmt.Sprint("w", r.Intn(3))
			if r.Intn(9) == 0 {
				v = nil
			}
			if r.Intn(9) == 0 {
				s = nil
			}
			rows[i] = []any{v, s}
		}
		return rows
	}
	lrows, rrows := gen(300), gen(250)
	wheres := []residualCase{
		{"", func(l, r []any) bool { return true }},
		{"a + b > 20 AND u <> s", func(l, r []any) bool {
			return l[0] != nil && r[0] != nil && l[0].(int64)+r[0].(int64) > 20 && l[1] != nil && r[1] != nil && l[1] != r[1]
		}},
		{"a < b", func(l, r []any) bool { return l[0] != nil && r[0] != nil && l[0].(int64) < r[0].(int64) }},
	}
	sides := []struct{ l, r [][]any }{{lrows, rrows}, {nil, rrows}, {lrows, nil}, {nil, nil}, {lrows[:5], rrows[:1]}}
	for _, w := range wheres {
		for _, sd := range sides {
			for _, typ := range []spec.JoinType{spec.InnerJoin, spec.LeftJoin, spec.SemiJoin, spec.AntiJoin} {
				rightOut, outSchema := []int{0, 1}, out
				if typ.LeftOnly() {
					rightOut, outSchema = nil, out[:2]
				}
				want := refJoinMatch(typ, sd.l, sd.r, w.pred, 2, rightOut, nil)
				mem := optest.Checked(t)
				got, _ := runJoin(t, mem, whereStep(t, typ, nil, nil, w.where), left, right, outSchema,
					chunkRecords(t, mem, left, sd.l, 100), chunkRecords(t, mem, right, sd.r, 60))
				if len(want) == 0 {
					want = nil
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%d x %d %s join where %q = %d rows, want %d; first diff at %d",
						len(sd.l), len(sd.r), typ, w.where, len(got), len(want), firstDiff(got, want))
				}
			}
		}
	}
	for _, typ := range []spec.JoinType{spec.RightJoin, spec.FullJoin} {
		if _, err := NewHashJoin(whereStep(t, typ, nil, nil, ""), left, right, out, &optest.Sink{}, memory.DefaultAllocator); err == nil {
			t.Errorf("keyless %s join: nil error", typ)
		}
	}
}

// TestHashJoinSpillResidual: the grace hash join applies the residual
// condition in each partition's join.
func TestHashJoinSpillResidual(t *testing.T) {
	left := optest.Schema(t, "id int64, name string, x float64")
	right := optest.Schema(t, "id int64, name string, seg string, y float64")
	out := optest.Schema(t, "id int64, name string, x float64, seg string, y float64")
	r := rand.New(rand.NewSource(13))
	lrows, rrows := spillJoinRows(r, 2400, 400, false), spillJoinRows(r, 1500, 400, true)
	for i, row := range rrows {
		if i%9 == 0 {
			row[3] = nil // y NULL: the condition is NULL, no match
		}
	}
	pred := func(l, r []any) bool {
		y, ok := f64(r[3])
		return ok && (l[2].(float64)*3 > y || y < 300)
	}
	for typ := spec.InnerJoin; typ <= spec.AntiJoin; typ++ {
		rightOut, outSchema := []int{2, 3}, out
		if typ.LeftOnly() {
			rightOut, outSchema = nil, out[:3]
		}
		// Keyed on (id, name): both are USING keys.
		match := func(l, r []any) bool { return keysMatch(l, r, []int{0, 1}, []int{0, 1}) && pred(l, r) }
		want := refJoinMatch(typ, lrows, rrows, match, 3, rightOut, map[int]int{0: 0, 1: 1})
		for _, budget := range []int64{0, 20 << 10} {
			name := fmt.Sprintf("%s join where, budget %d", typ, budget)
			step := whereStep(t, typ, []string{"id", "name"}, []string{"id", "name"}, "x * 3 > y OR y < 300")
			got, stats := runJoinBudget(t, step, left, right, outSchema, lrows, rrows, budget)
			checkSpilledRows(t, name, got, want, budget == 0)
			if (stats.Runs > 0) != (budget > 0) {
				t.Errorf("%s: spill stats %+v", name, stats)
			}
		}
	}
}

func TestHashJoinResidualErrors(t *testing.T) {
	left := optest.Schema(t, "k int64, v int64")
	right := optest.Schema(t, "k int64, v int64")
	out := optest.Schema(t, "k int64, v int64")
	for _, where := range []string{"v > 1", "w > 1", "k + 1"} {
		step := whereStep(t, spec.SemiJoin, []string{"k"}, []string{"k"}, where)
		if _, err := NewHashJoin(step, left, right, out, &optest.Sink{}, memory.DefaultAllocator); err == nil {
			t.Errorf("join where %s: nil error", where)
		}
	}
	// A condition that fails on a candidate pair is an error of the join.
	mem := optest.Checked(t)
	step := whereStep(t, spec.InnerJoin, []string{"k"}, []string{"k"}, "CAST(CAST(v AS string) || 'x' AS int64) > 0")
	wide := optest.Schema(t, "k int64, w int64")
	j, err := NewHashJoin(step, left, wide, optest.Schema(t, "k int64, v int64, w int64"), &optest.Sink{}, mem)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	build := optest.Record(t, mem, wide, [][]any{{int64(1), int64(2)}})
	defer build.Release()
	probe := optest.Record(t, mem, left, [][]any{{int64(1), int64(2)}, {int64(3), int64(4)}})
	defer probe.Release()
	if err := j.Build().Push(t.Context(), build); err != nil {
		t.Fatal(err)
	}
	if err := j.Build().Finish(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := j.Push(t.Context(), probe); err == nil {
		t.Errorf("failing condition: nil error")
	}
}
