package operators

import (
	"context"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators/arrowx"
)

// Bounded memory for HashJoin: a grace hash join. After each build batch
// the join estimates what its build side holds (HeldBytes: the retained
// batches' Arrow buffers, the key table and the row chains). Past
// Budget.Bytes (or minSpillBudget, when that is more) it writes the retained build rows into spillFanout spill
// runs by bits of their key hash (spill_parts.go), drops its table, and
// routes every later build batch, then every probe batch, into build and
// probe runs the same way. At Finish it joins partition by partition: a
// fresh join of the next spill level builds from build run k, probes with
// probe run k and, for right and full joins, emits build run k's
// unmatched rows. Equal keys hash equally on both sides, so every match is
// within one partition, and each join type keeps its meaning: rows with a
// null key never match; they go to partition 0 where they come out
// unmatched, or are dropped at once where an unmatched row of their side
// is not output (build rows unless right or full, probe rows of inner,
// semi and right joins). A build partition still over budget spills again
// by the next hash bits, down to maxSpillLevel levels; the last level
// holds its build partition whole (reachable only with build sides over
// 16^4 times the budget, or one key's rows over the budget).
//
// Spilled output comes partition by partition; within a partition it has
// the unbounded join's order (probe order, then unmatched build rows). A
// residual condition applies within each partition's join, which compiles
// its own.

// joinSpill is the memory bound of a HashJoin.
type joinSpill struct {
	budget Budget
	floor  int64 // minSpillBudget; tests lower it
	level  int
	build  *spillParts // nil until the build side spills
	probe  *spillParts
	keys   batchKeys
	views  []arrowx.ColView
	pbuf   []uint8
}

// SetBudget bounds the memory the join's build side holds, as the comment
// above says. Call it before the first build batch. The zero Budget is
// unbounded.
func (j *HashJoin) SetBudget(b Budget) { j.spill.budget, j.spill.floor = b, minSpillBudget }

// HeldBytes estimates the memory the build side holds.
func (j *HashJoin) HeldBytes() int64 {
	b := &j.build
	held := b.held + sliceBytes(b.refs, 8) + sliceBytes(b.egrp, 4) +
		sliceBytes(b.next, 4) + sliceBytes(b.first, 4) + sliceBytes(b.last, 4)
	if j.table != nil {
		held += j.table.bytes()
	}
	return held
}

func (s *joinSpill) discard() {
	if s.build != nil {
		s.build.discard()
		s.probe.discard()
	}
}

// checkBudget starts spilling when the build side is over budget: the
// retained build rows go to their partitions and the table is dropped. A
// join without keys has nothing to partition by: it never spills.
func (j *HashJoin) checkBudget(ctx context.Context) error {
	s := &j.spill
	if j.keyless || !s.budget.Bounded() || s.level >= maxSpillLevel || j.HeldBytes() <= max(s.budget.Bytes, s.floor) {
		return nil
	}
	s.build = newSpillParts(s.budget, j.right, j.mem)
	s.probe = newSpillParts(s.budget, j.left, j.mem)
	batches := j.build.batches
	j.build = joinBuild{j: j, rows: j.build.rows}
	j.table = newGroupTable(j.table.codec, false)
	var err error
	for _, rec := range batches {
		if err == nil {
			err = j.spillBuild(ctx, rec)
		}
		rec.Release()
	}
	return err
}

// spillBuild writes a build batch into the build partitions.
func (j *HashJoin) spillBuild(ctx context.Context, rec arrow.Record) error {
	parts, err := j.partitions(rec, j.rightKeys, !j.typ.KeepsUnmatchedRight())
	if err != nil {
		return err
	}
	return j.spill.build.write(ctx, rec, parts)
}

// spillProbe writes a probe batch into the probe partitions.
func (j *HashJoin) spillProbe(ctx context.Context, rec arrow.Record) error {
	dropNull := j.typ == spec.InnerJoin || j.typ == spec.SemiJoin || j.typ == spec.RightJoin
	parts, err := j.partitions(rec, j.leftKeys, dropNull)
	if err != nil {
		return err
	}
	return j.spill.probe.write(ctx, rec, parts)
}

// partitions returns the spill partition of each row of rec by its key
// columns; a row with a null key goes to partition 0, or is dropped.
func (j *HashJoin) partitions(rec arrow.Record, keys []int, dropNull bool) ([]uint8, error) {
	s := &j.spill
	n := int(rec.NumRows())
	views, err := arrowx.ViewsOf(rec, keys, s.views)
	if err != nil {
		return nil, err
	}
	s.views = views
	if err := j.table.codec.prepare(views, n, &s.keys); err != nil {
		return nil, err
	}
	s.pbuf = sizedSlice(s.pbuf, n)
	for i, h := range s.keys.hash[:n] {
		s.pbuf[i] = spillPart(h, s.level)
	}
	if s.keys.null != nil {
		nullPart := uint8(0)
		if dropNull {
			nullPart = spillDrop
		}
		for i, null := range s.keys.null {
			if null {
				s.pbuf[i] = nullPart
			}
		}
	}
	return s.pbuf, nil
}

// finishSpilled joins the partitions one by one and finishes downstream.
func (j *HashJoin) finishSpilled(ctx context.Context) error {
	s := &j.spill
	defer j.Close()
	if err := s.probe.finish(ctx); err != nil {
		return err
	}
	for k := 0; k < spillFanout; k++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := j.joinPart(ctx, k); err != nil {
			return err
		}
		s.build.discardPart(k)
		s.probe.discardPart(k)
	}
	return j.out.Finish(ctx)
}

// joinPart joins build and probe partition k with a join of the next
// spill level, skipping a partition that cannot output anything.
func (j *HashJoin) joinPart(ctx context.Context, k int) error {
	s := &j.spill
	hasBuild, hasProbe := s.build.has(k), s.probe.has(k)
	keepsProbe := j.typ == spec.LeftJoin || j.typ == spec.FullJoin || j.typ == spec.AntiJoin
	if (!hasBuild && !(hasProbe && keepsProbe)) || (!hasProbe && !j.typ.KeepsUnmatchedRight()) {
		return nil
	}
	fwd := &spillOut{out: j.out}
	p, err := NewHashJoin(j.step, j.left, j.right, j.outSpec, fwd, j.mem)
	if err != nil {
		return err
	}
	p.spill.budget, p.spill.floor, p.spill.level = s.budget, s.floor, s.level+1
	defer p.Close()
	err = s.build.each(ctx, k, p.Build())
	if err == nil {
		err = p.Build().Finish(ctx)
	}
	if err == nil {
		err = s.probe.each(ctx, k, p)
	}
	if err == nil {
		err = p.Finish(ctx)
	}
	j.stats.RowsOut += fwd.rows
	return err
}
