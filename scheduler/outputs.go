package scheduler

import (
	"context"
	"errors"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/batchrun/batchrun/plan"
	"github.com/batchrun/batchrun/shuffle"
)

// fanout is the operator at the end of a subtask's chain: it hands every
// batch to each output edge's writer. Finish flushes and, for blocking
// edges, commits.
type fanout struct {
	edges   []plan.EdgeID
	writers []shuffle.Writer
	rows    int64
	done    bool
}

func (s *Scheduler) openOutputs(st plan.SubtaskID, attempt int, w *regionWiring) *fanout {
	stage := s.g.Stage(st.Stage)
	f := &fanout{}
	for _, eid := range stage.Outputs {
		e := s.g.Edge(eid)
		part := s.partitionerFor(e, st, attempt)
		var wr shuffle.Writer
		if e.Mode == plan.Pipelined {
			wr = w.writer(e, int(st.Index), part, s.shuffleOpts)
		} else {
			wr = shuffle.NewBlockingWriter(s.store, s.partitionRef(eid, st.Index), s.opts.AttemptBase+uint32(attempt), s.subpartitions(e), part, s.shuffleOpts)
		}
		f.edges = append(f.edges, eid)
		f.writers = append(f.writers, wr)
	}
	return f
}

// Push implements operators.Operator.
func (f *fanout) Push(ctx context.Context, rec arrow.Record) error {
	f.rows += rec.NumRows()
	for _, w := range f.writers {
		if err := w.Write(ctx, rec); err != nil {
			return err
		}
	}
	return nil
}

// Finish implements operators.Operator.
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

// collectOutputs checks that the task finished its output and returns the
// blocking partitions it committed, adding their sizes to a.
func (s *Scheduler) collectOutputs(st plan.SubtaskID, f *fanout, a *Attempt) ([]plan.PartitionID, error) {
	if !f.done {
		if len(f.writers) > 0 {
			return nil, errors.New("task returned without finishing its output")
		}
	}
	var commits []plan.PartitionID
	for i, w := range f.writers {
		if bw, ok := w.(*shuffle.BlockingWriter); ok {
			for _, stats := range bw.Stats() {
				a.Spilled += stats.RawBytes
				a.Stored += stats.StoredBytes
			}
			commits = append(commits, plan.PartitionID{Edge: f.edges[i], Producer: st.Index})
		}
	}
	return commits, nil
}
