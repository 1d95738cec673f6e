package plan

import (
	"fmt"
	"regexp"
	"strconv"
)

var subtaskSyntax = regexp.MustCompile(`^(.+)\[(\d+)\]$`)

// ParseSubtask finds the subtask s names, as "name[i]" (see
// LookupSubtask).
func (g *StageGraph) ParseSubtask(s string) (SubtaskID, error) {
	m := subtaskSyntax.FindStringSubmatch(s)
	if m == nil {
		return SubtaskID{}, fmt.Errorf("want a subtask as STAGE[i], got %q", s)
	}
	i, err := strconv.Atoi(m[2])
	if err != nil {
		return SubtaskID{}, fmt.Errorf("subtask %q: %w", s, err)
	}
	return g.LookupSubtask(m[1], i)
}

// LookupSubtask finds name[i]: a stage's name first, else the stage that
// chains a step of that name (an aggregate's final half heads its own
// stage, so "agg" is that stage, not the one with agg(partial)).
func (g *StageGraph) LookupSubtask(name string, i int) (SubtaskID, error) {
	st := g.StageNamed(name)
	if st == nil {
		return SubtaskID{}, fmt.Errorf("no stage or step %q", name)
	}
	if i >= st.Parallelism {
		return SubtaskID{}, fmt.Errorf("%s has %d subtasks, no [%d]", st.Name, st.Parallelism, i)
	}
	return SubtaskID{Stage: st.ID, Index: int32(i)}, nil
}

// StageNamed returns the stage called name, else the one that chains a
// step of that name, else nil.
func (g *StageGraph) StageNamed(name string) *Stage {
	for _, st := range g.Stages {
		if st.Name == name {
			return st
		}
	}
	for _, st := range g.Stages {
		for _, op := range st.Ops {
			if op.Step == name {
				return st
			}
		}
	}
	return nil
}
