package jobs

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v4"

	"github.com/batchrun/batchrun/jobs/spec"
)

// decodeKind decodes the kind-specific settings, one function per kind.
func (d *decoder) decodeKind(s *spec.Step, n *yaml.Node, f map[string]*yaml.Node) error {
	switch s.Kind {
	case spec.KindRead:
		return d.decodeRead(s, n)
	case spec.KindFilter:
		return d.decodeFilter(s, n)
	case spec.KindSelect:
		return d.decodeSelect(s, n)
	case spec.KindAggregate:
		return d.decodeAggregate(s, n)
	case spec.KindJoin:
		return d.decodeJoin(s, n)
	case spec.KindSort:
		return d.decodeSort(s, n)
	case spec.KindLimit:
		return d.decodeLimit(s, n)
	case spec.KindUnion:
		return d.decodeUnion(s, n)
	case spec.KindDistinct:
		return d.decodeDistinct(s, n)
	case spec.KindExplode:
		return d.decodeExplode(s, n)
	case spec.KindWindow:
		return d.decodeWindow(s, n)
	case spec.KindRepartition:
		return d.decodeRepartition(s, n, f)
	case spec.KindWrite:
		return d.decodeWrite(s, n)
	case spec.KindSQL:
		return d.decodeSQL(s, n)
	}
	return d.errf(n, "unknown step kind %s", s.Kind)
}

// optStr decodes n into *dst when n is present.
func (d *decoder) optStr(n *yaml.Node, what string, dst *string) error {
	if n == nil {
		return nil
	}
	v, err := d.str(n, what)
	*dst = v
	return err
}

func (d *decoder) optStrs(n *yaml.Node, what string, dst *[]string) ([]*yaml.Node, error) {
	if n == nil {
		return nil, nil
	}
	v, items, err := d.strs(n, what)
	*dst = v
	return items, err
}

// exprMessage is the text of an expression parse error without its
// package prefix, for wrapping in a spec error.
func exprMessage(err error) string {
	return strings.TrimPrefix(err.Error(), "spec: ")
}

// parseField parses a schema column written "name type"; the type may hold
// spaces ("price decimal(15, 2)").
func parseField(s string) (spec.Field, error) {
	parts := strings.Fields(s)
	if len(parts) > 2 {
		parts = []string{parts[0], strings.Join(parts[1:], " ")}
		if !strings.Contains(parts[1], "(") {
			parts = parts[:1]
		}
	}
	if len(parts) != 2 {
		return spec.Field{}, fmt.Errorf("column %q: want \"name type\"", s)
	}
	t, err := spec.ParseType(parts[1])
	if err != nil {
		return spec.Field{}, fmt.Errorf("column %q: %v", parts[0], err)
	}
	return spec.Field{Name: parts[0], Type: t}, nil
}

func (d *decoder) decodeFilter(s *spec.Step, n *yaml.Node) error {
	src, err := d.str(n, "filter")
	if err != nil {
		return err
	}
	e, err := spec.ParseExpr(src)
	if err != nil {
		return d.errf(n, "filter: %s", exprMessage(err))
	}
	s.Filter = &spec.FilterStep{Predicate: e}
	return nil
}

func (d *decoder) decodeSelect(s *spec.Step, n *yaml.Node) error {
	cols, items, err := d.strs(n, "select")
	if err != nil {
		return err
	}
	s.Select = &spec.SelectStep{}
	s.Select.Columns, err = parseItems(d, "select", cols, items, spec.ParseNamedExpr)
	return err
}

func (d *decoder) decodeAggregate(s *spec.Step, n *yaml.Node) error {
	f, err := d.fields(n, "aggregate", "by", "compute")
	if err != nil {
		return err
	}
	a := &spec.AggregateStep{}
	s.Aggregate = a
	if _, err := d.optStrs(f["by"], "aggregate by", &a.Keys); err != nil {
		return err
	}
	var compute []string
	items, err := d.optStrs(f["compute"], "aggregate compute", &compute)
	if err != nil {
		return err
	}
	a.Aggs, err = parseItems(d, "aggregate", compute, items, spec.ParseAgg)
	return err
}

func (d *decoder) decodeSort(s *spec.Step, n *yaml.Node) error {
	keys, items, err := d.strs(n, "sort")
	if err != nil {
		return err
	}
	s.Sort = &spec.SortStep{}
	s.Sort.Keys, err = parseItems(d, "sort", keys, items, spec.ParseSortKey)
	return err
}

