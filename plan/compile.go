package plan

import (
	"fmt"

	"github.com/batchrun/batchrun/jobs/spec"
)

// Compile chains the steps of a validated job into stages and chooses the
// exchanges between them. Stages are numbered in topological order (ties
// follow spec step order) and edges in the order they are created, so the
// same job always compiles to the same graph.
//
// The rules, per step kind (p = the step's parallelism: Step.Parallelism,
// else Job.Parallelism, at least 1):
//   - read heads a stage.
//   - filter, select: p is the step's own parallelism, else the input's (not
//     the job's: a filter after a sort stays at parallelism 1 and keeps the
//     order). They chain onto their input's stage when the exchange is
//     forward (equal parallelism) and the input has no other consumer; else a
//     forward or, when parallelism differs, a rebalance edge.
//   - aggregate: a partial aggregate chained onto the input's stage, a hash
//     edge on the group keys (global edge with no keys, then p = 1) and a
//     final aggregate heading a new stage.
//   - join: a new stage; port 0 is the left (probe) input, port 1 the right
//     (build) input. Both hash on their keys, or with Broadcast (always
//     for a join without keys) the right side is broadcast and the left
//     side forward (rebalance if parallelism differs), or the join chains
//     onto the left side's stage (see chainsProbe).
//   - sort: a partial (local) sort chained, a global edge, a final merge at
//     parallelism 1. A sort whose only consumer is a limit is fused into
//     it (a top-N, see topN) and gets no op of its own.
//   - limit: like sort, except that over a chainable input stage of
//     parallelism 1 the whole limit is chained.
//   - union: a new stage, one port per input, each forward or rebalance.
//     A union with Distinct hashes every input on the distinct keys
//     instead, and its op dedups (equal keys meet in one subtask).
//   - distinct: like an aggregate keyed on its keys (which must be set:
//     jobs.Compile fills in all columns for SQL DISTINCT).
//   - explode: like filter and select (row by row).
//   - window: no partial (a partition's rows must meet in one subtask
//     before any is computed): a hash edge on the partition keys carries
//     the rows to a whole window op, which sorts and evaluates them; a
//     global edge into parallelism 1 without partition keys.
//   - aggregate with a count_distinct: no partial (its state does not
//     merge): a hash edge carries the raw rows to a whole aggregate.
//   - repartition: an edge with the step's partitioner into a new stage
//     holding a pass-through.
//   - write: p defaults to 1 (not to the job's parallelism); chained when
//     forward, else global into parallelism 1, else rebalance.
//
// A partial op can only chain when its input step has no other consumer
// (a stage's chain does not fork); otherwise the step is not split: the
// exchange feeds a new stage whose head op plays the Whole role.
//
// An edge's mode is the job's global mode unless the consuming step sets
// Exchange, which then applies to every input edge that step creates.
//
// Compile returns an error, never panics, on a job that is not well formed
// (unknown or missing inputs, a cycle, duplicate ids, wrong input counts, a
// step missing its kind's fields).
func Compile(job *spec.Job) (*StageGraph, error) {
	if job == nil {
		return nil, fmt.Errorf("plan: nil job")
	}
	order, err := topoSteps(job)
	if err != nil {
		return nil, err
	}
	c := &compiler{
		job:       job,
		g:         &StageGraph{Job: job},
		consumers: make(map[string]int, len(job.Steps)),
		out:       make(map[string]StageID, len(job.Steps)),
	}
	for _, s := range job.Steps {
		for _, in := range s.Inputs {
			c.consumers[in]++
		}
	}
	c.fused = fusedTopN(job, c.consumers)
	for _, s := range order {
		if err := c.step(s); err != nil {
			return nil, err
		}
	}
	renumberStages(c.g)
	return c.g, nil
}

// renumberStages renumbers stages in topological order (ties keep their
// creation order). Only a chained broadcast join can break the order that
// creation gives: its build side may be a stage created after the probe's.
func renumberStages(g *StageGraph) {
	n := len(g.Stages)
	indeg := make([]int, n)
	for _, e := range g.Edges {
		indeg[e.To]++
	}
	newID := make([]StageID, n)
	placed := make([]bool, n)
	for next := 0; next < n; next++ {
		for i := range n {
			if !placed[i] && indeg[i] == 0 {
				placed[i], newID[i] = true, StageID(next)
				for _, eid := range g.Stages[i].Outputs {
					indeg[g.Edges[eid].To]--
				}
				break
			}
		}
	}
	stages := make([]*Stage, n)
	for i, st := range g.Stages {
		st.ID = newID[i]
		stages[newID[i]] = st
	}
	g.Stages = stages
	for _, e := range g.Edges {
		e.From, e.To = newID[e.From], newID[e.To]
	}
}

