package operators

import (
	"fmt"
	"math"
	"math/rand"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators/internal/optest"
)

// refCompare orders two values of one sort key: nulls first ascending and
// last descending; NaN above everything else.
func refCompare(a, b any, desc bool) int {
	if a == nil || b == nil {
		switch {
		case a == nil && b == nil:
			return 0
		case a == nil:
			return -1 * sign(!desc)
		default:
			return sign(!desc)
		}
	}
	c := 0
	switch a := a.(type) {
	case int64:
		c = cmpInt(a, b.(int64))
	case float64:
		x, y := a, b.(float64)
		switch {
		case math.IsNaN(x) && math.IsNaN(y):
		case math.IsNaN(x):
			c = 1
		case math.IsNaN(y):
			c = -1
		case x < y:
			c = -1
		case x > y:
			c = 1
		}
	case string:
		c = strings.Compare(a, b.(string))
	case bool:
		c = cmpInt(boolInt(a), boolInt(b.(bool)))
	}
	if desc {
		return -c
	}
	return c
}

// refCompareKey is refCompare with the key's placement of nulls.
func refCompareKey(a, b any, k spec.SortKey) int {
	if (a == nil) != (b == nil) {
		if (a == nil) == k.NullsBefore() {
			return -1
		}
		return 1
	}
	return refCompare(a, b, k.Desc)
}

func sign(pos bool) int {
	if pos {
		return 1
	}
	return -1
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func refSort(in spec.Schema, rows [][]any, keys []spec.SortKey) [][]any {
	out := slices.Clone(rows)
	slices.SortStableFunc(out, func(a, b []any) int {
		for _, k := range keys {
			i := in.Index(k.Column)
			if c := refCompareKey(a[i], b[i], k); c != 0 {
				return c
			}
		}
		return 0
	})
	return out
}

func runSort(t *testing.T, mem memory.Allocator, mode SortMode, in spec.Schema, keys []spec.SortKey, recs []arrow.Record) [][]any {
	t.Helper()
	sink := &optest.Sink{}
	defer sink.Release()
	s, err := NewSort(mode, in, keys, sink, mem)
	if err != nil {
		t.Fatal(err)
	}
	optest.Push(t, s, recs...)
	if sink.Finished != 1 {
		t.Errorf("downstream finished %d times", sink.Finished)
	}
	return sink.Rows()
}

// sameRows compares rows treating NaN as equal to NaN.
func sameRows(a, b [][]any) bool {
	norm := func(rows [][]any) string {
		return strings.ReplaceAll(fmt.Sprintf("%v", rows), "NaN", "nan")
	}
	return len(a) == len(b) && norm(a) == norm(b)
}

func TestSort(t *testing.T) {
	in := optest.Schema(t, "a int64, b string, c float64, d bool, seq int64")
	r := rand.New(rand.NewSource(3))
	strs := []string{"", "a", "ab", "ab\x00", "abcdefg", "abcdefgh", "abcdefgA", "abcdefgAA", "abcdefgZ", "zz", "b"}
	floats := []float64{math.Inf(-1), -1.5, math.Copysign(0, -1), 0, 2.25, math.Inf(1), math.NaN(), math.MaxFloat64}
	var rows [][]any
	for i := 0; i < 2500; i++ {
		row := []any{
			int64(r.Intn(7) - 3), strs[r.Intn(len(strs))], floats[r.Intn(len(floats))], r.Intn(2) == 0, int64(i),
		}
		for c := 0; c < 4; c++ {
			if r.Intn(8) == 0 {
				row[c] = nil
			}
		}
		if i%50 == 0 {
			row[0] = int64(math.MinInt64 + i%2) // collides with the null word ascending
		}
		rows = append(rows, row)
	}
	tests := [][]spec.SortKey{
		{{Column: "a"}},
		{{Column: "a", Desc: true}},
		{{Column: "b"}},
		{{Column: "b", Desc: true}, {Column: "a"}},
		{{Column: "c"}, {Column: "d", Desc: true}},
		{{Column: "d"}, {Column: "c", Desc: true}, {Column: "b"}},
		{{Column: "a"}, {Column: "b"}, {Column: "c"}, {Column: "d"}},
		{{Column: "seq", Desc: true}},
		{{Column: "a", Nulls: spec.NullsLast}},
		{{Column: "a", Desc: true, Nulls: spec.NullsFirst}},
		{{Column: "b", Nulls: spec.NullsLast}, {Column: "c", Desc: true, Nulls: spec.NullsFirst}},
		{{Column: "d", Desc: true, Nulls: spec.NullsLast}, {Column: "a", Nulls: spec.NullsFirst}, {Column: "b", Desc: true, Nulls: spec.NullsLast}},
	}
	for _, keys := range tests {
		want := refSort(in, rows, keys)
		for _, mode := range []SortMode{SortPartial, SortFinal} {
			mem := optest.Checked(t)
			got := runSort(t, mem, mode, in, keys, chunkRecords(t, mem, in, rows, 333))
			if !sameRows(got, want) {
				t.Errorf("sort(%+v) =\n%s, want\n%s", keys, optest.Format(got), optest.Format(want))
			}
		}
	}
}

func TestSortLarge(t *testing.T) {
	// More rows than one output batch; two int keys like W4 (user_id, ts).
	in := optest.Schema(t, "user_id int64, ts int64")
	r := rand.New(rand.NewSource(5))
	n := BatchRows + 777
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = []any{int64(r.Intn(300)), int64(r.Intn(1 << 40))}
	}
	keys := []spec.SortKey{{Column: "user_id"}, {Column: "ts"}}
	mem := optest.Checked(t)
	got := runSort(t, mem, SortPartial, in, keys, chunkRecords(t, mem, in, rows, 10000))
	if want := refSort(in, rows, keys); !reflect.DeepEqual(got, want) {
		t.Errorf("sort(%d rows) differs from the reference", n)
	}
}

func TestSortEmptyAndErrors(t *testing.T) {
	in := optest.Schema(t, "a int64")
	mem := optest.Checked(t)
	if got := runSort(t, mem, SortPartial, in, []spec.SortKey{{Column: "a"}}, nil); len(got) != 0 {
		t.Errorf("sort(nothing) = %v", got)
	}
	if _, err := NewSort(SortPartial, in, []spec.SortKey{{Column: "x"}}, &optest.Sink{}, mem); err == nil {
		t.Errorf("NewSort(unknown key) = nil error")
	}
}
