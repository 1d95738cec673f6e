package statedir

import (
	"fmt"
	"time"

	"github.com/batchrun/batchrun/jobs/commit"
)

// State is a run's lifecycle state as its record says.
type State uint8

const (
	Running State = iota
	// Committing: every subtask finished; the outputs are being swapped
	// into place (Record.Commit). A run stopped here is finished or undone
	// by the next invocation.
	Committing
	Succeeded
	// Failed is final for that invocation but resumable.
	Failed
	// Superseded: a fresh run (--fresh) replaced it; it is not resumed.
	Superseded
)

var stateNames = [...]string{"running", "committing", "succeeded", "failed", "superseded"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("state(%d)", uint8(s))
}

// MarshalText implements encoding.TextMarshaler.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *State) UnmarshalText(b []byte) error {
	for i, n := range stateNames {
		if n == string(b) {
			*s = State(i)
			return nil
		}
	}
	return fmt.Errorf("statedir: unknown run state %q", b)
}

// Resumable reports whether a run in this state can be continued.
func (s State) Resumable() bool { return s == Running || s == Committing || s == Failed }

// Unfinished reports whether a live owner may be working on the run.
func (s State) Unfinished() bool { return s == Running || s == Committing }

// Record is a run's record: which job with which parameters, how far it
// got, and while it commits, the commit's plan.
type Record struct {
	ID     uint64            `json:"id"`
	Job    string            `json:"job"`
	Spec   string            `json:"spec"`   // the spec file
	Digest string            `json:"digest"` // of the spec text, parameters and inputs
	Params map[string]string `json:"params,omitempty"`
	State  State             `json:"state"`
	Start  time.Time         `json:"start"`
	End    time.Time         `json:"end,omitzero"`
	// Invocations counts the processes that worked on the run.
	Invocations int `json:"invocations"`
	// Failovers counts failures recovered from, over every invocation.
	Failovers int    `json:"failovers"`
	Error     string `json:"error,omitempty"`
	// PID and Host name the process of the latest invocation.
	PID  int    `json:"pid"`
	Host string `json:"host,omitempty"`
	// Finished names the subtasks without blocking outputs (the writers
	// of outputs) whose part files are in place, as they finish: a
	// resumed run reuses them while their files are there.
	Finished []FinishedWriter `json:"finished,omitempty"`
	// Commit is the output commit's plan, from the moment the run starts
	// committing; with Commit.Committed the run succeeded.
	Commit *commit.Plan `json:"commit,omitempty"`
}

// FinishedWriter is a writer subtask whose part files are in place, and
// the rows it wrote.
type FinishedWriter struct {
	Subtask string `json:"subtask"`
	Rows    int64  `json:"rows"`
}

// IDString is the canonical form of a run id: 16 hex digits, which is
// also the name of its directory.
func IDString(id uint64) string { return fmt.Sprintf("%016x", id) }
