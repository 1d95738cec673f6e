package operators

import (
	"cmp"
	"fmt"
	"math"
	"math/bits"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators/arrowx"
	"github.com/batchrun/batchrun/operators/expr"
)

// The window functions' kernels, each over a whole segment, in O(rows)
// per function whatever the frames:
//   - row_number, rank, dense_rank from where partitions and peer groups
//     start (window_frame.go);
//   - lag, lead, first_value, last_value, min and max pick a row per row
//     (a reference, or the default's one-row batch), then one gather
//     builds the column in the argument's type; min and max keep a
//     monotonic deque of the frame's candidates (frames only move
//     forward), comparing order-preserving words (NaN above +Inf, -0 =
//     0, as the sort orders them) or strings;
//   - count, and sum and avg of int64 and decimals, from prefix sums over
//     the segment: 128-bit, so a frame's sum is exact and overflows only
//     if the frame's own sum does (a data error);
//   - sum and avg of float64 add a frame of up to 64 rows afresh, and
//     slide wider ones: each row enters and leaves the running sum once.
//     Running frames (UNBOUNDED PRECEDING) only add, in row order, as the
//     aggregate does; a wide frame whose start moves subtracts too, so its
//     last bits may differ from summing the frame afresh (no Kahan
//     summation). NaN and ±Inf are counted apart, so they leave the sum
//     when they leave the frame.

// winFunc is one window function, resolved against the input.
type winFunc struct {
	fn    spec.WindowFunc
	arg   int       // argument column; -1 for none
	argT  spec.Type // its logical type
	outT  spec.Type
	frame spec.WindowFrame // the effective frame
	def   arrow.Array      // lag's and lead's default, one row of argT; nil for NULL
	defV  arrowx.ColView
}

func newWinFunc(f spec.WindowFunc, in spec.Schema, outT spec.Type, mem memory.Allocator) (*winFunc, error) {
	w := &winFunc{fn: f, arg: -1, outT: outT, frame: f.Frame.Effective()}
	if f.Arg != "" {
		if w.arg = in.Index(f.Arg); w.arg < 0 {
			return nil, fmt.Errorf("operators: window function %s: %q is not a column of %s", f, f.Arg, in)
		}
		w.argT = in[w.arg].Type
	}
	if f.Default != nil && f.Default.Type != spec.Null {
		lit, ok := spec.LiteralAs(f.Default, w.argT)
		if !ok {
			return nil, fmt.Errorf("operators: window function %s: default %s is not a %s", f, f.Default, w.argT)
		}
		w.def = literalArray(lit, mem)
		var err error
		if w.defV, err = arrowx.ViewOf(w.def); err != nil {
			w.close()
			return nil, err
		}
	}
	return w, nil
}

// literalArray is a one-row array holding l.
func literalArray(l spec.Literal, mem memory.Allocator) arrow.Array {
	b := arrowx.NewColBuilder(l.Type, mem)
	b.Reset(1)
	switch l.Type.Physical() {
	case spec.Int64:
		b.I64[0], b.N = l.Int, 1
	case spec.Float64:
		b.F64[0], b.N = l.Float, 1
	case spec.Bool:
		b.AppendBool(l.Bool)
	case spec.String:
		b.AppendString(l.Str)
	}
	return b.Finish()
}

func (f *winFunc) close() {
	if f.def != nil {
		f.def.Release()
		f.def = nil
	}
}

// compute returns the function's column over the segment.
func (f *winFunc) compute(s *segment, mem memory.Allocator) (arrow.Array, error) {
	switch f.fn.Func {
	case spec.WinRowNumber, spec.WinRank, spec.WinDenseRank:
		return s.ranks(f.fn.Func, mem), nil
	case spec.WinLag, spec.WinLead:
		return f.gather(s, f.lagRefs(s), mem)
	}
	s.bounds(f.frame)
	switch f.fn.Func {
	case spec.WinFirstValue, spec.WinLastValue:
		return f.gather(s, f.edgeRefs(s), mem)
	case spec.WinCount:
		return f.count(s, mem)
	case spec.WinSum, spec.WinAvg:
		if f.argT.Physical() == spec.Float64 {
			return f.sumFloat(s, mem)
		}
		return f.sumExact(s, mem)
	case spec.WinMin, spec.WinMax:
		return f.minMax(s, mem)
	}
	return nil, fmt.Errorf("operators: unknown window function %s", f.fn.Func)
}

// gather builds the argument's values at refs (the default's batch comes
// after the segment's).
func (f *winFunc) gather(s *segment, refs []uint64, mem memory.Allocator) (arrow.Array, error) {
	chunks, err := s.views(f.arg)
	if err != nil {
		return nil, err
	}
	if f.def != nil {
		chunks = append(chunks, f.defV)
		s.vw = chunks
	}
	return gather(f.argT, chunks, refs, mem)
}