func (d *decoder) decodeJoin(s *spec.Step, n *yaml.Node) error {
	f, err := d.fields(n, "join", "left", "right", "on", "type", "broadcast", "where")
	if err != nil {
		return err
	}
	j := &spec.JoinStep{}
	s.Join = j
	for _, side := range []string{"left", "right"} {
		if f[side] == nil {
			return d.errf(n, "join has no %s input", side)
		}
		in, err := d.str(f[side], "join "+side)
		if err != nil {
			return err
		}
		s.Inputs = append(s.Inputs, in)
	}
	if err := d.decodeJoinOn(j, f["on"]); err != nil {
		return err
	}
	if w := f["where"]; w != nil {
		src, err := d.str(w, "join where")
		if err != nil {
			return err
		}
		if j.Where, err = spec.ParseExpr(src); err != nil {
			return d.errf(w, "join where: %s", exprMessage(err))
		}
	}
	if t := f["type"]; t != nil {
		v, err := d.str(t, "join type")
		if err != nil {
			return err
		}
		if j.Type, err = parseJoinType(v); err != nil {
			return d.errf(t, "join type: %v", err)
		}
	}
	// A join without keys broadcasts its right input unless told
	// otherwise, which Resolve refuses.
	j.Broadcast = j.Keyless()
	if b := f["broadcast"]; b != nil {
		if j.Broadcast, err = d.boolValue(b, "join broadcast"); err != nil {
			return err
		}
		j.BroadcastSet = true
	}
	return nil
}

// decodeJoinOn decodes the join keys: none (on omitted or on: []) is a
// join without keys.
func (d *decoder) decodeJoinOn(j *spec.JoinStep, n *yaml.Node) error {
	var on []string
	items, err := d.optStrs(n, "join on", &on)
	if err != nil {
		return err
	}
	if j.LeftKeys, j.RightKeys, err = parseJoinKeys(on); err != nil {
		return d.errf(items[0], "join on: %v", err)
	}
	return nil
}

// decodeLimit decodes `limit: N` or `limit: {count: N, offset: K}`.
func (d *decoder) decodeLimit(s *spec.Step, n *yaml.Node) error {
	l := &spec.LimitStep{}
	s.Limit = l
	if deref(n).Kind != yaml.MappingNode {
		v, err := d.int64Value(n, "limit")
		l.N = v
		return err
	}
	f, err := d.fields(n, "limit", "count", "offset")
	if err != nil {
		return err
	}
	if f["count"] == nil {
		return d.errf(n, "limit has no count: add count: N (the number of rows to keep after the offset)")
	}
	if l.N, err = d.int64Value(f["count"], "limit count"); err != nil {
		return err
	}
	if o := f["offset"]; o != nil {
		l.Offset, err = d.int64Value(o, "limit offset")
	}
	return err
}

// parseJoinKeys splits join keys written "col" (same name on both sides)
// or "left_col = right_col".
func parseJoinKeys(on []string) (left, right []string, err error) {
	for _, k := range on {
		l, r, pair := strings.Cut(k, "=")
		l, r = strings.TrimSpace(l), strings.TrimSpace(r)
		if !pair {
			r = l
		}
		if l == "" || r == "" || strings.ContainsAny(l+r, " \t=") {
			return nil, nil, fmt.Errorf("bad key %q: want \"column\" or \"left_column = right_column\"", k)
		}
		left, right = append(left, l), append(right, r)
	}
	return left, right, nil
}

func parseJoinType(s string) (spec.JoinType, error) {
	if t, ok := spec.ParseJoinType(s); ok {
		return t, nil
	}
	return 0, fmt.Errorf("unknown join type %q (want inner, left, right, full, semi or anti)", s)
}

func (d *decoder) decodeRepartition(s *spec.Step, n *yaml.Node, step map[string]*yaml.Node) error {
	f, err := d.fields(n, "repartition", "by", "keys", "parallelism")
	if err != nil {
		return err
	}
	r := &spec.RepartitionStep{}
	s.Repartition = r
	if f["by"] == nil {
		return d.errf(n, "repartition has no by: (want hash, rebalance, random or broadcast)")
	}
	by, err := d.str(f["by"], "repartition by")
	if err != nil {
		return err
	}
	var ok bool
	if r.By, ok = spec.ParsePartitioning(by); !ok {
		return d.errf(f["by"], "repartition by: unknown partitioning %q (want hash, rebalance, random or broadcast)", by)
	}
	if _, err := d.optStrs(f["keys"], "repartition keys", &r.Keys); err != nil {
		return err
	}
	if p := f["parallelism"]; p != nil {
		if step["parallelism"] != nil {
			return d.errf(p, "repartition parallelism: the step's parallelism is set too; keep one")
		}
		if s.Parallelism, err = d.intValue(p, "repartition parallelism"); err != nil {
			return err
		}
	}
	return nil
}
