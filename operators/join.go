package operators

import (
	"context"
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators/arrowx"
)

// HashJoin joins a probe side (left input) with a build side (right input)
// on LeftKeys[i] = RightKeys[i]: inner, left, right, full, semi or anti.
// The build side is always the right input. The build side is pushed
// into Build() and finished first; the join keeps its batches (retained)
// and a table from each distinct key to the chain of its rows, in build
// order. Then probe batches are pushed into the HashJoin itself; each
// yields output batches (at most BatchRows rows) right away.
//
// Output rows are in probe order; the matches of one probe row are in build
// order. Output columns are the left columns, then the right columns
// except right keys named like their left key (SQL USING). A left or full
// join emits unmatched probe rows once, with nulls on the right. A right or
// full join remembers which build keys matched and, at Finish, emits the
// unmatched build rows in build order, with nulls on the left except the
// USING key columns, which take the right key's value (as SQL's
// COALESCE(l.k, r.k)). Semi and anti joins output the left columns only:
// each probe row at most once, when it has a match (semi) or none (anti).
// Null keys never match, so a row with a null key is unmatched. Build and
// probe are driven by one goroutine, one after the other. With a Budget
// (SetBudget) the build side's memory is bounded: past it the join
// becomes a grace hash join (join_spill.go), whose output comes partition
// by partition instead of in the order above.
//
// A residual condition (JoinStep.Where) is tested on the pairs with equal
// keys, in batches (join_residual.go): only the pairs where it is TRUE
// match. A join without keys pairs every probe row with every build row:
// all its build rows form one chain that every probe row matches (a
// nested loop over the build side, tested in batches of pairs). It is
// for a small, broadcast build side (inner, left, semi and anti joins
// only), so it never spills.
type HashJoin struct {
	typ        spec.JoinType
	left       spec.Schema
	right      spec.Schema
	leftKeys   []int
	rightKeys  []int
	rightOut   []int // right columns in the output, in order
	usingFrom  []int // per left column, the right key column it equals under USING, or -1
	schema     *arrow.Schema
	outTypes   []spec.Type
	out        Operator
	mem        memory.Allocator
	table      *groupTable
	build      joinBuild
	matched    []bool // per build group, whether a probe row matched it (right, full)
	built      bool
	probeKeys  batchKeys
	views      []arrowx.ColView
	gids       []int32
	probeRefs  []uint64
	buildRefs  []uint64
	rightViews [][]arrowx.ColView // per right output column, one view per build batch
	stats      Stats
	step       *spec.JoinStep
	outSpec    spec.Schema
	spill      joinSpill
	keyless    bool          // no keys: every probe row matches every build row
	res        *joinResidual // the residual condition, nil without one
}

// joinBuild is the build side: its batches and the row chains.
type joinBuild struct {
	j       *HashJoin
	batches []arrow.Record
	refs    []uint64 // per build entry, its row
	egrp    []int32  // per build entry, its group, -1 for a null key (right, full only)
	next    []int32  // per build entry, the next entry of its key; -1 ends
	first   []int32  // per group, its first entry
	last    []int32  // per group, its last entry
	keys    batchKeys
	views   []arrowx.ColView
	gids    []int32
	rows    int64
	held    int64 // Arrow bytes of batches
}

// NewHashJoin returns a join of left (probe) and right (build) inputs.
// outSchema is the join step's output schema as spec.Resolve derives it;
// its columns must line up with the left columns followed by the kept
// right columns (names may differ, types may not).
func NewHashJoin(step *spec.JoinStep, left, right, outSchema spec.Schema, out Operator, mem memory.Allocator) (*HashJoin, error) {
	if len(step.LeftKeys) != len(step.RightKeys) {
		return nil, fmt.Errorf("operators: join needs pairs of keys, got %d left and %d right", len(step.LeftKeys), len(step.RightKeys))
	}
	if len(step.LeftKeys) == 0 && step.Type.KeepsUnmatchedRight() {
		return nil, fmt.Errorf("operators: a %s join needs keys", step.Type)
	}
	j := &HashJoin{typ: step.Type, left: left, right: right, out: out, mem: mem, step: step, outSpec: outSchema}
	j.keyless = len(step.LeftKeys) == 0
	j.usingFrom = make([]int, len(left))
	for i := range j.usingFrom {
		j.usingFrom[i] = -1
	}
	using := map[int]bool{}
	var types []spec.Type
	for i, lk := range step.LeftKeys {
		rk := step.RightKeys[i]
		li, ri := left.Index(lk), right.Index(rk)
		if li < 0 || ri < 0 {
			return nil, fmt.Errorf("operators: join key %s = %s: no such column in %s or %s", lk, rk, left, right)
		}
		if left[li].Type != right[ri].Type {
			return nil, fmt.Errorf("operators: join key %s = %s: types differ (%s vs %s)", lk, rk, left[li].Type, right[ri].Type)
		}
		j.leftKeys, j.rightKeys = append(j.leftKeys, li), append(j.rightKeys, ri)
		types = append(types, left[li].Type)
		if lk == rk {
			using[ri] = true
			j.usingFrom[li] = ri
		}
	}
	for i := range right {
		if !using[i] && !step.Type.LeftOnly() {
			j.rightOut = append(j.rightOut, i)
		}
	}
	if err := j.checkOutput(outSchema); err != nil {
		return nil, err
	}
	if !j.keyless {
		codec, err := newKeyCodec(types)
		if err != nil {
			return nil, err
		}
		j.table = newGroupTable(codec, false)
	}
	if step.Where != nil {
		res, err := newJoinResidual(step, left, right)
		if err != nil {
			return nil, err
		}
		j.res = res
	}
	j.schema = arrowx.ArrowSchema(outSchema)
	j.build.j = j
	return j, nil
}