// lagRefs picks, for each row, the row Offset before it (lag) or after it
// (lead) in its partition, else the default.
func (f *winFunc) lagRefs(s *segment) []uint64 {
	loc := s.locs()
	s.refs = grow(s.refs, s.n)
	refs, miss := s.refs, nullRef
	if f.def != nil {
		miss = mkRef(len(s.recs), 0)
	}
	off := min(f.fn.Offset, 1<<40)
	if f.fn.Func == spec.WinLead {
		off = -off
	}
	s.partitions(func(ps, pe int32) {
		for i := ps; i < pe; i++ {
			refs[i] = miss
			if j := int64(i) - off; j >= int64(ps) && j < int64(pe) {
				refs[i] = loc[j]
			}
		}
	})
	return refs
}

// edgeRefs picks each frame's first row (first_value) or last row
// (last_value); an empty frame gives NULL.
func (f *winFunc) edgeRefs(s *segment) []uint64 {
	loc := s.locs()
	s.refs = grow(s.refs, s.n)
	refs, last := s.refs, f.fn.Func == spec.WinLastValue
	for i := range refs {
		lo, hi := s.lo[i], s.hi[i]
		switch {
		case lo >= hi:
			refs[i] = nullRef
		case last:
			refs[i] = loc[hi-1]
		default:
			refs[i] = loc[lo]
		}
	}
	return refs
}

// nonNull returns cnt with cnt[i] = the non-null values of column col in
// rows [0, i), over the segment.
func (s *segment) nonNull(col int) ([]int32, error) {
	views, err := s.views(col)
	if err != nil {
		return nil, err
	}
	s.cnt = grow(s.cnt, s.n+1)
	cnt := s.cnt
	j, c := 0, int32(0)
	cnt[0] = 0
	for v := range views {
		vw := &views[v]
		for r := 0; r < vw.N; r++ {
			if vw.Nulls == 0 || !vw.IsNull(r) {
				c++
			}
			j++
			cnt[j] = c
		}
	}
	return cnt, nil
}

func (f *winFunc) count(s *segment, mem memory.Allocator) (arrow.Array, error) {
	buf, out := int64Out(mem, s.n)
	if f.arg < 0 {
		for i := range out {
			out[i] = int64(s.hi[i] - s.lo[i])
		}
		return arrowx.NewArray(spec.Int64, s.n, 0, nil, buf), nil
	}
	cnt, err := s.nonNull(f.arg)
	if err != nil {
		buf.Release()
		return nil, err
	}
	for i := range out {
		out[i] = int64(cnt[s.hi[i]] - cnt[s.lo[i]])
	}
	return arrowx.NewArray(spec.Int64, s.n, 0, nil, buf), nil
}

// sub returns x - y.
func (x int128) sub(y int128) int128 {
	lo, b := bits.Sub64(x.lo, y.lo, 0)
	return int128{lo: lo, hi: x.hi - y.hi - int64(b)}
}

// prefixSums sets s.sums[i] to the sum of the non-null values of int64
// column col in rows [0, i) and returns the non-null counts likewise.
func (s *segment) prefixSums(col int) ([]int128, []int32, error) {
	cnt, err := s.nonNull(col)
	if err != nil {
		return nil, nil, err
	}
	s.sums = grow(s.sums, s.n+1)
	sums := s.sums
	var acc int128
	sums[0] = acc
	j := 0
	for v := range s.vw {
		vw := &s.vw[v]
		x := vw.I64[:vw.N]
		if vw.Nulls == 0 {
			for _, xv := range x {
				acc.add64(xv)
				j++
				sums[j] = acc
			}
			continue
		}
		for r, xv := range x {
			if !vw.IsNull(r) {
				acc.add64(xv)
			}
			j++
			sums[j] = acc
		}
	}
	return sums, cnt, nil
}

// sumExact is sum or avg of int64 or a decimal over each frame.
func (f *winFunc) sumExact(s *segment, mem memory.Allocator) (arrow.Array, error) {
	sums, cnt, err := s.prefixSums(f.arg)
	if err != nil {
		return nil, err
	}
	s.has = grow(s.has, s.n)
	has := s.has
	if f.fn.Func == spec.WinAvg {
		buf, out := float64Out(mem, s.n)
		scale := 1.0
		if f.argT.IsDecimal() {
			scale = math.Pow10(f.argT.Scale())
		}
		for i := range out {
			lo, hi := s.lo[i], s.hi[i]
			c := cnt[hi] - cnt[lo]
			has[i], out[i] = c > 0, 0
			if c > 0 {
				out[i] = sums[hi].sub(sums[lo]).float64() / (float64(c) * scale)
			}
		}
		valid, nulls := validityOf(has, mem)
		return arrowx.NewArray(spec.Float64, s.n, nulls, valid, buf), nil
	}
	buf, out := int64Out(mem, s.n)
	prec := 0
	if f.outT.IsDecimal() {
		prec = f.outT.Precision()
	}
	for i := range out {
		lo, hi := s.lo[i], s.hi[i]
		v, ok := sums[hi].sub(sums[lo]).int64()
		has[i], out[i] = cnt[hi] > cnt[lo], v
		if !ok || prec > 0 && !spec.DecimalFits(v, prec) {
			buf.Release()
			return nil, &expr.EvalError{Msg: fmt.Sprintf("sum(%s) overflows %s", f.fn.Arg, f.outT)}
		}
	}
	valid, nulls := validityOf(has, mem)
	return arrowx.NewArray(f.outT, s.n, nulls, valid, buf), nil
}

