package plan

import "github.com/batchrun/batchrun/jobs/spec"

// MaxTopN is the most rows a fused top-N keeps (limit + offset): a top-N
// holds its rows in memory, where a sort spills, so a larger limit (SQL's
// OFFSET without LIMIT keeps every row) stays a sort and a limit.
const MaxTopN = 1 << 20

// fusedTopN finds the limit steps that fuse with the sort they read into
// a top-N: the limit's only input is a sort whose only consumer is that
// limit. The sort then compiles to nothing and the limit keeps the first
// N rows in sort order on each producer (partial) and again after a global
// edge (final), so no subtask ever sorts more than N + a batch of rows.
func fusedTopN(job *spec.Job, consumers map[string]int) map[string]*spec.Step {
	fused := map[string]*spec.Step{}
	for _, s := range job.Steps {
		if s == nil || s.Kind != spec.KindLimit || len(s.Inputs) != 1 || s.Limit == nil || s.Limit.Keep() > MaxTopN {
			continue
		}
		in := job.Step(s.Inputs[0])
		if in != nil && in.Kind == spec.KindSort && in.Sort != nil && len(in.Inputs) == 1 && consumers[in.ID] == 1 {
			fused[s.ID] = in
		}
	}
	return fused
}

// isFused reports whether sort step s is fused into a top-N.
func (c *compiler) isFused(s *spec.Step) bool {
	for _, sort := range c.fused {
		if sort == s {
			return true
		}
	}
	return false
}

// topN compiles limit step s fused with its input sort step sort; in is
// the stage producing the sort's input. Over a chainable input of
// parallelism 1 the whole top-N chains; otherwise a partial top-N chains
// onto in (when the sort was its input's only consumer), a global edge
// follows, and a final top-N runs at parallelism 1. The edges take the
// limit's exchange mode, else the sort's.
func (c *compiler) topN(s, sort *spec.Step, in *Stage) {
	m := c.mode(sort)
	if s.Exchange != spec.ModeDefault {
		m = c.mode(s)
	}
	chainable := c.consumers[sort.Inputs[0]] == 1
	if in.Parallelism == 1 && chainable {
		c.chain(in, Op{Step: s.ID, TopN: true})
		return
	}
	head := Op{Step: s.ID, Role: Whole, TopN: true}
	if chainable {
		c.chain(in, Op{Step: s.ID, Role: Partial, TopN: true})
		head.Role = Final
	}
	st := c.newStage(head, 1)
	c.connect(in, st, Global, nil, m)
}

// whole compiles step s as one op behind a hash edge on keys (a global
// edge into parallelism 1 without keys): for aggregates whose state does
// not merge, and for windows.
func (c *compiler) whole(s *spec.Step, in *Stage, keys []string) {
	p, part := c.parallelism(s), Hash
	if len(keys) == 0 {
		p, part = 1, Global
	}
	st := c.newStage(Op{Step: s.ID}, p)
	c.connect(in, st, part, keys, c.mode(s))
}

func hasCountDistinct(a *spec.AggregateStep) bool {
	for _, g := range a.Aggs {
		if g.Func == spec.AggCountDistinct {
			return true
		}
	}
	return false
}

// distinct compiles like an aggregate keyed on the distinct keys.
func (c *compiler) distinct(s *spec.Step) error {
	in, err := c.input(s)
	if err != nil {
		return err
	}
	if s.Distinct == nil || len(s.Distinct.Keys) == 0 {
		return stepError(c.job, s, "distinct has no keys (jobs.Compile sets every column)")
	}
	c.split(s, in, Hash, s.Distinct.Keys, c.parallelism(s))
	return nil
}

// window compiles a window step whole behind a hash edge on its partition
// keys: each subtask gets every row of its partitions.
func (c *compiler) window(s *spec.Step) error {
	in, err := c.input(s)
	if err != nil {
		return err
	}
	if s.Window == nil {
		return stepError(c.job, s, "window step without its window fields")
	}
	c.whole(s, in, s.Window.PartitionBy)
	return nil
}
