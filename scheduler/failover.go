package scheduler

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/batchrun/batchrun/executor"
	"github.com/batchrun/batchrun/plan"
	"github.com/batchrun/batchrun/recovery"
)

// Failover records one failure and what recovery restarted for it.
type Failover struct {
	Time     time.Time `json:"time"`
	Cause    string    `json:"cause"`
	Failed   string    `json:"failed"`
	Lost     []string  `json:"lost,omitempty"`
	Strategy string    `json:"strategy"`
	// Regions and Reasons are recovery's restart set and why.
	Regions []string `json:"regions"`
	// Subtasks are those restarted: the restart set's, less those already
	// pending a restart from an earlier failover.
	Subtasks []string      `json:"subtasks"`
	Reasons  []string      `json:"reasons,omitempty"`
	Delay    time.Duration `json:"delay_ns"`
	// Aftermath marks a failure that is part of an earlier one (a reader
	// of a partition already being regenerated, another task of a worker
	// already lost): it restarts what it must, but the restart strategy
	// does not count it.
	Aftermath bool `json:"aftermath,omitempty"`
}

// IsPermanent reports whether err says that running the subtask again
// cannot succeed: it is, or wraps, an error with a Permanent method that
// returns true (a malformed row, a value a CAST cannot convert, an
// expression that does not compile). Such a failure ends the run at once
// instead of spending the restart strategy's attempts.
func IsPermanent(err error) bool {
	var p interface{ Permanent() bool }
	return errors.As(err, &p) && p.Permanent()
}

// failover handles region's failure: it asks the restart strategy whether
// to go on and the failover strategy what to restart, then marks that
// restart set pending (cancelling what of it still runs). It returns the
// delay before restarting, or the error to fail the job with.
func (s *Scheduler) failover(region plan.RegionID, err error) (time.Duration, error) {
	var se *executor.SubtaskError
	if !errors.As(err, &se) || IsPermanent(err) {
		return 0, err // not recoverable by running again
	}
	failure := recovery.Failure{Subtask: s.view.subtask(se.Subtask)}
	lost := lostPartitions(err)
	for _, p := range lost {
		if s.committed[p] {
			failure.Lost = append(failure.Lost, s.view.partition(p))
			delete(s.committed, p) // gone, whether or not it is regenerated now
		}
	}
	// A loss that an earlier failover already handles (every partition it
	// names is being regenerated, or its worker's loss was counted) is the
	// same failure: this consumer read the lost attempt too and just runs
	// again, and the restart strategy does not count it again. The
	// scheduler, not the executor, says whether a worker's loss was
	// counted: the executor's first report of it may reach a task whose
	// failure never becomes a failover (one already cancelled by another).
	var wl *executor.WorkerLostError
	workerLost := errors.As(err, &wl)
	aftermath := len(lost) > 0 && len(failure.Lost) == 0 || workerLost && s.lossCounted[wl.Worker]
	if workerLost && !aftermath {
		if s.lossCounted == nil {
			s.lossCounted = map[string]bool{}
		}
		s.lossCounted[wl.Worker] = true
	}
	decision := recovery.Decision{Restart: true}
	if !aftermath {
		decision = s.restart.OnFailure(s.clock.Now())
	}
	if !decision.Restart {
		return 0, decision.Err(err)
	}
	rs, rerr := s.opts.Failover.Restart(s.view.topo, s.recoveryState(), failure)
	if rerr != nil {
		return 0, fmt.Errorf("%w (and failover is impossible: %v)", err, rerr)
	}
	restarted := s.applyRestart(region, rs)
	f := s.describeFailover(err, failure, rs, decision.Delay)
	f.Aftermath = aftermath
	f.Subtasks = nil
	for _, r := range restarted {
		for _, st := range s.regions.List[r].Subtasks {
			f.Subtasks = append(f.Subtasks, s.g.SubtaskName(st))
		}
	}
	s.opts.Logger.Warn("failover", "failed", f.Failed, "cause", f.Cause, "restart", f.Subtasks, "delay", f.Delay)
	s.result.Failovers = append(s.result.Failovers, f)
	return decision.Delay, nil
}

// lostPartitions lists the partitions err says are lost: the one a task
// could not read, or every one a lost worker held.
func lostPartitions(err error) []plan.PartitionID {
	var wl *executor.WorkerLostError
	if errors.As(err, &wl) {
		return wl.Lost
	}
	var le *executor.LostPartitionError
	if errors.As(err, &le) {
		return []plan.PartitionID{le.Partition}
	}
	return nil
}

func (s *Scheduler) recoveryState() *recovery.State {
	st := recovery.NewState(s.view.topo)
	copy(st.Progress, s.progress)
	for p := range s.committed {
		st.Available[s.view.partition(p)] = true
	}
	return st
}

// applyRestart marks the regions of rs's subtasks pending: running ones
// are cancelled (and become pending when they stop), finished ones and the
// failed one at once. Regions already pending (restarted by an earlier
// failover, not run since) are left as they are. It returns the regions
// it restarted, sorted.
func (s *Scheduler) applyRestart(failed plan.RegionID, rs *recovery.RestartSet) []plan.RegionID {
	regions := make(map[plan.RegionID]bool)
	for _, sub := range rs.Subtasks {
		regions[s.regions.Of[s.view.subtasks[sub]]] = true
	}
	for _, r := range rs.Regions {
		regions[plan.RegionID(r)] = true
	}
	regions[failed] = true
	var restarted []plan.RegionID
	for _, r := range slices.Sorted(maps.Keys(regions)) {
		switch {
		case r == failed:
			s.setRegion(r, regionPending)
		case s.state[r] == regionRunning && !s.doomed[r]:
			s.cancelRegion(r)
		case s.state[r] == regionFinished:
			s.setRegion(r, regionPending)
		default:
			continue
		}
		restarted = append(restarted, r)
	}
	return restarted
}

func (s *Scheduler) describeFailover(err error, fail recovery.Failure, rs *recovery.RestartSet, delay time.Duration) Failover {
	t := s.view.topo
	f := Failover{Time: s.clock.Now(), Cause: err.Error(), Failed: t.Subtask(fail.Subtask).Name,
		Strategy: s.opts.Failover.String(), Delay: delay}
	for _, p := range fail.Lost {
		f.Lost = append(f.Lost, t.Partition(p).Name)
	}
	for _, r := range rs.Regions {
		f.Regions = append(f.Regions, r.String())
	}
	for _, sub := range rs.Subtasks {
		f.Subtasks = append(f.Subtasks, t.Subtask(sub).Name)
	}
	for _, r := range rs.Reasons {
		f.Reasons = append(f.Reasons, r.Describe(t))
	}
	return f
}
