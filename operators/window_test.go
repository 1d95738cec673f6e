package operators

import (
	"context"
	"fmt"
	"math"
	"math/rand"
	"slices"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators/internal/optest"
)

// The reference: plain Go over rows of Go values. Sort the rows as the
// operator emits them (refSort), then compute each function for each row
// by scanning its partition and its frame afresh.

// refWindow computes w over rows.
func refWindow(in spec.Schema, w *spec.WindowStep, rows [][]any) [][]any {
	var keys []spec.SortKey
	for _, k := range w.PartitionBy {
		keys = append(keys, spec.SortKey{Column: k})
	}
	keys = append(keys, w.OrderBy...)
	sorted := refSort(in, rows, keys)
	same := func(a, b int, keys []spec.SortKey) bool {
		for _, k := range keys {
			c := in.Index(k.Column)
			if refCompareKey(sorted[a][c], sorted[b][c], k) != 0 {
				return false
			}
		}
		return true
	}
	out := make([][]any, len(sorted))
	for ps := 0; ps < len(sorted); {
		pe := ps + 1
		for pe < len(sorted) && same(ps, pe, keys[:len(w.PartitionBy)]) {
			pe++
		}
		p := refPartition{in: in, rows: sorted, ps: ps, pe: pe,
			peer: func(a, b int) bool { return same(a, b, w.OrderBy) }}
		for i := ps; i < pe; i++ {
			out[i] = slices.Clone(sorted[i])
			for _, f := range w.Funcs {
				out[i] = append(out[i], p.value(f, i))
			}
		}
		ps = pe
	}
	return out
}

// refPartition is one partition [ps, pe) of the sorted rows.
type refPartition struct {
	in     spec.Schema
	rows   [][]any
	ps, pe int
	peer   func(a, b int) bool
}

func (p *refPartition) value(f spec.WindowFunc, i int) any {
	a := p.in.Index(f.Arg)
	switch f.Func {
	case spec.WinRowNumber:
		return int64(i - p.ps + 1)
	case spec.WinRank:
		r := int64(1)
		for j := p.ps; j < i && !p.peer(j, i); j++ {
			r++
		}
		return r
	case spec.WinDenseRank:
		r := int64(1)
		for j := p.ps + 1; j <= i; j++ {
			if !p.peer(j-1, j) {
				r++
			}
		}
		return r
	case spec.WinLag, spec.WinLead:
		j := i - int(f.Offset)
		if f.Func == spec.WinLead {
			j = i + int(f.Offset)
		}
		if j >= p.ps && j < p.pe {
			return p.rows[j][a]
		}
		return refLiteral(f.Default, p.in[a].Type)
	}
	lo, hi := p.frame(f.Frame.Effective(), i)
	return p.aggregate(f, a, lo, hi)
}

// frame returns row i's frame [lo, hi).
func (p *refPartition) frame(f spec.WindowFrame, i int) (int, int) {
	clamp := func(x int) int { return min(max(x, p.ps), p.pe) }
	lo, hi := p.ps, p.pe
	if f.Unit == spec.FrameRange {
		if f.Start.Kind == spec.BoundCurrentRow {
			for lo = i; lo > p.ps && p.peer(lo-1, i); lo-- {
			}
		}
		if f.End.Kind == spec.BoundCurrentRow {
			for hi = i + 1; hi < p.pe && p.peer(hi, i); hi++ {
			}
		}
		return lo, hi
	}
	n0, n1 := int(f.Start.N), int(f.End.N)
	switch f.Start.Kind {
	case spec.BoundPreceding:
		lo = clamp(i - n0)
	case spec.BoundCurrentRow:
		lo = i
	case spec.BoundFollowing:
		lo = clamp(i + n0)
	}
	switch f.End.Kind {
	case spec.BoundPreceding:
		hi = clamp(i - n1 + 1)
	case spec.BoundCurrentRow:
		hi = i + 1
	case spec.BoundFollowing:
		hi = clamp(i + n1 + 1)
	}
	return lo, max(hi, lo)
}

