package plan

import (
	"fmt"

	"github.com/batchrun/batchrun/jobs/spec"
)

// Projection is projection pushdown for a job: which columns each read
// must emit because some later step uses them, and the output schema of
// every step when the reads emit only those. A scan then skips the other
// columns of its files (CSV and JSON lines do not convert them, Parquet
// does not read their column chunks), and fewer columns cross the
// exchanges behind it.
type Projection struct {
	// Reads maps each read step id to the columns it emits: a non-empty
	// subset of its declared schema, in the schema's order.
	Reads map[string]spec.Schema
	// Selects maps each select step that computes columns no one reads to
	// the columns it computes: the others, in order (at least one).
	Selects map[string][]spec.NamedExpr
	// Filters maps each filter whose predicate reads columns no later step
	// uses to the columns it emits (spec.FilterStep.Keep), so that those
	// do not cross the exchanges after it.
	Filters map[string][]string
	// Schemas maps every step id to its output schema with the pruned
	// reads, selects and filters: what spec.Resolve derives from them. Aggregates
	// (whose output the spec fixes) and everything needing all of its
	// input (write, union) keep their schema; the others lose the columns
	// no one reads.
	Schemas map[string]spec.Schema
}

// Pruned reports whether read step id emits fewer columns than it declares.
func (p *Projection) Pruned(job *spec.Job, id string) bool {
	s := job.Step(id)
	return s != nil && s.Read != nil && len(p.Reads[id]) < len(s.Read.Schema)
}

// Project computes the projection of a resolved job (res = spec.Resolve(job),
// after jobs' prepare filled in distinct keys). It is a pure function of
// the job: every process that compiles the same job gets the same schemas,
// so producers and consumers of an exchange agree on them.
//
// A step's inputs must supply the columns its own logic reads (filter
// predicates, select expressions, aggregate keys and arguments, join keys
// and residual conditions, sort, distinct and repartition keys, the
// exploded column, a window's partition and order keys and function
// arguments) and, for the steps that pass their input's columns through
// (filter, sort, limit, distinct, repartition, explode, join, window),
// whichever of those columns its consumers need. A write needs every column of its input, and so does a
// union: its inputs must keep identical schemas, which pruning each of
// them by what they pass through would not guarantee. A read that no one
// needs any column of (a count(*)) still emits its first column, so that
// its batches have a column to carry their row count.
func Project(job *spec.Job, res *spec.Resolved) (*Projection, error) {
	need, err := neededColumns(job, res)
	if err != nil {
		return nil, err
	}
	p := &Projection{Reads: map[string]spec.Schema{}, Selects: map[string][]spec.NamedExpr{}, Filters: map[string][]string{}}
	pruned := *job
	pruned.Steps = make([]*spec.Step, len(job.Steps))
	for i, s := range job.Steps {
		pruned.Steps[i] = s
		switch {
		case s.Kind == spec.KindRead && s.Read != nil:
			cols := keepColumns(s.Read.Schema, need[s.ID])
			p.Reads[s.ID] = cols
			step, read := *s, *s.Read
			read.Schema = cols
			step.Read = &read
			pruned.Steps[i] = &step
		case s.Kind == spec.KindFilter && s.Filter != nil:
			keep := keptFilter(s, need, res.Schemas)
			if keep == nil {
				continue
			}
			p.Filters[s.ID] = keep
			step, f := *s, *s.Filter
			f.Keep = keep
			step.Filter = &f
			pruned.Steps[i] = &step
		case s.Kind == spec.KindSelect && s.Select != nil:
			kept := keptSelect(s, need[s.ID], res.Schemas)
			if len(kept) == len(s.Select.Columns) {
				continue
			}
			p.Selects[s.ID] = kept
			step, sel := *s, *s.Select
			sel.Columns = kept
			step.Select = &sel
			pruned.Steps[i] = &step
		}
	}
	pres, err := spec.Resolve(&pruned)
	if err != nil {
		// Removing columns no one reads cannot break a valid job; if it
		// does, the analysis missed a use.
		return nil, fmt.Errorf("plan: projection of job %s does not resolve: %w", job.Name, err)
	}
	p.Schemas = pres.Schemas
	return p, nil
}

// keepColumns is schema restricted to the names in keep, in schema order;
// its first column when keep names none of them.
func keepColumns(schema spec.Schema, keep colSet) spec.Schema {
	var out spec.Schema
	for _, f := range schema {
		if keep[f.Name] {
			out = append(out, f)
		}
	}
	if len(out) == 0 && len(schema) > 0 {
		out = spec.Schema{schema[0]}
	}
	return out
}

// colSet is a set of column names.
type colSet map[string]bool

func (c colSet) add(names ...string) {
	for _, n := range names {
		c[n] = true
	}
}

// neededColumns returns, for every step, the columns of its output that
// the steps reading it use. Steps are visited consumers first (res.Order
// reversed), so a step's set is complete before it passes needs on to its
// inputs.
func neededColumns(job *spec.Job, res *spec.Resolved) (map[string]colSet, error) {
	need := make(map[string]colSet, len(res.Order))
	for _, s := range res.Order {
		need[s.ID] = colSet{}
	}
	for i := len(res.Order) - 1; i >= 0; i-- {
		s := res.Order[i]
		ins := make([]colSet, len(s.Inputs))
		for k, id := range s.Inputs {
			if need[id] == nil {
				return nil, fmt.Errorf("plan: step %q: input %q is not resolved", s.ID, id)
			}
			ins[k] = need[id]
		}
		if err := passNeeds(s, need[s.ID], ins, res.Schemas); err != nil {
			return nil, fmt.Errorf("plan: step %q: %w", s.ID, err)
		}
	}
	return need, nil
}

