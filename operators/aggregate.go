package operators

import (
	"context"
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators/arrowx"
)

// AggMode says which half of an aggregate a HashAggregate runs.
type AggMode uint8

const (
	// AggWhole turns raw input into final values in one operator.
	AggWhole AggMode = iota
	// AggPartial turns raw input into partial states (PartialAggSchema).
	AggPartial
	// AggFinal merges partial states into final values (AggregateSchema).
	AggFinal
)

func (m AggMode) String() string {
	switch m {
	case AggPartial:
		return "partial"
	case AggFinal:
		return "final"
	}
	return "whole"
}

// aggCol is one resolved aggregate.
type aggCol struct {
	fn      spec.AggFunc
	arg     int // input column; -1 for count(*)
	argType spec.Type
	argName string
	alias   string
	outType spec.Type
	state   []spec.Field // its partial state columns
}

// aggPlan is an aggregate step resolved against its input schema.
type aggPlan struct {
	keys     []int
	keyTypes []spec.Type
	aggs     []aggCol
}

func resolveAggregate(in spec.Schema, step *spec.AggregateStep) (*aggPlan, error) {
	p := &aggPlan{}
	for _, k := range step.Keys {
		i := in.Index(k)
		if i < 0 {
			return nil, fmt.Errorf("operators: aggregate key %q is not a column of %s", k, in)
		}
		p.keys = append(p.keys, i)
		p.keyTypes = append(p.keyTypes, in[i].Type)
	}
	for _, a := range step.Aggs {
		c, err := resolveAgg(in, a)
		if err != nil {
			return nil, err
		}
		p.aggs = append(p.aggs, c)
	}
	return p, nil
}

// aggName is the output column name of a: its alias, or func_arg (count
// for count(*)), as spec.Resolve names it.
func aggName(a spec.Agg) string {
	switch {
	case a.Alias != "":
		return a.Alias
	case a.Arg == "":
		return a.Func.String()
	}
	return a.Func.String() + "_" + a.Arg
}

func resolveAgg(in spec.Schema, a spec.Agg) (aggCol, error) {
	name := aggName(a)
	c := aggCol{fn: a.Func, arg: -1, alias: name, outType: spec.Int64}
	if a.Arg != "" {
		c.arg = in.Index(a.Arg)
		if c.arg < 0 {
			return c, fmt.Errorf("operators: %s(%s): no column %q in %s", a.Func, a.Arg, a.Arg, in)
		}
		c.argType, c.argName = in[c.arg].Type, a.Arg
	} else if a.Func != spec.AggCount {
		return c, fmt.Errorf("operators: %s needs a column", a.Func)
	}
	bad := false
	switch a.Func {
	case spec.AggCount:
		c.state = []spec.Field{{Name: name, Type: spec.Int64}}
	case spec.AggSum:
		bad, c.outType = !c.argType.Numeric(), spec.SumType(c.argType)
		c.state = []spec.Field{{Name: name, Type: c.argType}}
		if c.argType.IsDecimal() {
			c.state = []spec.Field{{Name: name + "#lo", Type: spec.Int64}, {Name: name + "#hi", Type: spec.Int64}}
		}
	case spec.AggMin, spec.AggMax:
		bad, c.outType = c.argType == spec.Null, c.argType
		c.state = []spec.Field{{Name: name, Type: c.argType}}
	case spec.AggAvg:
		bad, c.outType = !c.argType.Numeric(), spec.Float64
		c.state = []spec.Field{{Name: name + "#sum", Type: spec.Float64}, {Name: name + "#count", Type: spec.Int64}}
		if c.argType.IsDecimal() {
			c.state = []spec.Field{{Name: name + "#lo", Type: spec.Int64}, {Name: name + "#hi", Type: spec.Int64},
				{Name: name + "#count", Type: spec.Int64}}
		}
	case spec.AggCountDistinct:
		bad = c.argType == spec.Null
		c.state = []spec.Field{{Name: name, Type: spec.Int64}}
	case spec.AggFirst, spec.AggAnyValue:
		bad, c.outType = c.argType == spec.Null, c.argType
		c.state = []spec.Field{{Name: name, Type: c.argType}}
	default:
		return c, fmt.Errorf("operators: unknown aggregate function %d", a.Func)
	}
	if bad {
		return c, fmt.Errorf("operators: %s(%s): cannot aggregate type %s", a.Func, a.Arg, c.argType)
	}
	return c, nil
}

