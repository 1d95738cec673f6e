package executor

import "github.com/batchrun/batchrun/plan"

// Describe describes attempt of subtask st of g: for each input port the
// pipe, or the producers' partitions (in producer order) and the part it
// reads; for each output edge its partitioner. Its partitions are numbered
// attemptBase+attempt in the store, and its nondeterministic partitioners
// seeded from runSeed mixed with (edge, subtask, attempt), so a given run
// seed replays the same choices.
func Describe(g *plan.StageGraph, st plan.SubtaskID, attempt int, attemptBase uint32, runSeed uint64) Task {
	stage := g.Stage(st.Stage)
	t := Task{Subtask: st, Name: g.SubtaskName(st), Attempt: attempt, StoreAttempt: attemptBase + uint32(attempt)}
	for _, eid := range stage.Inputs {
		e := g.Edge(eid)
		in := Input{Edge: eid, Mode: e.Mode}
		if e.Mode == plan.Blocking {
			in.Subpartition = e.Subpartition(int(st.Index))
			for _, p := range g.Producers(e, int(st.Index)) {
				in.Partitions = append(in.Partitions, plan.PartitionID{Edge: eid, Producer: p})
			}
		}
		t.Inputs = append(t.Inputs, in)
	}
	for _, eid := range stage.Outputs {
		e := g.Edge(eid)
		seed := runSeed ^ uint64(e.ID)<<48 ^ uint64(st.Index)<<24 ^ uint64(attempt)
		t.Outputs = append(t.Outputs, Output{Edge: eid, Mode: e.Mode, Partitioner: e.Partitioner,
			Keys: e.Keys, Seed: seed, Subpartitions: g.Subpartitions(e)})
	}
	return t
}