// stepError is an error about one step, wrapped with the package name.
func stepError(job *spec.Job, s *spec.Step, format string, args ...any) error {
	return fmt.Errorf("plan: %w", spec.StepErrorf(job, s, format, args...))
}

// topoSteps orders the steps so that every step follows its inputs; among
// steps that are ready together, the one earlier in the spec goes first.
func topoSteps(job *spec.Job) ([]*spec.Step, error) {
	index := make(map[string]int, len(job.Steps))
	for i, s := range job.Steps {
		if s == nil {
			return nil, fmt.Errorf("plan: step %d is nil", i)
		}
		if _, dup := index[s.ID]; dup {
			return nil, stepError(job, s, "duplicate step id")
		}
		index[s.ID] = i
	}
	pending := make([]int, len(job.Steps)) // inputs not yet placed
	users := make([][]int, len(job.Steps)) // steps that read step i
	for i, s := range job.Steps {
		for _, in := range s.Inputs {
			j, ok := index[in]
			if !ok {
				return nil, stepError(job, s, "unknown input %q", in)
			}
			pending[i]++
			users[j] = append(users[j], i)
		}
	}
	done := make([]bool, len(job.Steps))
	order := make([]*spec.Step, 0, len(job.Steps))
	for len(order) < len(job.Steps) {
		next := -1
		for i := range job.Steps {
			if !done[i] && pending[i] == 0 {
				next = i
				break
			}
		}
		if next < 0 {
			return nil, fmt.Errorf("plan: steps form a cycle")
		}
		done[next] = true
		order = append(order, job.Steps[next])
		for _, u := range users[next] {
			pending[u]--
		}
	}
	return order, nil
}

// compiler holds the graph under construction.
type compiler struct {
	job *spec.Job
	g   *StageGraph
	// consumers counts, per step id, the input references to it (a step
	// that lists the same input twice counts twice).
	consumers map[string]int
	// out is, per compiled step, the stage whose last op produces the
	// step's output.
	out map[string]StageID
	// fused maps a limit step to the sort step it reads when the two
	// compile into one top-N.
	fused map[string]*spec.Step
}

// step compiles one step whose inputs are all compiled.
func (c *compiler) step(s *spec.Step) error {
	switch s.Kind {
	case spec.KindRead:
		return c.read(s)
	case spec.KindFilter, spec.KindSelect:
		return c.forward(s)
	case spec.KindAggregate:
		return c.aggregate(s)
	case spec.KindJoin:
		return c.join(s)
	case spec.KindSort:
		return c.sort(s)
	case spec.KindLimit:
		return c.limit(s)
	case spec.KindUnion:
		return c.union(s)
	case spec.KindRepartition:
		return c.repartition(s)
	case spec.KindWrite:
		return c.write(s)
	case spec.KindDistinct:
		return c.distinct(s)
	case spec.KindExplode:
		return c.forward(s)
	case spec.KindWindow:
		return c.window(s)
	}
	return stepError(c.job, s, "unknown step kind %v", s.Kind)
}

// parallelism is the step's parallelism: its own, else the job's, at least 1.
func (c *compiler) parallelism(s *spec.Step) int {
	p := s.Parallelism
	if p < 1 {
		p = c.job.Parallelism
	}
	return max(p, 1)
}

// mode is the mode of the input edges step s creates.
func (c *compiler) mode(s *spec.Step) Mode {
	switch s.Exchange {
	case spec.ModePipelined:
		return Pipelined
	case spec.ModeBlocking:
		return Blocking
	}
	if c.job.Mode == spec.AllPipelined {
		return Pipelined
	}
	return Blocking
}

// input returns the stage producing step s's only input.
func (c *compiler) input(s *spec.Step) (*Stage, error) {
	if len(s.Inputs) != 1 {
		return nil, stepError(c.job, s, "%v takes 1 input, has %d", s.Kind, len(s.Inputs))
	}
	return c.g.Stages[c.out[s.Inputs[0]]], nil
}

// chainable reports whether step s, with a single input, may append an op
// to its input's stage: the input has no other consumer, so its op is
// still the last of its stage.
func (c *compiler) chainable(s *spec.Step) bool {
	return len(s.Inputs) == 1 && c.consumers[s.Inputs[0]] == 1
}

