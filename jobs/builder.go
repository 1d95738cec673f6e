package jobs

import (
	"github.com/batchrun/batchrun/jobs/spec"
)

// Builder builds a spec.Job in Go, equal to the one the same job written in
// YAML loads to (except Line and File). Each step method appends a step and
// returns its handle, which later steps take as input. Errors (a bad
// expression, a handle from another builder) are kept and returned by
// Build, so a job is written as one straight sequence of calls:
//
//	b := jobs.NewBuilder("revenue").Parallelism(4)
//	ev := b.Read("events", "data/events.csv", "user_id int64", "amount float64")
//	big := b.Filter("big", ev, "amount > 10")
//	agg := b.Aggregate("byuser", big, []string{"user_id"}, "sum(amount) AS revenue")
//	b.Write("out", agg, "out/revenue.csv")
//	job, err := b.Build()
//
// A Builder is not safe for concurrent use.
type Builder struct {
	job   *spec.Job
	infer SchemaInferrer
	err   error // the first deferred error
}

// StepRef is the handle of a step added to a Builder.
type StepRef struct {
	b *Builder
	s *spec.Step
}

// JoinOn is the key list of a join; see On.
type JoinOn struct {
	Left, Right []string
	err         error
}

// Join types, for Builder.Join.
const (
	Inner = spec.InnerJoin
	Left  = spec.LeftJoin
	Right = spec.RightJoin
	Full  = spec.FullJoin
	Semi  = spec.SemiJoin
	Anti  = spec.AntiJoin
)

// On returns join keys written as in YAML: "col" when the column has the
// same name on both sides, "left_col = right_col" otherwise. With none the
// join has no keys: every left row pairs with every right row.
func On(keys ...string) JoinOn {
	l, r, err := parseJoinKeys(keys)
	return JoinOn{Left: l, Right: r, err: err}
}

// NewBuilder starts a job named name.
func NewBuilder(name string) *Builder {
	return &Builder{job: &spec.Job{Name: name}}
}

// Parallelism sets the job's default parallelism (0: the caller decides).
func (b *Builder) Parallelism(n int) *Builder {
	b.job.Parallelism = n
	return b
}

// Mode sets the job-wide exchange mode.
func (b *Builder) Mode(m spec.GlobalMode) *Builder {
	b.job.Mode = m
	return b
}

// Infer sets the inferrer Build uses for reads given no schema.
func (b *Builder) Infer(f SchemaInferrer) *Builder {
	b.infer = f
	return b
}

// Build infers missing read schemas, validates the job with spec.Resolve
// and returns it, or the first deferred error.
func (b *Builder) Build() (*spec.Job, error) {
	if b.err != nil {
		return nil, b.err
	}
	if err := inferSchemas(b.job, b.infer); err != nil {
		return nil, err
	}
	if err := ExpandSQL(b.job); err != nil {
		return nil, err
	}
	if _, err := spec.Resolve(b.job); err != nil {
		return nil, err
	}
	dropUnread(b.job)
	splitSharedReads(b.job)
	return b.job, nil
}

// fail records the first deferred error, about step s.
func (b *Builder) fail(s *spec.Step, format string, args ...any) {
	if b.err == nil {
		b.err = spec.StepErrorf(b.job, s, format, args...)
	}
}

// add appends a step of kind k reading ins and returns its handle.
func (b *Builder) add(id string, k spec.Kind, ins ...*StepRef) *StepRef {
	s := &spec.Step{ID: id, Kind: k}
	for i, in := range ins {
		switch {
		case in == nil:
			b.fail(s, "input %d is nil", i+1)
		case in.b != b:
			b.fail(s, "input %q belongs to another builder", in.s.ID)
		default:
			s.Inputs = append(s.Inputs, in.s.ID)
		}
	}
	b.job.Steps = append(b.job.Steps, s)
	return &StepRef{b: b, s: s}
}

// ID returns the step's id.
func (r *StepRef) ID() string { return r.s.ID }

// Parallelism overrides the job's parallelism for this step.
func (r *StepRef) Parallelism(n int) *StepRef {
	r.s.Parallelism = n
	return r
}

