package recovery

import (
	"fmt"
	"strconv"
	"strings"
)

// Progress is how far a subtask's current attempt got, ordered by progress.
// A failure is an event (Failure), not a Progress: the failed subtask is
// Running when it fails.
type Progress uint8

const (
	// Pending: not started (the region is not scheduled yet, or is waiting
	// to be rescheduled after a restart).
	Pending Progress = iota
	// Running: started and not finished; it may have read any of its inputs.
	Running
	// Finished: done; its blocking outputs were committed.
	Finished
)

var progressNames = [...]string{"pending", "running", "finished"}

func (p Progress) String() string {
	if int(p) < len(progressNames) {
		return progressNames[p]
	}
	return "progress(" + strconv.Itoa(int(p)) + ")"
}

// Started reports whether the subtask started (running or finished), and so
// may have consumed its inputs.
func (p Progress) Started() bool { return p >= Running }

// State is what the scheduler knows about a run when a failure arrives.
type State struct {
	// Progress is indexed by SubtaskID.
	Progress []Progress
	// Available is indexed by PartitionID: the blocking partition is
	// committed and intact. A blocking partition whose producer finished
	// but that is not available is lost (deleted, corrupt, or stored on a
	// worker that died) and must be regenerated before anyone reads it.
	// Pipelined partitions are never stored, so never available.
	Available []bool
}

// NewState returns the state of a run that has not started: every subtask
// pending, no partition available.
func NewState(t *Topology) *State {
	return &State{
		Progress:  make([]Progress, t.NumSubtasks()),
		Available: make([]bool, t.NumPartitions()),
	}
}

// Validate checks s against t: lengths match, every progress is known, and
// every available partition is blocking and produced by a finished subtask.
func (s *State) Validate(t *Topology) error {
	if len(s.Progress) != t.NumSubtasks() || len(s.Available) != t.NumPartitions() {
		return fmt.Errorf("recovery: state has %d subtasks and %d partitions, topology %d and %d",
			len(s.Progress), len(s.Available), t.NumSubtasks(), t.NumPartitions())
	}
	for i, p := range s.Progress {
		if p > Finished {
			return fmt.Errorf("recovery: subtask %s: bad %s", t.subtasks[i].Name, p)
		}
	}
	for i, ok := range s.Available {
		if !ok {
			continue
		}
		p := &t.partitions[i]
		if p.Mode != Blocking {
			return fmt.Errorf("recovery: partition %s is pipelined and cannot be available", p.Name)
		}
		if s.Progress[p.Producer] != Finished {
			return fmt.Errorf("recovery: partition %s is available but its producer %s is %s",
				p.Name, t.subtasks[p.Producer].Name, s.Progress[p.Producer])
		}
	}
	return nil
}

// Describe prints the subtasks by progress and the lost partitions:
//
//	finished: a[0] a[1]
//	running: b[0]
//	pending: c[0]
//	lost: a[0]->b
func (s *State) Describe(t *Topology) string {
	var by [Finished + 1][]SubtaskID
	for i, p := range s.Progress {
		if p <= Finished {
			by[p] = append(by[p], SubtaskID(i))
		}
	}
	var b strings.Builder
	for _, p := range []Progress{Finished, Running, Pending} {
		fmt.Fprintf(&b, "%s: %s\n", p, t.subtaskNames(by[p]))
	}
	var lost []PartitionID
	for i := range t.partitions {
		if s.lost(t, PartitionID(i)) {
			lost = append(lost, PartitionID(i))
		}
	}
	fmt.Fprintf(&b, "lost: %s\n", t.partitionNames(lost))
	return b.String()
}

// lost reports whether blocking partition p was produced (its producer
// finished) but is not available. A partition whose producer has not
// finished is not lost: the normal schedule produces it.
func (s *State) lost(t *Topology, p PartitionID) bool {
	part := &t.partitions[p]
	return part.Mode == Blocking && !s.Available[p] && s.Progress[part.Producer] == Finished
}

// Failure is one subtask failure.
type Failure struct {
	// Subtask failed; it must be Running.
	Subtask SubtaskID
	// Lost are the blocking partitions the failure lost: inputs Subtask
	// could not read (missing, or a checksum mismatch), or every partition
	// a process held when it is gone (a worker). Whatever State says, they
	// are regenerated if a subtask that has not finished reads them.
	// Empty means the inputs are intact (a task error or panic); inputs that
	// State already shows lost still count as lost.
	Lost []PartitionID
}

// Describe prints the failure: "b[1]" or "b[1] lost a[0]->b a[1]->b".
func (f Failure) Describe(t *Topology) string {
	if !t.validSubtask(f.Subtask) {
		return f.Subtask.String()
	}
	s := t.subtasks[f.Subtask].Name
	if len(f.Lost) > 0 {
		s += " lost " + t.partitionNames(f.Lost)
	}
	return s
}

// validate checks f against t and s (which must be valid): the subtask is
// running, and every lost partition is blocking.
func (f Failure) validate(t *Topology, s *State) error {
	if !t.validSubtask(f.Subtask) {
		return fmt.Errorf("recovery: failure of unknown subtask %s", f.Subtask)
	}
	name := t.subtasks[f.Subtask].Name
	if p := s.Progress[f.Subtask]; p != Running {
		return fmt.Errorf("recovery: failure of %s: subtask is %s, not running", name, p)
	}
	for _, p := range f.Lost {
		if !t.validPartition(p) {
			return fmt.Errorf("recovery: failure of %s: unknown lost partition %s", name, p)
		}
		part := &t.partitions[p]
		if part.Mode != Blocking {
			return fmt.Errorf("recovery: failure of %s: lost partition %s is pipelined", name, part.Name)
		}
	}
	return nil
}

// lostSet returns, by partition, whether each is lost under s and f.
func lostSet(t *Topology, s *State, f Failure) []bool {
	lost := make([]bool, t.NumPartitions())
	for i := range lost {
		lost[i] = s.lost(t, PartitionID(i))
	}
	for _, p := range f.Lost {
		lost[p] = true
	}
	return lost
}
