package operators

import (
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/bitutil"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators/arrowx"
)

// accumulator is one aggregate's state over every group, in typed slices
// indexed by group id (Init = resize, Consume, Merge, Finalize). Each call
// handles a whole batch: gids[i] is the group of row i.
type accumulator interface {
	// resize makes room for groups [0, n); new groups start empty.
	resize(n int)
	// consume folds raw input values (the argument column) into the groups.
	consume(gids []int32, v *arrowx.ColView) error
	// merge folds partial states (the columns of PartialAggSchema).
	merge(gids []int32, st []arrowx.ColView) error
	// state returns the partial state columns of groups [from, to).
	state(from, to int, mem memory.Allocator) []arrow.Array
	// final returns the final values of groups [from, to).
	final(from, to int, mem memory.Allocator) arrow.Array
	// bytes estimates the memory the state holds (for the budget).
	bytes() int64
}

// finalChecker is an accumulator whose final values can fail: an exact
// sum that does not fit its type. checkFinal runs before final on the same
// groups.
type finalChecker interface {
	checkFinal(from, to int) error
}

// sliceBytes is the memory of a slice's array.
func sliceBytes[T any](s []T, elem int) int64 { return int64(cap(s) * elem) }

func newAccumulator(a *aggCol) (accumulator, error) {
	switch a.fn {
	case spec.AggCount:
		return &countAcc{star: a.arg < 0}, nil
	case spec.AggSum:
		switch {
		case a.argType.IsDecimal():
			return &sumDecAcc{arg: a.argName, typ: a.outType}, nil
		case a.argType == spec.Int64:
			return &sumIntAcc{}, nil
		}
		return &sumFloatAcc{}, nil
	case spec.AggAvg:
		if a.argType.IsDecimal() {
			return &avgDecAcc{scale: a.argType.Scale()}, nil
		}
		return &avgAcc{}, nil
	case spec.AggCountDistinct:
		return newCountDistinctAcc(a.argType)
	case spec.AggFirst, spec.AggAnyValue:
		return &firstAcc{typ: a.argType.Physical(), skipNulls: a.fn == spec.AggAnyValue}, nil
	}
	isMax := a.fn == spec.AggMax
	switch a.argType.Physical() {
	case spec.Int64:
		return &minMaxAcc[int64]{typ: spec.Int64, vals: i64Of, max: isMax}, nil
	case spec.Float64:
		return &minMaxAcc[float64]{typ: spec.Float64, vals: f64Of, max: isMax}, nil
	case spec.Bool:
		return &minMaxBoolAcc{max: isMax}, nil
	}
	return &minMaxStrAcc{max: isMax}, nil
}

// extendZero returns s with length n; the new elements are zero.
func extendZero[T any](s []T, n int) []T {
	if n <= len(s) {
		return s
	}
	if n <= cap(s) {
		old := len(s)
		s = s[:n]
		clear(s[old:])
		return s
	}
	ns := make([]T, n, max(n, 2*cap(s)))
	copy(ns, s)
	return ns
}

// fixedArray copies vals into a new array; has[i] false makes row i null
// (has nil: no nulls).
func fixedArray[T int64 | float64](typ spec.Type, vals []T, has []bool, mem memory.Allocator) arrow.Array {
	buf := arrowx.NewBuffer(mem, len(vals)*8)
	copy(arrow.GetData[T](buf.Bytes()), vals)
	valid, nulls := validityOf(has, mem)
	return arrowx.NewArray(typ, len(vals), nulls, valid, buf)
}

// validityOf turns has into a bitmap, or nil when every entry is true.
func validityOf(has []bool, mem memory.Allocator) (*memory.Buffer, int) {
	nulls := 0
	for _, h := range has {
		if !h {
			nulls++
		}
	}
	if nulls == 0 {
		return nil, 0
	}
	valid := arrowx.NewBitmap(mem, len(has), false)
	vb := valid.Bytes()
	for i, h := range has {
		if h {
			bitutil.SetBit(vb, i)
		}
	}
	return valid, nulls
}

// countAcc is count(*) (star) or count(col).
type countAcc struct {
	star bool
	n    []int64
}

func (a *countAcc) resize(n int) { a.n = extendZero(a.n, n) }

func (a *countAcc) bytes() int64 { return sliceBytes(a.n, 8) }

func (a *countAcc) consume(gids []int32, v *arrowx.ColView) error {
	c := a.n
	if a.star || v.Nulls == 0 {
		for _, g := range gids {
			c[g]++
		}
		return nil
	}
	for i, g := range gids {
		if !v.IsNull(i) {
			c[g]++
		}
	}
	return nil
}

func (a *countAcc) merge(gids []int32, st []arrowx.ColView) error {
	s := &st[0]
	for i, g := range gids {
		if !s.IsNull(i) {
			a.n[g] += s.I64[i]
		}
	}
	return nil
}