// Exchange overrides the job's exchange mode on this step's inputs.
func (r *StepRef) Exchange(m spec.ExchangeMode) *StepRef {
	r.s.Exchange = m
	return r
}

// Delimiter sets the field delimiter of a read step.
func (r *StepRef) Delimiter(c byte) *StepRef {
	if r.s.Read == nil {
		r.b.fail(r.s, "Delimiter applies to read steps only")
		return r
	}
	r.s.Read.Delimiter = c
	return r
}

// Broadcast makes a join ship its right side whole to every subtask.
func (r *StepRef) Broadcast() *StepRef { return r.broadcast("Broadcast", true) }

// NoBroadcast keeps a join hash-partitioned whatever the sizes of its
// inputs (YAML's broadcast: false).
func (r *StepRef) NoBroadcast() *StepRef { return r.broadcast("NoBroadcast", false) }

func (r *StepRef) broadcast(method string, on bool) *StepRef {
	if r.s.Join == nil {
		r.b.fail(r.s, "%s applies to join steps only", method)
		return r
	}
	r.s.Join.Broadcast, r.s.Join.BroadcastSet = on, true
	return r
}

// Read adds a CSV read of path. Columns are written "name type" as in
// YAML; with none, Build infers the schema (see Infer).
func (b *Builder) Read(id, path string, schema ...string) *StepRef {
	r := b.add(id, spec.KindRead)
	r.s.Read = &spec.ReadStep{Path: path}
	for _, c := range schema {
		f, err := parseField(c)
		if err != nil {
			b.fail(r.s, "schema: %v", err)
			continue
		}
		r.s.Read.Schema = append(r.s.Read.Schema, f)
	}
	return r
}

// Filter adds a step keeping the rows of in where predicate is true.
func (b *Builder) Filter(id string, in *StepRef, predicate string) *StepRef {
	r := b.add(id, spec.KindFilter, in)
	e, err := spec.ParseExpr(predicate)
	if err != nil {
		b.fail(r.s, "filter: %s", exprMessage(err))
	}
	r.s.Filter = &spec.FilterStep{Predicate: e}
	return r
}

// Select adds a projection; each column is "expr [AS alias]".
func (b *Builder) Select(id string, in *StepRef, columns ...string) *StepRef {
	r := b.add(id, spec.KindSelect, in)
	r.s.Select = &spec.SelectStep{}
	for _, c := range columns {
		ne, err := spec.ParseNamedExpr(c)
		if err != nil {
			b.fail(r.s, "select %q: %s", c, exprMessage(err))
			continue
		}
		r.s.Select.Columns = append(r.s.Select.Columns, ne)
	}
	return r
}

// Aggregate groups in by the key columns and computes aggregates written
// "func(col) [AS alias]" or "count(*) [AS alias]".
func (b *Builder) Aggregate(id string, in *StepRef, by []string, compute ...string) *StepRef {
	r := b.add(id, spec.KindAggregate, in)
	r.s.Aggregate = &spec.AggregateStep{Keys: by}
	for _, c := range compute {
		g, err := spec.ParseAgg(c)
		if err != nil {
			b.fail(r.s, "aggregate %q: %s", c, exprMessage(err))
			continue
		}
		r.s.Aggregate.Aggs = append(r.s.Aggregate.Aggs, g)
	}
	return r
}

// Join adds a join of left and right on the given keys. With no keys
// (On()) every left row pairs with every right row, and the right side is
// broadcast.
func (b *Builder) Join(id string, left, right *StepRef, on JoinOn, typ spec.JoinType) *StepRef {
	r := b.add(id, spec.KindJoin, left, right)
	if on.err != nil {
		b.fail(r.s, "join on: %v", on.err)
	}
	r.s.Join = &spec.JoinStep{Type: typ, LeftKeys: on.Left, RightKeys: on.Right}
	r.s.Join.Broadcast = r.s.Join.Keyless()
	return r
}

// Where sets a join's residual condition, a bool expression over the left
// and right columns that a pair of rows with equal keys must satisfy.
func (r *StepRef) Where(cond string) *StepRef {
	if r.s.Join == nil {
		r.b.fail(r.s, "Where applies to join steps only")
		return r
	}
	e, err := spec.ParseExpr(cond)
	if err != nil {
		r.b.fail(r.s, "join where: %s", exprMessage(err))
		return r
	}
	r.s.Join.Where = e
	return r
}

