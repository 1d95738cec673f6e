package operators

import (
	"fmt"
	"math"
	"math/bits"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators/arrowx"
	"github.com/batchrun/batchrun/operators/expr"
)

// Exact sums of decimals: each group's sum is a 128-bit integer (lo, hi),
// so no order of rows, partial states or merges can overflow or round it.
// The partial state is two int64 columns, the low and the high 64 bits.
// sum checks at the end that the sum fits decimal(18, s); avg divides the
// exact sum, as DuckDB does: float64(sum) / (count * 10^s).

// int128 is a two's complement 128-bit integer.
type int128 struct {
	lo uint64
	hi int64
}

// add64 adds a sign-extended int64.
func (x *int128) add64(v int64) {
	var c uint64
	x.lo, c = bits.Add64(x.lo, uint64(v), 0)
	x.hi += int64(c) + v>>63
}

// add adds y.
func (x *int128) add(y int128) {
	var c uint64
	x.lo, c = bits.Add64(x.lo, y.lo, 0)
	x.hi += y.hi + int64(c)
}

// int64 returns x when it fits an int64.
func (x int128) int64() (int64, bool) {
	v := int64(x.lo)
	return v, x.hi == v>>63
}

// float64 is x rounded to a float64.
func (x int128) float64() float64 {
	if v, ok := x.int64(); ok {
		return float64(v)
	}
	return float64(x.hi)*(1<<64) + float64(x.lo)
}

// decSums is the per-group state shared by sum and avg of decimals.
type decSums struct {
	sum []int128
	has []bool
}

func (d *decSums) resize(n int) { d.sum, d.has = extendZero(d.sum, n), extendZero(d.has, n) }

func (d *decSums) bytes() int64 { return sliceBytes(d.sum, 16) + sliceBytes(d.has, 1) }

func (d *decSums) consume(gids []int32, v *arrowx.ColView) {
	sum, has, x := d.sum, d.has, v.I64
	if v.Nulls == 0 {
		for i, g := range gids {
			sum[g].add64(x[i])
			has[g] = true
		}
		return
	}
	for i, g := range gids {
		if !v.IsNull(i) {
			sum[g].add64(x[i])
			has[g] = true
		}
	}
}

// merge folds the state columns lo and hi.
func (d *decSums) merge(gids []int32, lo, hi *arrowx.ColView) {
	for i, g := range gids {
		if lo.IsNull(i) {
			continue
		}
		d.sum[g].add(int128{lo: uint64(lo.I64[i]), hi: hi.I64[i]})
		d.has[g] = true
	}
}

// state returns the lo and hi columns of groups [from, to).
func (d *decSums) state(from, to int, mem memory.Allocator) []arrow.Array {
	lo, hi := make([]int64, to-from), make([]int64, to-from)
	for g := from; g < to; g++ {
		lo[g-from], hi[g-from] = int64(d.sum[g].lo), d.sum[g].hi
	}
	return []arrow.Array{
		fixedArray(spec.Int64, lo, d.has[from:to], mem),
		fixedArray(spec.Int64, hi, d.has[from:to], mem),
	}
}

// sumDecAcc is sum over a decimal(p,s) column: a decimal(18,s).
type sumDecAcc struct {
	decSums
	arg string
	typ spec.Type // the result type
}

func (a *sumDecAcc) consume(gids []int32, v *arrowx.ColView) error {
	a.decSums.consume(gids, v)
	return nil
}

func (a *sumDecAcc) merge(gids []int32, st []arrowx.ColView) error {
	a.decSums.merge(gids, &st[0], &st[1])
	return nil
}

// checkFinal fails when a group's sum does not fit the result type.
func (a *sumDecAcc) checkFinal(from, to int) error {
	for g := from; g < to; g++ {
		if !a.has[g] {
			continue
		}
		if v, ok := a.sum[g].int64(); !ok || !spec.DecimalFits(v, a.typ.Precision()) {
			return &expr.EvalError{Msg: fmt.Sprintf("sum(%s) overflows %s", a.arg, a.typ)}
		}
	}
	return nil
}

func (a *sumDecAcc) final(from, to int, mem memory.Allocator) arrow.Array {
	vals := make([]int64, to-from)
	for g := from; g < to; g++ {
		vals[g-from] = int64(a.sum[g].lo)
	}
	return fixedArray(a.typ, vals, a.has[from:to], mem)
}

// avgDecAcc is avg over a decimal(p,s) column: a float64.
type avgDecAcc struct {
	decSums
	cnt   []int64
	scale int
}

func (a *avgDecAcc) resize(n int) {
	a.decSums.resize(n)
	a.cnt = extendZero(a.cnt, n)
}

func (a *avgDecAcc) bytes() int64 { return a.decSums.bytes() + sliceBytes(a.cnt, 8) }

func (a *avgDecAcc) consume(gids []int32, v *arrowx.ColView) error {
	a.decSums.consume(gids, v)
	cnt := a.cnt
	for i, g := range gids {
		if v.Nulls == 0 || !v.IsNull(i) {
			cnt[g]++
		}
	}
	return nil
}

func (a *avgDecAcc) merge(gids []int32, st []arrowx.ColView) error {
	a.decSums.merge(gids, &st[0], &st[1])
	c := &st[2]
	for i, g := range gids {
		if !c.IsNull(i) {
			a.cnt[g] += c.I64[i]
		}
	}
	return nil
}

func (a *avgDecAcc) state(from, to int, mem memory.Allocator) []arrow.Array {
	return append(a.decSums.state(from, to, mem), fixedArray(spec.Int64, a.cnt[from:to], nil, mem))
}

func (a *avgDecAcc) final(from, to int, mem memory.Allocator) arrow.Array {
	avg := make([]float64, to-from)
	has := make([]bool, to-from)
	p := math.Pow10(a.scale)
	for g := from; g < to; g++ {
		if a.cnt[g] > 0 {
			avg[g-from], has[g-from] = a.sum[g].float64()/(float64(a.cnt[g])*p), true
		}
	}
	return fixedArray(spec.Float64, avg, has, mem)
}
