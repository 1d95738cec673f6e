package logical

import (
	"fmt"
	"strings"

	"github.com/batchrun/batchrun/jobs/spec"
)

// Lowered is a plan turned into job steps.
type Lowered struct {
	// Steps in an order where every step follows its inputs; the last one
	// is the root, whose ID is the one Lower was given.
	Steps []*spec.Step
	// IDs maps every node to the step it became (a table to its step).
	IDs map[*Rel]string
}

// Lower names every node of the plan under root and returns the steps.
// The root becomes step id; the others id.N-kind, numbered in the order
// they are emitted. A node reachable twice (a CTE read twice) becomes one
// step read twice, so it is computed once.
func Lower(root *Rel, id string) *Lowered {
	l := &Lowered{IDs: map[*Rel]string{}}
	l.lower(root, id, root)
	return l
}

func (l *Lowered) lower(r *Rel, id string, root *Rel) string {
	if name, ok := l.IDs[r]; ok {
		return name
	}
	if r.Step.Kind == spec.KindRead {
		l.IDs[r] = r.Table
		return r.Table
	}
	ins := make([]string, len(r.Inputs))
	for i, in := range r.Inputs {
		ins[i] = l.lower(in, id, root)
	}
	name := id
	if r != root {
		name = fmt.Sprintf("%s.%d-%s", id, len(l.Steps)+1, r.Step.Kind)
	}
	s := r.Step
	s.ID, s.Inputs = name, ins
	l.Steps = append(l.Steps, &s)
	l.IDs[r] = name
	return name
}

// Explain prints the plan under root as an indented tree, one operator a
// line with its settings and, when ids is not nil, the step it became. A
// node reached a second time is printed as a reference to its step.
func Explain(root *Rel, ids map[*Rel]string) string {
	var sb strings.Builder
	seen := map[*Rel]bool{}
	var walk func(r *Rel, depth int)
	walk = func(r *Rel, depth int) {
		sb.WriteString(strings.Repeat("  ", depth))
		sb.WriteString(Describe(r))
		if id := ids[r]; id != "" && r.Step.Kind != spec.KindRead {
			fmt.Fprintf(&sb, "  -> %s", id)
		}
		if r.Note != "" {
			fmt.Fprintf(&sb, "  -- %s", r.Note)
		}
		if seen[r] && len(r.Inputs) > 0 {
			sb.WriteString(" (computed once, above)\n")
			return
		}
		seen[r] = true
		sb.WriteByte('\n')
		for _, in := range r.Inputs {
			walk(in, depth+1)
		}
	}
	walk(root, 0)
	return sb.String()
}

// Describe is one line saying what r does.
func Describe(r *Rel) string {
	s := &r.Step
	switch s.Kind {
	case spec.KindRead:
		return "table " + r.Table + " " + r.Schema.String()
	case spec.KindFilter:
		return "filter " + s.Filter.Predicate.String()
	case spec.KindSelect:
		return "select " + namedExprs(s.Select.Columns)
	case spec.KindAggregate:
		return describeAggregate(s.Aggregate)
	case spec.KindJoin:
		return describeJoin(s.Join)
	case spec.KindSort:
		keys := make([]string, len(s.Sort.Keys))
		for i, k := range s.Sort.Keys {
			keys[i] = k.String()
		}
		return "sort " + strings.Join(keys, ", ")
	case spec.KindLimit:
		if s.Limit.Offset > 0 {
			return fmt.Sprintf("limit %d offset %d", s.Limit.N, s.Limit.Offset)
		}
		return fmt.Sprintf("limit %d", s.Limit.N)
	case spec.KindUnion:
		if s.Union.Distinct != nil {
			return "union"
		}
		return "union all"
	case spec.KindDistinct:
		return "distinct"
	case spec.KindWindow:
		return "window " + s.Window.String()
	}
	return s.Kind.String()
}

func namedExprs(cols []spec.NamedExpr) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = c.Expr.String()
		if col, ok := c.Expr.(*spec.Column); !ok || col.Name != c.Alias {
			parts[i] += " AS " + c.Alias
		}
	}
	return strings.Join(parts, ", ")
}

func describeAggregate(a *spec.AggregateStep) string {
	aggs := make([]string, len(a.Aggs))
	for i, g := range a.Aggs {
		aggs[i] = fmt.Sprintf("%s(%s) AS %s", g.Func, g.Arg, g.Alias)
		if g.Arg == "" {
			aggs[i] = fmt.Sprintf("%s(*) AS %s", g.Func, g.Alias)
		}
	}
	out := "aggregate"
	if len(a.Keys) > 0 {
		out += " by " + strings.Join(a.Keys, ", ")
	}
	return out + " compute " + strings.Join(aggs, ", ")
}

func describeJoin(j *spec.JoinStep) string {
	keys := make([]string, len(j.LeftKeys))
	for i := range j.LeftKeys {
		keys[i] = j.LeftKeys[i] + " = " + j.RightKeys[i]
	}
	out := "join " + j.Type.String()
	if len(keys) > 0 {
		out += " on " + strings.Join(keys, " AND ")
	}
	if j.Where != nil {
		out += " where " + j.Where.String()
	}
	if j.Broadcast {
		out += " (broadcast right)"
	}
	return out
}
