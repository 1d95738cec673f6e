package jobs

import (
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/batchrun/batchrun/jobs/statedir"
	"github.com/batchrun/batchrun/plan"
	"github.com/batchrun/batchrun/scheduler"
)

// Event is one entry of a run's event log: what happened, when. The log
// is history for people and tools (`batchrun runs`); what resume relies on
// (the run record, partition commit records) is synced separately.
type Event struct {
	Time    time.Time `json:"time"`
	Kind    string    `json:"event"` // started, resumed, attempt, failover, store-lost, committing, committed, failed
	Subtask string    `json:"subtask,omitempty"`
	Rows    int64     `json:"rows,omitempty"`
	Detail  string    `json:"detail,omitempty"`
}

// eventLog appends a run's events to its log file; safe for concurrent
// use.
type eventLog struct {
	run    *statedir.Run
	l      *Loaded
	leader string // as the report names the scheduling process
	g      *plan.StageGraph
	logger *slog.Logger
	next   Observer
	// finished, when set, hears each attempt that ended well.
	finished func(st plan.SubtaskID, rows int64)

	mu sync.Mutex
}

func newEventLog(run *statedir.Run, l *Loaded, leader string, logger *slog.Logger) *eventLog {
	return &eventLog{run: run, l: l, leader: leader, g: l.Graph, logger: logger}
}

func (e *eventLog) add(ev Event, sync bool) {
	ev.Time = time.Now()
	data, err := json.Marshal(ev)
	if err != nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.run.AppendEvent(data, sync); err != nil {
		e.logger.Warn("event log", "err", err)
	}
}

// AttemptObserver is an Observer that also hears each attempt as the
// report lists it (a coordinator publishes them, so that a client's report
// keeps the attempts of a leader that died).
type AttemptObserver interface {
	Observer
	AttemptEnded(stage, index int, a AttemptReport)
}

// AttemptEnded implements scheduler.AttemptObserver: the next observer
// hears the attempt as the report lists it.
func (e *eventLog) AttemptEnded(a scheduler.Attempt) {
	if ao, ok := e.next.(AttemptObserver); ok {
		ao.AttemptEnded(int(a.Subtask.Stage), int(a.Subtask.Index), attemptReport(e.l, a, e.leader))
	}
}

// SubtaskFinished implements Observer: every finished attempt is logged.
func (e *eventLog) SubtaskFinished(stage, index int, rowsOut int64, err error) {
	ev := Event{Kind: "attempt", Rows: rowsOut,
		Subtask: e.g.SubtaskName(plan.SubtaskID{Stage: plan.StageID(stage), Index: int32(index)})}
	if err != nil {
		ev.Detail = err.Error()
	}
	e.add(ev, false)
	if err == nil && e.finished != nil {
		e.finished(plan.SubtaskID{Stage: plan.StageID(stage), Index: int32(index)}, rowsOut)
	}
	if e.next != nil {
		e.next.SubtaskFinished(stage, index, rowsOut, err)
	}
}
