package spec

import (
	"fmt"
	"slices"
	"strings"
)

// Resolved is a validated job: its steps in topological order and the
// output schema of every step.
type Resolved struct {
	// Order lists every step after all of its inputs; among steps whose
	// inputs are all placed, spec order decides.
	Order []*Step
	// Schemas maps a step id to its output schema. A write step's entry is
	// the schema it writes (its input's).
	Schemas map[string]Schema
}

// Resolve validates job eagerly and derives each step's output schema. It
// checks, in order: the job-level settings, step ids, inputs and their
// arity, cycles, then each step's settings against its input schemas in
// topological order. The first problem found is returned as an *Error that
// names the step and its line.
//
// Resolve does not modify job: a zero Parallelism (job or step) stays zero
// and means "the caller decides"; the read schemas must already be filled
// in (the loader infers missing ones before calling Resolve).
func Resolve(job *Job) (*Resolved, error) {
	if err := checkJob(job); err != nil {
		return nil, err
	}
	byID, err := checkSteps(job)
	if err != nil {
		return nil, err
	}
	order, err := topoOrder(job, byID)
	if err != nil {
		return nil, err
	}
	r := &Resolved{Order: order, Schemas: make(map[string]Schema, len(order))}
	for _, s := range order {
		ins := make([]Schema, len(s.Inputs))
		for i, in := range s.Inputs {
			ins[i] = r.Schemas[in]
		}
		out, err := stepSchema(job, s, ins)
		if err != nil {
			return nil, err
		}
		r.Schemas[s.ID] = out
	}
	return r, nil
}

func checkJob(job *Job) error {
	if len(job.Steps) == 0 {
		return StepErrorf(job, nil, "job has no steps")
	}
	if job.Parallelism < 0 {
		return StepErrorf(job, nil, "parallelism must be >= 0, got %d", job.Parallelism)
	}
	if job.Mode > AllPipelined {
		return StepErrorf(job, nil, "unknown exchange mode %d", job.Mode)
	}
	return nil
}

// checkSteps checks ids, per-step settings that need no schema, input
// references and arity. It returns the steps by id.
func checkSteps(job *Job) (map[string]*Step, error) {
	byID := make(map[string]*Step, len(job.Steps))
	for _, s := range job.Steps {
		if s == nil {
			return nil, StepErrorf(job, nil, "nil step")
		}
		if s.ID == "" {
			return nil, StepErrorf(job, s, "step has no id")
		}
		if first, ok := byID[s.ID]; ok {
			if first.Line > 0 {
				return nil, StepErrorf(job, s, "duplicate step id %q (first defined at line %d)", s.ID, first.Line)
			}
			return nil, StepErrorf(job, s, "duplicate step id %q", s.ID)
		}
		byID[s.ID] = s
	}
	for _, s := range job.Steps {
		if err := checkStepSettings(job, s); err != nil {
			return nil, err
		}
		for _, in := range s.Inputs {
			p, ok := byID[in]
			if !ok {
				return nil, StepErrorf(job, s, "unknown input %q", in)
			}
			if p.Kind == KindWrite {
				return nil, StepErrorf(job, s, "input %q is a write step, which has no output", in)
			}
		}
		if err := checkArity(job, s); err != nil {
			return nil, err
		}
	}
	return byID, nil
}

func checkStepSettings(job *Job, s *Step) error {
	if s.Kind == KindSQL {
		return StepErrorf(job, s, "a sql step must be expanded into steps (jobs.ExpandSQL) before it is resolved")
	}
	if s.Kind > KindSQL {
		return StepErrorf(job, s, "unknown step kind %d", s.Kind)
	}
	if !hasSettings(s) {
		return StepErrorf(job, s, "%s step has no %s settings", s.Kind, s.Kind)
	}
	if s.Parallelism < 0 {
		return StepErrorf(job, s, "parallelism must be >= 0, got %d", s.Parallelism)
	}
	if s.Exchange > ModeBlocking {
		return StepErrorf(job, s, "unknown exchange mode %d", s.Exchange)
	}
	return nil
}

