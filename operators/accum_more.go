package operators

import (
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators/arrowx"
)

// countDistinctAcc is count_distinct(col): one hash table of (group,
// value) pairs for all groups; a pair seen for the first time adds one to
// its group. Null values are skipped. It has no partial state: sets do
// not fit a column, so the plan runs count_distinct in one stage (the
// rows are hash-partitioned on the group keys, then aggregated whole).
type countDistinctAcc struct {
	pairs *groupTable
	cnt   []int64
	g64   []int64
	views [2]arrowx.ColView
	keys  batchKeys
	pids  []int32
}

func newCountDistinctAcc(argType spec.Type) (*countDistinctAcc, error) {
	codec, err := newKeyCodec([]spec.Type{spec.Int64, argType})
	if err != nil {
		return nil, err
	}
	return &countDistinctAcc{pairs: newGroupTable(codec, false)}, nil
}

func (a *countDistinctAcc) resize(n int) { a.cnt = extendZero(a.cnt, n) }

func (a *countDistinctAcc) bytes() int64 { return sliceBytes(a.cnt, 8) + a.pairs.bytes() }

func (a *countDistinctAcc) consume(gids []int32, v *arrowx.ColView) error {
	n := len(gids)
	a.g64 = sizedSlice(a.g64, n)
	for i, g := range gids {
		a.g64[i] = int64(g)
	}
	a.views[0] = arrowx.ColView{Typ: spec.Int64, N: n, I64: a.g64}
	a.views[1] = *v
	if err := a.pairs.codec.prepare(a.views[:], n, &a.keys); err != nil {
		return err
	}
	a.pids = sizedSlice(a.pids, n)
	next := int32(a.pairs.len())
	a.pairs.insert(&a.keys, a.pids)
	for i, p := range a.pids {
		if p == next { // a new (group, value) pair; null values get -1
			a.cnt[gids[i]]++
			next++
		}
	}
	return nil
}

func (a *countDistinctAcc) merge([]int32, []arrowx.ColView) error {
	return fmt.Errorf("operators: count_distinct has no partial state to merge")
}

func (a *countDistinctAcc) state(from, to int, mem memory.Allocator) []arrow.Array {
	return []arrow.Array{a.final(from, to, mem)}
}

func (a *countDistinctAcc) final(from, to int, mem memory.Allocator) arrow.Array {
	return fixedArray(spec.Int64, a.cnt[from:to], nil, mem)
}

// firstAcc is first(col) (the first row's value, null included) or, with
// skipNulls, any_value(col) (the first non-null value). A group's value is
// stored once, when it is set; the per-row work is one check of set[g].
// Its partial state is the value itself: a partial group always saw a row,
// so merging takes the first state received, as consuming takes the first
// row.
type firstAcc struct {
	typ       spec.Type
	skipNulls bool
	set       []bool // the group's value is decided
	has       []bool // the decided value is not null
	i64       []int64
	f64       []float64
	b         []bool
	s         []string
	strBytes  int64 // bytes of the strings in s
}

func (a *firstAcc) resize(n int) {
	a.set, a.has = extendZero(a.set, n), extendZero(a.has, n)
	switch a.typ {
	case spec.Int64:
		a.i64 = extendZero(a.i64, n)
	case spec.Float64:
		a.f64 = extendZero(a.f64, n)
	case spec.Bool:
		a.b = extendZero(a.b, n)
	default:
		a.s = extendZero(a.s, n)
	}
}

func (a *firstAcc) bytes() int64 {
	return sliceBytes(a.set, 1) + sliceBytes(a.has, 1) + sliceBytes(a.i64, 8) + sliceBytes(a.f64, 8) +
		sliceBytes(a.b, 1) + sliceBytes(a.s, 16) + a.strBytes
}

func (a *firstAcc) consume(gids []int32, v *arrowx.ColView) error {
	set := a.set
	for i, g := range gids {
		if set[g] {
			continue
		}
		null := v.Nulls > 0 && v.IsNull(i)
		if null && a.skipNulls {
			continue
		}
		set[g] = true
		if !null {
			a.take(g, v, i)
		}
	}
	return nil
}

// take stores row i of v as group g's value.
func (a *firstAcc) take(g int32, v *arrowx.ColView, i int) {
	a.has[g] = true
	switch a.typ {
	case spec.Int64:
		a.i64[g] = v.I64[i]
	case spec.Float64:
		a.f64[g] = v.F64[i]
	case spec.Bool:
		a.b[g] = v.BoolAt(i)
	default:
		a.s[g] = string(v.Str(i))
		a.strBytes += int64(len(a.s[g]))
	}
}

func (a *firstAcc) merge(gids []int32, st []arrowx.ColView) error { return a.consume(gids, &st[0]) }

func (a *firstAcc) state(from, to int, mem memory.Allocator) []arrow.Array {
	return []arrow.Array{a.final(from, to, mem)}
}

func (a *firstAcc) final(from, to int, mem memory.Allocator) arrow.Array {
	switch a.typ {
	case spec.Int64:
		return fixedArray(spec.Int64, a.i64[from:to], a.has[from:to], mem)
	case spec.Float64:
		return fixedArray(spec.Float64, a.f64[from:to], a.has[from:to], mem)
	}
	b := arrowx.NewColBuilder(a.typ, mem)
	b.Reset(to - from)
	for g := from; g < to; g++ {
		switch {
		case !a.has[g]:
			b.AppendNull()
		case a.typ == spec.Bool:
			b.AppendBool(a.b[g])
		default:
			b.AppendString(a.s[g])
		}
	}
	return b.Finish()
}