// Offset makes a limit skip the first n rows before it keeps its count.
func (r *StepRef) Offset(n int64) *StepRef {
	if r.s.Limit == nil {
		r.b.fail(r.s, "Offset applies to limit steps only")
		return r
	}
	r.s.Limit.Offset = n
	return r
}

// Sort adds a global sort; each key is "col [ASC|DESC] [NULLS
// FIRST|LAST]".
func (b *Builder) Sort(id string, in *StepRef, keys ...string) *StepRef {
	r := b.add(id, spec.KindSort, in)
	r.s.Sort = &spec.SortStep{}
	var (
		i   int
		err error
	)
	if r.s.Sort.Keys, i, err = parseAll(keys, spec.ParseSortKey); err != nil {
		b.fail(r.s, "sort %q: %s", keys[i], exprMessage(err))
	}
	return r
}

// Window adds a window step: the functions of compute ("func(args)
// [ROWS|RANGE frame] [AS name]", see spec.ParseWindowFunc) over the
// partitions of in by partitionBy, each ordered by orderBy ("col
// [ASC|DESC] [NULLS FIRST|LAST]").
func (b *Builder) Window(id string, in *StepRef, partitionBy, orderBy []string, compute ...string) *StepRef {
	r := b.add(id, spec.KindWindow, in)
	w := &spec.WindowStep{PartitionBy: partitionBy}
	r.s.Window = w
	var (
		i   int
		err error
	)
	if w.OrderBy, i, err = parseAll(orderBy, spec.ParseSortKey); err != nil {
		b.fail(r.s, "window order_by %q: %s", orderBy[i], exprMessage(err))
	}
	if w.Funcs, i, err = parseAll(compute, spec.ParseWindowFunc); err != nil {
		b.fail(r.s, "window %q: %s", compute[i], exprMessage(err))
	}
	return r
}

// Limit keeps the first n rows of in.
func (b *Builder) Limit(id string, in *StepRef, n int64) *StepRef {
	r := b.add(id, spec.KindLimit, in)
	r.s.Limit = &spec.LimitStep{N: n}
	return r
}

// Union concatenates its inputs, which must have identical schemas.
func (b *Builder) Union(id string, ins ...*StepRef) *StepRef {
	r := b.add(id, spec.KindUnion, ins...)
	r.s.Union = &spec.UnionStep{}
	return r
}

// UnionDistinct is Union followed by a distinct over every column (SQL
// UNION).
func (b *Builder) UnionDistinct(id string, ins ...*StepRef) *StepRef {
	r := b.Union(id, ins...)
	r.s.Union.Distinct = &spec.DistinctStep{}
	return r
}

// Distinct keeps the first row of each distinct tuple of the columns on
// (every column when on is empty: SQL DISTINCT).
func (b *Builder) Distinct(id string, in *StepRef, on ...string) *StepRef {
	r := b.add(id, spec.KindDistinct, in)
	r.s.Distinct = &spec.DistinctStep{Keys: on}
	return r
}

// Explode splits the string column by sep into one row per piece, named as
// (column when empty), the other columns repeated.
func (b *Builder) Explode(id string, in *StepRef, column, sep, as string) *StepRef {
	r := b.add(id, spec.KindExplode, in)
	r.s.Explode = &spec.ExplodeStep{Column: column, Split: sep, As: as}
	return r
}

// Repartition redistributes in; keys are for spec.PartitionHash only. Set
// the number of partitions with the handle's Parallelism.
func (b *Builder) Repartition(id string, in *StepRef, by spec.Partitioning, keys ...string) *StepRef {
	r := b.add(id, spec.KindRepartition, in)
	r.s.Repartition = &spec.RepartitionStep{By: by, Keys: keys}
	return r
}

// Write writes in as CSV to path (a directory of part files when the step
// runs with parallelism > 1).
func (b *Builder) Write(id string, in *StepRef, path string) *StepRef {
	r := b.add(id, spec.KindWrite, in)
	r.s.Write = &spec.WriteStep{Path: path}
	return r
}