func (p *refPartition) aggregate(f spec.WindowFunc, a, lo, hi int) any {
	switch {
	case f.Func == spec.WinFirstValue && lo < hi:
		return p.rows[lo][a]
	case f.Func == spec.WinLastValue && lo < hi:
		return p.rows[hi-1][a]
	case f.Func == spec.WinCount && a < 0:
		return int64(hi - lo)
	}
	var vals []any
	for j := lo; j < hi; j++ {
		if a >= 0 && p.rows[j][a] != nil {
			vals = append(vals, p.rows[j][a])
		}
	}
	switch f.Func {
	case spec.WinCount:
		return int64(len(vals))
	case spec.WinMin, spec.WinMax:
		return refExtreme(vals, f.Func == spec.WinMax)
	case spec.WinSum, spec.WinAvg:
		return refSum(vals, f.Func == spec.WinAvg, p.in[a].Type)
	}
	return nil // first_value, last_value of an empty frame
}

// refExtreme is the first least (greatest) value in sort order.
func refExtreme(vals []any, isMax bool) any {
	var best any
	for _, v := range vals {
		if best == nil || refCompare(v, best, isMax) < 0 {
			best = v
		}
	}
	return best
}

// refSum sums in row order (int64 and decimals as int64: the test's
// values cannot overflow).
func refSum(vals []any, avg bool, t spec.Type) any {
	if len(vals) == 0 {
		return nil
	}
	if t == spec.Float64 {
		var s float64
		for _, v := range vals {
			s += v.(float64)
		}
		if avg {
			return s / float64(len(vals))
		}
		return s
	}
	var s int64
	for _, v := range vals {
		s += v.(int64)
	}
	if !avg {
		return s
	}
	scale := 1.0
	if t.IsDecimal() {
		scale = math.Pow10(t.Scale())
	}
	return float64(s) / (float64(len(vals)) * scale)
}

// refLiteral is a default as a Go value of the column's type t.
func refLiteral(l *spec.Literal, t spec.Type) any {
	if l == nil {
		return nil
	}
	v, _ := spec.LiteralAs(l, t)
	switch t.Physical() {
	case spec.Float64:
		return v.Float
	case spec.String:
		return v.Str
	case spec.Bool:
		return v.Bool
	}
	return v.Int
}

const windowTestSchema = "k int64, s string, o int64, f float64, d decimal(9,2), b bool, seq int64"

// windowTestRows: few distinct keys (partitions, ties, peers), NULLs in
// every column but seq, floats that sum exactly in any order plus ±Inf
// and NaN now and then.
func windowTestRows(r *rand.Rand, n int) [][]any {
	strs := []string{"", "a", "b", "ab", "abcdefgh", "abcdefgA", "zz"}
	floats := []float64{-1.5, -0.25, math.Copysign(0, -1), 0, 0.75, 2, 3.5, 12.25}
	specials := []float64{math.Inf(1), math.Inf(-1), math.NaN()}
	rows := make([][]any, n)
	for i := range rows {
		f := floats[r.Intn(len(floats))]
		if r.Intn(40) == 0 {
			f = specials[r.Intn(len(specials))]
		}
		rows[i] = []any{int64(r.Intn(6)), strs[r.Intn(len(strs))], int64(r.Intn(7) - 2), f,
			int64(r.Intn(1001) - 500), r.Intn(2) == 0, int64(i)}
		for c := 0; c < 6; c++ {
			if r.Intn(8) == 0 {
				rows[i][c] = nil
			}
		}
	}
	return rows
}

// windowTestFuncs covers every function and frame shape; each gets the
// alias wN.
var windowTestFuncs = []string{
	"row_number()", "rank()", "dense_rank()",
	"lag(d)", "lead(s, 2)", "lag(f, 0)", "lead(d, 1, 7)", "lag(s, 3, 'zz')", "lead(b, 1, TRUE)", "lag(o, 5, -1)",
	"first_value(s)", "last_value(f)", "first_value(d) ROWS BETWEEN 1 FOLLOWING AND 3 FOLLOWING",
	"last_value(s) ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING",
	"count(*)", "count(f) ROWS BETWEEN 2 PRECEDING AND 1 FOLLOWING", "count(s) RANGE BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING",
	"count(*) RANGE BETWEEN CURRENT ROW AND CURRENT ROW",
	"sum(o)", "sum(f)", "sum(d) RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING",
	"sum(f) ROWS BETWEEN 3 PRECEDING AND 1 PRECEDING", "sum(o) ROWS BETWEEN 2 PRECEDING AND 5 PRECEDING",
	"sum(d) ROWS BETWEEN 1 PRECEDING AND 2 FOLLOWING",
	"avg(d)", "avg(o) ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING", "avg(f) ROWS 2 PRECEDING",
	"min(s)", "max(s) ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING", "min(f) ROWS BETWEEN 3 PRECEDING AND CURRENT ROW",
	"max(f)", "min(d) RANGE BETWEEN CURRENT ROW AND CURRENT ROW", "max(b) ROWS UNBOUNDED PRECEDING",
	"min(o) ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING", "max(o) ROWS BETWEEN 2 FOLLOWING AND UNBOUNDED FOLLOWING",
	"min(b) ROWS BETWEEN 1 FOLLOWING AND 1 FOLLOWING",
	"sum(f) ROWS BETWEEN 70 PRECEDING AND 5 FOLLOWING", "avg(f) RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING",
	"min(s) ROWS BETWEEN 100 PRECEDING AND 100 FOLLOWING",
}

