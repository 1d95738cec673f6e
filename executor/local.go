package executor

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"sync"
	"time"

	"github.com/batchrun/batchrun/plan"
	"github.com/batchrun/batchrun/shuffle"
)

// Local runs groups as goroutines of this process: one per task, pipelined
// edges as in-memory pipes, blocking ones through Partitions.
type Local struct {
	Graph      *plan.StageGraph
	Program    Program
	Partitions Partitions
	// PipeCapacity is the number of batches buffered per pipelined
	// channel (producer, consumer) before the producer blocks; default 4.
	PipeCapacity int
	// Shuffle configures pipelined writers (blocking ones are the
	// Partitions').
	Shuffle shuffle.Options
	// Logger receives task events; nil discards.
	Logger *slog.Logger
	// Name is what results say the tasks ran on (Result.Worker); default
	// "local".
	Name string
}

var _ Executor = (*Local)(nil)

// Run implements Executor.
func (l *Local) Run(ctx context.Context, g *Group, done func(*Task, Result, error)) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	w := l.wire(g)
	var wg sync.WaitGroup
	errs := make([]error, len(g.Tasks))
	for i := range g.Tasks {
		t := &g.Tasks[i]
		wg.Go(func() {
			// The first cause wins; the rest are its aftermath. A task
			// cancels the group before it aborts its outputs, so that its
			// readers' "producer aborted" never passes for the cause.
			res, err := l.runTask(ctx, t, w, cancel)
			if err != nil {
				errs[i] = err
			} else {
				w.committed(res.Written)
			}
			done(t, res, err)
		})
	}
	wg.Wait()
	return rootCause(errs, context.Cause(ctx))
}

// rootCause picks the error that made a group fail: the cause its context
// was cancelled with, unless that is a plain cancellation, else the first
// task error that is not one.
func rootCause(errs []error, cause error) error {
	if cause != nil && !errors.Is(cause, context.Canceled) {
		return cause
	}
	var first error
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
		if first == nil {
			first = err
		}
	}
	return first
}

func (l *Local) logger() *slog.Logger {
	if l.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l.Logger
}

// runTask runs one task and returns what it committed. A failure comes
// back as a *SubtaskError; a failed read of a blocking input wraps a
// *LostPartitionError.
func (l *Local) runTask(ctx context.Context, t *Task, w *wiring, fail context.CancelCauseFunc) (res Result, err error) {
	res.Start = time.Now()
	log := l.logger().With("subtask", t.Name, "attempt", t.Attempt)
	log.Debug("subtask started")
	outs := l.openOutputs(t, w)
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
			log.Error("subtask panicked", "panic", p, "stack", string(debug.Stack()))
		}
		res.End, res.Worker = time.Now(), cmp.Or(l.Name, "local")
		if err == nil {
			res.Written, err = outs.written(t)
		}
		if err != nil {
			res.Canceled = ctx.Err() != nil // stopped by another's failure, not its own
			err = &SubtaskError{Subtask: t.Subtask, Name: t.Name, Attempt: t.Attempt, Err: l.lostInput(t, err)}
			fail(err)
			outs.abort()
			log.Debug("subtask failed", "err", err)
			return
		}
		log.Debug("subtask finished", "rows_in", res.Stats.RowsIn, "rows_out", res.Stats.RowsOut)
	}()
	inputs, err := l.openInputs(ctx, t, w)
	if err != nil {
		return res, err
	}
	defer closeReaders(inputs)
	comp, err := l.Program.NewTask(t.Subtask, t.Attempt)
	if err != nil {
		return res, err
	}
	res.Stats, err = comp.Run(ctx, inputs, outs)
	return res, err
}

// lostInput turns a read error of task t into a LostPartitionError when it
// names one of t's blocking inputs that is missing or corrupt.
func (l *Local) lostInput(t *Task, err error) error {
	p, ok := l.Partitions.Lost(err)
	if !ok {
		return err
	}
	for _, in := range t.Inputs {
		if in.Edge == p.Edge && in.Mode == plan.Blocking {
			return &LostPartitionError{Partition: p, Name: l.Graph.PartitionName(p), Err: err}
		}
	}
	return err
}

// openInputs opens one reader per input port of t: the group's pipe for a
// pipelined edge, the partitions of every producer for a blocking one.
func (l *Local) openInputs(ctx context.Context, t *Task, w *wiring) ([]shuffle.Reader, error) {
	readers := make([]shuffle.Reader, 0, len(t.Inputs))
	for _, in := range t.Inputs {
		if in.Mode == plan.Pipelined {
			readers = append(readers, w.reader(l.Graph.Edge(in.Edge), int(t.Subtask.Index)))
			continue
		}
		for _, p := range in.Partitions {
			if err := w.waitCommitted(ctx, p); err != nil {
				closeReaders(readers)
				return nil, err
			}
		}
		r, err := l.Partitions.Reader(t.Subtask, in, l.Program.EdgeSchema(in.Edge))
		if err != nil {
			closeReaders(readers)
			return nil, err
		}
		readers = append(readers, r)
	}
	return readers, nil
}

func closeReaders(rs []shuffle.Reader) {
	for _, r := range rs {
		r.Close()
	}
}

// openOutputs opens a writer per output of t.
func (l *Local) openOutputs(t *Task, w *wiring) *fanout {
	f := &fanout{}
	for _, o := range t.Outputs {
		part := partitioner(o)
		var wr shuffle.Writer
		if o.Mode == plan.Pipelined {
			wr = w.writer(l.Graph.Edge(o.Edge), int(t.Subtask.Index), part, l.Shuffle)
		} else {
			p := plan.PartitionID{Edge: o.Edge, Producer: t.Subtask.Index}
			wr = l.Partitions.Writer(p, t.StoreAttempt, o.Subpartitions, part)
		}
		f.outputs = append(f.outputs, o)
		f.writers = append(f.writers, wr)
	}
	return f
}

// partitioner builds o's partitioner. The nondeterministic ones draw from
// o.Seed, so a given seed replays the same choices.
func partitioner(o Output) shuffle.Partitioner {
	switch o.Partitioner {
	case plan.Forward:
		return shuffle.Forward()
	case plan.Global:
		return shuffle.Global()
	case plan.Hash:
		return shuffle.Hash(o.Keys...)
	case plan.Broadcast:
		return shuffle.Broadcast()
	case plan.Rebalance:
		return shuffle.Rebalance(o.Seed)
	default:
		return shuffle.Random(rand.New(rand.NewPCG(o.Seed, 0x72616e64)))
	}
}
