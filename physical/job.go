package physical

import (
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/batchrun/batchrun/executor"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators"
	"github.com/batchrun/batchrun/operators/arrowx"
	"github.com/batchrun/batchrun/operators/formats"
	"github.com/batchrun/batchrun/plan"
	"github.com/batchrun/batchrun/shuffle"
	"github.com/batchrun/batchrun/storage"
)

// Config is what a physical job is built from: the loaded job, where its
// inputs and outputs are, and the memory its operators may hold.
type Config struct {
	Job      *spec.Job
	Resolved *spec.Resolved
	Graph    *plan.StageGraph
	// Inputs are the files of each read step, by step id.
	Inputs map[string]formats.ScanInput
	// ReadProgress, when set, is the counter of the input bytes read step
	// has read (formats.ScanOptions.Progress), for progress displays.
	ReadProgress func(step string) *atomic.Int64
	// PartPath is the file subtask index of an output writes: a write
	// step's id, or QuarantineOutput of a read's.
	PartPath func(output string, index int) string
	// Operator memory (spill.go): the store spill runs go to, the run and
	// attempt base they belong to, their codec, and the run's memory bound
	// (0: unbounded) shared by Slots subtasks.
	Store       *storage.Store
	Run         uint64
	AttemptBase uint32
	Codec       shuffle.Codec
	Memory      int64
	Slots       int
	// Logger hears about skipped rows; nil discards.
	Logger *slog.Logger
	// KeepAllColumns turns projection pushdown off: every read emits its
	// whole schema (tests compare the two).
	KeepAllColumns bool
}

// Job is what each stage of a compiled job computes: it builds each
// subtask attempt's operator chain from the stage's ops and knows the
// schema of every edge. It is the executor.Program of a run.
type Job struct {
	cfg      Config
	mem      memory.Allocator
	spillSeq atomic.Uint32 // spill runs numbered per job (spill.go)

	// schemas is every step's output schema under the projection: reads
	// emit only the columns some later step uses (plan.Project), and the
	// steps after them carry no others. Every process that builds the job
	// derives the same, so the producers and consumers of an edge agree.
	schemas map[string]spec.Schema
	// readColumns names, per read step that is pruned, the columns its
	// scan emits; a read not in it emits its whole schema.
	readColumns map[string][]string
	// selects holds the columns of the select steps that pruning
	// narrowed (plan.Projection.Selects).
	selects map[string][]spec.NamedExpr
	// filters holds the columns of the filters that pruning narrowed
	// (plan.Projection.Filters).
	filters map[string][]string

	edgeSchemas []spec.Schema
	arrowEdges  []*arrow.Schema
}

var _ executor.Program = (*Job)(nil)

// New builds the physical job of cfg, checking that every edge's schema
// holds its key columns.
func New(cfg Config) (*Job, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	p := &Job{cfg: cfg, mem: memory.NewGoAllocator()}
	if err := p.project(); err != nil {
		return nil, err
	}
	g := cfg.Graph
	n := len(g.Edges)
	p.edgeSchemas = make([]spec.Schema, n)
	p.arrowEdges = make([]*arrow.Schema, n)
	for _, e := range g.Edges {
		stage := g.Stage(e.From)
		schema, err := p.opOutput(stage.Ops[len(stage.Ops)-1])
		if err != nil {
			return nil, err
		}
		p.edgeSchemas[e.ID] = schema
		p.arrowEdges[e.ID] = arrowx.ArrowSchema(schema)
		for _, k := range e.Keys {
			if schema.Index(k) < 0 {
				return nil, fmt.Errorf("physical: edge %s: key column %q not in %s", e.ID, k, schema)
			}
		}
	}
	return p, nil
}

// project sets the schemas the job's steps have, pruned unless
// KeepAllColumns.
func (p *Job) project() error {
	p.schemas, p.readColumns = p.cfg.Resolved.Schemas, map[string][]string{}
	if p.cfg.KeepAllColumns {
		return nil
	}
	proj, err := plan.Project(p.cfg.Job, p.cfg.Resolved)
	if err != nil {
		return fmt.Errorf("physical: %w", err)
	}
	p.schemas, p.selects, p.filters = proj.Schemas, proj.Selects, proj.Filters
	for id, cols := range proj.Reads {
		if proj.Pruned(p.cfg.Job, id) {
			p.readColumns[id] = cols.Names()
		}
	}
	return nil
}

// EdgeSchema implements executor.Program.
func (p *Job) EdgeSchema(e plan.EdgeID) *arrow.Schema { return p.arrowEdges[e] }

// NewTask implements executor.Program.
func (p *Job) NewTask(st plan.SubtaskID, attempt int) (executor.Computation, error) {
	return p.newSpillTask(p.cfg.Graph.Stage(st.Stage), int(st.Index), attempt), nil
}

// opInput is the schema an op consumes on port: the input step's output,
// or for a final op the output of its partial half.
func (p *Job) opInput(op plan.Op, port int) (spec.Schema, error) {
	step := p.cfg.Job.Step(op.Step)
	in := p.schemas[step.Inputs[port]]
	if op.Role == plan.Final && step.Kind == spec.KindAggregate {
		return operators.PartialAggSchema(in, step.Aggregate)
	}
	return in, nil
}

// opOutput is the schema an op produces.
func (p *Job) opOutput(op plan.Op) (spec.Schema, error) {
	step := p.cfg.Job.Step(op.Step)
	if op.Role == plan.Partial && step.Kind == spec.KindAggregate {
		return operators.PartialAggSchema(p.schemas[step.Inputs[0]], step.Aggregate)
	}
	return p.schemas[step.ID], nil
}
