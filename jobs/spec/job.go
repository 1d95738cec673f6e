package spec

import (
	"fmt"
	"math"
)

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
	KindDistinct
	KindExplode
	// KindWindow computes window functions over partitions of its input.
	KindWindow
	// KindSQL is a query over earlier steps. jobs expands it into the
	// steps it compiles to before Resolve; a job with one left is invalid.
	KindSQL
)

var kindNames = [...]string{
	KindRead: "read", KindFilter: "filter", KindSelect: "select",
	KindAggregate: "aggregate", KindJoin: "join", KindSort: "sort",
	KindLimit: "limit", KindUnion: "union", KindRepartition: "repartition",
	KindWrite: "write", KindDistinct: "distinct", KindExplode: "explode",
	KindWindow: "window", KindSQL: "sql",
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
	RightJoin
	FullJoin
	// SemiJoin keeps each left row that has a match, once; left columns only.
	SemiJoin
	// AntiJoin keeps each left row that has no match; left columns only.
	AntiJoin
)

var joinNames = [...]string{"inner", "left", "right", "full", "semi", "anti"}

func (j JoinType) String() string {
	if int(j) < len(joinNames) {
		return joinNames[j]
	}
	return fmt.Sprintf("join(%d)", uint8(j))
}

// ParseJoinType maps "inner", "left", "right", "full", "semi" or "anti".
func ParseJoinType(s string) (JoinType, bool) {
	for i, n := range joinNames {
		if n == s {
			return JoinType(i), true
		}
	}
	return 0, false
}

// LeftOnly reports whether the join outputs the left columns only.
func (j JoinType) LeftOnly() bool { return j == SemiJoin || j == AntiJoin }

// KeepsUnmatchedRight reports whether right rows without a match appear in
// the output (right and full joins), which rules out broadcasting the right.
func (j JoinType) KeepsUnmatchedRight() bool { return j == RightJoin || j == FullJoin }

// AggFunc is an aggregate function.
type AggFunc uint8

const (
	AggCount AggFunc = iota // count(*) when Arg is empty, else count(col)
	AggSum
	AggMin
	AggMax
	AggAvg
	// AggCountDistinct counts the distinct non-null values of Arg. It has
	// no mergeable partial state: the plan runs its aggregate in one stage.
	AggCountDistinct
	// AggFirst is Arg in the first row of its group, in input order (null
	// when that row's value is null).
	AggFirst
	// AggAnyValue is some non-null value of Arg (the first one seen), or
	// null when the group has none.
	AggAnyValue
)

var aggNames = [...]string{"count", "sum", "min", "max", "avg", "count_distinct", "first", "any_value"}

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
	// SQLPlans maps the id of each expanded sql step to its logical plan,
	// for explain.
	SQLPlans map[string]string
	// Unread lists the read steps the loader dropped because no step reads
	// them (tables a query does not use), for explain.
	Unread []string
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
	Distinct    *DistinctStep
	Explode     *ExplodeStep
	Window      *WindowStep
	SQL         *SQLStep
}

// SQLStep is a SQL query whose FROM names earlier steps (a step's id is a
// table). jobs.ExpandSQL replaces the step with the steps the query
// compiles to, the last of them keeping the step's id.
type SQLStep struct {
	Query string
	// QueryLine is the line of the query's first line in the spec file,
	// so that an error inside the query names its line in the file; 0
	// when unknown.
	QueryLine int
}

// ReadStep reads a file, a glob or a directory of files in one format.
type ReadStep struct {
	// Path is a file, a glob ("data/events-*.csv") or a directory (its
	// regular files with the format's extension, sorted by name).
	Path string
	// Schema, when set, is the explicit schema; when nil the schema is
	// inferred from the header and a sample of rows by the loader.
	Schema Schema
	// Format is the file format; FormatAuto takes it from Path's extension.
	Format Format
	// CSV only: Delimiter 0 means ','; Quote 0 means '"'; Header nil
	// means true (without a header the schema is required); a field equal
	// to a non-empty NullString is NULL in every column type.
	Delimiter  byte
	Quote      byte
	Header     *bool
	NullString string
	// OnError is what a malformed row does; Quarantine is the output
	// (file or directory of part files) for OnErrorQuarantine.
	OnError    OnError
	Quarantine string
}