// flatF64 copies float64 column col over the segment into s.f64, with
// s.null marking its nulls (nil when there are none).
func (s *segment) flatF64(col int) error {
	views, err := s.views(col)
	if err != nil {
		return err
	}
	s.f64, s.null = s.f64[:0], nil
	for v := range views {
		s.f64 = append(s.f64, views[v].F64[:views[v].N]...)
	}
	return s.nulls(views)
}

// nulls sets s.null to the null rows of views (nil when none is null).
func (s *segment) nulls(views []arrowx.ColView) error {
	anyNull := false
	for v := range views {
		anyNull = anyNull || views[v].Nulls > 0
	}
	if !anyNull {
		s.null = nil
		return nil
	}
	s.null = grow(s.null, s.n)
	j := 0
	for v := range views {
		vw := &views[v]
		for r := 0; r < vw.N; r++ {
			s.null[j] = vw.IsNull(r)
			j++
		}
	}
	return nil
}

// floatWindow is a float64 sum over a sliding frame [lo, hi).
type floatWindow struct {
	lo, hi          int32
	sum             float64 // of the finite values
	n               int64   // non-null values
	nan, pinf, ninf int64
}

// slide moves the window to [lo, hi), both >= the current ones.
func (w *floatWindow) slide(x []float64, null []bool, lo, hi int32) {
	if lo >= w.hi || lo < w.lo {
		*w = floatWindow{lo: lo, hi: lo}
	}
	for ; w.hi < hi; w.hi++ {
		if null == nil || !null[w.hi] {
			w.add(x[w.hi], 1)
		}
	}
	for ; w.lo < lo; w.lo++ {
		if null == nil || !null[w.lo] {
			w.add(x[w.lo], -1)
		}
	}
	switch {
	case w.n == 0:
		w.sum = 0 // no rounding residue survives an empty frame
	case !finite(w.sum):
		w.sum = w.recompute(x, null) // finite values overflowed
	}
}

// finite reports whether v is neither ±Inf nor NaN, in one comparison.
func finite(v float64) bool { return math.Abs(v) <= math.MaxFloat64 }

// add adds (sign 1) or removes (sign -1) v.
func (w *floatWindow) add(v float64, sign int64) {
	w.n += sign
	switch {
	case finite(v):
		w.sum += float64(sign) * v
	case v != v:
		w.nan += sign
	case v > 0:
		w.pinf += sign
	default:
		w.ninf += sign
	}
}

func (w *floatWindow) recompute(x []float64, null []bool) float64 {
	var sum float64
	for i := w.lo; i < w.hi; i++ {
		if (null == nil || !null[i]) && finite(x[i]) {
			sum += x[i]
		}
	}
	return sum
}

// value is the window's sum; NaN when it holds a NaN or both infinities.
func (w *floatWindow) value() float64 {
	switch {
	case w.nan > 0 || w.pinf > 0 && w.ninf > 0:
		return math.NaN()
	case w.pinf > 0:
		return math.Inf(1)
	case w.ninf > 0:
		return math.Inf(-1)
	}
	return w.sum
}

// directSumRows is the widest frame a float64 sum adds up afresh.
const directSumRows = 64

