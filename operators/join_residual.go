package operators

import (
	"context"
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators/arrowx"
	"github.com/batchrun/batchrun/operators/expr"
)

// A join's residual condition (JoinStep.Where) is tested on candidate
// pairs, the (probe row, build row) pairs with equal keys (every pair,
// for a join without keys), in probe order and, within a probe row, in
// build order. Candidates are collected up to BatchRows at a time; then
// the columns the condition reads are gathered from both sides into one
// batch, the compiled condition runs over it once, and the pairs where it
// is TRUE go on as matches. A probe row is matched when one of its pairs
// passes (hit), a build row when it passes with some probe row
// (matchedEnt, for right and full joins). Left and full joins put an end
// marker after each probe row's candidates, so that once its last
// candidate is tested an unmatched row comes out in its place, in probe
// order. Semi and anti joins stop collecting a probe row's candidates once
// one passed, and emit the rows they keep after the whole batch.

// endRef marks the end of one probe row's candidates (left, full).
const endRef = nullRef - 1

// residualCol is one column the condition reads: from the build side
// (right) or the probe side.
type residualCol struct {
	right bool
	col   int
	typ   spec.Type
}

// joinResidual is a join's compiled residual condition and its state.
type joinResidual struct {
	pred   *expr.CompiledExpr
	cols   []residualCol
	schema *arrow.Schema
	// rviews holds, per right column of cols, its view in every build
	// batch; lviews, per left column, its view in the probe batch.
	rviews [][]arrowx.ColView
	lviews []arrowx.ColView
	// Candidates: probe row, build row (or endRef) and build entry.
	cprobe, cbuild []uint64
	cent           []int32
	evP, evB       []uint64 // the candidates tested, without end markers
	pass           []bool   // per tested candidate, whether it passed
	hit            []bool   // per probe row of the batch: a candidate passed
	matchedEnt     []bool   // per build entry: it passed with a probe row (right, full)
}

// newJoinResidual compiles where over the columns it reads: a left column,
// else a right one. A name on both sides must be a key paired with the
// left key of the same name (equal in every candidate pair).
func newJoinResidual(step *spec.JoinStep, left, right spec.Schema) (*joinResidual, error) {
	r := &joinResidual{}
	var sch spec.Schema
	for _, name := range spec.ExprColumns(step.Where) {
		li, ri := left.Index(name), right.Index(name)
		switch {
		case li >= 0 && ri >= 0 && !usingKey(step, name):
			return nil, fmt.Errorf("operators: join where: column %q is in both inputs", name)
		case li >= 0:
			r.cols = append(r.cols, residualCol{col: li, typ: left[li].Type})
			sch = append(sch, left[li])
		case ri >= 0:
			r.cols = append(r.cols, residualCol{right: true, col: ri, typ: right[ri].Type})
			sch = append(sch, right[ri])
		default:
			return nil, fmt.Errorf("operators: join where: unknown column %q", name)
		}
	}
	pred, err := expr.CompileExpr(step.Where, sch)
	if err != nil {
		return nil, err
	}
	if t := pred.Type(); t != spec.Bool && t != spec.Null {
		return nil, fmt.Errorf("operators: join where %s has type %s, want bool", step.Where, t)
	}
	r.pred, r.schema = pred, arrowx.ArrowSchema(sch)
	r.rviews = make([][]arrowx.ColView, len(r.cols))
	r.lviews = make([]arrowx.ColView, len(r.cols))
	return r, nil
}

func usingKey(step *spec.JoinStep, name string) bool {
	for i, lk := range step.LeftKeys {
		if lk == name && step.RightKeys[i] == name {
			return true
		}
	}
	return false
}

// buildViews takes the views of the right columns over the build batches.
func (r *joinResidual) buildViews(batches []arrow.Record) error {
	for c, col := range r.cols {
		r.rviews[c] = r.rviews[c][:0]
		if !col.right {
			continue
		}
		for _, rec := range batches {
			v, err := arrowx.ViewOf(rec.Column(col.col))
			if err != nil {
				return err
			}
			r.rviews[c] = append(r.rviews[c], v)
		}
	}
	return nil
}

// probeViews takes the views of the left columns in probe batch rec and
// resets the batch's hits.
func (r *joinResidual) probeViews(rec arrow.Record) error {
	for c, col := range r.cols {
		if col.right {
			continue
		}
		v, err := arrowx.ViewOf(rec.Column(col.col))
		if err != nil {
			return err
		}
		r.lviews[c] = v
	}
	r.hit = sizedSlice(r.hit, int(rec.NumRows()))
	clear(r.hit)
	return nil
}