// windowStep parses a window step for the tests, with the funcs aliased
// w0, w1, ...
func windowStep(t testing.TB, by, order []string, funcs ...string) *spec.WindowStep {
	t.Helper()
	w := &spec.WindowStep{PartitionBy: by}
	for _, o := range order {
		k, err := spec.ParseSortKey(o)
		if err != nil {
			t.Fatal(err)
		}
		w.OrderBy = append(w.OrderBy, k)
	}
	for i, src := range funcs {
		f, err := spec.ParseWindowFunc(src)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		f.Alias = fmt.Sprintf("w%d", i)
		w.Funcs = append(w.Funcs, f)
	}
	return w
}

// runWindow runs w over recs (pushed in order, released) with the sort
// emitting batches of batchRows rows and the budget b.
func runWindow(t testing.TB, mem memory.Allocator, in spec.Schema, w *spec.WindowStep, recs []arrow.Record, batchRows int, b Budget) ([][]any, Stats) {
	t.Helper()
	out, err := spec.OutputSchema(&spec.Step{ID: "w", Kind: spec.KindWindow, Window: w}, []spec.Schema{in})
	if err != nil {
		t.Fatal(err)
	}
	sink := &optest.Sink{}
	defer sink.Release()
	op, err := NewWindow(in, w, out, sink, mem)
	if err != nil {
		t.Fatal(err)
	}
	op.SetBudget(b)
	if op.sort != nil {
		op.sort.ext.batchRows = batchRows
	}
	optest.Push(t, op, recs...)
	if sink.Finished != 1 {
		t.Errorf("downstream finished %d times", sink.Finished)
	}
	for _, rec := range sink.Recs {
		if err := CheckSchema("test", rec, out); err != nil {
			t.Fatal(err)
		}
	}
	return sink.Rows(), op.Stats()
}

// checkWindowRows compares got with want row by row (NaN equals NaN).
func checkWindowRows(t *testing.T, got, want [][]any, w *spec.WindowStep, ncols int) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d", len(got), len(want))
	}
	for i := range want {
		if !sameRows(got[i:i+1], want[i:i+1]) {
			for c := range want[i] {
				if !sameRows([][]any{{got[i][c]}}, [][]any{{want[i][c]}}) {
					what := "input column"
					if c >= ncols {
						what = w.Funcs[c-ncols].String()
					}
					t.Fatalf("row %d column %d (%s) = %v, want %v\n got row %v\nwant row %v", i, c, what, got[i][c], want[i][c], got[i], want[i])
				}
			}
		}
	}
}

func TestWindowAgainstReference(t *testing.T) {
	in := optest.Schema(t, windowTestSchema)
	for _, tc := range []struct {
		by, order []string
		rows      int
	}{
		{[]string{"k"}, []string{"o"}, 2000},
		{[]string{"k", "s"}, []string{"o DESC NULLS FIRST", "f"}, 2000},
		{nil, []string{"o", "seq"}, 500},
		{[]string{"b"}, nil, 1000},
		{nil, nil, 500}, // no keys: one partition in input order, no sort
		{[]string{"s"}, []string{"f NULLS LAST", "b DESC"}, 1500},
		{[]string{"f"}, []string{"s DESC NULLS LAST"}, 1500}, // float partition keys: -0 = 0, NaN = NaN
	} {
		for seed := int64(1); seed <= 3; seed++ {
			t.Run(fmt.Sprintf("by=%v/order=%v/seed=%d", tc.by, tc.order, seed), func(t *testing.T) {
				r := rand.New(rand.NewSource(seed))
				mem := optest.Checked(t)
				rows := windowTestRows(r, tc.rows)
				w := windowStep(t, tc.by, tc.order, windowTestFuncs...)
				want := refWindow(in, w, rows)
				got, st := runWindow(t, mem, in, w, randomChunks(t, r, mem, in, rows, 40), 1+r.Intn(30), Budget{})
				checkWindowRows(t, got, want, w, len(in))
				if st.RowsIn != int64(len(rows)) || st.RowsOut != int64(len(rows)) {
					t.Errorf("stats = %+v, want %d rows in and out", st, len(rows))
				}
			})
		}
	}
}