func (a *countAcc) state(from, to int, mem memory.Allocator) []arrow.Array {
	return []arrow.Array{a.final(from, to, mem)}
}

func (a *countAcc) final(from, to int, mem memory.Allocator) arrow.Array {
	return fixedArray(spec.Int64, a.n[from:to], nil, mem)
}

// sumIntAcc is sum over int64; overflow is an error, not a wrap.
type sumIntAcc struct {
	sum []int64
	has []bool
}

func (a *sumIntAcc) resize(n int) { a.sum, a.has = extendZero(a.sum, n), extendZero(a.has, n) }

func (a *sumIntAcc) bytes() int64 { return sliceBytes(a.sum, 8) + sliceBytes(a.has, 1) }

func (a *sumIntAcc) consume(gids []int32, v *arrowx.ColView) error {
	sum, has, x := a.sum, a.has, v.I64
	var ovf int64
	if v.Nulls == 0 {
		for i, g := range gids {
			s := sum[g] + x[i]
			ovf |= (s ^ sum[g]) & (s ^ x[i])
			sum[g], has[g] = s, true
		}
	} else {
		for i, g := range gids {
			if v.IsNull(i) {
				continue
			}
			s := sum[g] + x[i]
			ovf |= (s ^ sum[g]) & (s ^ x[i])
			sum[g], has[g] = s, true
		}
	}
	if ovf < 0 {
		return fmt.Errorf("operators: sum overflows int64")
	}
	return nil
}

func (a *sumIntAcc) merge(gids []int32, st []arrowx.ColView) error { return a.consume(gids, &st[0]) }

func (a *sumIntAcc) state(from, to int, mem memory.Allocator) []arrow.Array {
	return []arrow.Array{a.final(from, to, mem)}
}

func (a *sumIntAcc) final(from, to int, mem memory.Allocator) arrow.Array {
	return fixedArray(spec.Int64, a.sum[from:to], a.has[from:to], mem)
}

// sumFloatAcc is sum over float64.
type sumFloatAcc struct {
	sum []float64
	has []bool
}

func (a *sumFloatAcc) resize(n int) { a.sum, a.has = extendZero(a.sum, n), extendZero(a.has, n) }

func (a *sumFloatAcc) bytes() int64 { return sliceBytes(a.sum, 8) + sliceBytes(a.has, 1) }

func (a *sumFloatAcc) consume(gids []int32, v *arrowx.ColView) error {
	sum, has, x := a.sum, a.has, v.F64
	if v.Nulls == 0 {
		for i, g := range gids {
			sum[g] += x[i]
			has[g] = true
		}
		return nil
	}
	for i, g := range gids {
		if !v.IsNull(i) {
			sum[g] += x[i]
			has[g] = true
		}
	}
	return nil
}

func (a *sumFloatAcc) merge(gids []int32, st []arrowx.ColView) error { return a.consume(gids, &st[0]) }

func (a *sumFloatAcc) state(from, to int, mem memory.Allocator) []arrow.Array {
	return []arrow.Array{a.final(from, to, mem)}
}

func (a *sumFloatAcc) final(from, to int, mem memory.Allocator) arrow.Array {
	return fixedArray(spec.Float64, a.sum[from:to], a.has[from:to], mem)
}

// avgAcc is avg over int64 or float64: a float64 sum and a count.
type avgAcc struct {
	sum []float64
	cnt []int64
}

func (a *avgAcc) resize(n int) { a.sum, a.cnt = extendZero(a.sum, n), extendZero(a.cnt, n) }

func (a *avgAcc) bytes() int64 { return sliceBytes(a.sum, 8) + sliceBytes(a.cnt, 8) }

func (a *avgAcc) consume(gids []int32, v *arrowx.ColView) error {
	sum, cnt := a.sum, a.cnt
	for i, g := range gids {
		if v.Nulls > 0 && v.IsNull(i) {
			continue
		}
		if v.Typ == spec.Int64 {
			sum[g] += float64(v.I64[i])
		} else {
			sum[g] += v.F64[i]
		}
		cnt[g]++
	}
	return nil
}

func (a *avgAcc) merge(gids []int32, st []arrowx.ColView) error {
	s, c := &st[0], &st[1]
	for i, g := range gids {
		if !s.IsNull(i) {
			a.sum[g] += s.F64[i]
		}
		if !c.IsNull(i) {
			a.cnt[g] += c.I64[i]
		}
	}
	return nil
}

func (a *avgAcc) state(from, to int, mem memory.Allocator) []arrow.Array {
	return []arrow.Array{
		fixedArray(spec.Float64, a.sum[from:to], nil, mem),
		fixedArray(spec.Int64, a.cnt[from:to], nil, mem),
	}
}

func (a *avgAcc) final(from, to int, mem memory.Allocator) arrow.Array {
	avg := make([]float64, to-from)
	has := make([]bool, to-from)
	for g := from; g < to; g++ {
		if a.cnt[g] > 0 {
			avg[g-from], has[g-from] = a.sum[g]/float64(a.cnt[g]), true
		}
	}
	return fixedArray(spec.Float64, avg, has, mem)
}

