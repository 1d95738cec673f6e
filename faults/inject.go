package faults

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/batchrun/batchrun/executor"
	"github.com/batchrun/batchrun/plan"
	"github.com/batchrun/batchrun/shuffle"
	"github.com/batchrun/batchrun/storage"
)

// Set is a run's faults; partition faults fire once.
type Set struct {
	g      *plan.StageGraph
	faults []Fault
	logger *slog.Logger

	mu    sync.Mutex
	fired []bool
}

// NewSet returns the faults of a run of g; logger hears each one fired.
func NewSet(g *plan.StageGraph, faults []Fault, logger *slog.Logger) *Set {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Set{g: g, faults: faults, logger: logger, fired: make([]bool, len(faults))}
}

// taskFault returns the task fault of st's attempt, if any.
func (s *Set) taskFault(st plan.SubtaskID, attempt int) (Fault, bool) {
	for _, f := range s.faults {
		if (f.Kind == Error || f.Kind == Panic) && f.Subtask == st && f.Attempt == attempt {
			return f, true
		}
	}
	return Fault{}, false
}

// TakePartitionFault returns, once, the partition fault on p that fires
// when consumer opens it.
func (s *Set) TakePartitionFault(p plan.PartitionID, consumer int32) (Fault, bool) {
	e := s.g.Edge(p.Edge)
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if s.fired[i] || (f.Kind != Lose && f.Kind != Corrupt) {
			continue
		}
		if f.Subtask != (plan.SubtaskID{Stage: e.From, Index: p.Producer}) || (f.Consumer >= 0 && int32(f.Consumer) != consumer) {
			continue
		}
		if f.AnyEdge && e.Mode == plan.Blocking || f.Edge == p.Edge {
			s.fired[i] = true
			return f, true
		}
	}
	return Fault{}, false
}

// Program returns p with the set's task faults: the computation of a
// faulty attempt fails or panics after its batch count.
func (s *Set) Program(p executor.Program) executor.Program { return &program{Program: p, set: s} }

type program struct {
	executor.Program
	set *Set
}

func (p *program) NewTask(st plan.SubtaskID, attempt int) (executor.Computation, error) {
	c, err := p.Program.NewTask(st, attempt)
	f, ok := p.set.taskFault(st, attempt)
	if err != nil || !ok {
		return c, err
	}
	return &tripped{Computation: c, t: &tripwire{fault: f, name: fmt.Sprintf("%s#%d", p.set.g.SubtaskName(st), attempt)}}, nil
}

// Partitions returns ps with the set's partition faults: a faulty
// partition of store is deleted or corrupted (for the consumer's part)
// just before its first reader opens it.
func (s *Set) Partitions(ps executor.Partitions, store *storage.Store, run uint64) executor.Partitions {
	return &partitions{Partitions: ps, set: s, store: store, run: run}
}

type partitions struct {
	executor.Partitions
	set   *Set
	store *storage.Store
	run   uint64

	// mu makes a fault and the reads after it ordered: a reader that opens
	// while the first one damages the partition waits until it is done, so
	// that no consumer reads the partition after its first reader found it
	// gone.
	mu sync.Mutex
}

func (p *partitions) Reader(c plan.SubtaskID, in executor.Input, schema *arrow.Schema) (shuffle.Reader, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pid := range in.Partitions {
		if err := p.inject(pid, c.Index, in.Subpartition); err != nil {
			return nil, err
		}
	}
	return p.Partitions.Reader(c, in, schema)
}

func (p *partitions) inject(pid plan.PartitionID, consumer int32, sub int) error {
	f, ok := p.set.TakePartitionFault(pid, consumer)
	if !ok {
		return nil
	}
	p.set.logger.Info("injecting fault", "fault", f.Describe(p.set.g), "partition", p.set.g.PartitionName(pid))
	ref := storage.PartitionRef{Run: p.run, Edge: uint32(pid.Edge), Producer: uint32(pid.Producer)}
	if f.Kind == Lose {
		return p.store.DeletePartition(ref)
	}
	return p.store.CorruptPartition(ref, sub)
}

// tripwire fires a task fault after a number of batches.
type tripwire struct {
	fault Fault
	name  string
	seen  int
	fired bool
}

func (t *tripwire) tick() error {
	if t.fired {
		return nil
	}
	if t.seen < t.fault.After {
		t.seen++
		return nil
	}
	return t.fire()
}

// fire triggers the fault now (unless it already fired).
func (t *tripwire) fire() error {
	if t.fired {
		return nil
	}
	t.fired = true
	msg := fmt.Sprintf("%s after %d batches", t.name, t.seen)
	if t.fault.Kind == Panic {
		panic(fmt.Sprintf("injected panic: %s", msg))
	}
	return fmt.Errorf("%w: %s", ErrInjected, msg)
}

// tripped is a computation with a task fault: it counts the batches read
// (or written, by a stage without inputs) and fails after the fault's
// count, or when its input ends if that comes first.
type tripped struct {
	executor.Computation
	t *tripwire
}

func (c *tripped) Run(ctx context.Context, inputs []shuffle.Reader, out executor.Sink) (executor.Stats, error) {
	if len(inputs) == 0 {
		out = &trippedSink{Sink: out, t: c.t}
	}
	wrapped := make([]shuffle.Reader, len(inputs))
	for i, r := range inputs {
		wrapped[i] = &trippedReader{Reader: r, t: c.t}
	}
	st, err := c.Computation.Run(ctx, wrapped, out)
	if err == nil {
		err = c.t.fire()
	}
	return st, err
}

type trippedReader struct {
	shuffle.Reader
	t *tripwire
}

func (r *trippedReader) Next(ctx context.Context) (arrow.Record, error) {
	if err := r.t.tick(); err != nil {
		return nil, err
	}
	return r.Reader.Next(ctx)
}

// Producers implements shuffle.ProducerSplitter when the reader it wraps
// does: each producer's reader counts against the same tripwire.
func (r *trippedReader) Producers() []shuffle.Reader {
	sp, ok := r.Reader.(shuffle.ProducerSplitter)
	if !ok {
		return nil
	}
	rs := sp.Producers()
	for i, p := range rs {
		rs[i] = &trippedReader{Reader: p, t: r.t}
	}
	return rs
}

type trippedSink struct {
	executor.Sink
	t *tripwire
}

func (o *trippedSink) Push(ctx context.Context, rec arrow.Record) error {
	if err := o.t.tick(); err != nil {
		return err
	}
	return o.Sink.Push(ctx, rec)
}