// TestWindowSpills runs windows whose sort spills under a tiny budget:
// the same answer as unbounded, and the spill runs are all discarded.
func TestWindowSpills(t *testing.T) {
	in := optest.Schema(t, windowTestSchema)
	r := rand.New(rand.NewSource(7))
	rows := windowTestRows(r, 3000)
	for _, order := range [][]string{{"o", "seq"}, {"f DESC", "s"}} {
		t.Run(fmt.Sprint(order), func(t *testing.T) {
			mem := optest.Checked(t)
			w := windowStep(t, []string{"k"}, order, windowTestFuncs...)
			want := refWindow(in, w, rows)
			sp := &sortTestSpiller{}
			var stats SpillStats
			got, _ := runWindow(t, mem, in, w, randomChunks(t, r, mem, in, rows, 100), 50, Budget{Bytes: 8 << 10, Spill: sp, Stats: &stats})
			checkWindowRows(t, got, want, w, len(in))
			if stats.Runs < 3 || stats.Rows < int64(len(rows)) {
				t.Errorf("spill stats = %+v, want several runs of every row", stats)
			}
			if sp.live != 0 {
				t.Errorf("%d of %d spill runs not discarded", sp.live, sp.runs)
			}
		})
	}
}

// TestWindowDecimalSums: sums of decimals are exact (a thousand 0.10s make
// 100.00, where float64 would not), a frame's sum overflows only when it
// does itself, and an overflow is a data error.
func TestWindowDecimalSums(t *testing.T) {
	in := optest.Schema(t, "k int64, d decimal(4,2), x int64, seq int64")
	mem := optest.Checked(t)
	var rows [][]any
	for i := 0; i < 1000; i++ {
		rows = append(rows, []any{int64(i % 2), int64(10), int64(math.MaxInt64 - 1), int64(i)})
	}
	w := windowStep(t, nil, []string{"seq"}, "sum(d)", "avg(d)", "sum(x) ROWS CURRENT ROW",
		"sum(d) ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING")
	got, _ := runWindow(t, mem, in, w, randomChunks(t, rand.New(rand.NewSource(1)), mem, in, rows, 64), 7, Budget{})
	last := got[len(got)-1]
	if last[4] != int64(10000) || last[5] != 0.1 || last[6] != int64(math.MaxInt64-1) || last[7] != int64(20) {
		t.Errorf("last row = %v, want sum 100.00 (10000), avg 0.1, sum(x) of one row, 0.20 (20) for its two-row frame", last)
	}
	if first := got[0]; first[4] != int64(10) || first[7] != int64(20) {
		t.Errorf("first row = %v, want running sum 0.10 (10) and frame sum 0.20 (20)", first)
	}
	for _, bad := range []string{"sum(x)", "sum(x) ROWS BETWEEN CURRENT ROW AND 1 FOLLOWING"} {
		w := windowStep(t, []string{"k"}, nil, bad)
		out, _ := spec.OutputSchema(&spec.Step{ID: "w", Kind: spec.KindWindow, Window: w}, []spec.Schema{in})
		op, err := NewWindow(in, w, out, &optest.Sink{}, mem)
		if err != nil {
			t.Fatal(err)
		}
		rec := optest.Record(t, mem, in, rows[:4])
		err = op.Push(context.Background(), rec)
		rec.Release()
		if err == nil {
			err = op.Finish(context.Background())
		}
		op.Close()
		if !IsDataError(err) || err.Error() != "operators: sum(x) overflows int64" {
			t.Errorf("%s over two int64 near the maximum: error %v, want the data error \"operators: sum(x) overflows int64\"", bad, err)
		}
	}
}