func (j *HashJoin) checkOutput(outSchema spec.Schema) error {
	want := append(spec.Schema{}, j.left...)
	for _, i := range j.rightOut {
		want = append(want, j.right[i])
	}
	if len(want) != len(outSchema) {
		return fmt.Errorf("operators: join output schema %s does not match the inputs' %s", outSchema, want)
	}
	for i, f := range want {
		if outSchema[i].Type != f.Type {
			return fmt.Errorf("operators: join output column %q is %s, want %s", outSchema[i].Name, outSchema[i].Type, f.Type)
		}
		j.outTypes = append(j.outTypes, f.Type)
	}
	return nil
}

// Build returns the operator the build side is pushed into. Its Finish
// ends the build; it does not finish the join's downstream.
func (j *HashJoin) Build() Operator { return &j.build }

// Stats returns the rows consumed (probe and build) and emitted so far.
func (j *HashJoin) Stats() Stats {
	s := j.stats
	s.RowsIn += j.build.rows
	return s
}

// Push adds one build batch to the table.
func (b *joinBuild) Push(ctx context.Context, rec arrow.Record) error {
	j := b.j
	if j.built {
		return fmt.Errorf("operators: HashJoin: build batch after the build finished")
	}
	if err := CheckSchema("HashJoin build", rec, j.right); err != nil {
		return err
	}
	n := int(rec.NumRows())
	b.rows += int64(n)
	if n == 0 {
		return nil
	}
	if j.spill.build != nil {
		return j.spillBuild(ctx, rec)
	}
	if len(b.batches) >= 1<<31-1 {
		return fmt.Errorf("operators: HashJoin: too many build batches")
	}
	if j.keyless { // every row joins group 0's chain
		b.gids = sizedSlice(b.gids, n)
		clear(b.gids)
		b.link(len(b.batches), 1)
		rec.Retain()
		b.batches = append(b.batches, rec)
		b.held += batchBufferBytes(rec)
		return nil
	}
	views, err := arrowx.ViewsOf(rec, j.rightKeys, b.views)
	if err != nil {
		return err
	}
	b.views = views
	if err := j.table.codec.prepare(views, n, &b.keys); err != nil {
		return err
	}
	b.gids = sizedSlice(b.gids, n)
	j.table.insert(&b.keys, b.gids)
	b.link(len(b.batches), j.table.len())
	rec.Retain()
	b.batches = append(b.batches, rec)
	b.held += batchBufferBytes(rec)
	return j.checkBudget(ctx)
}

// link appends the rows of build batch chunk to their keys' chains.
func (b *joinBuild) link(chunk, groups int) {
	for len(b.first) < groups {
		b.first = append(b.first, -1)
		b.last = append(b.last, -1)
	}
	keepAll := b.j.typ.KeepsUnmatchedRight()
	for row, g := range b.gids {
		if keepAll {
			b.egrp = append(b.egrp, g)
		}
		if g < 0 {
			if keepAll { // never matches, but is output at Finish
				b.refs = append(b.refs, mkRef(chunk, row))
				b.next = append(b.next, -1)
			}
			continue // a null key never matches
		}
		e := int32(len(b.refs))
		b.refs = append(b.refs, mkRef(chunk, row))
		b.next = append(b.next, -1)
		if b.first[g] < 0 {
			b.first[g] = e
		} else {
			b.next[b.last[g]] = e
		}
		b.last[g] = e
	}
}

// Finish ends the build side.
func (b *joinBuild) Finish(ctx context.Context) error {
	j := b.j
	j.built = true
	if j.spill.build != nil {
		return j.spill.build.finish(ctx)
	}
	if j.typ.KeepsUnmatchedRight() {
		j.matched = make([]bool, j.table.len())
	}
	if j.res != nil {
		if j.typ.KeepsUnmatchedRight() {
			j.res.matchedEnt = make([]bool, len(b.refs))
		}
		if err := j.res.buildViews(b.batches); err != nil {
			return err
		}
	}
	j.rightViews = make([][]arrowx.ColView, len(j.rightOut))
	for c, col := range j.rightOut {
		for _, rec := range b.batches {
			v, err := arrowx.ViewOf(rec.Column(col))
			if err != nil {
				return err
			}
			j.rightViews[c] = append(j.rightViews[c], v)
		}
	}
	return nil
}