// hasSettings reports whether the kind-specific struct of s is set.
func hasSettings(s *Step) bool {
	switch s.Kind {
	case KindRead:
		return s.Read != nil
	case KindFilter:
		return s.Filter != nil
	case KindSelect:
		return s.Select != nil
	case KindAggregate:
		return s.Aggregate != nil
	case KindJoin:
		return s.Join != nil
	case KindSort:
		return s.Sort != nil
	case KindLimit:
		return s.Limit != nil
	case KindUnion:
		return s.Union != nil
	case KindRepartition:
		return s.Repartition != nil
	case KindWrite:
		return s.Write != nil
	case KindDistinct:
		return s.Distinct != nil
	case KindExplode:
		return s.Explode != nil
	case KindWindow:
		return s.Window != nil
	}
	return false
}

func checkArity(job *Job, s *Step) error {
	n := len(s.Inputs)
	switch s.Kind {
	case KindRead:
		if n != 0 {
			return StepErrorf(job, s, "read takes no inputs, got %d", n)
		}
	case KindJoin:
		if n != 2 {
			return StepErrorf(job, s, "join takes 2 inputs (left and right), got %d", n)
		}
	case KindUnion:
		if n < 2 {
			return StepErrorf(job, s, "union takes at least 2 inputs, got %d", n)
		}
	default:
		if n != 1 {
			return StepErrorf(job, s, "%s takes 1 input, got %d", s.Kind, n)
		}
	}
	return nil
}

// topoOrder orders the steps so that every step follows its inputs, ties
// broken by spec order, or reports a cycle.
func topoOrder(job *Job, byID map[string]*Step) ([]*Step, error) {
	placed := make(map[string]bool, len(job.Steps))
	order := make([]*Step, 0, len(job.Steps))
	for len(order) < len(job.Steps) {
		progress := false
		for _, s := range job.Steps {
			if placed[s.ID] || !allPlaced(s.Inputs, placed) {
				continue
			}
			placed[s.ID] = true
			order = append(order, s)
			progress = true
			break // restart the scan so that spec order breaks ties
		}
		if !progress {
			return nil, cycleError(job, byID, placed)
		}
	}
	return order, nil
}

func allPlaced(ids []string, placed map[string]bool) bool {
	for _, id := range ids {
		if !placed[id] {
			return false
		}
	}
	return true
}