// minMaxAcc is min or max over int64 or float64. NaN never replaces a
// value (it is kept only when it is a group's first value).
type minMaxAcc[T int64 | float64] struct {
	typ  spec.Type
	vals func(*arrowx.ColView) []T
	max  bool
	m    []T
	has  []bool
}

func (a *minMaxAcc[T]) resize(n int) { a.m, a.has = extendZero(a.m, n), extendZero(a.has, n) }

func (a *minMaxAcc[T]) bytes() int64 { return sliceBytes(a.m, 8) + sliceBytes(a.has, 1) }

func (a *minMaxAcc[T]) consume(gids []int32, v *arrowx.ColView) error {
	m, has, x := a.m, a.has, a.vals(v)
	for i, g := range gids {
		if v.Nulls > 0 && v.IsNull(i) {
			continue
		}
		if !has[g] || (a.max && x[i] > m[g]) || (!a.max && x[i] < m[g]) {
			m[g], has[g] = x[i], true
		}
	}
	return nil
}

func (a *minMaxAcc[T]) merge(gids []int32, st []arrowx.ColView) error { return a.consume(gids, &st[0]) }

func (a *minMaxAcc[T]) state(from, to int, mem memory.Allocator) []arrow.Array {
	return []arrow.Array{a.final(from, to, mem)}
}

func (a *minMaxAcc[T]) final(from, to int, mem memory.Allocator) arrow.Array {
	return fixedArray(a.typ, a.m[from:to], a.has[from:to], mem)
}

// minMaxBoolAcc is min (AND) or max (OR) over bool.
type minMaxBoolAcc struct {
	max bool
	m   []bool
	has []bool
}

func (a *minMaxBoolAcc) resize(n int) { a.m, a.has = extendZero(a.m, n), extendZero(a.has, n) }

func (a *minMaxBoolAcc) bytes() int64 { return sliceBytes(a.m, 1) + sliceBytes(a.has, 1) }

func (a *minMaxBoolAcc) consume(gids []int32, v *arrowx.ColView) error {
	for i, g := range gids {
		if v.IsNull(i) {
			continue
		}
		b := v.BoolAt(i)
		switch {
		case !a.has[g]:
			a.m[g], a.has[g] = b, true
		case a.max:
			a.m[g] = a.m[g] || b
		default:
			a.m[g] = a.m[g] && b
		}
	}
	return nil
}

func (a *minMaxBoolAcc) merge(gids []int32, st []arrowx.ColView) error {
	return a.consume(gids, &st[0])
}

func (a *minMaxBoolAcc) state(from, to int, mem memory.Allocator) []arrow.Array {
	return []arrow.Array{a.final(from, to, mem)}
}

func (a *minMaxBoolAcc) final(from, to int, mem memory.Allocator) arrow.Array {
	b := arrowx.NewColBuilder(spec.Bool, mem)
	b.Reset(to - from)
	for g := from; g < to; g++ {
		if a.has[g] {
			b.AppendBool(a.m[g])
		} else {
			b.AppendNull()
		}
	}
	return b.Finish()
}

// minMaxStrAcc is min or max over strings. A group's value is copied only
// when it changes.
type minMaxStrAcc struct {
	max      bool
	m        []string
	has      []bool
	strBytes int64 // bytes of the strings in m
}

func (a *minMaxStrAcc) resize(n int) { a.m, a.has = extendZero(a.m, n), extendZero(a.has, n) }

func (a *minMaxStrAcc) bytes() int64 { return sliceBytes(a.m, 16) + sliceBytes(a.has, 1) + a.strBytes }

func (a *minMaxStrAcc) consume(gids []int32, v *arrowx.ColView) error {
	for i, g := range gids {
		if v.IsNull(i) {
			continue
		}
		s := v.Str(i)
		if !a.has[g] || (a.max && string(s) > a.m[g]) || (!a.max && string(s) < a.m[g]) {
			a.strBytes += int64(len(s) - len(a.m[g]))
			a.m[g], a.has[g] = string(s), true
		}
	}
	return nil
}

func (a *minMaxStrAcc) merge(gids []int32, st []arrowx.ColView) error { return a.consume(gids, &st[0]) }

func (a *minMaxStrAcc) state(from, to int, mem memory.Allocator) []arrow.Array {
	return []arrow.Array{a.final(from, to, mem)}
}

func (a *minMaxStrAcc) final(from, to int, mem memory.Allocator) arrow.Array {
	b := arrowx.NewColBuilder(spec.String, mem)
	b.Reset(to - from)
	for g := from; g < to; g++ {
		if a.has[g] {
			b.AppendString(a.m[g])
		} else {
			b.AppendNull()
		}
	}
	return b.Finish()
}
