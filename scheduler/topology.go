package scheduler

import (
	"fmt"

	"github.com/batchrun/batchrun/plan"
	"github.com/batchrun/batchrun/recovery"
)

// recoveryView is the run's topology as package recovery sees it, with
// the maps between plan ids and recovery's dense ids.
type recoveryView struct {
	topo        *recovery.Topology
	stageOffset []int32 // recovery subtask id of stage s's subtask 0
	edgeOffset  []int32 // recovery partition id of edge e's producer 0
	subtasks    []plan.SubtaskID
	partitions  []plan.PartitionID
}

func newRecoveryView(g *plan.StageGraph, regions *plan.Regions) (*recoveryView, error) {
	v := &recoveryView{}
	var subtasks []recovery.Subtask
	for _, st := range g.Stages {
		v.stageOffset = append(v.stageOffset, int32(len(subtasks)))
		for i := 0; i < st.Parallelism; i++ {
			id := plan.SubtaskID{Stage: st.ID, Index: int32(i)}
			v.subtasks = append(v.subtasks, id)
			subtasks = append(subtasks, recovery.Subtask{Name: g.SubtaskName(id)})
		}
	}
	rs := make([]recovery.Region, len(regions.List))
	for i, r := range regions.List {
		for _, st := range r.Subtasks {
			rs[i].Subtasks = append(rs[i].Subtasks, v.subtask(st))
		}
	}
	var parts []recovery.Partition
	for _, e := range g.Edges {
		v.edgeOffset = append(v.edgeOffset, int32(len(parts)))
		to := g.Stage(e.To)
		for p := 0; p < g.Stage(e.From).Parallelism; p++ {
			id := plan.PartitionID{Edge: e.ID, Producer: int32(p)}
			v.partitions = append(v.partitions, id)
			part := recovery.Partition{
				Name:          g.PartitionName(id),
				Producer:      v.subtask(plan.SubtaskID{Stage: e.From, Index: int32(p)}),
				Mode:          recovery.Blocking,
				Deterministic: e.Deterministic(),
			}
			if e.Mode == plan.Pipelined {
				part.Mode = recovery.Pipelined
			}
			for _, c := range g.Consumers(e, p) {
				part.Consumers = append(part.Consumers, v.subtask(plan.SubtaskID{Stage: to.ID, Index: c}))
			}
			parts = append(parts, part)
		}
	}
	topo, err := recovery.NewTopology(subtasks, rs, parts)
	if err != nil {
		return nil, fmt.Errorf("scheduler: recovery topology: %w", err)
	}
	v.topo = topo
	return v, nil
}

// partitionName is how users see a result partition: "agg[0]->sort", with
// the consumer port when the consumer has several inputs: "a[0]->join/1".

func (v *recoveryView) subtask(st plan.SubtaskID) recovery.SubtaskID {
	return recovery.SubtaskID(v.stageOffset[st.Stage] + st.Index)
}

func (v *recoveryView) partition(p plan.PartitionID) recovery.PartitionID {
	return recovery.PartitionID(v.edgeOffset[p.Edge] + p.Producer)
}
