package jobs

import (
	"go.yaml.in/yaml/v4"

	"github.com/batchrun/batchrun/jobs/spec"
)

// decodeUnion decodes `union: [a, b]` (UNION ALL) or
// `union: {inputs: [a, b], distinct: true}` (UNION).
func (d *decoder) decodeUnion(s *spec.Step, n *yaml.Node) error {
	s.Union = &spec.UnionStep{}
	if deref(n).Kind != yaml.MappingNode {
		ins, _, err := d.strs(n, "union")
		s.Inputs = ins
		return err
	}
	f, err := d.fields(n, "union", "inputs", "distinct")
	if err != nil {
		return err
	}
	if f["inputs"] == nil {
		return d.errf(n, "union has no inputs: add inputs: [a, b]")
	}
	if s.Inputs, _, err = d.strs(f["inputs"], "union inputs"); err != nil {
		return err
	}
	if b := f["distinct"]; b != nil {
		distinct, err := d.boolValue(b, "union distinct")
		if err != nil {
			return err
		}
		if distinct {
			s.Union.Distinct = &spec.DistinctStep{}
		}
	}
	return nil
}

// decodeDistinct decodes `distinct: true` (every column) or
// `distinct: {on: [cols]}` (the first row of each distinct tuple of cols).
func (d *decoder) decodeDistinct(s *spec.Step, n *yaml.Node) error {
	s.Distinct = &spec.DistinctStep{}
	if deref(n).Kind != yaml.MappingNode {
		v, err := d.boolValue(n, "distinct")
		if err == nil && !v {
			return d.errf(n, "distinct: false is not a step: remove the step")
		}
		return err
	}
	f, err := d.fields(n, "distinct", "on")
	if err != nil {
		return err
	}
	if f["on"] == nil {
		return d.errf(n, "distinct has no on: columns (or write distinct: true for every column)")
	}
	_, err = d.optStrs(f["on"], "distinct on", &s.Distinct.Keys)
	return err
}

// decodeExplode decodes `explode: {column: c, split: " ", as: piece}`.
func (d *decoder) decodeExplode(s *spec.Step, n *yaml.Node) error {
	f, err := d.fields(n, "explode", "column", "split", "as")
	if err != nil {
		return err
	}
	e := &spec.ExplodeStep{}
	s.Explode = e
	if f["column"] == nil || f["split"] == nil {
		return d.errf(n, "explode needs column: and split:")
	}
	if err := d.optStr(f["column"], "explode column", &e.Column); err != nil {
		return err
	}
	if err := d.optStr(f["split"], "explode split", &e.Split); err != nil {
		return err
	}
	return d.optStr(f["as"], "explode as", &e.As)
}

// decodeWindow decodes `window: {partition_by: [cols], order_by: ["col
// [DESC] [NULLS FIRST|LAST]"], compute: ["func(args) [frame] [AS name]"]}`.
func (d *decoder) decodeWindow(s *spec.Step, n *yaml.Node) error {
	f, err := d.fields(n, "window", "partition_by", "order_by", "compute")
	if err != nil {
		return err
	}
	w := &spec.WindowStep{}
	s.Window = w
	if _, err := d.optStrs(f["partition_by"], "window partition_by", &w.PartitionBy); err != nil {
		return err
	}
	var order, compute []string
	items, err := d.optStrs(f["order_by"], "window order_by", &order)
	if err != nil {
		return err
	}
	if w.OrderBy, err = parseItems(d, "window order_by", order, items, spec.ParseSortKey); err != nil {
		return err
	}
	if f["compute"] == nil {
		return d.errf(n, "window has no compute: add compute: [\"row_number() AS rn\", ...]")
	}
	if items, err = d.optStrs(f["compute"], "window compute", &compute); err != nil {
		return err
	}
	w.Funcs, err = parseItems(d, "window", compute, items, spec.ParseWindowFunc)
	return err
}

// parseAll parses each of srcs; on an error it also returns the index of
// the one at fault.
func parseAll[T any](srcs []string, parse func(string) (T, error)) ([]T, int, error) {
	var out []T
	for i, src := range srcs {
		v, err := parse(src)
		if err != nil {
			return nil, i, err
		}
		out = append(out, v)
	}
	return out, 0, nil
}

// parseItems parses the strings of a list's items; an error names the
// item's line, what the list is and the item.
func parseItems[T any](d *decoder, what string, srcs []string, items []*yaml.Node, parse func(string) (T, error)) ([]T, error) {
	out, i, err := parseAll(srcs, parse)
	if err != nil {
		return nil, d.errf(items[i], "%s %q: %s", what, srcs[i], exprMessage(err))
	}
	return out, nil
}
