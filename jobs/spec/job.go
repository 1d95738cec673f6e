package spec

import "fmt"

// Kind is the relational operation a step performs.
type Kind uint8

const (
	KindRead Kind = iota
	KindFilter
	KindSelect
	KindAggregate
	KindJoin
	KindSort
	KindLimit
	KindUnion
	KindRepartition
	KindWrite
)

var kindNames = [...]string{
	KindRead: "read", KindFilter: "filter", KindSelect: "select",
	KindAggregate: "aggregate", KindJoin: "join", KindSort: "sort",
	KindLimit: "limit", KindUnion: "union", KindRepartition: "repartition",
	KindWrite: "write",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// ParseKind maps a spec's step kind name to a Kind.
func ParseKind(s string) (Kind, bool) {
	for k, name := range kindNames {
		if name == s {
			return Kind(k), true
		}
	}
	return 0, false
}

// ExchangeMode says how data crosses an exchange: pipelined (producer and
// consumer run together, in memory) or blocking (the producer's output is
// committed to the store before the consumer starts).
type ExchangeMode uint8

const (
	// ModeDefault defers to the job's global exchange mode.
	ModeDefault ExchangeMode = iota
	ModePipelined
	ModeBlocking
)

func (m ExchangeMode) String() string {
	switch m {
	case ModePipelined:
		return "pipelined"
	case ModeBlocking:
		return "blocking"
	}
	return "default"
}

// GlobalMode is the job-wide exchange mode, as Flink's batch
// execution.batch-shuffle-mode.
type GlobalMode uint8

const (
	// AllBlocking makes every exchange blocking (the default).
	AllBlocking GlobalMode = iota
	// AllPipelined makes every exchange pipelined.
	AllPipelined
)

func (g GlobalMode) String() string {
	if g == AllPipelined {
		return "all-pipelined"
	}
	return "all-blocking"
}

// Partitioning is how a repartition step distributes rows.
type Partitioning uint8

const (
	PartitionHash Partitioning = iota
	PartitionRebalance
	PartitionRandom
	PartitionBroadcast
)

var partitioningNames = [...]string{"hash", "rebalance", "random", "broadcast"}

func (p Partitioning) String() string { return partitioningNames[p] }

// ParsePartitioning maps "hash", "rebalance", "random" or "broadcast".
func ParsePartitioning(s string) (Partitioning, bool) {
	for i, n := range partitioningNames {
		if n == s {
			return Partitioning(i), true
		}
	}
	return 0, false
}

// JoinType is the SQL join type.
type JoinType uint8

const (
	InnerJoin JoinType = iota
	LeftJoin
)

func (j JoinType) String() string {
	if j == LeftJoin {
		return "left"
	}
	return "inner"
}

// AggFunc is an aggregate function.
type AggFunc uint8

const (
	AggCount AggFunc = iota // count(*) when Arg is empty, else count(col)
	AggSum
	AggMin
	AggMax
	AggAvg
)

var aggNames = [...]string{"count", "sum", "min", "max", "avg"}

func (a AggFunc) String() string { return aggNames[a] }

// ParseAggFunc maps an aggregate function name.
func ParseAggFunc(s string) (AggFunc, bool) {
	for i, n := range aggNames {
		if n == s {
			return AggFunc(i), true
		}
	}
	return 0, false
}

// Job is a logical job: a DAG of steps.
type Job struct {
	Name string
	// Parallelism is the default parallelism of steps that set none; 0
	// means the runner decides (jobs.Compile sets the default).
	Parallelism int
	Mode        GlobalMode
	// Steps in spec order. Ids are unique.
	Steps []*Step
	// File is the spec file the job was loaded from, for errors.
	File string
}

// Step is one node of the job DAG. Only the fields of its Kind are set.
type Step struct {
	ID     string
	Kind   Kind
	Inputs []string
	// Parallelism overrides the job's; 0 means inherit.
	Parallelism int
	// Exchange overrides the global mode on this step's input exchanges.
	Exchange ExchangeMode
	// Line is the step's line in its YAML file; 0 when built in Go.
	Line int

	Read        *ReadStep
	Filter      *FilterStep
	Select      *SelectStep
	Aggregate   *AggregateStep
	Join        *JoinStep
	Sort        *SortStep
	Limit       *LimitStep
	Union       *UnionStep
	Repartition *RepartitionStep
	Write       *WriteStep
}

// ReadStep reads a CSV file with a header row.
type ReadStep struct {
	Path string
	// Schema, when set, is the explicit schema; when nil the schema is
	// inferred from the header and a sample of rows by the loader.
	Schema    Schema
	Delimiter byte // 0 means ','
}

// FilterStep keeps rows where Predicate is true (NULL drops the row).
type FilterStep struct {
	Predicate Expr
}

// NamedExpr is an expression with its output column name.
type NamedExpr struct {
	Expr  Expr
	Alias string
}

// SelectStep computes a new set of columns.
type SelectStep struct {
	Columns []NamedExpr
}

// Agg is one aggregate output column.
type Agg struct {
	Func AggFunc
	// Arg is the input column; empty for count(*).
	Arg   string
	Alias string
}

// AggregateStep groups by Keys and computes Aggs.
type AggregateStep struct {
	Keys []string
	Aggs []Agg
}

// JoinStep joins Inputs[0] (left, probe side) with Inputs[1] (right, build
// side) on LeftKeys[i] = RightKeys[i].
type JoinStep struct {
	Type      JoinType
	LeftKeys  []string
	RightKeys []string
	// Broadcast ships the right side whole to every join subtask instead of
	// hash-partitioning both sides.
	Broadcast bool
}

// SortKey is one sort column.
type SortKey struct {
	Column string
	Desc   bool
}

// SortStep sorts its input globally.
type SortStep struct {
	Keys []SortKey
}

// LimitStep keeps the first N rows of its input.
type LimitStep struct {
	N int64
}

// UnionStep concatenates its inputs (UNION ALL); schemas must match.
type UnionStep struct{}

// RepartitionStep redistributes rows across Parallelism subtasks.
type RepartitionStep struct {
	By   Partitioning
	Keys []string // for PartitionHash
}

// WriteStep writes its input as CSV with a header. With parallelism 1 the
// output is the single file Path; otherwise Path is a directory of
// part-NNNNN.csv files.
type WriteStep struct {
	Path string
}

// Step returns the step with the given id, or nil.
func (j *Job) Step(id string) *Step {
	for _, s := range j.Steps {
		if s.ID == id {
			return s
		}
	}
	return nil
}
