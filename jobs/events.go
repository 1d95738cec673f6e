package jobs

import (
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/batchrun/batchrun/plan"
	"github.com/batchrun/batchrun/storage"
)

// Event is one entry of a run's event log: what happened, when. The log
// is history for people and tools (`batchrun runs`); what resume relies on
// (run records, partition commit records) is synced separately.
type Event struct {
	Time    time.Time `json:"time"`
	Kind    string    `json:"event"` // started, resumed, attempt, failover, committing, committed, failed
	Subtask string    `json:"subtask,omitempty"`
	Rows    int64     `json:"rows,omitempty"`
	Detail  string    `json:"detail,omitempty"`
}

// eventLog appends a run's events to the store; safe for concurrent use.
type eventLog struct {
	store  *storage.Store
	run    uint64
	g      *plan.StageGraph
	logger *slog.Logger
	next   Observer

	mu  sync.Mutex
	seq uint64
}

func newEventLog(store *storage.Store, run uint64, g *plan.StageGraph, logger *slog.Logger) *eventLog {
	e := &eventLog{store: store, run: run, g: g, logger: logger}
	if old, err := store.Events(run); err == nil {
		e.seq = uint64(len(old))
	}
	return e
}

func (e *eventLog) add(ev Event, sync bool) {
	ev.Time = time.Now()
	data, err := json.Marshal(ev)
	if err != nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.store.AppendEvent(e.run, e.seq, data, sync); err != nil {
		e.logger.Warn("event log", "err", err)
		return
	}
	e.seq++
}

// SubtaskFinished implements Observer: every finished attempt is logged.
func (e *eventLog) SubtaskFinished(stage, index int, rowsOut int64, err error) {
	ev := Event{Kind: "attempt", Rows: rowsOut,
		Subtask: e.g.SubtaskName(plan.SubtaskID{Stage: plan.StageID(stage), Index: int32(index)})}
	if err != nil {
		ev.Detail = err.Error()
	}
	e.add(ev, false)
	if e.next != nil {
		e.next.SubtaskFinished(stage, index, rowsOut, err)
	}
}

// Events reads run's event log from the store.
func Events(store *storage.Store, run uint64) ([]Event, error) {
	raw, err := store.Events(run)
	if err != nil {
		return nil, err
	}
	evs := make([]Event, 0, len(raw))
	for _, r := range raw {
		var ev Event
		if err := json.Unmarshal(r, &ev); err != nil {
			return nil, storage.CorruptErrorf("event of run %s: %v", storage.RunIDString(run), err)
		}
		evs = append(evs, ev)
	}
	return evs, nil
}