func (p *aggPlan) keyFields(in spec.Schema) spec.Schema {
	s := make(spec.Schema, 0, len(p.keys))
	for _, k := range p.keys {
		s = append(s, in[k])
	}
	return s
}

// PartialAggSchema is the schema of a partial aggregate's output (and of a
// final aggregate's input): the key columns, then per aggregate its state:
// count -> alias int64; sum -> alias of the argument's type (null when the
// group had no non-null input); min, max -> alias of the argument's type;
// avg -> alias#sum float64 and alias#count int64. sum of a decimal is exact:
// alias#lo and alias#hi int64, the low and high halves of a 128-bit sum;
// avg of a decimal adds alias#count.
func PartialAggSchema(in spec.Schema, step *spec.AggregateStep) (spec.Schema, error) {
	p, err := resolveAggregate(in, step)
	if err != nil {
		return nil, err
	}
	s := p.keyFields(in)
	for _, a := range p.aggs {
		s = append(s, a.state...)
	}
	return s, nil
}

// AggregateSchema is the schema of an aggregate's final output: the key
// columns, then one column per aggregate named by its alias: count int64,
// sum/min/max the argument's type (sum of decimal(p,s): decimal(18,s)),
// avg float64.
func AggregateSchema(in spec.Schema, step *spec.AggregateStep) (spec.Schema, error) {
	p, err := resolveAggregate(in, step)
	if err != nil {
		return nil, err
	}
	s := p.keyFields(in)
	for _, a := range p.aggs {
		s = append(s, spec.Field{Name: a.alias, Type: a.outType})
	}
	return s, nil
}

// HashAggregate groups rows by key columns and computes aggregates. It is a
// Sink, then a Source: it emits nothing until Finish, then every group in
// first-seen order, in batches of at most BatchRows rows. With no keys it
// emits exactly one row, even for empty input. Null keys form one group.
// With a Budget (SetBudget) the table's memory is bounded; see
// aggregate_spill.go: a partial aggregate then emits early, and a whole or
// final one spills and emits partition by partition, not in first-seen
// order.
type HashAggregate struct {
	mode     AggMode
	plan     *aggPlan
	inKeys   []int   // key columns in the batches pushed in
	inArgs   [][]int // per aggregate: its argument (or state) columns
	table    *groupTable
	accs     []accumulator
	out      Operator
	mem      memory.Allocator
	schema   *arrow.Schema
	inSchema spec.Schema // of the batches pushed in
	stepIn   spec.Schema // the aggregate step's input
	step     *spec.AggregateStep
	spill    aggSpill

	keys  batchKeys
	views []arrowx.ColView
	gids  []int32
	stats Stats
}

// NewHashAggregate returns an aggregate of the given mode. in is the schema
// of the aggregate step's input for every mode: an AggFinal operator is fed
// batches of PartialAggSchema(in, step).
func NewHashAggregate(mode AggMode, in spec.Schema, step *spec.AggregateStep, out Operator, mem memory.Allocator) (*HashAggregate, error) {
	p, err := resolveAggregate(in, step)
	if err != nil {
		return nil, err
	}
	h := &HashAggregate{mode: mode, plan: p, out: out, mem: mem, stepIn: in, step: step}
	outSchema, err := AggregateSchema(in, step)
	if mode == AggPartial {
		outSchema, err = PartialAggSchema(in, step)
	}
	if err != nil {
		return nil, err
	}
	h.schema = arrowx.ArrowSchema(outSchema)
	h.inSchema = in
	if mode == AggFinal {
		if h.inSchema, err = PartialAggSchema(in, step); err != nil {
			return nil, err
		}
	}
	h.wireInputs()
	if len(p.keys) > 0 {
		codec, err := newKeyCodec(p.keyTypes)
		if err != nil {
			return nil, err
		}
		h.table = newGroupTable(codec, true)
	}
	for i := range p.aggs {
		if p.aggs[i].fn == spec.AggCountDistinct && mode != AggWhole {
			return nil, fmt.Errorf("operators: count_distinct runs in one stage (mode whole), not %s", mode)
		}
		acc, err := newAccumulator(&p.aggs[i])
		if err != nil {
			return nil, err
		}
		if h.table == nil {
			acc.resize(1)
		}
		h.accs = append(h.accs, acc)
	}
	return h, nil
}

