package remote

import (
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/batchrun/batchrun/executor"
	"github.com/batchrun/batchrun/plan"
)

// The actions a worker answers (Flight DoAction), each with a JSON body.
const (
	// actionOpen prepares a run on the worker: openRequest, no result.
	actionOpen = "batchrun.open"
	// actionRun runs a group: runRequest; one taskEnd result per task as
	// it ends, then one with Done set.
	actionRun = "batchrun.run"
	// actionClose drops a run's store on the worker: closeRequest.
	actionClose = "batchrun.close"
	// actionInfo describes the worker: no body; one infoResult.
	actionInfo = "batchrun.info"
	// actionHeld asks which of a run's partitions the worker holds,
	// committed and intact: heldRequest; one heldResult. The run must be
	// open.
	actionHeld = "batchrun.held"
	// actionDamage deletes or corrupts one of a run's partitions on the
	// worker holding it (an injected fault): damageRequest, no result.
	actionDamage = "batchrun.damage"
)

type damageRequest struct {
	Run       uint64           `json:"run"`
	Partition plan.PartitionID `json:"partition"`
	// Sub is the subpartition a corruption damages.
	Sub     int  `json:"sub"`
	Corrupt bool `json:"corrupt,omitempty"`
}

type heldRequest struct {
	Run        uint64             `json:"run"`
	Partitions []plan.PartitionID `json:"partitions"`
}

type heldResult struct {
	Held []plan.PartitionID `json:"held"`
}

type infoResult struct {
	Slots int `json:"slots"`
}

type openRequest struct {
	Run uint64 `json:"run"`
	// Job is opaque to this package: the worker's Loader compiles it.
	Job []byte `json:"job"`
	// Fence is the scheduling leader's election revision (0 without a
	// coordinator): the worker refuses a smaller one than the largest it
	// saw for the run, and cancels the groups of a smaller one when a
	// larger one opens the run.
	Fence int64 `json:"fence,omitempty"`
}

type runRequest struct {
	Run   uint64          `json:"run"`
	Group *executor.Group `json:"group"`
	Fence int64           `json:"fence,omitempty"`
}

type closeRequest struct {
	Run uint64 `json:"run"`
}

// taskEnd is one message of a run action's stream.
type taskEnd struct {
	Task   int             `json:"task"` // index in the group
	Result executor.Result `json:"result"`
	Err    *wireError      `json:"err,omitempty"`
	// Done ends the stream; Err is then the group's root cause, and Cause
	// the index of the task whose error it is (-1: none of them).
	Done  bool `json:"done,omitempty"`
	Cause int  `json:"cause,omitempty"`
}

// wireError is an error as it crosses the wire: its text, and what the
// coordinator branches on.
type wireError struct {
	Msg       string `json:"msg"`
	Permanent bool   `json:"permanent,omitempty"`
	// Class is the error's class as the worker's Classify names it (a
	// malformed row, say), so that the run's exit code is a local run's.
	Class string `json:"class,omitempty"`
	// Lost is the blocking input the task could not read, LostName its
	// display name, and Unreachable the address of its holder when the
	// holder could not be reached (the holder is then lost whole).
	Lost        *plan.PartitionID `json:"lost,omitempty"`
	LostName    string            `json:"lost_name,omitempty"`
	Unreachable string            `json:"unreachable,omitempty"`
}

// toWire encodes err (a task's *executor.SubtaskError, or a group's
// cause), with its class by classify (when set).
func toWire(err error, classify func(error) string) *wireError {
	if err == nil {
		return nil
	}
	w := &wireError{Msg: err.Error()}
	if classify != nil {
		w.Class = classify(err)
	}
	var se *executor.SubtaskError
	if errors.As(err, &se) {
		w.Msg = se.Err.Error()
	}
	var p interface{ Permanent() bool }
	w.Permanent = errors.As(err, &p) && p.Permanent()
	var le *executor.LostPartitionError
	if errors.As(err, &le) {
		w.Lost, w.LostName = &le.Partition, le.Name
		var fe *FetchError
		if errors.As(err, &fe) && status.Code(fe.Err) == codes.Unavailable {
			w.Unreachable = fe.Addr
		}
	}
	return w
}

// remoteError is a task's error as the worker reported it.
type remoteError struct {
	msg       string
	permanent bool
	class     string
}

func (e *remoteError) Error() string   { return e.msg }
func (e *remoteError) Permanent() bool { return e.permanent }

// ErrorClass is the class the worker gave the error ("" if none).
func (e *remoteError) ErrorClass() string { return e.class }

// fromWire decodes a task's error as a *executor.SubtaskError of t, with
// a *executor.LostPartitionError inside when an input was lost.
func fromWire(w *wireError, t *executor.Task) error {
	if w == nil {
		return nil
	}
	var err error = &remoteError{msg: w.Msg, permanent: w.Permanent, class: w.Class}
	if w.Lost != nil {
		err = &executor.LostPartitionError{Partition: *w.Lost, Name: w.LostName, Err: err}
	}
	return &executor.SubtaskError{Subtask: t.Subtask, Name: t.Name, Attempt: t.Attempt, Err: err}
}
