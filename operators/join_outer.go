package operators

import (
	"context"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators/arrowx"
)

// filterProbe runs a semi or anti join over one probed batch: it keeps the
// probe rows that matched (semi) or did not (anti, null keys included),
// each once, in probe order.
func (j *HashJoin) filterProbe(ctx context.Context, rec arrow.Record) error {
	want := j.typ == spec.SemiJoin
	j.probeRefs, j.buildRefs = j.probeRefs[:0], j.buildRefs[:0]
	for i, g := range j.gids {
		if (g >= 0) == want {
			j.probeRefs = append(j.probeRefs, uint64(i))
		}
	}
	if len(j.probeRefs) == 0 {
		return nil
	}
	return j.emit(ctx, rec)
}

// emitUnmatched emits, in build order, the build rows whose key no probe
// row matched (null keys included), or with a residual condition, that
// passed it with no probe row, for right and full joins. The left
// columns are null except the USING keys, which take the right key.
func (j *HashJoin) emitUnmatched(ctx context.Context) error {
	b := &j.build
	keyViews := make([][]arrowx.ColView, len(j.left))
	for c, ri := range j.usingFrom {
		if ri < 0 {
			continue
		}
		for _, rec := range b.batches {
			v, err := arrowx.ViewOf(rec.Column(ri))
			if err != nil {
				return err
			}
			keyViews[c] = append(keyViews[c], v)
		}
	}
	refs := make([]uint64, 0, min(BatchRows, len(b.refs)))
	for e, r := range b.refs {
		if j.res != nil {
			if j.res.matchedEnt[e] {
				continue
			}
		} else if g := b.egrp[e]; g >= 0 && j.matched[g] {
			continue
		}
		refs = append(refs, r)
		if len(refs) == BatchRows {
			if err := j.emitBuildRows(ctx, refs, keyViews); err != nil {
				return err
			}
			refs = refs[:0]
		}
	}
	if len(refs) > 0 {
		return j.emitBuildRows(ctx, refs, keyViews)
	}
	return nil
}

// emitBuildRows pushes one batch of unmatched build rows.
func (j *HashJoin) emitBuildRows(ctx context.Context, refs []uint64, keyViews [][]arrowx.ColView) error {
	n := len(refs)
	cols := make([]arrow.Array, 0, len(j.outTypes))
	nulls := j.probeRefs[:0]
	for range refs {
		nulls = append(nulls, nullRef)
	}
	j.probeRefs = nulls
	for c := range j.left {
		src, at := keyViews[c], refs
		if src == nil {
			at = nulls
		}
		a, err := gather(j.left[c].Type, src, at, j.mem)
		if err != nil {
			arrowx.ReleaseAll(cols)
			return err
		}
		cols = append(cols, a)
	}
	for c, col := range j.rightOut {
		a, err := gather(j.right[col].Type, j.rightViews[c], refs, j.mem)
		if err != nil {
			arrowx.ReleaseAll(cols)
			return err
		}
		cols = append(cols, a)
	}
	out := arrowx.NewRecord(j.schema, cols, n)
	j.probeRefs = j.probeRefs[:0]
	j.stats.RowsOut += int64(n)
	err := j.out.Push(ctx, out)
	out.Release()
	return err
}
