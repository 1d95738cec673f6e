package jobs

import (
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators"
	"github.com/batchrun/batchrun/operators/arrowx"
	"github.com/batchrun/batchrun/operators/formats"
	"github.com/batchrun/batchrun/plan"
	"github.com/batchrun/batchrun/scheduler"
	"github.com/batchrun/batchrun/shuffle"
	"github.com/batchrun/batchrun/storage"
)

// program is the scheduler's view of a loaded job: it builds each subtask's
// operator chain from the stage's ops and knows the schema of every edge.
type program struct {
	l       *Loaded
	outputs map[string]*output           // write step id (or quarantineOutput) -> output
	inputs  map[string]formats.ScanInput // read step id -> its files
	mem     memory.Allocator
	logger  *slog.Logger

	// Operator memory (spill.go): the store spill runs go to, the run and
	// attempt base they belong to, their codec, the run's memory bound
	// (0: unbounded) shared by slots subtasks, and the spill run counter.
	store       *storage.Store
	run         uint64
	attemptBase uint32
	codec       shuffle.Codec
	memory      int64
	slots       int
	spillSeq    atomic.Uint32

	edgeSchemas []spec.Schema
	arrowEdges  []*arrow.Schema
}

var _ scheduler.Program = (*program)(nil)

func newProgram(l *Loaded, outs []*output) (*program, error) {
	p := &program{l: l, outputs: make(map[string]*output, len(outs)), mem: memory.NewGoAllocator(),
		inputs: map[string]formats.ScanInput{}, logger: slog.New(slog.DiscardHandler)}
	for _, o := range outs {
		p.outputs[o.name] = o
	}
	for _, s := range l.Job.Steps {
		if s.Read == nil {
			continue
		}
		in, err := expandInput(s.Read)
		if err != nil {
			return nil, fmt.Errorf("jobs: step %q: %w", s.ID, err)
		}
		p.inputs[s.ID] = in
	}
	n := len(l.Graph.Edges)
	p.edgeSchemas = make([]spec.Schema, n)
	p.arrowEdges = make([]*arrow.Schema, n)
	for _, e := range l.Graph.Edges {
		stage := l.Graph.Stage(e.From)
		schema, err := p.opOutput(stage.Ops[len(stage.Ops)-1])
		if err != nil {
			return nil, err
		}
		p.edgeSchemas[e.ID] = schema
		p.arrowEdges[e.ID] = arrowx.ArrowSchema(schema)
		for _, k := range e.Keys {
			if schema.Index(k) < 0 {
				return nil, fmt.Errorf("jobs: edge %s: key column %q not in %s", e.ID, k, schema)
			}
		}
	}
	return p, nil
}

// EdgeSchema implements scheduler.Program.
func (p *program) EdgeSchema(e plan.EdgeID) *arrow.Schema { return p.arrowEdges[e] }

// NewTask implements scheduler.Program.
func (p *program) NewTask(st plan.SubtaskID, attempt int) (scheduler.Task, error) {
	return p.newSpillTask(p.l.Graph.Stage(st.Stage), int(st.Index), attempt), nil
}

// opInput is the schema an op consumes on port: the input step's output,
// or for a final op the output of its partial half.
func (p *program) opInput(op plan.Op, port int) (spec.Schema, error) {
	step := p.l.Job.Step(op.Step)
	in := p.l.Resolved.Schemas[step.Inputs[port]]
	if op.Role == plan.Final && step.Kind == spec.KindAggregate {
		return operators.PartialAggSchema(in, step.Aggregate)
	}
	return in, nil
}

// opOutput is the schema an op produces.
func (p *program) opOutput(op plan.Op) (spec.Schema, error) {
	step := p.l.Job.Step(op.Step)
	if op.Role == plan.Partial && step.Kind == spec.KindAggregate {
		return operators.PartialAggSchema(p.l.Resolved.Schemas[step.Inputs[0]], step.Aggregate)
	}
	return p.l.Resolved.Schemas[step.ID], nil
}
