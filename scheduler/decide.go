package scheduler

import (
	"errors"
	"time"

	"github.com/batchrun/batchrun/executor"
	"github.com/batchrun/batchrun/plan"
	"github.com/batchrun/batchrun/recovery"
)

// The scheduler's decisions. Each runs on Run's loop, takes no lock and
// starts no goroutine; the datadriven tests call them directly.

// startReady marks running, in region order, every pending region whose
// inputs are committed and that fits in the free slots, and returns their
// groups.
func (s *Scheduler) startReady() []*executor.Group {
	var gs []*executor.Group
	for _, r := range s.regions.List {
		if s.state[r.ID] != regionPending || len(r.Subtasks) > s.free || !s.ready(r) {
			continue
		}
		s.state[r.ID] = regionRunning
		s.free -= len(r.Subtasks)
		s.groupErrs[r.ID] = nil
		gs = append(gs, s.group(r))
	}
	return gs
}

// ready reports whether every blocking partition r reads is committed.
func (s *Scheduler) ready(r *plan.Region) bool {
	for _, p := range r.Inputs {
		if !s.committed[p] {
			return false
		}
	}
	return true
}

// taskEnded records one task's end: its attempt, and the partitions it
// committed (unless a failover already restarts its region).
func (s *Scheduler) taskEnded(t *executor.Task, res executor.Result, err error) {
	region := s.regions.Of[t.Subtask]
	a := Attempt{Subtask: t.Subtask, Region: region, Attempt: t.Attempt, State: Finished,
		Start: res.Start, End: res.End, Stats: res.Stats, Worker: res.Worker, Canceled: res.Canceled}
	if a.End.IsZero() {
		a.End = s.clock.Now()
	}
	if err != nil {
		var se *executor.SubtaskError
		if !errors.As(err, &se) {
			err = &executor.SubtaskError{Subtask: t.Subtask, Name: t.Name, Attempt: t.Attempt, Err: err}
		}
		a.State, a.Err = Failed, err
		s.groupErrs[region] = append(s.groupErrs[region], err)
	}
	for _, w := range res.Written {
		a.Spilled += w.RawBytes
		a.Stored += w.StoredBytes
	}
	s.result.Attempts = append(s.result.Attempts, a)
	if a.State == Finished {
		s.progress[s.view.subtask(t.Subtask)] = recovery.Finished
		if !s.doomed[region] { // else its outputs are being regenerated
			for _, w := range res.Written {
				s.committed[w.Partition] = true
			}
		}
	}
	if s.opts.Observer != nil {
		s.opts.Observer.SubtaskFinished(int(t.Subtask.Stage), int(t.Subtask.Index), a.Stats.RowsOut, err)
		if ao, ok := s.opts.Observer.(AttemptObserver); ok {
			ao.AttemptEnded(a)
		}
	}
}

// regionEnded updates the schedule for a region that stopped with err (its
// root cause); runErr is the whole run's cancellation cause, if any. It
// returns a delay before regions may start again, or a fatal error.
func (s *Scheduler) regionEnded(r plan.RegionID, err, runErr error) (time.Duration, error) {
	if s.cancels[r] != nil {
		s.cancels[r](nil)
		s.cancels[r] = nil
	}
	s.free += len(s.regions.List[r].Subtasks)
	if err == nil && len(s.groupErrs[r]) > 0 {
		err = s.groupErrs[r][0] // an executor that does not report the cause
	}
	switch {
	case s.doomed[r]:
		// Cancelled by a failover that restarts it: it runs again once its
		// inputs are committed, whatever it ended with.
		s.setRegion(r, regionPending)
		return 0, nil
	case err == nil:
		s.setRegion(r, regionFinished)
		return 0, nil
	case runErr != nil:
		return 0, runErr
	}
	return s.failover(r, err)
}

// setRegion moves region r to st. A pending region has no committed
// outputs: whatever it committed before is void until it runs again.
func (s *Scheduler) setRegion(r plan.RegionID, st regionState) {
	s.state[r] = st
	if st != regionPending {
		return
	}
	s.doomed[r] = false
	for _, sub := range s.regions.List[r].Subtasks {
		s.progress[s.view.subtask(sub)] = recovery.Pending
	}
	for _, p := range s.regions.Outputs(s.g, r) {
		delete(s.committed, p)
	}
}

// cancelRegion stops running region r, which a failover restarts: it
// commits nothing more and becomes pending when it stops. What it already
// committed is void at once: its tasks may have ended before the group
// did, and no consumer may start on outputs that are being regenerated.
func (s *Scheduler) cancelRegion(r plan.RegionID) {
	s.doomed[r] = true
	for _, p := range s.regions.Outputs(s.g, r) {
		delete(s.committed, p)
	}
	if s.cancels[r] != nil {
		s.cancels[r](errRestarted)
	}
}

var errRestarted = errors.New("scheduler: cancelled by a failover that restarts this region")

func (s *Scheduler) allFinished() bool {
	for _, st := range s.state {
		if st != regionFinished {
			return false
		}
	}
	return true
}
