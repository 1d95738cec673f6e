// Package logical is the SQL front end's logical plan: a tree (a DAG where a
// CTE is read twice) of relational operators whose settings are the job
// steps' own (jobs/spec), so that lowering a plan to steps is a walk that
// names each node, and a query runs on the same stages, exchanges and
// regions as the steps a user could have written.
//
// It owns: Rel and its constructors (each checks its settings against its
// inputs with spec.OutputSchema, so a plan is well typed by construction),
// the explain printer, and Lower.
//
// It must not: know SQL syntax (sql/parser) or how names are bound
// (sql/bind); it imports jobs/spec only.
package logical

import (
	"fmt"
	"slices"
	"strings"

	"github.com/batchrun/batchrun/jobs/spec"
)

// Rel is one relational operator. A Rel of kind read is a table: an existing
// step of the job (Table), which Lower does not emit. Every other Rel
// becomes one step.
type Rel struct {
	// Step holds the kind and its settings; its ID and Inputs are set by
	// Lower.
	Step   spec.Step
	Table  string // KindRead: the step the table is
	Inputs []*Rel
	Schema spec.Schema
	// Note says why the binder made this node when that is not obvious
	// (a decorrelated subquery, a CTE), for explain.
	Note string
	// Bytes is the binder's estimate of the output size in bytes, for join
	// order and broadcast choices; 0 means unknown.
	Bytes float64
	// Unique lists columns believed to hold no value twice (a table's key
	// as sampled, an aggregate's only key), for join order: a join on a
	// unique build key emits at most one row per probe row.
	Unique []string
	// Kept is the estimated share of its tables' rows the relation keeps
	// (filters multiply it): a probe row finds its partner on a unique key
	// with that chance, so a join with a filtered dimension shrinks the
	// probe side as much as the filter did the dimension.
	Kept float64
}

// IsUnique reports whether column is in r.Unique.
func (r *Rel) IsUnique(column string) bool { return slices.Contains(r.Unique, column) }

// Table is a scan of the job step id, whose output schema is schema.
func Table(id string, schema spec.Schema, bytes float64, unique []string) *Rel {
	return &Rel{Step: spec.Step{Kind: spec.KindRead}, Table: id, Schema: schema, Bytes: bytes, Unique: unique, Kept: 1}
}

// newRel checks s against the inputs' schemas and returns the node.
func newRel(s spec.Step, inputs ...*Rel) (*Rel, error) {
	ins := make([]spec.Schema, len(inputs))
	s.Inputs = make([]string, len(inputs))
	for i, in := range inputs {
		ins[i] = in.Schema
		s.Inputs[i] = fmt.Sprintf("input %d", i+1)
	}
	out, err := spec.OutputSchema(&s, ins)
	if err != nil {
		return nil, err
	}
	s.Inputs = nil
	r := &Rel{Step: s, Inputs: inputs, Schema: out, Kept: 1}
	if len(inputs) == 1 {
		r.Kept = inputs[0].Kept
		if s.Kind != spec.KindAggregate {
			r.Unique = keptUnique(inputs[0].Unique, s, out)
		}
	}
	return r, nil
}

// keptUnique lists the unique columns of an input that a one-input step
// keeps: by name, or renamed by a select.
func keptUnique(unique []string, s spec.Step, out spec.Schema) []string {
	var kept []string
	for _, u := range unique {
		if s.Kind != spec.KindSelect {
			if out.Index(u) >= 0 {
				kept = append(kept, u)
			}
			continue
		}
		for _, c := range s.Select.Columns {
			if col, ok := c.Expr.(*spec.Column); ok && col.Name == u {
				kept = append(kept, c.Alias)
			}
		}
	}
	return kept
}

// Filter keeps the rows of in where pred is true.
func Filter(in *Rel, pred spec.Expr) (*Rel, error) {
	r, err := newRel(spec.Step{Kind: spec.KindFilter, Filter: &spec.FilterStep{Predicate: pred}}, in)
	if err == nil {
		r.Bytes = in.Bytes * selectivity(pred)
		r.Kept = in.Kept * selectivity(pred)
	}
	return r, err
}

// Project computes cols from in.
func Project(in *Rel, cols []spec.NamedExpr) (*Rel, error) {
	r, err := newRel(spec.Step{Kind: spec.KindSelect, Select: &spec.SelectStep{Columns: cols}}, in)
	if err == nil && len(in.Schema) > 0 {
		r.Bytes = in.Bytes * float64(len(cols)) / float64(len(in.Schema))
	}
	return r, err
}

// Aggregate groups in by keys (columns of in) and computes aggs.
func Aggregate(in *Rel, keys []string, aggs []spec.Agg) (*Rel, error) {
	r, err := newRel(spec.Step{Kind: spec.KindAggregate, Aggregate: &spec.AggregateStep{Keys: keys, Aggs: aggs}}, in)
	if err == nil {
		r.Bytes = in.Bytes * 0.1
		if len(keys) == 0 {
			r.Bytes = 16
		}
		if len(keys) == 1 {
			r.Unique = keys
		}
	}
	return r, err
}

