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
// all of them are committed. A region that writes none (the writers of the
// job's outputs) is reused when each of its subtasks is in finished (its
// part files are in place) and no edge upstream of it is nondeterministic:
// its part files then hold what a run now would write, whatever a previous
// invocation re-ran before it. Every other region runs, and may change what
// it writes: its outputs on rebalance or random edges, and everything
// downstream of an input that changed. A reused region that reads a
// changed partition must run again too, or it would keep rows computed
// from data the new attempt no longer has. That closure is the restart-set
// rule applied to "everything not committed failed".
func (s *Scheduler) resume(committed []plan.PartitionID, finished []plan.SubtaskID) []plan.RegionID {
	isCommitted := make(map[plan.PartitionID]bool, len(committed))
	for _, p := range committed {
		isCommitted[p] = true
	}
	isFinished := make(map[plan.SubtaskID]bool, len(finished))
	for _, st := range finished {
		isFinished[st] = true
	}
	reuse := make([]bool, len(s.regions.List))
	for _, r := range s.regions.List {
		outs := s.regions.Outputs(s.g, r.ID)
		if len(outs) == 0 {
			reuse[r.ID] = len(r.Subtasks) > 0 && !s.nondeterministicUpstream(r.ID)
			for _, st := range r.Subtasks {
				reuse[r.ID] = reuse[r.ID] && isFinished[st]
			}
			continue
		}
		reuse[r.ID] = true
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

// nondeterministicUpstream reports whether any edge r depends on, short of
// the edges inside r, is nondeterministic (rebalance, random).
func (s *Scheduler) nondeterministicUpstream(r plan.RegionID) bool {
	inRegion := make(map[plan.StageID]bool)
	for _, st := range s.regions.List[r].Subtasks {
		inRegion[st.Stage] = true
	}
	seen := make(map[plan.StageID]bool)
	stack := make([]plan.StageID, 0, len(inRegion))
	for st := range inRegion {
		stack = append(stack, st)
	}
	for len(stack) > 0 {
		to := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, e := range s.g.Edges {
			if e.To != to || inRegion[e.From] && inRegion[e.To] {
				continue
			}
			if !e.Deterministic() {
				return true
			}
			if !seen[e.From] {
				seen[e.From] = true
				stack = append(stack, e.From)
			}
		}
	}
	return false
}