// FilterStep keeps rows where Predicate is true (NULL drops the row).
type FilterStep struct {
	Predicate Expr
	// Keep, when set, names the input columns the filter emits (in input
	// order); the others are dropped. Projection pushdown sets it on a
	// filter whose predicate reads columns no later step uses (plan.Project);
	// specs cannot.
	Keep []string
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
//
// With no keys (Keyless) every left row pairs with every right row (a
// cross join, or a non-equi join through Where): only inner, left, semi
// and anti joins, and the right side is broadcast (Broadcast must be set).
type JoinStep struct {
	Type      JoinType
	LeftKeys  []string
	RightKeys []string
	// Broadcast ships the right side whole to every join subtask instead of
	// hash-partitioning both sides. jobs.Compile also sets it when the right
	// input is a read of a small file (see jobs.BroadcastBelow). Right and
	// full joins cannot broadcast: every subtask would emit the unmatched
	// right rows.
	Broadcast bool
	// BroadcastSet records that the spec said broadcast: true or false,
	// which jobs.Compile then leaves as it is.
	BroadcastSet bool
	// Where, when set, is a residual condition over a pair of rows whose
	// keys are equal: a bool expression over the left columns and the right
	// columns (a name on both sides is ambiguous unless it is a key paired
	// with a left key of the same name). A pair matches only where it is
	// TRUE (NULL is no match): inner joins keep the pairs that pass, left,
	// right and full joins emit a row unmatched when no partner passes, semi
	// keeps a left row with at least one passing partner, anti one with
	// none.
	Where Expr
}

// Keyless reports whether the join has no keys: every left row pairs with
// every right row.
func (j *JoinStep) Keyless() bool { return len(j.LeftKeys) == 0 && len(j.RightKeys) == 0 }

// NullsOrder says where a sort key puts NULLs.
type NullsOrder uint8

const (
	// NullsDefault puts NULLs first ascending and last descending (as if
	// NULL were smaller than every value).
	NullsDefault NullsOrder = iota
	// NullsFirst puts NULLs before every value, in either direction.
	NullsFirst
	// NullsLast puts NULLs after every value, in either direction.
	NullsLast
)

func (n NullsOrder) String() string {
	switch n {
	case NullsFirst:
		return "first"
	case NullsLast:
		return "last"
	}
	return "default"
}

// SortKey is one sort column.
type SortKey struct {
	Column string
	Desc   bool
	Nulls  NullsOrder
}

// NullsBefore reports whether the key puts NULLs before every value.
func (k SortKey) NullsBefore() bool {
	switch k.Nulls {
	case NullsFirst:
		return true
	case NullsLast:
		return false
	}
	return !k.Desc
}

// String renders the key as ParseSortKey reads it: "col [DESC] [NULLS
// FIRST|LAST]".
func (k SortKey) String() string {
	s := quoteIdent(k.Column)
	if k.Desc {
		s += " DESC"
	}
	switch k.Nulls {
	case NullsFirst:
		s += " NULLS FIRST"
	case NullsLast:
		s += " NULLS LAST"
	}
	return s
}

// SortStep sorts its input globally.
type SortStep struct {
	Keys []SortKey
}

// LimitStep skips the first Offset rows of its input and keeps the next
// N (in input order, or in sort order when it reads a sort).
type LimitStep struct {
	N      int64
	Offset int64
}

// Keep is the number of rows a producer must keep for the limit, N +
// Offset (at most MaxInt64).
func (l *LimitStep) Keep() int64 {
	if l.N > math.MaxInt64-l.Offset {
		return math.MaxInt64
	}
	return l.N + l.Offset
}

// UnionStep concatenates its inputs (UNION ALL); schemas must match. With
// Distinct set, the union is followed by that distinct (UNION).
type UnionStep struct {
	Distinct *DistinctStep
}

// DistinctStep keeps, for each distinct tuple of Keys, the first row in
// input order (nulls equal nulls). Empty Keys means every column (SQL
// DISTINCT); jobs.Compile fills them in from the input schema before
// planning, since the plan hashes on them.
type DistinctStep struct {
	Keys []string
}

// ExplodeStep splits the string column Column by the separator Split and
// emits one row per piece, the other columns repeated. The output has the
// input's columns with Column replaced, in place, by the string column As
// (Column when empty). A null Column yields no row; an empty string yields
// one empty piece, as strings.Split does.
type ExplodeStep struct {
	Column string
	Split  string
	As     string
}

// RepartitionStep redistributes rows across Parallelism subtasks.
type RepartitionStep struct {
	By   Partitioning
	Keys []string // for PartitionHash
}

// WriteStep writes its input as CSV with a header, JSON lines or Parquet.
// With parallelism 1 the output is the single file Path; otherwise Path is
// a directory of part-NNNNN.csv (.jsonl, .parquet) files.
type WriteStep struct {
	Path string
	// Format is the file format; FormatAuto takes it from Path's extension.
	Format Format
	// Mode says what happens when Path exists.
	Mode WriteMode
	// Compression is the Parquet page compression.
	Compression Compression
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
