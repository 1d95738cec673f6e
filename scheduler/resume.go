package scheduler

import (
	"github.com/batchrun/batchrun/plan"
	"github.com/batchrun/batchrun/recovery"
)

// resume marks finished the regions whose work a previous invocation of
// the same run already committed, so that only the rest runs again
// (DESIGN invariant 6). committed lists the partitions found committed and
// intact in the store.
//
// A region is reused when it writes at least one blocking partition and
// all of them are committed. Every other region runs, and may change what
// it writes: its outputs on rebalance or random edges, and everything
// downstream of an input that changed. A reused region that reads a
// changed partition must run again too, or it would keep rows computed
// from data the new attempt no longer has. That closure is the restart-set
// rule applied to "everything not committed failed".
func (s *Scheduler) resume(committed []plan.PartitionID) []plan.RegionID {
	isCommitted := make(map[plan.PartitionID]bool, len(committed))
	for _, p := range committed {
		isCommitted[p] = true
	}
	reuse := make([]bool, len(s.regions.List))
	for _, r := range s.regions.List {
		outs := s.regions.Outputs(s.g, r.ID)
		reuse[r.ID] = len(outs) > 0
		for _, p := range outs {
			reuse[r.ID] = reuse[r.ID] && isCommitted[p]
		}
	}
	// Region ids are topological, so one pass sees every producer first.
	changed := make([]bool, len(s.regions.List))
	for _, r := range s.regions.List {
		readsChanged := false
		for _, p := range r.Inputs {
			readsChanged = readsChanged || changed[s.producerRegion(p)]
		}
		if readsChanged {
			reuse[r.ID] = false
		}
		changed[r.ID] = !reuse[r.ID] && (readsChanged || s.writesNondeterministic(r.ID))
	}
	var reused []plan.RegionID
	for _, r := range s.regions.List {
		if reuse[r.ID] {
			s.state[r.ID] = regionFinished
			for _, st := range r.Subtasks {
				s.progress[s.view.subtask(st)] = recovery.Finished
			}
			for _, p := range s.regions.Outputs(s.g, r.ID) {
				s.committed[p] = true
			}
			reused = append(reused, r.ID)
		}
	}
	return reused
}

func (s *Scheduler) producerRegion(p plan.PartitionID) plan.RegionID {
	return s.regions.Of[plan.SubtaskID{Stage: s.g.Edge(p.Edge).From, Index: p.Producer}]
}

// writesNondeterministic reports whether region r writes a rebalance or
// random edge, whose content a re-run changes.
func (s *Scheduler) writesNondeterministic(r plan.RegionID) bool {
	for _, p := range s.regions.Outputs(s.g, r) {
		if !s.g.Edge(p.Edge).Deterministic() {
			return true
		}
	}
	return false
}
