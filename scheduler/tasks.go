package scheduler

import (
	"github.com/batchrun/batchrun/executor"
	"github.com/batchrun/batchrun/plan"
	"github.com/batchrun/batchrun/recovery"
)

// group describes the next attempt of region r's subtasks.
func (s *Scheduler) group(r *plan.Region) *executor.Group {
	g := &executor.Group{Region: r.ID, Tasks: make([]executor.Task, len(r.Subtasks))}
	for i, st := range r.Subtasks {
		g.Tasks[i] = s.task(st, s.nextAttempt(st))
	}
	return g
}

func (s *Scheduler) nextAttempt(st plan.SubtaskID) int {
	a := s.attempts[st]
	s.attempts[st] = a + 1
	s.progress[s.view.subtask(st)] = recovery.Running
	return a
}

// task describes attempt of subtask st: for each input port the pipe or
// the producers' partitions (in producer order) and the part it reads;
// for each output edge its partitioner.
func (s *Scheduler) task(st plan.SubtaskID, attempt int) executor.Task {
	stage := s.g.Stage(st.Stage)
	t := executor.Task{Subtask: st, Name: s.g.SubtaskName(st), Attempt: attempt,
		StoreAttempt: s.opts.AttemptBase + uint32(attempt)}
	for _, eid := range stage.Inputs {
		e := s.g.Edge(eid)
		in := executor.Input{Edge: eid, Mode: e.Mode}
		if e.Mode == plan.Blocking {
			in.Subpartition = e.Subpartition(int(st.Index))
			for _, p := range s.g.Producers(e, int(st.Index)) {
				in.Partitions = append(in.Partitions, plan.PartitionID{Edge: eid, Producer: p})
			}
		}
		t.Inputs = append(t.Inputs, in)
	}
	for _, eid := range stage.Outputs {
		e := s.g.Edge(eid)
		t.Outputs = append(t.Outputs, executor.Output{Edge: eid, Mode: e.Mode,
			Partitioner: e.Partitioner, Keys: e.Keys, Seed: s.seed(e, st, attempt),
			Subpartitions: s.g.Subpartitions(e)})
	}
	return t
}

// seed is the seed of edge e's partitioner in one producer attempt: the
// run's seed mixed with (edge, subtask, attempt), so a given run seed
// replays the same choices.
func (s *Scheduler) seed(e *plan.Edge, st plan.SubtaskID, attempt int) uint64 {
	return s.opts.Seed ^ uint64(e.ID)<<48 ^ uint64(st.Index)<<24 ^ uint64(attempt)
}
