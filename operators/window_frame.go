package operators

import (
	"slices"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators/arrowx"
)

// segment is the rows a windowEval computes at once: whole partitions,
// held in batches, rows numbered across the batches. Functions see it as
// flat arrays: where partitions and peer groups start, each row's frame
// (lo, hi) and, for the gathers, each row's (batch, row) reference. Its
// slices are scratch reused from one segment to the next.
type segment struct {
	recs  []arrow.Record
	n     int
	parts []int32 // first row of each partition, then n
	peers []int32 // first row of each peer group (a partition's first row starts one), then n
	lo    []int32 // the frame of row i is rows [lo[i], hi[i]) (bounds)
	hi    []int32
	loc   []uint64 // row i's reference into recs (locs); nil until built

	// Scratch of the kernels (window_funcs.go).
	vw    []arrowx.ColView
	refs  []uint64
	cnt   []int32
	sums  []int128
	f64   []float64
	null  []bool
	words []uint64
	strs  []string
	dq    []int32
	has   []bool
}

// reset makes the segment the rows of recs, whose break levels are brk.
func (s *segment) reset(recs []arrow.Record, brk []uint8) {
	s.recs, s.n, s.loc = recs, len(brk), s.loc[:0]
	s.parts, s.peers = s.parts[:0], s.peers[:0]
	for i, b := range brk {
		if b >= newPeer {
			s.peers = append(s.peers, int32(i))
			if b == newPartition {
				s.parts = append(s.parts, int32(i))
			}
		}
	}
	s.parts = append(s.parts, int32(s.n))
	s.peers = append(s.peers, int32(s.n))
}

// partitions calls fn with the rows [from, to) of each partition.
func (s *segment) partitions(fn func(from, to int32)) {
	for p := 0; p+1 < len(s.parts); p++ {
		fn(s.parts[p], s.parts[p+1])
	}
}

// locs returns every row's reference into recs.
func (s *segment) locs() []uint64 {
	if len(s.loc) == s.n {
		return s.loc
	}
	s.loc = s.loc[:0]
	for b, rec := range s.recs {
		for r := 0; r < int(rec.NumRows()); r++ {
			s.loc = append(s.loc, mkRef(b, r))
		}
	}
	return s.loc
}

// views returns the views of column col in every batch (scratch).
func (s *segment) views(col int) ([]arrowx.ColView, error) {
	s.vw = s.vw[:0]
	for _, rec := range s.recs {
		v, err := arrowx.ViewOf(rec.Column(col))
		if err != nil {
			return nil, err
		}
		s.vw = append(s.vw, v)
	}
	return s.vw, nil
}

// grow returns buf with length n, reusing its array when it is large
// enough; the contents are not cleared.
func grow[T any](buf []T, n int) []T { return slices.Grow(buf[:0], n)[:n] }

// bounds sets lo and hi to the rows of frame f (an effective frame) for
// every row. Both are non-decreasing within a partition, which the
// sliding kernels rely on; an empty frame has lo == hi.
func (s *segment) bounds(f spec.WindowFrame) {
	s.lo, s.hi = grow(s.lo, s.n), grow(s.hi, s.n)
	if f.Unit == spec.FrameRows {
		s.rowBounds(f)
		return
	}
	s.rangeBounds(f)
}

// rowBounds: an UNBOUNDED bound is the partition's edge, the others the
// row's position shifted by the offset, clamped to the partition.
func (s *segment) rowBounds(f spec.WindowFrame) {
	ds, de := boundDelta(f.Start), boundDelta(f.End)+1
	startEdge := f.Start.Kind == spec.BoundUnboundedPreceding
	endEdge := f.End.Kind == spec.BoundUnboundedFollowing
	s.partitions(func(from, to int32) {
		ps, pe := int64(from), int64(to)
		for i := ps; i < pe; i++ {
			lo, hi := ps, pe
			if !startEdge {
				lo = min(max(i+ds, ps), pe)
			}
			if !endEdge {
				hi = min(max(i+de, lo), pe)
			}
			s.lo[i], s.hi[i] = int32(lo), int32(hi)
		}
	})
}

// boundDelta is a bound's shift from the current row, capped far beyond
// any partition (2^31 rows) so that it cannot overflow.
func boundDelta(b spec.FrameBound) int64 {
	n := min(b.N, 1<<40)
	switch b.Kind {
	case spec.BoundPreceding:
		return -n
	case spec.BoundFollowing:
		return n
	}
	return 0
}

// rangeBounds: CURRENT ROW is the edge of the row's peer group, the
// others the partition's.
func (s *segment) rangeBounds(f spec.WindowFrame) {
	fromPeer := f.Start.Kind == spec.BoundCurrentRow
	toPeer := f.End.Kind == spec.BoundCurrentRow
	g := 0
	s.partitions(func(ps, pe int32) {
		for ; s.peers[g] < pe; g++ {
			gs, ge := s.peers[g], s.peers[g+1]
			lo, hi := ps, pe
			if fromPeer {
				lo = gs
			}
			if toPeer {
				hi = ge
			}
			for i := gs; i < ge; i++ {
				s.lo[i], s.hi[i] = lo, hi
			}
		}
	})
}

// ranks computes row_number, rank or dense_rank.
func (s *segment) ranks(fn spec.WindowFuncKind, mem memory.Allocator) arrow.Array {
	buf, out := int64Out(mem, s.n)
	if fn == spec.WinRowNumber {
		s.partitions(func(ps, pe int32) {
			for i := ps; i < pe; i++ {
				out[i] = int64(i-ps) + 1
			}
		})
		return arrowx.NewArray(spec.Int64, s.n, 0, nil, buf)
	}
	g := 0
	s.partitions(func(ps, pe int32) {
		for dense := int64(1); s.peers[g] < pe; g, dense = g+1, dense+1 {
			gs, ge := s.peers[g], s.peers[g+1]
			r := int64(gs-ps) + 1
			if fn == spec.WinDenseRank {
				r = dense
			}
			for i := gs; i < ge; i++ {
				out[i] = r
			}
		}
	})
	return arrowx.NewArray(spec.Int64, s.n, 0, nil, buf)
}

// int64Out allocates the values of an n-row int64 result.
func int64Out(mem memory.Allocator, n int) (*memory.Buffer, []int64) {
	buf := arrowx.NewBuffer(mem, n*8)
	return buf, arrow.Int64Traits.CastFromBytes(buf.Bytes())
}

// float64Out allocates the values of an n-row float64 result.
func float64Out(mem memory.Allocator, n int) (*memory.Buffer, []float64) {
	buf := arrowx.NewBuffer(mem, n*8)
	return buf, arrow.Float64Traits.CastFromBytes(buf.Bytes())
}