// Push probes one batch and pushes its output batches downstream.
func (j *HashJoin) Push(ctx context.Context, rec arrow.Record) error {
	if !j.built {
		return fmt.Errorf("operators: HashJoin: probe batch before the build finished")
	}
	if err := CheckSchema("HashJoin probe", rec, j.left); err != nil {
		return err
	}
	n := int(rec.NumRows())
	j.stats.RowsIn += int64(n)
	if n == 0 {
		return nil
	}
	if j.spill.probe != nil {
		return j.spillProbe(ctx, rec)
	}
	if j.keyless {
		j.gids = sizedSlice(j.gids, n)
		g := int32(-1)
		if len(j.build.refs) > 0 {
			g = 0
		}
		for i := range j.gids {
			j.gids[i] = g
		}
		return j.pairs(ctx, rec)
	}
	views, err := arrowx.ViewsOf(rec, j.leftKeys, j.views)
	if err != nil {
		return err
	}
	j.views = views
	if err := j.table.codec.prepare(views, n, &j.probeKeys); err != nil {
		return err
	}
	j.gids = sizedSlice(j.gids, n)
	j.table.find(&j.probeKeys, j.gids)
	return j.pairs(ctx, rec)
}

// pairs collects (probe row, build row) pairs and emits them every
// BatchRows pairs.
func (j *HashJoin) pairs(ctx context.Context, rec arrow.Record) error {
	if j.res != nil {
		return j.residualPairs(ctx, rec)
	}
	if j.typ.LeftOnly() {
		return j.filterProbe(ctx, rec)
	}
	b := &j.build
	j.probeRefs, j.buildRefs = j.probeRefs[:0], j.buildRefs[:0]
	keepProbe := j.typ == spec.LeftJoin || j.typ == spec.FullJoin
	for i, g := range j.gids {
		if g >= 0 && j.matched != nil {
			j.matched[g] = true
		}
		if g < 0 {
			if keepProbe {
				j.probeRefs = append(j.probeRefs, uint64(i))
				j.buildRefs = append(j.buildRefs, nullRef)
			}
		} else {
			for e := b.first[g]; e >= 0; e = b.next[e] {
				j.probeRefs = append(j.probeRefs, uint64(i))
				j.buildRefs = append(j.buildRefs, b.refs[e])
				if len(j.probeRefs) == BatchRows {
					if err := j.emit(ctx, rec); err != nil {
						return err
					}
				}
			}
		}
		if len(j.probeRefs) == BatchRows {
			if err := j.emit(ctx, rec); err != nil {
				return err
			}
		}
	}
	if len(j.probeRefs) > 0 {
		return j.emit(ctx, rec)
	}
	return nil
}

// emit gathers the collected pairs into one output batch and pushes it.
func (j *HashJoin) emit(ctx context.Context, probe arrow.Record) error {
	n := len(j.probeRefs)
	cols := make([]arrow.Array, 0, len(j.outTypes))
	fail := func(err error) error { arrowx.ReleaseAll(cols); return err }
	if isIdentity(j.probeRefs, int(probe.NumRows())) {
		// Every probe row matched exactly once (a typical foreign-key
		// join): the left columns pass through.
		for _, a := range probe.Columns() {
			a.Retain()
			cols = append(cols, a)
		}
	}
	for c := len(cols); c < len(j.left); c++ {
		v, err := arrowx.ViewOf(probe.Column(c))
		if err != nil {
			return fail(err)
		}
		a, err := gather(j.left[c].Type, []arrowx.ColView{v}, j.probeRefs, j.mem)
		if err != nil {
			return fail(err)
		}
		cols = append(cols, a)
	}
	for c, col := range j.rightOut {
		a, err := gather(j.right[col].Type, j.rightViews[c], j.buildRefs, j.mem)
		if err != nil {
			return fail(err)
		}
		cols = append(cols, a)
	}
	out := arrowx.NewRecord(j.schema, cols, n)
	j.probeRefs, j.buildRefs = j.probeRefs[:0], j.buildRefs[:0]
	j.stats.RowsOut += int64(n)
	err := j.out.Push(ctx, out)
	out.Release()
	return err
}

// isIdentity reports whether refs are exactly rows 0..n-1 of chunk 0.
func isIdentity(refs []uint64, n int) bool {
	if len(refs) != n {
		return false
	}
	for i, r := range refs {
		if r != uint64(i) {
			return false
		}
	}
	return true
}

// Finish ends the probe side: it releases the build side and finishes the
// downstream operator.
func (j *HashJoin) Finish(ctx context.Context) error {
	if !j.built {
		return fmt.Errorf("operators: HashJoin: probe finished before the build finished")
	}
	if j.spill.probe != nil {
		return j.finishSpilled(ctx)
	}
	if j.typ.KeepsUnmatchedRight() {
		if err := j.emitUnmatched(ctx); err != nil {
			j.Close()
			return err
		}
	}
	j.Close()
	return j.out.Finish(ctx)
}

// Close releases the build batches and deletes the spill runs. Finish
// calls it; call it directly when abandoning the join. It is idempotent.
func (j *HashJoin) Close() {
	for _, rec := range j.build.batches {
		rec.Release()
	}
	j.build.batches, j.rightViews = nil, nil
	j.spill.discard()
}