// newStage appends a stage headed by op, producing step's output.
func (c *compiler) newStage(op Op, parallelism int) *Stage {
	st := &Stage{
		ID:          StageID(len(c.g.Stages)),
		Name:        op.Step,
		Parallelism: parallelism,
		Ops:         []Op{op},
	}
	c.g.Stages = append(c.g.Stages, st)
	c.out[op.Step] = st.ID
	return st
}

// chain appends op to stage st, which then produces op's step's output.
func (c *compiler) chain(st *Stage, op Op) {
	st.Ops = append(st.Ops, op)
	c.out[op.Step] = st.ID
}

// connect adds an edge from stage from into the next input port of to.
func (c *compiler) connect(from, to *Stage, p Partitioner, keys []string, m Mode) {
	e := &Edge{
		ID:          EdgeID(len(c.g.Edges)),
		From:        from.ID,
		To:          to.ID,
		Port:        len(to.Inputs),
		Partitioner: p,
		Keys:        append([]string(nil), keys...),
		Mode:        m,
	}
	c.g.Edges = append(c.g.Edges, e)
	from.Outputs = append(from.Outputs, e.ID)
	to.Inputs = append(to.Inputs, e.ID)
}

// forwardOrRebalance is the partitioner of an edge that only moves rows
// between subtasks: forward when parallelism matches, else rebalance.
func forwardOrRebalance(from *Stage, parallelism int) Partitioner {
	if from.Parallelism == parallelism {
		return Forward
	}
	return Rebalance
}

func (c *compiler) read(s *spec.Step) error {
	if len(s.Inputs) != 0 {
		return stepError(c.job, s, "read takes no input, has %d", len(s.Inputs))
	}
	c.newStage(Op{Step: s.ID}, c.parallelism(s))
	return nil
}

// forward compiles a row-at-a-time step (filter, select).
func (c *compiler) forward(s *spec.Step) error {
	in, err := c.input(s)
	if err != nil {
		return err
	}
	p := in.Parallelism
	if s.Parallelism > 0 {
		p = s.Parallelism
	}
	c.forwardTo(s, in, p)
	return nil
}

// forwardTo chains a whole step s onto in when the exchange would be
// forward and chaining is allowed, else starts a new stage behind a
// forward or rebalance edge.
func (c *compiler) forwardTo(s *spec.Step, in *Stage, parallelism int) {
	op := Op{Step: s.ID}
	if in.Parallelism == parallelism && c.chainable(s) {
		c.chain(in, op)
		return
	}
	st := c.newStage(op, parallelism)
	c.connect(in, st, forwardOrRebalance(in, parallelism), nil, c.mode(s))
}

// split compiles a step that runs in two halves around an exchange: a
// partial op chained onto the input's stage and a final op heading a new
// stage behind an edge with partitioner p. When the partial cannot chain,
// the exchange carries the input rows to a Whole op instead.
func (c *compiler) split(s *spec.Step, in *Stage, p Partitioner, keys []string, parallelism int) {
	head := Op{Step: s.ID, Role: Whole}
	if c.chainable(s) {
		c.chain(in, Op{Step: s.ID, Role: Partial})
		head.Role = Final
	}
	st := c.newStage(head, parallelism)
	c.connect(in, st, p, keys, c.mode(s))
}

func (c *compiler) aggregate(s *spec.Step) error {
	in, err := c.input(s)
	if err != nil {
		return err
	}
	if s.Aggregate == nil {
		return stepError(c.job, s, "aggregate step without its aggregate fields")
	}
	if hasCountDistinct(s.Aggregate) {
		c.whole(s, in, s.Aggregate.Keys)
		return nil
	}
	if len(s.Aggregate.Keys) == 0 {
		c.split(s, in, Global, nil, 1)
		return nil
	}
	c.split(s, in, Hash, s.Aggregate.Keys, c.parallelism(s))
	return nil
}

func (c *compiler) sort(s *spec.Step) error {
	in, err := c.input(s)
	if err != nil {
		return err
	}
	if c.isFused(s) {
		c.out[s.ID] = in.ID // the limit reads the unsorted input
		return nil
	}
	c.split(s, in, Global, nil, 1)
	return nil
}

func (c *compiler) limit(s *spec.Step) error {
	in, err := c.input(s)
	if err != nil {
		return err
	}
	if sort := c.fused[s.ID]; sort != nil {
		c.topN(s, sort, in)
		return nil
	}
	if in.Parallelism == 1 && c.chainable(s) {
		c.chain(in, Op{Step: s.ID})
		return nil
	}
	c.split(s, in, Global, nil, 1)
	return nil
}

