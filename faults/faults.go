// Package faults injects deterministic faults into a run, for tests and
// drills: a subtask attempt that fails or panics after some batches, a
// committed partition lost or corrupted before a consumer reads it. It
// works as decorators around what the executor is given (the program and
// the partitions), chosen when the run is set up; no code path of a run
// without faults knows about them.
package faults

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"

	"github.com/batchrun/batchrun/plan"
)

// Kind is a kind of injected fault.
type Kind uint8

const (
	// Error makes a subtask attempt return an error.
	Error Kind = iota
	// Panic makes a subtask attempt panic.
	Panic
	// Lose deletes a committed partition before a consumer reads it.
	Lose
	// Corrupt flips bytes of a committed partition before a consumer
	// reads it.
	Corrupt
)

var kindNames = [...]string{"error", "panic", "lose", "corrupt"}

func (k Kind) String() string { return kindNames[k] }

// Fault is one deterministic injected fault. Task faults (error, panic)
// fire in attempt Attempt of Subtask after it has read After input batches
// (written After batches, for a stage without inputs), or when its input
// ends if that comes first. Partition faults (lose, corrupt) fire once, on
// a partition that Subtask produced on edge Edge (every blocking output
// edge when AnyEdge), just before the first consumer opens it.
type Fault struct {
	Kind    Kind
	Subtask plan.SubtaskID
	Attempt int
	After   int
	Edge    plan.EdgeID
	AnyEdge bool
	// Consumer, for partition faults, is the consumer subtask index whose
	// opening fires the fault; -1 means the first consumer to open it.
	Consumer int
}

// ErrInjected is wrapped by every error an injected task fault returns.
var ErrInjected = errors.New("injected fault")

func (f Fault) Describe(g *plan.StageGraph) string {
	name := g.SubtaskName(f.Subtask)
	switch f.Kind {
	case Error, Panic:
		return fmt.Sprintf("%s:%s#%d@%d", f.Kind, name, f.Attempt, f.After)
	}
	if f.AnyEdge {
		return fmt.Sprintf("%s:%s", f.Kind, name)
	}
	to := g.Stage(g.Edge(f.Edge).To).Name
	if f.Consumer >= 0 {
		return fmt.Sprintf("%s:%s->%s[%d]", f.Kind, name, to, f.Consumer)
	}
	return fmt.Sprintf("%s:%s->%s", f.Kind, name, to)
}

var specSyntax = regexp.MustCompile(`^(error|panic|lose|corrupt):([^\[\]]+)\[(\d+)\](?:#(\d+))?(?:@(\d+))?(?:->(.+))?$`)

// Spec is a fault as the command line names it, parsed but not yet
// resolved against a job's stages (Resolve).
type Spec struct {
	Kind Kind
	// Stage names the subtask's stage, or a step chained in it.
	Stage   string
	Index   int
	Attempt int
	After   int
	// To names the consuming stage of a partition fault ("" every
	// blocking output), ToIndex a consumer subtask (-1 the first to open).
	To      string
	ToIndex int
	text    string
}

func (f Spec) String() string { return f.text }

// Parse parses a fault: "error:agg[2]", "panic:agg[2]#1@3"
// (attempt 1, after 3 batches), "lose:events[0]" (every blocking output
// of events[0]), "corrupt:events[0]->agg" (its output to stage agg),
// "lose:events[0]->agg[2]" (fired when consumer agg[2] opens it). A
// subtask is named by its stage's name or by any step chained in that
// stage.
func Parse(s string) (Spec, error) {
	m := specSyntax.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return Spec{}, fmt.Errorf("fault %q: want KIND:STAGE[i][#attempt][@batches] or lose|corrupt:STAGE[i][->STAGE]", s)
	}
	f := Spec{Stage: m[2], To: m[6], ToIndex: -1, text: s}
	for i, n := range kindNames {
		if n == m[1] {
			f.Kind = Kind(i)
		}
	}
	f.Index, _ = strconv.Atoi(m[3]) // the syntax admits digits only
	f.Attempt, _ = strconv.Atoi(m[4])
	f.After, _ = strconv.Atoi(m[5])
	task := f.Kind == Error || f.Kind == Panic
	switch {
	case task && m[6] != "":
		return Spec{}, fmt.Errorf("fault %q: ->STAGE applies to lose and corrupt only", s)
	case !task && (m[4] != "" || m[5] != ""):
		return Spec{}, fmt.Errorf("fault %q: #attempt and @batches apply to error and panic only", s)
	}
	if c := consumerSyntax.FindStringSubmatch(f.To); c != nil {
		f.To = c[1]
		f.ToIndex, _ = strconv.Atoi(c[2])
	}
	return f, nil
}

// Resolve finds the subtask (and edge) f names in g.
func (f Spec) Resolve(g *plan.StageGraph) (Fault, error) {
	st, err := g.LookupSubtask(f.Stage, f.Index)
	if err != nil {
		return Fault{}, fmt.Errorf("fault %q: %w", f.text, err)
	}
	out := Fault{Kind: f.Kind, Subtask: st, Attempt: f.Attempt, After: f.After, Consumer: -1}
	if f.Kind == Error || f.Kind == Panic {
		return out, nil
	}
	return partitionFault(g, out, f)
}

var consumerSyntax = regexp.MustCompile(`^(.+)\[(\d+)\]$`)

func partitionFault(g *plan.StageGraph, f Fault, spec Spec) (Fault, error) {
	f.AnyEdge, f.Consumer = spec.To == "", spec.ToIndex
	found := false
	for _, eid := range g.Stage(f.Subtask.Stage).Outputs {
		e := g.Edge(eid)
		if e.Mode != plan.Blocking || (!f.AnyEdge && g.Stage(e.To).Name != spec.To) {
			continue
		}
		f.Edge, found = eid, true
		break
	}
	if !found {
		return Fault{}, fmt.Errorf("fault %q: %s writes no blocking partition to %q", spec.text, g.SubtaskName(f.Subtask), spec.To)
	}
	return f, nil
}

// Chaos draws faults from seed: each subtask attempt 0 fails (error or
// panic, after 0-3 batches) with probability rate, and each blocking
// partition is lost or corrupted with probability rate/2. The same seed
// and graph give the same faults.
func Chaos(g *plan.StageGraph, seed uint64, rate float64) []Fault {
	rng := rand.New(rand.NewPCG(seed, 0x6368616f73))
	var faults []Fault
	for _, st := range g.Stages {
		for i := 0; i < st.Parallelism; i++ {
			id := plan.SubtaskID{Stage: st.ID, Index: int32(i)}
			if rng.Float64() < rate {
				kind := Kind(rng.IntN(2))
				faults = append(faults, Fault{Kind: kind, Subtask: id, After: rng.IntN(4)})
			}
			for _, eid := range st.Outputs {
				if g.Edge(eid).Mode == plan.Blocking && rng.Float64() < rate/2 {
					faults = append(faults, Fault{Kind: Lose + Kind(rng.IntN(2)), Subtask: id, Edge: eid, Consumer: -1})
				}
			}
		}
	}
	return faults
}
