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
