package operators

import (
	"context"
	"fmt"
	"math/rand"
	"reflect"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators/internal/optest"
)

// refJoin is the nested-loop reference: for each left row in order, every
// matching right row in order (semi: the left row once if any, anti: the
// left row if none); null keys never match. Right and full joins then add
// the unmatched right rows in order, left columns null except the USING
// keys (using maps a left column to its right key column).
func refJoin(typ spec.JoinType, left, right [][]any, lk, rk []int, rightOut []int, using map[int]int) [][]any {
	var out [][]any
	hit := make([]bool, len(right))
	for _, l := range left {
		matched := false
		for ri, r := range right {
			if !keysMatch(l, r, lk, rk) {
				continue
			}
			matched, hit[ri] = true, true
			if typ.LeftOnly() {
				continue
			}
			row := append([]any{}, l...)
			for _, c := range rightOut {
				row = append(row, r[c])
			}
			out = append(out, row)
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
			row := make([]any, len(left[0]))
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

func keysMatch(l, r []any, lk, rk []int) bool {
	for i := range lk {
		a, b := l[lk[i]], r[rk[i]]
		if a == nil || b == nil || a != b {
			return false
		}
	}
	return true
}

func runJoin(t *testing.T, mem memory.Allocator, step *spec.JoinStep, left, right, out spec.Schema, probe, build []arrow.Record) ([][]any, *HashJoin) {
	t.Helper()
	sink := &optest.Sink{}
	defer sink.Release()
	j, err := NewHashJoin(step, left, right, out, sink, mem)
	if err != nil {
		t.Fatal(err)
	}
	optest.Push(t, j.Build(), build...)
	optest.Push(t, j, probe...)
	if sink.Finished != 1 {
		t.Errorf("downstream finished %d times", sink.Finished)
	}
	for _, r := range sink.Recs {
		if r.NumRows() > BatchRows {
			t.Errorf("output batch of %d rows", r.NumRows())
		}
	}
	return sink.Rows(), j
}

func TestHashJoin(t *testing.T) {
	left := optest.Schema(t, "id int64, name string, x float64")
	right := optest.Schema(t, "id int64, name string, seg string, y float64")
	r := rand.New(rand.NewSource(7))
	gen := func(n, keys int, right bool) [][]any {
		rows := make([][]any, n)
		for i := range rows {
			var id, name any = int64(r.Intn(keys)), fmt.Sprint("n", r.Intn(3))
			if r.Intn(10) == 0 {
				id = nil
			}
			if r.Intn(10) == 0 {
				name = nil
			}
			if right {
				rows[i] = []any{id, name, fmt.Sprint("s", i), float64(i)}
			} else {
				rows[i] = []any{id, name, float64(i) / 2}
			}
		}
		return rows
	}
	lrows, rrows := gen(500, 60, false), gen(200, 40, true)
	tests := []struct {
		name     string
		lk, rk   []string
		rightOut []int
		out      string
	}{
		{"int key", []string{"id"}, []string{"id"}, []int{1, 2, 3}, "id int64, name string, x float64, name2 string, seg string, y float64"},
		{"string key", []string{"name"}, []string{"name"}, []int{0, 2, 3}, "id int64, name string, x float64, id2 int64, seg string, y float64"},
		{"two keys", []string{"id", "name"}, []string{"id", "name"}, []int{2, 3}, "id int64, name string, x float64, seg string, y float64"},
		{"renamed key", []string{"id"}, []string{"seg"}, []int{0, 1, 2, 3}, ""},
	}
	for _, tc := range tests {
		for typ := spec.InnerJoin; typ <= spec.AntiJoin; typ++ {
			step := &spec.JoinStep{Type: typ, LeftKeys: tc.lk, RightKeys: tc.rk}
			if tc.out == "" {
				if _, err := NewHashJoin(step, left, right, nil, &optest.Sink{}, memory.DefaultAllocator); err == nil {
					t.Errorf("%s: NewHashJoin(int64 = string key) = nil error", tc.name)
				}
				continue
			}
			var lk, rk []int
			using := map[int]int{}
			for i := range tc.lk {
				lk, rk = append(lk, left.Index(tc.lk[i])), append(rk, right.Index(tc.rk[i]))
				if tc.lk[i] == tc.rk[i] {
					using[lk[i]] = rk[i]
				}
			}
			rightOut, outSchema := tc.rightOut, optest.Schema(t, tc.out)
			if typ.LeftOnly() {
				rightOut, outSchema = nil, outSchema[:len(left)]
			}
			want := refJoin(typ, lrows, rrows, lk, rk, rightOut, using)
			mem := optest.Checked(t)
			got, j := runJoin(t, mem, step, left, right, outSchema,
				chunkRecords(t, mem, left, lrows, 128), chunkRecords(t, mem, right, rrows, 64))
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s %s join = %d rows\n%s, want %d rows\n%s", tc.name, typ, len(got), optest.Format(got), len(want), optest.Format(want))
			}
			if s := j.Stats(); s.RowsIn != 700 || s.RowsOut != int64(len(want)) {
				t.Errorf("%s %s join: stats %+v, want in 700 out %d", tc.name, typ, s, len(want))
			}
		}
	}
}

func TestHashJoinFanOut(t *testing.T) {
	// One probe row matching BatchRows+10 build rows spans two output
	// batches.
	s := optest.Schema(t, "k int64, v int64")
	out := optest.Schema(t, "k int64, v int64, v2 int64")
	var build [][]any
	for i := 0; i < BatchRows+10; i++ {
		build = append(build, []any{int64(1), int64(i)})
	}
	mem := optest.Checked(t)
	step := &spec.JoinStep{LeftKeys: []string{"k"}, RightKeys: []string{"k"}}
	got, _ := runJoin(t, mem, step, s, s, out,
		[]arrow.Record{optest.Record(t, mem, s, [][]any{{int64(2), int64(0)}, {int64(1), int64(-1)}})},
		chunkRecords(t, mem, s, build, 5000))
	if len(got) != BatchRows+10 {
		t.Fatalf("fan-out join = %d rows, want %d", len(got), BatchRows+10)
	}
	for i, row := range got {
		if row[2] != int64(i) {
			t.Fatalf("row %d = %v, want build order", i, row)
		}
	}
}

func TestHashJoinEmptyBuild(t *testing.T) {
	s := optest.Schema(t, "k string")
	out := optest.Schema(t, "k string")
	for _, typ := range []spec.JoinType{spec.InnerJoin, spec.LeftJoin} {
		mem := optest.Checked(t)
		step := &spec.JoinStep{Type: typ, LeftKeys: []string{"k"}, RightKeys: []string{"k"}}
		got, _ := runJoin(t, mem, step, s, s, out, []arrow.Record{optest.Record(t, mem, s, [][]any{{"a"}, {nil}})}, nil)
		want := [][]any(nil)
		if typ == spec.LeftJoin {
			want = [][]any{{"a"}, {nil}}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s join with empty build = %v, want %v", typ, got, want)
		}
	}
}

func TestHashJoinOrderErrors(t *testing.T) {
	s := optest.Schema(t, "k int64")
	mem := optest.Checked(t)
	j, err := NewHashJoin(&spec.JoinStep{LeftKeys: []string{"k"}, RightKeys: []string{"k"}}, s, s, s, &optest.Sink{}, mem)
	if err != nil {
		t.Fatal(err)
	}
	rec := optest.Record(t, mem, s, [][]any{{int64(1)}})
	defer rec.Release()
	ctx := context.Background()
	if err := j.Push(ctx, rec); err == nil {
		t.Errorf("probe before build: nil error")
	}
	if err := j.Build().Push(ctx, rec); err != nil {
		t.Fatal(err)
	}
	j.Close() // abandon: releases the build batch
}

func TestHashJoinForeignKey(t *testing.T) {
	// Every probe row matches exactly one build row: the probe columns pass
	// through unchanged (no gather), the build columns are gathered.
	left := optest.Schema(t, "user_id int64, amount float64")
	right := optest.Schema(t, "user_id int64, segment string")
	out := optest.Schema(t, "user_id int64, amount float64, segment string")
	mem := optest.Checked(t)
	var lrows, rrows [][]any
	for u := 0; u < 50; u++ {
		rrows = append(rrows, []any{int64(u), fmt.Sprint("seg", u%4)})
	}
	for i := 0; i < 300; i++ {
		lrows = append(lrows, []any{int64((i * 7) % 50), float64(i)})
	}
	for _, typ := range []spec.JoinType{spec.InnerJoin, spec.LeftJoin} {
		step := &spec.JoinStep{Type: typ, LeftKeys: []string{"user_id"}, RightKeys: []string{"user_id"}}
		got, _ := runJoin(t, mem, step, left, right, out, chunkRecords(t, mem, left, lrows, 100), chunkRecords(t, mem, right, rrows, 20))
		if want := refJoin(typ, lrows, rrows, []int{0}, []int{0}, []int{1}, nil); !reflect.DeepEqual(got, want) {
			t.Errorf("%s foreign-key join = %v, want %v", typ, got, want)
		}
	}
}