// cycleError finds a cycle among the unplaced steps. Every unplaced step has
// an unplaced input, so following unplaced inputs from any of them must
// revisit a step. The cycle is reported producer -> consumer, starting at
// its member that comes first in spec order.
func cycleError(job *Job, byID map[string]*Step, placed map[string]bool) error {
	var walk []string
	seen := map[string]int{}
	var cur *Step
	for _, s := range job.Steps {
		if !placed[s.ID] {
			cur = s
			break
		}
	}
	for {
		if at, ok := seen[cur.ID]; ok {
			walk = walk[at:]
			break
		}
		seen[cur.ID] = len(walk)
		walk = append(walk, cur.ID)
		for _, in := range cur.Inputs {
			if !placed[in] {
				cur = byID[in]
				break
			}
		}
	}
	// walk runs consumer -> input; reverse it into data-flow order.
	for i, j := 0, len(walk)-1; i < j; i, j = i+1, j-1 {
		walk[i], walk[j] = walk[j], walk[i]
	}
	first := 0
	for _, s := range job.Steps {
		if k := indexOf(walk, s.ID); k >= 0 {
			first = k
			break
		}
	}
	path := append(walk[first:len(walk):len(walk)], walk[:first]...)
	path = append(path, path[0])
	return StepErrorf(job, byID[path[0]], "cycle: %s", strings.Join(path, " -> "))
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

// stepSchema checks s against its input schemas and returns its output
// schema. One function per kind.
func stepSchema(job *Job, s *Step, ins []Schema) (Schema, error) {
	var (
		out Schema
		msg string
	)
	switch s.Kind {
	case KindRead:
		out, msg = readSchema(s.Read)
	case KindFilter:
		out, msg = filterSchema(s.Filter, ins[0])
	case KindSelect:
		out, msg = selectSchema(s.Select, ins[0])
	case KindAggregate:
		out, msg = aggregateSchema(s.Aggregate, ins[0])
	case KindJoin:
		out, msg = joinSchema(s.Join, s.Inputs, ins[0], ins[1])
	case KindSort:
		out, msg = sortSchema(s.Sort, ins[0])
	case KindLimit:
		out, msg = limitSchema(s.Limit, ins[0])
	case KindUnion:
		out, msg = unionSchema(s.Inputs, ins)
		if msg == "" && s.Union.Distinct != nil {
			out, msg = distinctSchema(s.Union.Distinct, out)
		}
	case KindRepartition:
		out, msg = repartitionSchema(s.Repartition, ins[0])
	case KindWrite:
		out, msg = writeSchema(s.Write, ins[0])
	case KindDistinct:
		out, msg = distinctSchema(s.Distinct, ins[0])
	case KindExplode:
		out, msg = explodeSchema(s.Explode, ins[0])
	case KindWindow:
		out, msg = windowSchema(s.Window, ins[0])
	}
	if msg != "" {
		return nil, StepErrorf(job, s, "%s", msg)
	}
	return out, nil
}

func readSchema(r *ReadStep) (Schema, string) {
	if r.Path == "" {
		return nil, "read path is empty"
	}
	switch r.Delimiter {
	case '"', '\n', '\r':
		return nil, fmt.Sprintf("read delimiter %q is not allowed", r.Delimiter)
	}
	if msg := checkReadFormat(r); msg != "" {
		return nil, msg
	}
	if len(r.Schema) == 0 {
		return nil, "read has no schema"
	}
	seen := map[string]bool{}
	for _, f := range r.Schema {
		if f.Name == "" {
			return nil, "read schema has a column with no name"
		}
		if seen[f.Name] {
			return nil, fmt.Sprintf("duplicate column %q in read schema", f.Name)
		}
		if f.Type == Null || f.Type == Decimal || !f.Type.Valid() {
			return nil, fmt.Sprintf("read schema column %q has invalid type %s", f.Name, f.Type)
		}
		seen[f.Name] = true
	}
	return r.Schema, ""
}

func filterSchema(f *FilterStep, in Schema) (Schema, string) {
	if f.Predicate == nil {
		return nil, "filter has no predicate"
	}
	t, err := TypeOf(f.Predicate, in)
	if err != nil {
		return nil, "filter: " + strings.TrimPrefix(err.Error(), "spec: ")
	}
	if t != Bool {
		return nil, fmt.Sprintf("filter predicate %s has type %s, want bool", f.Predicate, t)
	}
	if len(f.Keep) == 0 {
		return in, ""
	}
	var out Schema
	for _, fld := range in {
		if slices.Contains(f.Keep, fld.Name) {
			out = append(out, fld)
		}
	}
	if len(out) != len(f.Keep) {
		return nil, fmt.Sprintf("filter keeps %v, not all columns of %s", f.Keep, in)
	}
	return out, ""
}

func selectSchema(sel *SelectStep, in Schema) (Schema, string) {
	if len(sel.Columns) == 0 {
		return nil, "select has no columns"
	}
	out := make(Schema, 0, len(sel.Columns))
	for i, c := range sel.Columns {
		if c.Expr == nil {
			return nil, fmt.Sprintf("select column %d has no expression", i+1)
		}
		name := c.Alias
		if col, ok := c.Expr.(*Column); ok && name == "" {
			name = col.Name
		}
		if name == "" {
			return nil, fmt.Sprintf("select column %s needs a name: add AS <name>", c.Expr)
		}
		if out.Index(name) >= 0 {
			return nil, fmt.Sprintf("duplicate column %q in select", name)
		}
		t, err := TypeOf(c.Expr, in)
		if err != nil {
			return nil, fmt.Sprintf("select %q: %s", name, strings.TrimPrefix(err.Error(), "spec: "))
		}
		if t == Null {
			return nil, fmt.Sprintf("select %q: the type of %s is unknown: use CAST(... AS type)", name, c.Expr)
		}
		out = append(out, Field{Name: name, Type: t})
	}
	return out, ""
}

// unknownColumn is the message for a missing column in a step setting.
func unknownColumn(what, name string, in Schema) string {
	return fmt.Sprintf("%s: unknown column %q (have %s)", what, name, strings.Join(in.Names(), ", "))
}

func aggregateSchema(a *AggregateStep, in Schema) (Schema, string) {
	if len(a.Keys) == 0 && len(a.Aggs) == 0 {
		return nil, "aggregate has no keys and no aggregates"
	}
	out := make(Schema, 0, len(a.Keys)+len(a.Aggs))
	for _, k := range a.Keys {
		i := in.Index(k)
		if i < 0 {
			return nil, unknownColumn("aggregate key", k, in)
		}
		if out.Index(k) >= 0 {
			return nil, fmt.Sprintf("duplicate aggregate key %q", k)
		}
		out = append(out, in[i])
	}
	for _, g := range a.Aggs {
		f, msg := aggField(g, in)
		if msg != "" {
			return nil, msg
		}
		if out.Index(f.Name) >= 0 {
			return nil, fmt.Sprintf("duplicate column %q in aggregate output", f.Name)
		}
		out = append(out, f)
	}
	return out, ""
}

// aggName is the output column name of g: its alias, or func_arg (count for
// count(*)) when it has none.
func aggName(g Agg) string { return columnName(g.Alias, g.Func.String(), g.Arg) }

// columnName is a function's output column: alias, else fn_arg, or fn
// when it has no argument.
func columnName(alias, fn, arg string) string {
	switch {
	case alias != "":
		return alias
	case arg == "":
		return fn
	}
	return fn + "_" + arg
}

// SumType is the type of sum over values of type t: decimal(18, s) for a
// decimal of scale s (the sum is exact; one that does not fit is an error),
// else t.
func SumType(t Type) Type {
	if t.IsDecimal() {
		return DecimalType(MaxDecimalPrecision, t.Scale())
	}
	return t
}

func aggField(g Agg, in Schema) (Field, string) {
	name := aggName(g)
	call := fmt.Sprintf("%s(%s)", g.Func, g.Arg)
	if g.Arg == "" {
		if g.Func != AggCount {
			return Field{}, fmt.Sprintf("%s() needs a column", g.Func)
		}
		return Field{Name: name, Type: Int64}, ""
	}
	i := in.Index(g.Arg)
	if i < 0 {
		return Field{}, unknownColumn(call, g.Arg, in)
	}
	t := in[i].Type
	switch g.Func {
	case AggCount, AggCountDistinct:
		return Field{Name: name, Type: Int64}, ""
	case AggFirst, AggAnyValue:
	case AggSum, AggAvg:
		if !t.Numeric() {
			return Field{}, fmt.Sprintf("%s: column %q has type %s, want int64, float64 or a decimal", call, g.Arg, t)
		}
		if g.Func == AggAvg {
			t = Float64
		}
		if g.Func == AggSum && t.IsDecimal() {
			t = SumType(t)
		}
	case AggMin, AggMax:
	default:
		return Field{}, fmt.Sprintf("unknown aggregate function %d", g.Func)
	}
	return Field{Name: name, Type: t}, ""
}

func joinSchema(j *JoinStep, ids []string, left, right Schema) (Schema, string) {
	if j.Type > AntiJoin {
		return nil, fmt.Sprintf("unknown join type %d", j.Type)
	}
	if msg := checkKeyless(j); msg != "" {
		return nil, msg
	}
	if j.Broadcast && j.Type.KeepsUnmatchedRight() {
		return nil, fmt.Sprintf("a %s join cannot broadcast its right input (every subtask would emit the unmatched right rows)", j.Type)
	}
	if len(j.LeftKeys) != len(j.RightKeys) {
		return nil, fmt.Sprintf("join needs pairs of keys, got %d left and %d right", len(j.LeftKeys), len(j.RightKeys))
	}
	using := map[string]bool{} // right key columns folded into the left one
	for i, lk := range j.LeftKeys {
		rk := j.RightKeys[i]
		li, ri := left.Index(lk), right.Index(rk)
		if li < 0 {
			return nil, unknownColumn(fmt.Sprintf("join key of left input %q", ids[0]), lk, left)
		}
		if ri < 0 {
			return nil, unknownColumn(fmt.Sprintf("join key of right input %q", ids[1]), rk, right)
		}
		if lt, rt := left[li].Type, right[ri].Type; lt != rt {
			return nil, fmt.Sprintf("join key %s = %s: types differ (%s vs %s)", lk, rk, lt, rt)
		}
		if lk == rk {
			using[rk] = true
		}
	}
	if msg := joinWhere(j, ids, left, right, using); msg != "" {
		return nil, msg
	}
	out := make(Schema, 0, len(left)+len(right))
	out = append(out, left...)
	if j.Type.LeftOnly() {
		return out, ""
	}
	for _, f := range right {
		if using[f.Name] {
			continue
		}
		if out.Index(f.Name) >= 0 {
			return nil, fmt.Sprintf("column %q is ambiguous: rename it with a select before the join", f.Name)
		}
		out = append(out, f)
	}
	return out, ""
}

func sortSchema(s *SortStep, in Schema) (Schema, string) {
	if len(s.Keys) == 0 {
		return nil, "sort has no keys"
	}
	if msg := checkColumns(sortColumns(s.Keys), in, "sort key", "duplicate sort key %q"); msg != "" {
		return nil, msg
	}
	return in, ""
}

// sortColumns is the columns of keys.
func sortColumns(keys []SortKey) []string {
	cols := make([]string, len(keys))
	for i, k := range keys {
		cols[i] = k.Column
	}
	return cols
}

// checkColumns checks that cols are columns of in, each once: it names
// the first unknown one as what, or the first repeated one with dup (a
// format for its name).
func checkColumns(cols []string, in Schema, what, dup string) string {
	seen := map[string]bool{}
	for _, c := range cols {
		if in.Index(c) < 0 {
			return unknownColumn(what, c, in)
		}
		if seen[c] {
			return fmt.Sprintf(dup, c)
		}
		seen[c] = true
	}
	return ""
}

func limitSchema(l *LimitStep, in Schema) (Schema, string) {
	if l.N < 0 {
		return nil, fmt.Sprintf("limit must be >= 0, got %d", l.N)
	}
	if l.Offset < 0 {
		return nil, fmt.Sprintf("limit offset must be >= 0, got %d", l.Offset)
	}
	return in, ""
}

// unionSchema requires every input's schema to equal the first one's and
// names the first difference.
func unionSchema(ids []string, ins []Schema) (Schema, string) {
	want := ins[0]
	for k := 1; k < len(ins); k++ {
		got := ins[k]
		for i := 0; i < len(want) && i < len(got); i++ {
			if got[i].Name != want[i].Name {
				return nil, fmt.Sprintf("union input %q column %d is %q, but input %q has %q",
					ids[k], i+1, got[i].Name, ids[0], want[i].Name)
			}
			if got[i].Type != want[i].Type {
				return nil, fmt.Sprintf("union input %q column %q has type %s, but input %q has %s",
					ids[k], got[i].Name, got[i].Type, ids[0], want[i].Type)
			}
		}
		if len(got) != len(want) {
			return nil, fmt.Sprintf("union input %q has %d columns, but input %q has %d",
				ids[k], len(got), ids[0], len(want))
		}
	}
	return want, ""
}

func repartitionSchema(r *RepartitionStep, in Schema) (Schema, string) {
	if r.By > PartitionBroadcast {
		return nil, fmt.Sprintf("unknown partitioning %d", r.By)
	}
	if r.By != PartitionHash {
		if len(r.Keys) > 0 {
			return nil, fmt.Sprintf("repartition by %s takes no keys", r.By)
		}
		return in, ""
	}
	if len(r.Keys) == 0 {
		return nil, "repartition by hash needs keys"
	}
	for _, k := range r.Keys {
		if in.Index(k) < 0 {
			return nil, unknownColumn("repartition key", k, in)
		}
	}
	return in, ""
}

func writeSchema(w *WriteStep, in Schema) (Schema, string) {
	if w.Path == "" {
		return nil, "write path is empty"
	}
	if msg := checkWriteFormat(w); msg != "" {
		return nil, msg
	}
	return in, ""
}