// TestWindowLagLeadDefaults: lag and lead take the default only past the
// partition's edges; a NULL value inside the partition stays NULL.
func TestWindowLagLeadDefaults(t *testing.T) {
	in := optest.Schema(t, "k string, o int64, v float64, p decimal(5,2)")
	mem := optest.Checked(t)
	rows := [][]any{
		{"a", int64(1), 1.5, int64(100)}, {"a", int64(2), nil, nil}, {"a", int64(3), 3.5, int64(300)},
		{"b", int64(1), 4.5, int64(400)}, {nil, int64(7), 5.5, int64(500)}, {nil, int64(8), nil, int64(600)},
	}
	w := windowStep(t, []string{"k"}, []string{"o"}, "lag(v, 1, 0)", "lead(v, 1, -1)", "lag(p, 2, CAST('9.99' AS decimal(3,2)))",
		"lead(p)", "lag(v, 0)", "lead(v, 9, 42)")
	got, _ := runWindow(t, mem, in, w, []arrow.Record{optest.Record(t, mem, in, rows)}, 2, Budget{})
	want := [][]any{ // NULL keys sort first
		{nil, int64(7), 5.5, int64(500), 0.0, nil, int64(999), int64(600), 5.5, 42.0},
		{nil, int64(8), nil, int64(600), 5.5, -1.0, int64(999), nil, nil, 42.0},
		{"a", int64(1), 1.5, int64(100), 0.0, nil, int64(999), nil, 1.5, 42.0},
		{"a", int64(2), nil, nil, 1.5, 3.5, int64(999), int64(300), nil, 42.0},
		{"a", int64(3), 3.5, int64(300), nil, -1.0, int64(100), nil, 3.5, 42.0},
		{"b", int64(1), 4.5, int64(400), 0.0, -1.0, int64(999), nil, 4.5, 42.0},
	}
	if !sameRows(got, want) {
		t.Errorf("lag/lead =\n%swant\n%s", optest.Format(got), optest.Format(want))
	}
}

// TestWindowSlicedInput feeds batches that are slices of larger records
// (non-zero offsets) to a window without keys, which does not sort them.
func TestWindowSlicedInput(t *testing.T) {
	mem := optest.Checked(t)
	in := optest.Schema(t, optest.SlicedSchema)
	w := windowStep(t, nil, nil, "sum(i) ROWS 1 PRECEDING", "max(s)", "lag(b)", "count(f)")
	rows := optest.SlicedRows[1:7]
	got, _ := runWindow(t, mem, in, w, []arrow.Record{optest.Sliced(t, mem)}, 0, Budget{})
	checkWindowRows(t, got, refWindow(in, w, rows), w, len(in))
}

// TestWindowFloatSums: a float sum over a frame of up to 64 rows, or a
// running one, is the sum of its rows in order, to the last bit; a wider
// sliding frame subtracts and stays within rounding of it.
func TestWindowFloatSums(t *testing.T) {
	in := optest.Schema(t, "v float64, seq int64")
	mem := optest.Checked(t)
	r := rand.New(rand.NewSource(3))
	var rows [][]any
	for i := 0; i < 3000; i++ {
		rows = append(rows, []any{float64(r.Intn(2000)) / 10 * math.Pow(10, float64(r.Intn(7)-3)), int64(i)})
	}
	w := windowStep(t, nil, []string{"seq"}, "sum(v) ROWS CURRENT ROW", "sum(v)", "sum(v) ROWS BETWEEN 50 PRECEDING AND 13 FOLLOWING",
		"avg(v) ROWS BETWEEN 300 PRECEDING AND 100 FOLLOWING")
	got, _ := runWindow(t, mem, in, w, randomChunks(t, r, mem, in, rows, 500), 200, Budget{})
	want := refWindow(in, w, rows)
	for i := range want {
		for c := 2; c < 5; c++ {
			if got[i][c] != want[i][c] {
				t.Fatalf("row %d: %s = %v, want %v exactly", i, w.Funcs[c-2], got[i][c], want[i][c])
			}
		}
		if g, w := got[i][5].(float64), want[i][5].(float64); math.Abs(g-w) > 1e-9*math.Abs(w) {
			t.Fatalf("row %d: wide sliding avg = %v, want %v within rounding", i, g, w)
		}
	}
}
