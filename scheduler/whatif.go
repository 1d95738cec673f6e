package scheduler

import (
	"fmt"
	"strings"

	"github.com/batchrun/batchrun/plan"
	"github.com/batchrun/batchrun/recovery"
)

// WhatIf describes the restart set strategy failover would use if subtask
// fail failed ("agg[2]"), or if the blocking outputs of subtask lose were
// lost ("events[0]"; the first consumer to read one fails). Exactly one of
// fail and lose is set. It runs nothing.
//
// The assumed state is a schedule that ran regions in order (region ids
// are topological) with slots enough to start every ready region: regions
// before the failing subtask's are finished with their outputs committed,
// the failing one runs, and so does every later region whose inputs are
// then all committed (it started with the failing one); the rest wait.
// That is when a failure costs the most under the changed-partition rule,
// and for a lost partition it is exactly what a run restarts: no consumer
// has read the partition when its first reader finds it gone, so every
// other one is running or waiting.
func WhatIf(g *plan.StageGraph, regions *plan.Regions, failover recovery.Failover, fail, lose string) (string, error) {
	v, err := newRecoveryView(g, regions)
	if err != nil {
		return "", err
	}
	failure, what, err := whatIfFailure(g, regions, v, fail, lose)
	if err != nil {
		return "", err
	}
	state := whatIfState(v, regions, regions.Of[v.subtasks[failure.Subtask]], failure.Lost)
	rs, err := failover.Restart(v.topo, state, failure)
	if err != nil {
		return "", fmt.Errorf("scheduler: %w", err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "if %s (failover %s):\n", what, failover)
	b.WriteString(rs.Describe(v.topo))
	if failover == recovery.FailoverRegion {
		flink, err := recovery.FlinkRegionRestart(v.topo, state, failure)
		if err == nil {
			fmt.Fprintf(&b, "flink's region strategy would restart %d regions, this one %d\n", len(flink), len(rs.Regions))
		}
	}
	return b.String(), nil
}

func whatIfFailure(g *plan.StageGraph, regions *plan.Regions, v *recoveryView, fail, lose string) (recovery.Failure, string, error) {
	name := fail
	if name == "" {
		name = lose
	}
	if (fail == "") == (lose == "") {
		return recovery.Failure{}, "", fmt.Errorf("scheduler: want one subtask to fail or lose, as STAGE[i], got %q", name)
	}
	st, err := g.ParseSubtask(name)
	if err != nil {
		return recovery.Failure{}, "", fmt.Errorf("scheduler: %w", err)
	}
	if fail != "" {
		return recovery.Failure{Subtask: v.subtask(st)}, g.SubtaskName(st) + " fails", nil
	}
	return loseFailure(g, regions, v, st)
}

// loseFailure: every blocking output of st is lost, and the first consumer
// (in region order) that reads one fails.
func loseFailure(g *plan.StageGraph, regions *plan.Regions, v *recoveryView, st plan.SubtaskID) (recovery.Failure, string, error) {
	var first plan.SubtaskID
	var lost []recovery.PartitionID
	found := false
	for _, eid := range g.Stage(st.Stage).Outputs {
		e := g.Edge(eid)
		if e.Mode != plan.Blocking {
			continue
		}
		lost = append(lost, v.partition(plan.PartitionID{Edge: eid, Producer: st.Index}))
		for _, c := range g.Consumers(e, int(st.Index)) {
			sub := plan.SubtaskID{Stage: e.To, Index: c}
			if !found || regions.Of[sub] < regions.Of[first] {
				first, found = sub, true
			}
		}
	}
	if !found {
		return recovery.Failure{}, "", fmt.Errorf("scheduler: %s writes no blocking partition to lose", g.SubtaskName(st))
	}
	f := recovery.Failure{Subtask: v.subtask(first)}
	for _, p := range lost {
		for _, in := range v.topo.Inputs(f.Subtask) {
			if in == p {
				f.Lost = append(f.Lost, p)
			}
		}
	}
	what := fmt.Sprintf("the outputs of %s are lost and %s fails reading them", g.SubtaskName(st), g.SubtaskName(first))
	return f, what, nil
}

// whatIfState: regions before failed finished (outputs committed, except
// lost), failed running, and running too the later regions whose inputs
// the finished ones committed; the rest pending.
func whatIfState(v *recoveryView, regions *plan.Regions, failed plan.RegionID, lost []recovery.PartitionID) *recovery.State {
	s := recovery.NewState(v.topo)
	for i, st := range v.subtasks {
		switch r := regions.Of[st]; {
		case r < failed:
			s.Progress[i] = recovery.Finished
		case r == failed:
			s.Progress[i] = recovery.Running
		}
	}
	for i := range s.Available {
		p := v.topo.Partition(recovery.PartitionID(i))
		s.Available[i] = p.Mode == recovery.Blocking && s.Progress[p.Producer] == recovery.Finished
	}
	for _, r := range regions.List[failed+1:] {
		ready := true
		for _, p := range r.Inputs {
			ready = ready && s.Available[v.partition(p)]
		}
		for _, st := range r.Subtasks {
			if ready {
				s.Progress[v.subtask(st)] = recovery.Running
			}
		}
	}
	for _, p := range lost {
		s.Available[p] = false
	}
	return s
}
