package plan

import "github.com/batchrun/batchrun/jobs/spec"

// Partitioner is how an exchange routes a producer's rows to consumers.
type Partitioner uint8

const (
	// Forward sends producer i's rows to consumer i (equal parallelism).
	Forward Partitioner = iota
	// Hash routes each row by a hash of its key columns.
	Hash
	// Broadcast sends every row to every consumer.
	Broadcast
	// Rebalance deals batches round robin, starting at a random consumer per
	// attempt (nondeterministic across attempts, as Flink's).
	Rebalance
	// Random sends each row to a random consumer (nondeterministic).
	Random
	// Global sends every row to consumer 0 (the consumer has parallelism 1).
	Global
)

var partitionerNames = [...]string{"forward", "hash", "broadcast", "rebalance", "random", "global"}

func (p Partitioner) String() string { return partitionerNames[p] }

// Deterministic reports whether re-running a producer on the same input
// gives each consumer the same rows in the same order.
func (p Partitioner) Deterministic() bool { return p != Rebalance && p != Random }

// Mode is an exchange's data exchange mode.
type Mode uint8

const (
	Blocking Mode = iota
	Pipelined
)

func (m Mode) String() string {
	if m == Pipelined {
		return "pipelined"
	}
	return "blocking"
}

// Role is the part an operator plays when one step is split across an
// exchange (partial aggregation before the shuffle, final after it).
type Role uint8

const (
	// Whole: the step runs entirely in this operator.
	Whole Role = iota
	// Partial: the producer-side half (partial aggregate, local sort, local limit).
	Partial
	// Final: the consumer-side half (final aggregate, merge of sorted runs, final limit).
	Final
)

var roleNames = [...]string{"whole", "partial", "final"}

func (r Role) String() string { return roleNames[r] }

// Op is one operator of a stage's chain: a step, in a role.
type Op struct {
	Step string
	Role Role
	// TopN marks a limit step fused with the sort step it reads (that sort
	// has no op of its own): the op keeps the first N rows in sort order,
	// a top-N, instead of sorting everything.
	TopN bool
}

// Stage is a chain of operators run by Parallelism subtasks.
type Stage struct {
	ID   StageID
	Name string // id of the head step; subtasks print as Name[i]
	// Parallelism is the number of subtasks (>= 1).
	Parallelism int
	// Ops run in order; the output of one is the input of the next. The first
	// op consumes the stage's inputs (or is a read step, with no inputs).
	Ops []Op
	// Inputs are the edges this stage consumes, by input port: Inputs[p] is
	// port p of the first op (a join's port 0 is the probe/left side, port 1
	// the build/right side).
	Inputs []EdgeID
	// Outputs are the edges fed by the last op's output, each a full copy.
	Outputs []EdgeID
}

// Edge is an exchange between two stages.
type Edge struct {
	ID       EdgeID
	From, To StageID
	Port     int // input port of To
	// Op is the index in To.Ops of the op this edge feeds: 0, the head,
	// except for the build side of a broadcast join chained onto its probe
	// input's stage, which feeds that join op (a side input, read to the
	// end before the stage's main input flows).
	Op          int
	Partitioner Partitioner
	// Keys are the hash key columns (Hash only), names in From's output schema.
	Keys []string
	Mode Mode
}

// Deterministic reports whether the edge replays byte for byte.
func (e *Edge) Deterministic() bool { return e.Partitioner.Deterministic() }

// StageGraph is a compiled job: stages in topological order and the edges
// between them.
type StageGraph struct {
	Job    *spec.Job
	Stages []*Stage // indexed by StageID
	Edges  []*Edge  // indexed by EdgeID
}

// Stage returns the stage with the given id.
func (g *StageGraph) Stage(id StageID) *Stage { return g.Stages[id] }

// Edge returns the edge with the given id.
func (g *StageGraph) Edge(id EdgeID) *Edge { return g.Edges[id] }

// SubtaskName renders a subtask the way users see it: "agg[2]".
func (g *StageGraph) SubtaskName(s SubtaskID) string {
	return g.Stages[s.Stage].Name + "[" + itoa(int(s.Index)) + "]"
}

// PartitionName renders a blocking partition the way users see it: its
// producer and the consuming stage, "events[0]->agg", with the input port
// when the consumer has several ("events[0]->j/1").
func (g *StageGraph) PartitionName(p PartitionID) string {
	e := g.Edges[p.Edge]
	name := g.SubtaskName(SubtaskID{Stage: e.From, Index: p.Producer}) + "->" + g.Stages[e.To].Name
	if len(g.Stages[e.To].Inputs) > 1 {
		name += "/" + itoa(e.Port)
	}
	return name
}

// Subpartitions is the number of parts of each of e's blocking partitions:
// one for a forward edge (producer i's, read by consumer i), else one per
// consumer.
func (g *StageGraph) Subpartitions(e *Edge) int {
	if e.Partitioner == Forward {
		return 1
	}
	return g.Stages[e.To].Parallelism
}

// Subpartition is the part of e's partitions that consumer c reads.
func (e *Edge) Subpartition(c int) int {
	if e.Partitioner == Forward {
		return 0
	}
	return c
}

// Producers returns the producer subtask indexes that consumer subtask c of
// edge e reads from, in the fixed order consumers read them.
func (g *StageGraph) Producers(e *Edge, c int) []int32 {
	if e.Partitioner == Forward {
		return []int32{int32(c)}
	}
	n := g.Stages[e.From].Parallelism
	ps := make([]int32, n)
	for i := range ps {
		ps[i] = int32(i)
	}
	return ps
}

// Consumers returns the consumer subtask indexes that producer subtask p of
// edge e may send rows to.
func (g *StageGraph) Consumers(e *Edge, p int) []int32 {
	switch e.Partitioner {
	case Forward:
		return []int32{int32(p)}
	case Global:
		return []int32{0}
	}
	n := g.Stages[e.To].Parallelism
	cs := make([]int32, n)
	for i := range cs {
		cs[i] = int32(i)
	}
	return cs
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b [20]byte
	n := len(b)
	neg := i < 0
	if neg {
		i = -i
	}
	for i > 0 {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
	}
	if neg {
		n--
		b[n] = '-'
	}
	return string(b[n:])
}

// Region is a set of subtasks connected by pipelined edges, scheduled and
// restarted together.
type Region struct {
	ID       RegionID
	Subtasks []SubtaskID // sorted by (stage, index)
	// Inputs are the blocking result partitions the region consumes, sorted.
	// The region may start once all of them are committed.
	Inputs []PartitionID
}

// Regions is the region partition of a stage graph's subtasks.
type Regions struct {
	List []*Region // indexed by RegionID, in topological order
	// Of maps each subtask to its region.
	Of map[SubtaskID]RegionID
}