// Join joins left (probe) with right (build) as j says.
func Join(left, right *Rel, j spec.JoinStep) (*Rel, error) {
	r, err := newRel(spec.Step{Kind: spec.KindJoin, Join: &j}, left, right)
	if err != nil {
		return nil, err
	}
	r.Bytes, r.Unique = JoinEstimate(left, right, j)
	r.Kept = left.Kept * right.Kept
	if j.Type.LeftOnly() && left.Bytes > 0 {
		r.Kept = left.Kept * r.Bytes / left.Bytes
	}
	return r, nil
}

// JoinEstimate is the estimated output size of joining left and right as
// j says, and the columns still unique after it: a probe row meets at most
// one build row when a build key is unique (and the probe's unique
// columns stay unique), and finds it as often as the build side kept its
// table's rows (a foreign key into a filtered dimension); the other way
// round likewise; with neither, rows multiply.
func JoinEstimate(left, right *Rel, j spec.JoinStep) (float64, []string) {
	switch j.Type {
	case spec.SemiJoin: // a left row finds a partner as often as right kept its table's rows
		return left.Bytes * min(0.5, right.Kept), left.Unique
	case spec.AntiJoin:
		return left.Bytes * 0.5, left.Unique
	}
	rightUnique, leftUnique := false, false
	for i := range j.LeftKeys {
		rightUnique = rightUnique || right.IsUnique(j.RightKeys[i])
		leftUnique = leftUnique || left.IsUnique(j.LeftKeys[i])
	}
	switch {
	case rightUnique:
		return (left.Bytes + right.Bytes*0.1) * right.Kept, left.Unique
	case leftUnique:
		return (right.Bytes + left.Bytes*0.1) * left.Kept, right.Unique
	case len(j.LeftKeys) == 0:
		return left.Bytes * right.Bytes, nil
	}
	return (left.Bytes + right.Bytes) * 10, nil
}

// Sort orders in by keys.
func Sort(in *Rel, keys []spec.SortKey) (*Rel, error) {
	r, err := newRel(spec.Step{Kind: spec.KindSort, Sort: &spec.SortStep{Keys: keys}}, in)
	if err == nil {
		r.Bytes = in.Bytes
	}
	return r, err
}

// Limit skips the first offset rows of in and keeps the n after them.
func Limit(in *Rel, n, offset int64) (*Rel, error) {
	r, err := newRel(spec.Step{Kind: spec.KindLimit, Limit: &spec.LimitStep{N: n, Offset: offset}}, in)
	if err == nil {
		r.Bytes = min(in.Bytes, float64(n)*64)
	}
	return r, err
}

// Window computes the window functions of w over in: in's rows and
// columns, and one column per function.
func Window(in *Rel, w spec.WindowStep) (*Rel, error) {
	r, err := newRel(spec.Step{Kind: spec.KindWindow, Window: &w}, in)
	if err == nil && len(in.Schema) > 0 {
		r.Bytes = in.Bytes * float64(len(r.Schema)) / float64(len(in.Schema))
	}
	return r, err
}

// Distinct keeps one row of each distinct tuple of in's columns.
func Distinct(in *Rel) (*Rel, error) {
	r, err := newRel(spec.Step{Kind: spec.KindDistinct, Distinct: &spec.DistinctStep{Keys: in.Schema.Names()}}, in)
	if err == nil {
		r.Bytes = in.Bytes * 0.5
	}
	return r, err
}

// Union concatenates inputs, whose schemas must be equal; distinct makes it
// UNION rather than UNION ALL.
func Union(inputs []*Rel, distinct bool) (*Rel, error) {
	u := &spec.UnionStep{}
	if distinct && len(inputs) > 0 {
		u.Distinct = &spec.DistinctStep{Keys: inputs[0].Schema.Names()}
	}
	r, err := newRel(spec.Step{Kind: spec.KindUnion, Union: u}, inputs...)
	if err == nil {
		for _, in := range inputs {
			r.Bytes += in.Bytes
		}
	}
	return r, err
}

// selectivity guesses the share of rows a condition keeps.
func selectivity(e spec.Expr) float64 {
	switch e := e.(type) {
	case *spec.Binary:
		switch e.Op {
		case spec.OpAnd:
			return selectivity(e.L) * selectivity(e.R)
		case spec.OpOr:
			return min(1, selectivity(e.L)+selectivity(e.R))
		case spec.OpEq:
			return 0.1
		}
	case *spec.In:
		if e.Not {
			return 0.9
		}
		return min(1, 0.05*float64(len(e.List)))
	case *spec.Call:
		if strings.HasPrefix(e.Func, "regexp") {
			return 0.2
		}
	case *spec.Like:
		if e.Not {
			return 0.9
		}
		return 0.2
	case *spec.Unary:
		if e.Op == spec.OpNot {
			return 1 - selectivity(e.X)/2
		}
	}
	return 0.5
}
