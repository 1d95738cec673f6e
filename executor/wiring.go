package executor

import (
	"context"
	"errors"
	"sync"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/batchrun/batchrun/plan"
	"github.com/batchrun/batchrun/shuffle"
)

// wiring is what a group's tasks share: the in-memory pipes of its
// pipelined edges (a forward edge has one pipe per lane, producer i to
// consumer i; any other edge one pipe from all producers to all
// consumers), and the blocking partitions it produces itself.
type wiring struct {
	pipes map[plan.EdgeID][]*shuffle.Pipe

	// Only a region merged by the cycle rule reads a blocking partition
	// produced inside itself; a reader of one waits for its commit. Every
	// other blocking input was committed before the group started.
	mu       sync.Mutex
	produced map[plan.PartitionID]chan struct{}
}

func (l *Local) wire(g *Group) *wiring {
	capacity := l.PipeCapacity
	if capacity < 1 {
		capacity = 4
	}
	w := &wiring{pipes: make(map[plan.EdgeID][]*shuffle.Pipe), produced: make(map[plan.PartitionID]chan struct{})}
	for _, t := range g.Tasks {
		for _, o := range t.Outputs {
			if o.Mode == plan.Blocking {
				w.produced[plan.PartitionID{Edge: o.Edge, Producer: t.Subtask.Index}] = make(chan struct{})
				continue
			}
			if w.pipes[o.Edge] != nil {
				continue
			}
			e := l.Graph.Edge(o.Edge)
			np, nc := l.Graph.Stage(e.From).Parallelism, l.Graph.Stage(e.To).Parallelism
			if e.Partitioner == plan.Forward {
				lanes := make([]*shuffle.Pipe, np)
				for i := range lanes {
					lanes[i] = shuffle.NewPipe(1, 1, capacity)
				}
				w.pipes[o.Edge] = lanes
				continue
			}
			w.pipes[o.Edge] = []*shuffle.Pipe{shuffle.NewPipe(np, nc, capacity)}
		}
	}
	return w
}

// reader is consumer c's end of pipelined edge e.
func (w *wiring) reader(e *plan.Edge, c int) shuffle.Reader {
	if e.Partitioner == plan.Forward {
		return w.pipes[e.ID][c].Reader(0)
	}
	return w.pipes[e.ID][0].Reader(c)
}

// writer is producer p's end of pipelined edge e.
func (w *wiring) writer(e *plan.Edge, p int, part shuffle.Partitioner, opts shuffle.Options) shuffle.Writer {
	if e.Partitioner == plan.Forward {
		return w.pipes[e.ID][p].Writer(0, part, opts)
	}
	return w.pipes[e.ID][0].Writer(p, part, opts)
}

// committed wakes the readers of partitions a task of the group committed.
func (w *wiring) committed(ps []Written) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, p := range ps {
		if ch, ok := w.produced[p.Partition]; ok {
			close(ch)
			delete(w.produced, p.Partition)
		}
	}
}

// waitCommitted blocks until p is committed, when the group produces it.
func (w *wiring) waitCommitted(ctx context.Context, p plan.PartitionID) error {
	w.mu.Lock()
	ch, ok := w.produced[p]
	w.mu.Unlock()
	if !ok {
		return nil
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// fanout is the sink at the end of a task's chain: it hands every batch to
// each output's writer. Finish flushes and, for blocking edges, commits.
type fanout struct {
	outputs []Output
	writers []shuffle.Writer
	done    bool
}

// Push implements Sink.
func (f *fanout) Push(ctx context.Context, rec arrow.Record) error {
	for _, w := range f.writers {
		if err := w.Write(ctx, rec); err != nil {
			return err
		}
	}
	return nil
}

// Finish implements Sink.
func (f *fanout) Finish(ctx context.Context) error {
	for _, w := range f.writers {
		if err := w.Finish(ctx); err != nil {
			return err
		}
	}
	f.done = true
	return nil
}

func (f *fanout) abort() {
	for _, w := range f.writers {
		w.Abort()
	}
}

// sizedWriter is a writer that knows the bytes it committed.
type sizedWriter interface{ Stats() []shuffle.Stats }

// written checks that the task finished its output and returns the
// blocking partitions it committed, with their sizes.
func (f *fanout) written(t *Task) ([]Written, error) {
	if !f.done && len(f.writers) > 0 {
		return nil, errors.New("task returned without finishing its output")
	}
	var ws []Written
	for i, w := range f.writers {
		if f.outputs[i].Mode != plan.Blocking {
			continue
		}
		wr := Written{Partition: plan.PartitionID{Edge: f.outputs[i].Edge, Producer: t.Subtask.Index}}
		if sw, ok := w.(sizedWriter); ok {
			for _, s := range sw.Stats() {
				wr.RawBytes += s.RawBytes
				wr.StoredBytes += s.StoredBytes
			}
		}
		ws = append(ws, wr)
	}
	return ws, nil
}
