package operators

import (
	"context"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/batchrun/batchrun/jobs/spec"
)

// Bounded memory for HashAggregate. After each pushed batch the aggregate
// estimates what its table holds (HeldBytes: slots, per-group hashes, the
// key arena and every accumulator's slices and strings). Past
// Budget.Bytes (or minSpillBudget, when that is more):
//
//   - a partial aggregate pushes its partial states downstream and starts
//     an empty table (the classic early flush: the final aggregate merges
//     the duplicate groups), so it never spills;
//   - a whole or final aggregate writes its groups' partial states
//     (PartialAggSchema) into spillFanout spill runs by bits of the key
//     hash (spill_parts.go), starts an empty table and keeps consuming.
//     At Finish it spills what is left, then, for each partition in turn,
//     merges its states with a fresh final aggregate of the next spill
//     level and emits that partition's groups. A partition that is still
//     over budget spills again by the next hash bits, down to
//     maxSpillLevel levels; the last level holds what it must, over the
//     budget (only reachable with more than 16^4 times the budget of
//     groups, or a budget smaller than a few groups' states).
//
// Spilled output comes partition by partition, each in first-seen order
// of its merge, not in the unbounded first-seen order; the values are the
// same (first and any_value too: a partition's runs are read in the order
// they were written). An aggregate with count_distinct is not bounded:
// its (group, value) sets have no partial state to spill, so it holds
// them all.

// aggSpill is the memory bound of a HashAggregate.
type aggSpill struct {
	budget Budget
	floor  int64 // minSpillBudget; tests lower it
	level  int
	parts  *spillParts // nil until the first spill
	schema *arrow.Schema
	pbuf   []uint8
}

// SetBudget bounds the memory the aggregate's table holds, as the comment
// above says. Call it before the first Push. The zero Budget is unbounded.
func (h *HashAggregate) SetBudget(b Budget) { h.spill.budget, h.spill.floor = b, minSpillBudget }

// HeldBytes estimates the memory the aggregate's table and states hold.
func (h *HashAggregate) HeldBytes() int64 {
	var n int64
	if h.table != nil {
		n += h.table.bytes()
	}
	for _, acc := range h.accs {
		n += acc.bytes()
	}
	return n
}

// Close deletes the spill runs of an abandoned aggregate (Finish deletes
// them otherwise). It is idempotent.
func (h *HashAggregate) Close() {
	if h.spill.parts != nil {
		h.spill.parts.discard()
	}
}

// checkBudget flushes or spills the table when it is over budget.
func (h *HashAggregate) checkBudget(ctx context.Context) error {
	b := h.spill.budget
	if b.Bytes <= 0 || h.table == nil || h.HeldBytes() <= max(b.Bytes, h.spill.floor) {
		return nil
	}
	if h.mode == AggPartial {
		if err := h.emitAll(ctx); err != nil {
			return err
		}
		return h.resetGroups()
	}
	if !b.Bounded() || h.spill.level >= maxSpillLevel || h.countsDistinct() {
		return nil
	}
	return h.spillTable(ctx)
}

func (h *HashAggregate) countsDistinct() bool {
	for _, a := range h.plan.aggs {
		if a.fn == spec.AggCountDistinct {
			return true
		}
	}
	return false
}

// resetGroups starts an empty table and empty accumulators.
func (h *HashAggregate) resetGroups() error {
	h.table = newGroupTable(h.table.codec, true)
	for i := range h.accs {
		acc, err := newAccumulator(&h.plan.aggs[i])
		if err != nil {
			return err
		}
		h.accs[i] = acc
	}
	return nil
}

// spillTable writes the partial states of every group into the spill
// partitions of their key hash and empties the table.
func (h *HashAggregate) spillTable(ctx context.Context) error {
	s := &h.spill
	if s.parts == nil {
		st, err := PartialAggSchema(h.stepIn, h.step)
		if err != nil {
			return err
		}
		s.parts = newSpillParts(s.budget, st, h.mem)
		s.schema = s.parts.schema
	}
	total := h.table.len()
	for from := 0; from < total; from += BatchRows {
		to := min(from+BatchRows, total)
		s.pbuf = sizedSlice(s.pbuf, to-from)
		for g := from; g < to; g++ {
			s.pbuf[g-from] = spillPart(h.table.hashes[g], s.level)
		}
		rec, err := h.emitAs(from, to, true, s.schema)
		if err != nil {
			return err
		}
		err = s.parts.write(ctx, rec, s.pbuf)
		rec.Release()
		if err != nil {
			return err
		}
	}
	return h.resetGroups()
}

// finishSpilled spills the rest of the table, then merges and emits the
// partitions one by one, and finishes downstream.
func (h *HashAggregate) finishSpilled(ctx context.Context) error {
	parts := h.spill.parts
	defer parts.discard()
	if err := h.spillTable(ctx); err != nil {
		return err
	}
	if err := parts.finish(ctx); err != nil {
		return err
	}
	for k := 0; k < spillFanout; k++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := h.mergePart(ctx, k); err != nil {
			return err
		}
		parts.discardPart(k)
	}
	return h.out.Finish(ctx)
}

// mergePart merges the states of spill partition k with a final aggregate
// of the next level and emits its groups.
func (h *HashAggregate) mergePart(ctx context.Context, k int) error {
	if !h.spill.parts.has(k) {
		return nil
	}
	fwd := &spillOut{out: h.out}
	m, err := NewHashAggregate(AggFinal, h.stepIn, h.step, fwd, h.mem)
	if err != nil {
		return err
	}
	m.spill = aggSpill{budget: h.spill.budget, floor: h.spill.floor, level: h.spill.level + 1}
	defer m.Close()
	err = h.spill.parts.each(ctx, k, m)
	if err == nil {
		err = m.Finish(ctx)
	}
	h.stats.RowsOut += fwd.rows
	return err
}