// passNeeds adds to ins (one set per input of s) the input columns that s
// uses, given out, the columns of s's output its consumers use.
func passNeeds(s *spec.Step, out colSet, ins []colSet, schemas map[string]spec.Schema) error {
	all := func(k int) { ins[k].add(schemas[s.Inputs[k]].Names()...) }
	through := func(k int) {
		for n := range out {
			ins[k][n] = true
		}
	}
	switch s.Kind {
	case spec.KindRead:
	case spec.KindWrite:
		all(0)
	case spec.KindUnion:
		for k := range ins {
			all(k)
		}
	case spec.KindFilter:
		through(0)
		return addExprColumns(ins[0], s.Filter.Predicate)
	case spec.KindSelect:
		for _, c := range keptSelect(s, out, schemas) {
			if err := addExprColumns(ins[0], c.Expr); err != nil {
				return err
			}
		}
	case spec.KindAggregate:
		ins[0].add(s.Aggregate.Keys...)
		for _, g := range s.Aggregate.Aggs {
			if g.Arg != "" {
				ins[0].add(g.Arg)
			}
		}
	case spec.KindJoin:
		joinNeeds(s, out, ins, schemas)
	case spec.KindSort:
		through(0)
		for _, k := range s.Sort.Keys {
			ins[0].add(k.Column)
		}
	case spec.KindLimit:
		through(0)
	case spec.KindDistinct:
		through(0)
		ins[0].add(s.Distinct.Keys...)
	case spec.KindRepartition:
		through(0)
		ins[0].add(s.Repartition.Keys...)
	case spec.KindExplode:
		explodeNeeds(s.Explode, out, ins[0])
	case spec.KindWindow:
		windowNeeds(s.Window, out, ins[0], schemas[s.Inputs[0]])
	default:
		return fmt.Errorf("no column analysis for %s steps", s.Kind)
	}
	return nil
}

// keptSelect returns the columns of select step s that its consumers use
// (out), in order; its first column when they use none, so that its
// batches still carry their row count.
func keptSelect(s *spec.Step, out colSet, schemas map[string]spec.Schema) []spec.NamedExpr {
	names := schemas[s.ID]
	var kept []spec.NamedExpr
	for i, c := range s.Select.Columns {
		if i < len(names) && out[names[i].Name] {
			kept = append(kept, c)
		}
	}
	if len(kept) == 0 && len(s.Select.Columns) > 0 {
		kept = s.Select.Columns[:1]
	}
	return kept
}

// keptFilter returns the columns filter step s emits when it drops the
// ones only its predicate reads: those of its input its consumers use, in
// input order; nil when it drops none (or its consumers use none: a batch
// keeps a column to carry its row count).
func keptFilter(s *spec.Step, need map[string]colSet, schemas map[string]spec.Schema) []string {
	out, in := need[s.ID], need[s.Inputs[0]]
	if len(out) == 0 || len(out) == len(in) {
		return nil
	}
	var keep []string
	for _, f := range schemas[s.Inputs[0]] {
		if out[f.Name] {
			keep = append(keep, f.Name)
		}
	}
	return keep
}

// joinNeeds: each side supplies its keys, the columns of the residual
// condition it has (a name both have is a USING key, which the left side
// supplies) and the output columns it contributes (a right key equal by
// name to its left key is folded into the left column, so the left side
// supplies that one).
func joinNeeds(s *spec.Step, out colSet, ins []colSet, schemas map[string]spec.Schema) {
	j := s.Join
	left, right := schemas[s.Inputs[0]], schemas[s.Inputs[1]]
	ins[0].add(j.LeftKeys...)
	ins[1].add(j.RightKeys...)
	for _, n := range spec.ExprColumns(j.Where) {
		switch {
		case left.Index(n) >= 0:
			ins[0][n] = true
		case right.Index(n) >= 0:
			ins[1][n] = true
		}
	}
	for n := range out {
		switch {
		case left.Index(n) >= 0:
			ins[0][n] = true
		case right.Index(n) >= 0 && !j.Type.LeftOnly():
			ins[1][n] = true
		}
	}
}

// explodeNeeds: the exploded column is always read (it decides how many
// rows come out), under its input name; the others pass through.
func explodeNeeds(e *spec.ExplodeStep, out, in colSet) {
	as := e.As
	if as == "" {
		as = e.Column
	}
	for n := range out {
		if n != as {
			in[n] = true
		}
	}
	in.add(e.Column)
}

// windowNeeds: the partition and order keys and the functions' arguments
// are read; of its consumers' columns, those of the input pass through
// (the functions' columns are computed, not read).
func windowNeeds(w *spec.WindowStep, out, in colSet, inSchema spec.Schema) {
	for n := range out {
		if inSchema.Index(n) >= 0 {
			in[n] = true
		}
	}
	in.add(w.PartitionBy...)
	for _, k := range w.OrderBy {
		in.add(k.Column)
	}
	for _, f := range w.Funcs {
		if f.Arg != "" {
			in.add(f.Arg)
		}
	}
}

// addExprColumns adds every column e references.
func addExprColumns(set colSet, e spec.Expr) error {
	return spec.ColumnRefs(e, func(name string) { set[name] = true })
}