func (c *compiler) join(s *spec.Step) error {
	if len(s.Inputs) != 2 {
		return stepError(c.job, s, "join takes 2 inputs, has %d", len(s.Inputs))
	}
	if s.Join == nil {
		return stepError(c.job, s, "join step without its join fields")
	}
	left := c.g.Stages[c.out[s.Inputs[0]]]
	right := c.g.Stages[c.out[s.Inputs[1]]]
	p, m := c.parallelism(s), c.mode(s)
	// A join without keys has nothing to hash on: it always broadcasts.
	broadcast := s.Join.Broadcast || s.Join.Keyless()
	if broadcast && c.chainsProbe(s, left, p) {
		// The probe side needs no exchange: the join runs in the probe's
		// stage, and only the (small) build side crosses one.
		c.chain(left, Op{Step: s.ID})
		c.connect(right, left, Broadcast, nil, m)
		c.g.Edges[len(c.g.Edges)-1].Op = len(left.Ops) - 1
		return nil
	}
	st := c.newStage(Op{Step: s.ID}, p)
	if broadcast {
		c.connect(left, st, forwardOrRebalance(left, p), nil, m)
		c.connect(right, st, Broadcast, nil, m)
		return nil
	}
	c.connect(left, st, Hash, s.Join.LeftKeys, m)
	c.connect(right, st, Hash, s.Join.RightKeys, m)
	return nil
}

// chainsProbe reports whether broadcast join s can run in its left
// input's stage: same parallelism, the left input has no other consumer
// and ends that stage, and the stage holds no join yet. A subtask runs at
// most one join: it reads that join's build side to the end before
// anything else flows, whether the build is a side input (a chained
// broadcast join) or the stage's own second input (a join heading it).
func (c *compiler) chainsProbe(s *spec.Step, left *Stage, p int) bool {
	if left.Parallelism != p || c.consumers[s.Inputs[0]] != 1 {
		return false
	}
	if left.Ops[len(left.Ops)-1].Step != s.Inputs[0] {
		return false
	}
	for _, op := range left.Ops {
		if c.job.Step(op.Step).Kind == spec.KindJoin {
			return false
		}
	}
	return true
}

func (c *compiler) union(s *spec.Step) error {
	if len(s.Inputs) == 0 {
		return stepError(c.job, s, "union takes at least 1 input, has 0")
	}
	p, m := c.parallelism(s), c.mode(s)
	ins := make([]*Stage, len(s.Inputs))
	for i, id := range s.Inputs {
		ins[i] = c.g.Stages[c.out[id]]
	}
	st := c.newStage(Op{Step: s.ID}, p)
	if s.Union != nil && s.Union.Distinct != nil {
		keys := s.Union.Distinct.Keys
		if len(keys) == 0 {
			return stepError(c.job, s, "union distinct has no keys")
		}
		for _, in := range ins {
			c.connect(in, st, Hash, keys, m)
		}
		return nil
	}
	for _, in := range ins {
		c.connect(in, st, forwardOrRebalance(in, p), nil, m)
	}
	return nil
}

func (c *compiler) repartition(s *spec.Step) error {
	in, err := c.input(s)
	if err != nil {
		return err
	}
	if s.Repartition == nil {
		return stepError(c.job, s, "repartition step without its repartition fields")
	}
	var p Partitioner
	var keys []string
	switch s.Repartition.By {
	case spec.PartitionHash:
		p, keys = Hash, s.Repartition.Keys
	case spec.PartitionRebalance:
		p = Rebalance
	case spec.PartitionRandom:
		p = Random
	case spec.PartitionBroadcast:
		p = Broadcast
	default:
		return stepError(c.job, s, "unknown partitioning %d", s.Repartition.By)
	}
	st := c.newStage(Op{Step: s.ID}, c.parallelism(s))
	c.connect(in, st, p, keys, c.mode(s))
	return nil
}

func (c *compiler) write(s *spec.Step) error {
	in, err := c.input(s)
	if err != nil {
		return err
	}
	p := max(s.Parallelism, 1)
	if p == 1 && in.Parallelism != 1 {
		st := c.newStage(Op{Step: s.ID}, 1)
		c.connect(in, st, Global, nil, c.mode(s))
		return nil
	}
	c.forwardTo(s, in, p)
	return nil
}
