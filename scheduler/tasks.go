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
		g.Tasks[i] = executor.Describe(s.g, st, s.nextAttempt(st), s.opts.AttemptBase, s.opts.Seed)
	}
	return g
}

func (s *Scheduler) nextAttempt(st plan.SubtaskID) int {
	a := s.attempts[st]
	s.attempts[st] = a + 1
	s.progress[s.view.subtask(st)] = recovery.Running
	return a
}
