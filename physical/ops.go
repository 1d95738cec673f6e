package physical

import (
	"fmt"

	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators"
	"github.com/batchrun/batchrun/operators/expr"
	"github.com/batchrun/batchrun/operators/formats"
	"github.com/batchrun/batchrun/plan"
)

// buildOp builds one op of a chain, pushing into next. A read op is the
// chain's source: it returns next, and task.scan feeds it.
func (t *task) buildOp(op plan.Op, next operators.Operator, c *chain) (operators.Operator, error) {
	step := t.p.cfg.Job.Step(op.Step)
	in, err := t.opInputSchema(op)
	if err != nil {
		return nil, err
	}
	mem := t.p.mem
	switch step.Kind {
	case spec.KindRead:
		return next, nil
	case spec.KindFilter:
		pred, err := expr.CompileExpr(step.Filter.Predicate, in)
		if err != nil {
			return nil, err
		}
		f, err := operators.NewFilter(pred, in, next, mem)
		if keep, ok := t.p.filters[step.ID]; ok && err == nil {
			err = f.Keep(keep) // the columns only the predicate reads stop here
		}
		return f, err
	case spec.KindSelect:
		return t.buildSelect(step, in, next)
	case spec.KindAggregate:
		// Every mode takes the step's input schema; a final one derives the
		// partial schema of the batches it is fed.
		raw := t.p.schemas[step.Inputs[0]]
		return operators.NewHashAggregate(aggMode(op.Role), raw, step.Aggregate, next, mem)
	case spec.KindJoin:
		return t.buildJoin(step, next, c)
	case spec.KindSort:
		mode := operators.SortPartial
		if op.Role == plan.Final {
			mode = operators.SortFinal
		}
		return operators.NewSort(mode, in, step.Sort.Keys, next, mem)
	case spec.KindLimit:
		return t.buildLimit(op, step, in, next)
	case spec.KindDistinct:
		return operators.NewHashDistinct(in, step.Distinct.Keys, next, mem)
	case spec.KindExplode:
		e := step.Explode
		return operators.NewExplode(in, e.Column, e.Split, t.p.schemas[step.ID], next, mem)
	case spec.KindWindow:
		// One op behind the hash (or global) edge: it sorts and computes.
		return operators.NewWindow(in, step.Window, t.p.schemas[step.ID], next, mem)
	case spec.KindUnion:
		if step.Union.Distinct != nil {
			// Every port is hashed on the keys; one Finish after all ports.
			return operators.NewHashDistinct(in, step.Union.Distinct.Keys, next, mem)
		}
		return operators.NewPassthrough(1, next), nil
	case spec.KindRepartition:
		// One Finish after every port is drained (task.Run reads ports in order).
		return operators.NewPassthrough(1, next), nil
	case spec.KindWrite:
		path := t.p.cfg.PartPath(step.ID, t.index)
		fw, err := formats.NewFileWrite(PartialPath(path), in, step.Write, mem)
		if err != nil {
			return nil, err
		}
		// Formatting and writing run beside the chain's other work.
		w := &publishingWrite{FileWrite: formats.Background(fw), path: path}
		c.write = w
		return w, nil
	}
	return nil, fmt.Errorf("jobs: step %q: unknown kind %s", step.ID, step.Kind)
}

func (t *task) opInputSchema(op plan.Op) (spec.Schema, error) {
	step := t.p.cfg.Job.Step(op.Step)
	if step.Kind == spec.KindRead {
		return t.p.schemas[step.ID], nil // what its scan emits
	}
	return t.p.opInput(op, 0)
}

func (t *task) buildSelect(step *spec.Step, in spec.Schema, next operators.Operator) (operators.Operator, error) {
	cols := step.Select.Columns
	if kept, ok := t.p.selects[step.ID]; ok {
		cols = kept // projection pushdown dropped the columns no one reads
	}
	exprs := make([]*expr.CompiledExpr, len(cols))
	for i, col := range cols {
		e, err := expr.CompileExpr(col.Expr, in)
		if err != nil {
			return nil, err
		}
		exprs[i] = e
	}
	return operators.NewProject(exprs, t.p.schemas[step.ID].Names(), next, t.p.mem)
}

func (t *task) buildJoin(step *spec.Step, next operators.Operator, c *chain) (operators.Operator, error) {
	left := t.p.schemas[step.Inputs[0]]
	right := t.p.schemas[step.Inputs[1]]
	out := t.p.schemas[step.ID]
	j, err := operators.NewHashJoin(step.Join, left, right, out, next, t.p.mem)
	if err != nil {
		return nil, err
	}
	c.join = j
	return j, nil
}

// buildLimit builds a limit, or the top-N it fuses into with the sort it
// reads. A partial one (each producer's, before the global edge) keeps
// the offset's rows too and skips none: only the final skips the offset.
func (t *task) buildLimit(op plan.Op, step *spec.Step, in spec.Schema, next operators.Operator) (operators.Operator, error) {
	n, offset := step.Limit.N, step.Limit.Offset
	if op.Role == plan.Partial {
		n, offset = step.Limit.Keep(), 0
	}
	if op.TopN { // fused with the sort it reads
		sort := t.p.cfg.Job.Step(step.Inputs[0])
		return operators.NewTopN(in, sort.Sort.Keys, n, offset, next, t.p.mem)
	}
	return operators.NewLimitOffset(n, offset, next), nil
}

func aggMode(r plan.Role) operators.AggMode {
	switch r {
	case plan.Partial:
		return operators.AggPartial
	case plan.Final:
		return operators.AggFinal
	}
	return operators.AggWhole
}