// wireInputs records which input columns hold the keys and each
// aggregate's argument or state.
func (h *HashAggregate) wireInputs() {
	p := h.plan
	if h.mode != AggFinal {
		h.inKeys = p.keys
		for _, a := range p.aggs {
			h.inArgs = append(h.inArgs, []int{a.arg})
		}
		return
	}
	col := 0
	for range p.keys {
		h.inKeys = append(h.inKeys, col)
		col++
	}
	for _, a := range p.aggs {
		var idx []int
		for range a.state {
			idx = append(idx, col)
			col++
		}
		h.inArgs = append(h.inArgs, idx)
	}
}

// Stats returns the rows consumed and emitted so far.
func (h *HashAggregate) Stats() Stats { return h.stats }

// Groups is the number of groups so far.
func (h *HashAggregate) Groups() int {
	if h.table == nil {
		return 1
	}
	return h.table.len()
}

// Push folds one batch into the groups.
func (h *HashAggregate) Push(ctx context.Context, rec arrow.Record) error {
	n := int(rec.NumRows())
	h.stats.RowsIn += int64(n)
	if err := CheckSchema("HashAggregate", rec, h.inSchema); err != nil {
		return err
	}
	if n == 0 {
		return nil
	}
	if err := h.groupRows(rec, n); err != nil {
		return err
	}
	for i, acc := range h.accs {
		acc.resize(h.Groups())
		if err := h.fold(acc, rec, h.inArgs[i], n); err != nil {
			return err
		}
	}
	return h.checkBudget(ctx)
}

// groupRows sets h.gids to the group of each row of rec.
func (h *HashAggregate) groupRows(rec arrow.Record, n int) error {
	h.gids = sizedSlice(h.gids, n)
	if h.table == nil {
		clear(h.gids)
		return nil
	}
	views, err := arrowx.ViewsOf(rec, h.inKeys, h.views)
	if err != nil {
		return err
	}
	h.views = views
	if err := h.table.codec.prepare(views, n, &h.keys); err != nil {
		return err
	}
	h.table.insert(&h.keys, h.gids)
	return nil
}

func (h *HashAggregate) fold(acc accumulator, rec arrow.Record, cols []int, n int) error {
	if h.mode == AggFinal {
		views, err := arrowx.ViewsOf(rec, cols, h.views)
		if err != nil {
			return err
		}
		h.views = views
		return acc.merge(h.gids, views)
	}
	v := arrowx.ColView{N: n}
	if cols[0] >= 0 {
		var err error
		if v, err = arrowx.ViewOf(rec.Column(cols[0])); err != nil {
			return err
		}
	}
	return acc.consume(h.gids, &v)
}

// Finish emits every group, then finishes the downstream operator.
func (h *HashAggregate) Finish(ctx context.Context) error {
	if h.spill.parts != nil {
		return h.finishSpilled(ctx)
	}
	if err := h.emitAll(ctx); err != nil {
		return err
	}
	return h.out.Finish(ctx)
}

// emitAll pushes every group downstream.
func (h *HashAggregate) emitAll(ctx context.Context) error {
	total := h.Groups()
	for from := 0; from < total; from += BatchRows {
		if err := ctx.Err(); err != nil {
			return err
		}
		to := min(from+BatchRows, total)
		rec, err := h.emit(from, to)
		if err != nil {
			return err
		}
		h.stats.RowsOut += int64(to - from)
		err = h.out.Push(ctx, rec)
		rec.Release()
		if err != nil {
			return err
		}
	}
	return nil
}

// emit builds the output batch of groups [from, to).
func (h *HashAggregate) emit(from, to int) (arrow.Record, error) {
	return h.emitAs(from, to, h.mode == AggPartial, h.schema)
}

// emitAs builds the batch of groups [from, to): their partial states
// (states) or final values, of schema. Only final values can fail.
func (h *HashAggregate) emitAs(from, to int, states bool, schema *arrow.Schema) (arrow.Record, error) {
	if !states {
		for _, acc := range h.accs {
			if fc, ok := acc.(finalChecker); ok {
				if err := fc.checkFinal(from, to); err != nil {
					return nil, err
				}
			}
		}
	}
	var cols []arrow.Array
	if h.table != nil {
		cols = h.table.keyArrays(from, to, h.mem)
	}
	for _, acc := range h.accs {
		if states {
			cols = append(cols, acc.state(from, to, h.mem)...)
		} else {
			cols = append(cols, acc.final(from, to, h.mem))
		}
	}
	return arrowx.NewRecord(schema, cols, to-from), nil
}
