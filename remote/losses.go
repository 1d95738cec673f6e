package remote

import (
	"fmt"
	"slices"

	"github.com/batchrun/batchrun/executor"
	"github.com/batchrun/batchrun/plan"
)

// Where partitions are, and what a lost worker took with it. committed,
// lostInput, lose and Lose take e.mu; the helpers they call expect it
// held.

// committed records where partitions are.
func (e *Executor) committed(addr string, ws []executor.Written) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, w := range ws {
		e.where[w.Partition] = addr
		delete(e.lostAt, w.Partition)
	}
}

// lostInput returns the loss of a worker that held an input of g, if any.
func (e *Executor) lostInput(g *executor.Group) *executor.WorkerLostError {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, t := range g.Tasks {
		for _, in := range t.Inputs {
			for _, p := range in.Partitions {
				if addr, ok := e.lostAt[p]; ok {
					return e.reportLoss(addr, fmt.Errorf("it left the cluster"))
				}
			}
		}
	}
	return nil
}

// heldBy lists the partitions at addr, or that it held before it was
// lost and that are not committed elsewhere since; e.mu is held.
func (e *Executor) heldBy(addr string) []plan.PartitionID {
	var ps []plan.PartitionID
	for p, a := range e.lostAt {
		if a == addr {
			ps = append(ps, p)
		}
	}
	for p, a := range e.where {
		if a == addr {
			ps = append(ps, p)
		}
	}
	slices.SortFunc(ps, func(a, b plan.PartitionID) int {
		if a.Edge != b.Edge {
			return int(a.Edge) - int(b.Edge)
		}
		return int(a.Producer) - int(b.Producer)
	})
	return ps
}

// lose marks the worker at addr lost and returns the loss, to report: every
// partition it held.
func (e *Executor) lose(addr string, err error) *executor.WorkerLostError {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.markLost(addr)
	return e.reportLoss(addr, err)
}

// Lose marks the worker at addr lost, as the cluster's membership says
// (its lease expired): no group goes to it any more, and the next group
// that reads what it held fails with its loss.
func (e *Executor) Lose(addr string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.markLost(addr)
}

// markLost moves what addr holds to lostAt; e.mu is held.
func (e *Executor) markLost(addr string) {
	for _, w := range e.workers {
		if w.Addr == addr {
			w.lost = true
		}
	}
	for p, a := range e.where {
		if a == addr {
			e.lostAt[p] = addr
			delete(e.where, p)
		}
	}
	e.changed.Broadcast()
}

// reportLoss is addr's loss as a failure: Known when reported before;
// e.mu is held.
func (e *Executor) reportLoss(addr string, err error) *executor.WorkerLostError {
	wl := &executor.WorkerLostError{Worker: addr, Lost: e.heldBy(addr), Known: e.reported[addr], Err: err}
	e.reported[addr] = true
	return wl
}
