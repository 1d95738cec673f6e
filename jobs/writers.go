package jobs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"

	"github.com/batchrun/batchrun/jobs/statedir"
	"github.com/batchrun/batchrun/physical"
	"github.com/batchrun/batchrun/plan"
)

// A writer is a subtask without blocking outputs: what it produces is its
// part files of the job's outputs, published whole when it finishes
// (physical/partfile.go). The run record lists the writers that finished,
// and a resumed run reuses them while their part files are in place (the
// scheduler's resume decides, with Options.Finished), so that a killed run
// (or a dead coordinator) does not write them again.

// isWriter reports whether stage st has no blocking output.
func isWriter(g *plan.StageGraph, st plan.StageID) bool {
	for _, e := range g.Edges {
		if e.From == st && e.Mode == plan.Blocking {
			return false
		}
	}
	return true
}

// writerFinished records, durably, that writer st finished, having
// written rows.
func (inv *invocation) writerFinished(st plan.SubtaskID, rows int64) {
	if !isWriter(inv.l.Graph, st.Stage) {
		return
	}
	name := inv.l.Graph.SubtaskName(st)
	rec := &inv.run.Rec
	rec.Finished = slices.DeleteFunc(rec.Finished, func(f statedir.FinishedWriter) bool { return f.Subtask == name })
	rec.Finished = append(rec.Finished, statedir.FinishedWriter{Subtask: name, Rows: rows})
	if err := inv.run.Put(); err != nil {
		inv.logger.Warn("record a finished writer (it runs again on a resume)", "subtask", name, "err", err)
	}
}

// finishedWriters are the writers the record lists whose part files are
// all in place.
func (inv *invocation) finishedWriters(outs []*output) []plan.SubtaskID {
	var ids []plan.SubtaskID
	for _, st := range inv.l.Graph.Stages {
		for i := range st.Parallelism {
			id := plan.SubtaskID{Stage: st.ID, Index: int32(i)}
			if _, ok := inv.writerRows(id); ok && inv.partsInPlace(outs, id) {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

// writerRows is what the record says writer id wrote, if it finished.
func (inv *invocation) writerRows(id plan.SubtaskID) (int64, bool) {
	name := inv.l.Graph.SubtaskName(id)
	for _, f := range inv.run.Rec.Finished {
		if f.Subtask == name {
			return f.Rows, true
		}
	}
	return 0, false
}

// partsInPlace reports whether every part file writer id writes exists.
func (inv *invocation) partsInPlace(outs []*output, id plan.SubtaskID) bool {
	for _, o := range outs {
		if st, ok := stageOfStep(inv.l.Graph, o.step.ID); !ok || st != id.Stage {
			continue
		}
		if _, err := os.Stat(o.partPath(int(id.Index))); err != nil {
			return false
		}
	}
	return true
}

// removePartials removes, before a resumed run's subtasks start, the
// partial part files killed attempts left (physical/partfile.go); it
// touches only the part paths of the run's own staging directories. A
// part of a writer that runs again needs nothing: the writer publishes
// over it. But a partial file beside a reused writer's part would be
// committed with a directory output, so one that cannot be removed fails
// the invocation (resumable).
func (inv *invocation) removePartials(outs []*output) error {
	for _, o := range outs {
		id, ok := stageOfStep(inv.l.Graph, o.step.ID)
		if !ok {
			continue
		}
		for i := range inv.l.Graph.Stage(id).Parallelism {
			err := os.Remove(physical.PartialPath(o.partPath(i)))
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("jobs: remove a partial part file of output %s: %w", o.name, err)
			}
		}
	}
	return nil
}

// reusedWriterRows are the rows the reused writers wrote before.
func (inv *invocation) reusedWriterRows(reused []string) int64 {
	var n int64
	for _, f := range inv.run.Rec.Finished {
		if slices.Contains(reused, f.Subtask) {
			n += f.Rows
		}
	}
	return n
}
