package scheduler

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/batchrun/batchrun/operators"
	"github.com/batchrun/batchrun/plan"
	"github.com/batchrun/batchrun/shuffle"
)

// FaultKind is a kind of injected fault.
type FaultKind uint8

const (
	// FaultError makes a subtask attempt return an error.
	FaultError FaultKind = iota
	// FaultPanic makes a subtask attempt panic.
	FaultPanic
	// FaultLose deletes a committed partition before a consumer reads it.
	FaultLose
	// FaultCorrupt flips bytes of a committed partition before a consumer
	// reads it.
	FaultCorrupt
)

var faultNames = [...]string{"error", "panic", "lose", "corrupt"}

func (k FaultKind) String() string { return faultNames[k] }

// Fault is one deterministic injected fault. Task faults (error, panic)
// fire in attempt Attempt of Subtask after it has read After input batches
// (written After batches, for a stage without inputs), or when its input
// ends if that comes first. Partition faults (lose, corrupt) fire once, on
// a partition that Subtask produced on edge Edge (every blocking output
// edge when AnyEdge), just before the first consumer opens it.
type Fault struct {
	Kind    FaultKind
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

func (f Fault) describe(g *plan.StageGraph) string {
	name := g.SubtaskName(f.Subtask)
	switch f.Kind {
	case FaultError, FaultPanic:
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

var faultSyntax = regexp.MustCompile(`^(error|panic|lose|corrupt):([^\[\]]+)\[(\d+)\](?:#(\d+))?(?:@(\d+))?(?:->(.+))?$`)

// FaultSpec is a fault as the command line names it, parsed but not yet
// resolved against a job's stages (Resolve).
type FaultSpec struct {
	Kind FaultKind
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

func (f FaultSpec) String() string { return f.text }

// ParseFaultSpec parses a fault: "error:agg[2]", "panic:agg[2]#1@3"
// (attempt 1, after 3 batches), "lose:events[0]" (every blocking output
// of events[0]), "corrupt:events[0]->agg" (its output to stage agg),
// "lose:events[0]->agg[2]" (fired when consumer agg[2] opens it). A
// subtask is named by its stage's name or by any step chained in that
// stage.
func ParseFaultSpec(s string) (FaultSpec, error) {
	m := faultSyntax.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return FaultSpec{}, fmt.Errorf("fault %q: want KIND:STAGE[i][#attempt][@batches] or lose|corrupt:STAGE[i][->STAGE]", s)
	}
	f := FaultSpec{Stage: m[2], To: m[6], ToIndex: -1, text: s}
	for i, n := range faultNames {
		if n == m[1] {
			f.Kind = FaultKind(i)
		}
	}
	f.Index, _ = strconv.Atoi(m[3]) // the syntax admits digits only
	f.Attempt, _ = strconv.Atoi(m[4])
	f.After, _ = strconv.Atoi(m[5])
	task := f.Kind == FaultError || f.Kind == FaultPanic
	switch {
	case task && m[6] != "":
		return FaultSpec{}, fmt.Errorf("fault %q: ->STAGE applies to lose and corrupt only", s)
	case !task && (m[4] != "" || m[5] != ""):
		return FaultSpec{}, fmt.Errorf("fault %q: #attempt and @batches apply to error and panic only", s)
	}
	if c := consumerSyntax.FindStringSubmatch(f.To); c != nil {
		f.To = c[1]
		f.ToIndex, _ = strconv.Atoi(c[2])
	}
	return f, nil
}

// Resolve finds the subtask (and edge) f names in g.
func (f FaultSpec) Resolve(g *plan.StageGraph) (Fault, error) {
	st, err := lookupSubtask(g, f.Stage, f.Index)
	if err != nil {
		return Fault{}, fmt.Errorf("fault %q: %w", f.text, err)
	}
	out := Fault{Kind: f.Kind, Subtask: st, Attempt: f.Attempt, After: f.After, Consumer: -1}
	if f.Kind == FaultError || f.Kind == FaultPanic {
		return out, nil
	}
	return partitionFault(g, out, f)
}

var consumerSyntax = regexp.MustCompile(`^(.+)\[(\d+)\]$`)

func partitionFault(g *plan.StageGraph, f Fault, spec FaultSpec) (Fault, error) {
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

// lookupSubtask finds name[index]: a stage's name first, else the stage
// that chains a step of that name (an aggregate's final half heads its own
// stage, so "agg" is that stage, not the one with agg(partial)).
func lookupSubtask(g *plan.StageGraph, name string, i int) (plan.SubtaskID, error) {
	st := stageNamed(g, name)
	if st == nil {
		return plan.SubtaskID{}, fmt.Errorf("no stage or step %q", name)
	}
	if i >= st.Parallelism {
		return plan.SubtaskID{}, fmt.Errorf("%s has %d subtasks, no [%d]", st.Name, st.Parallelism, i)
	}
	return plan.SubtaskID{Stage: st.ID, Index: int32(i)}, nil
}

func stageNamed(g *plan.StageGraph, name string) *plan.Stage {
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
				kind := FaultKind(rng.IntN(2))
				faults = append(faults, Fault{Kind: kind, Subtask: id, After: rng.IntN(4)})
			}
			for _, eid := range st.Outputs {
				if g.Edge(eid).Mode == plan.Blocking && rng.Float64() < rate/2 {
					faults = append(faults, Fault{Kind: FaultLose + FaultKind(rng.IntN(2)), Subtask: id, Edge: eid, Consumer: -1})
				}
			}
		}
	}
	return faults
}

// faultSet is a run's faults; partition faults fire once.
type faultSet struct {
	mu     sync.Mutex
	faults []Fault
	fired  []bool
}

func newFaultSet(faults []Fault) *faultSet {
	return &faultSet{faults: faults, fired: make([]bool, len(faults))}
}

// taskFault returns the task fault of st's attempt, if any.
func (fs *faultSet) taskFault(st plan.SubtaskID, attempt int) (Fault, bool) {
	for _, f := range fs.faults {
		if (f.Kind == FaultError || f.Kind == FaultPanic) && f.Subtask == st && f.Attempt == attempt {
			return f, true
		}
	}
	return Fault{}, false
}

// takePartitionFault returns, once, the partition fault on p that fires
// when consumer opens it.
func (fs *faultSet) takePartitionFault(p plan.PartitionID, consumer int32, g *plan.StageGraph) (Fault, bool) {
	producerStage := g.Edge(p.Edge).From
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for i, f := range fs.faults {
		if fs.fired[i] || (f.Kind != FaultLose && f.Kind != FaultCorrupt) {
			continue
		}
		if f.Subtask != (plan.SubtaskID{Stage: producerStage, Index: p.Producer}) || (f.Consumer >= 0 && int32(f.Consumer) != consumer) {
			continue
		}
		if f.AnyEdge && g.Edge(p.Edge).Mode == plan.Blocking || f.Edge == p.Edge {
			fs.fired[i] = true
			return f, true
		}
	}
	return Fault{}, false
}

// tripwire fires a task fault after a number of batches.
type tripwire struct {
	fault Fault
	name  string
	seen  int
	fired bool
}

func (t *tripwire) tick() error {
	if t == nil || t.fired {
		return nil
	}
	if t.seen < t.fault.After {
		t.seen++
		return nil
	}
	return t.fire()
}

// fire triggers the fault now (unless it already fired).
func (t *tripwire) fire() error {
	if t == nil || t.fired {
		return nil
	}
	t.fired = true
	msg := fmt.Sprintf("%s after %d batches", t.name, t.seen)
	if t.fault.Kind == FaultPanic {
		panic(fmt.Sprintf("injected panic: %s", msg))
	}
	return fmt.Errorf("%w: %s", ErrInjected, msg)
}

// trippedReader counts input batches for a tripwire.
type trippedReader struct {
	shuffle.Reader
	t *tripwire
}

func (r *trippedReader) Next(ctx context.Context) (arrow.Record, error) {
	if err := r.t.tick(); err != nil {
		return nil, err
	}
	return r.Reader.Next(ctx)
}

// trippedOutput counts output batches for a tripwire.
type trippedOutput struct {
	operators.Operator
	t *tripwire
}

func (o *trippedOutput) Push(ctx context.Context, rec arrow.Record) error {
	if err := o.t.tick(); err != nil {
		return err
	}
	return o.Operator.Push(ctx, rec)
}
