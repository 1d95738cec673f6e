package jobs

import (
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
		if st, ok := inv.outputStage(o); !ok || st != id.Stage {
			continue
		}
		if _, err := os.Stat(o.partPath(int(id.Index))); err != nil {
			return false
		}
	}
	return true
}

// outputStage is the stage whose subtasks write o's part files.
func (inv *invocation) outputStage(o *output) (plan.StageID, bool) {
	for _, st := range inv.l.Graph.Stages {
		for _, op := range st.Ops {
			if op.Step == o.step.ID {
				return st.ID, true
			}
		}
	}
	return 0, false
}

// removeStaleParts removes, before a resumed run's subtasks start, the
// part files of every subtask that runs again (and every unfinished
// partial file), keeping those of the subtasks reused.
func (inv *invocation) removeStaleParts(outs []*output, reused map[plan.SubtaskID]bool) {
	for _, o := range outs {
		id, ok := inv.outputStage(o)
		if !ok {
			continue
		}
		for i := range inv.l.Graph.Stage(id).Parallelism {
			path := o.partPath(i)
			_ = os.Remove(physical.PartialPath(path))
			if !reused[plan.SubtaskID{Stage: id, Index: int32(i)}] {
				_ = os.Remove(path)
			}
		}
	}
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