// test evaluates the condition on the pairs (probe[k], build[k]) and
// sets pass[k] where it is TRUE.
func (r *joinResidual) test(probe, build []uint64, mem memory.Allocator) error {
	n := len(probe)
	arrs := make([]arrow.Array, len(r.cols))
	for c, col := range r.cols {
		var err error
		if col.right {
			arrs[c], err = gather(col.typ, r.rviews[c], build, mem)
		} else {
			arrs[c], err = gather(col.typ, r.lviews[c:c+1], probe, mem)
		}
		if err != nil {
			arrowx.ReleaseAll(arrs)
			return err
		}
	}
	rec := arrowx.NewRecord(r.schema, arrs, n)
	mask, err := r.pred.Eval(rec, mem)
	rec.Release()
	if err != nil {
		return err
	}
	defer mask.Release()
	v, err := arrowx.ViewOf(mask)
	if err != nil {
		return err
	}
	if v.N != n {
		return fmt.Errorf("operators: join where gave %d values for %d pairs", v.N, n)
	}
	r.pass = sizedSlice(r.pass, n)
	for k := range r.pass {
		r.pass[k] = v.Typ == spec.Bool && !v.IsNull(k) && v.BoolAt(k)
	}
	return nil
}

// residualPairs joins one probed batch (j.gids set) under the residual
// condition.
func (j *HashJoin) residualPairs(ctx context.Context, rec arrow.Record) error {
	r, b := j.res, &j.build
	if err := r.probeViews(rec); err != nil {
		return err
	}
	keepProbe := j.typ == spec.LeftJoin || j.typ == spec.FullJoin
	leftOnly := j.typ.LeftOnly()
	j.probeRefs, j.buildRefs = j.probeRefs[:0], j.buildRefs[:0]
	add := func(i int, ref uint64, e int32) error {
		r.cprobe, r.cbuild, r.cent = append(r.cprobe, uint64(i)), append(r.cbuild, ref), append(r.cent, e)
		if len(r.cprobe) < BatchRows {
			return nil
		}
		return j.testCandidates(ctx, rec)
	}
	for i, g := range j.gids {
		if g >= 0 {
			// A semi or anti join's row is decided by its first passing pair.
			for e := b.first[g]; e >= 0 && !(leftOnly && r.hit[i]); e = b.next[e] {
				if err := add(i, b.refs[e], e); err != nil {
					return err
				}
			}
		}
		if keepProbe {
			if err := add(i, endRef, -1); err != nil {
				return err
			}
		}
	}
	if err := j.testCandidates(ctx, rec); err != nil {
		return err
	}
	if leftOnly {
		return j.emitDecided(ctx, rec)
	}
	if len(j.probeRefs) > 0 {
		return j.emit(ctx, rec)
	}
	return nil
}

// testCandidates tests the collected candidates and moves the pairs that
// pass, and the unmatched probe rows whose end marker it reaches, to the
// output pairs, emitting every BatchRows of them.
func (j *HashJoin) testCandidates(ctx context.Context, rec arrow.Record) error {
	r := j.res
	if len(r.cprobe) == 0 {
		return nil
	}
	r.evP, r.evB = r.evP[:0], r.evB[:0]
	for k, ref := range r.cbuild {
		if ref != endRef {
			r.evP, r.evB = append(r.evP, r.cprobe[k]), append(r.evB, ref)
		}
	}
	if len(r.evP) > 0 {
		if err := r.test(r.evP, r.evB, j.mem); err != nil {
			return err
		}
	}
	leftOnly := j.typ.LeftOnly()
	t := 0 // index into the tested candidates
	for k, p := range r.cprobe {
		switch ref := r.cbuild[k]; {
		case ref == endRef:
			if !r.hit[p] {
				j.probeRefs, j.buildRefs = append(j.probeRefs, p), append(j.buildRefs, nullRef)
			}
		case r.pass[t]:
			t++
			r.hit[p] = true
			if r.matchedEnt != nil {
				r.matchedEnt[r.cent[k]] = true
			}
			if !leftOnly {
				j.probeRefs, j.buildRefs = append(j.probeRefs, p), append(j.buildRefs, ref)
			}
		default:
			t++
		}
		if len(j.probeRefs) == BatchRows {
			if err := j.emit(ctx, rec); err != nil {
				return err
			}
		}
	}
	r.cprobe, r.cbuild, r.cent = r.cprobe[:0], r.cbuild[:0], r.cent[:0]
	return nil
}

// emitDecided emits, for a semi join, the probe rows with a passing pair
// and, for an anti join, those without, in probe order.
func (j *HashJoin) emitDecided(ctx context.Context, rec arrow.Record) error {
	want := j.typ == spec.SemiJoin
	j.probeRefs, j.buildRefs = j.probeRefs[:0], j.buildRefs[:0]
	for i, h := range j.res.hit {
		if h == want {
			j.probeRefs = append(j.probeRefs, uint64(i))
		}
	}
	if len(j.probeRefs) == 0 {
		return nil
	}
	return j.emit(ctx, rec)
}