// sumFloat is sum or avg of float64 over each frame. A frame of at most
// directSumRows rows is summed afresh, in row order (exactly what summing
// the frame gives, at O(rows x width) for small widths); a wider one
// slides a floatWindow, which only adds while the frame's start stays
// put (a running frame: the aggregate's order again) and otherwise also
// subtracts the rows that leave.
func (f *winFunc) sumFloat(s *segment, mem memory.Allocator) (arrow.Array, error) {
	if err := s.flatF64(f.arg); err != nil {
		return nil, err
	}
	x, null := s.f64, s.null
	buf, out := float64Out(mem, s.n)
	s.has = grow(s.has, s.n)
	has, avg := s.has, f.fn.Func == spec.WinAvg
	s.partitions(func(ps, pe int32) {
		w := floatWindow{lo: ps, hi: ps}
		for i := ps; i < pe; i++ {
			lo, hi := s.lo[i], s.hi[i]
			var sum float64
			var n int64
			switch {
			case i > ps && lo == s.lo[i-1] && hi == s.hi[i-1]:
				has[i], out[i] = has[i-1], out[i-1] // the same frame
				continue
			case hi-lo <= directSumRows:
				sum, n = directSum(x, null, lo, hi)
				w = floatWindow{lo: hi, hi: hi} // start over when sliding again
			default:
				w.slide(x, null, lo, hi)
				sum, n = w.value(), w.n
			}
			has[i], out[i] = n > 0, 0
			if n > 0 {
				out[i] = sum
				if avg {
					out[i] /= float64(n)
				}
			}
		}
	})
	valid, nulls := validityOf(has, mem)
	return arrowx.NewArray(spec.Float64, s.n, nulls, valid, buf), nil
}

// directSum sums the non-null x[lo:hi] in order, and counts them.
func directSum(x []float64, null []bool, lo, hi int32) (float64, int64) {
	var sum float64
	var n int64
	for j := lo; j < hi; j++ {
		if null == nil || !null[j] {
			sum += x[j]
			n++
		}
	}
	return sum, n
}

// minMax is min or max over each frame, as a gather of the row holding it
// (the first such row when several do).
func (f *winFunc) minMax(s *segment, mem memory.Allocator) (arrow.Array, error) {
	loc := s.locs()
	s.refs = grow(s.refs, s.n)
	isMax := f.fn.Func == spec.WinMax
	if f.argT.Physical() == spec.String {
		if err := s.flatStrings(f.arg); err != nil {
			return nil, err
		}
		s.dq = slidingExtreme(s, s.strs, isMax, loc, s.refs, s.dq)
	} else {
		if err := s.flatWords(f.arg); err != nil {
			return nil, err
		}
		s.dq = slidingExtreme(s, s.words, isMax, loc, s.refs, s.dq)
	}
	return f.gather(s, s.refs, mem)
}

// slidingExtreme sets refs[i] to the row holding the least (greatest when
// isMax) non-null vals in row i's frame, by a monotonic deque over each
// partition: dq[head:] holds the rows of the frame that no later row
// beats, best first; each row enters and leaves once. dq is scratch.
func slidingExtreme[T cmp.Ordered](s *segment, vals []T, isMax bool, loc, refs []uint64, dq []int32) []int32 {
	null := s.null
	s.partitions(func(ps, pe int32) {
		dq, head, next := dq[:0], 0, ps
		for i := ps; i < pe; i++ {
			lo, hi := s.lo[i], s.hi[i]
			next = max(next, lo)
			for ; next < hi; next++ {
				if null != nil && null[next] {
					continue
				}
				v := vals[next]
				for len(dq) > head && (isMax && vals[dq[len(dq)-1]] < v || !isMax && vals[dq[len(dq)-1]] > v) {
					dq = dq[:len(dq)-1]
				}
				dq = append(dq, next)
			}
			for head < len(dq) && dq[head] < lo {
				head++
			}
			refs[i] = nullRef
			if head < len(dq) {
				refs[i] = loc[dq[head]]
			}
		}
	})
	return dq
}

// flatWords sets s.words to column col's order-preserving words over the
// segment (s.null its nulls), for every physical type but string.
func (s *segment) flatWords(col int) error {
	views, err := s.views(col)
	if err != nil {
		return err
	}
	s.words = s.words[:0]
	for v := range views {
		vw := &views[v]
		switch vw.Typ.Physical() {
		case spec.Int64:
			for _, x := range vw.I64[:vw.N] {
				s.words = append(s.words, uint64(x)^1<<63)
			}
		case spec.Float64:
			for _, x := range vw.F64[:vw.N] {
				s.words = append(s.words, floatWord(x))
			}
		case spec.Bool:
			for r := 0; r < vw.N; r++ {
				var w uint64
				if vw.BoolAt(r) {
					w = 1
				}
				s.words = append(s.words, w)
			}
		default:
			return fmt.Errorf("operators: window min/max of %s", vw.Typ)
		}
	}
	return s.nulls(views)
}

// flatStrings sets s.strs to string column col over the segment (views
// of the batches' bytes, not copies) and s.null to its nulls.
func (s *segment) flatStrings(col int) error {
	s.strs = s.strs[:0]
	for _, rec := range s.recs {
		a, ok := rec.Column(col).(*array.String)
		if !ok {
			return fmt.Errorf("operators: window: column %d is %s, want strings", col, rec.Column(col).DataType())
		}
		for r := 0; r < a.Len(); r++ {
			s.strs = append(s.strs, a.Value(r))
		}
	}
	views, err := s.views(col)
	if err != nil {
		return err
	}
	return s.nulls(views)
}
