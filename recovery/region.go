package recovery

import "slices"

// regionRestart computes FailoverRegion's restart set, DESIGN invariant 3.
// Starting from the failed subtask's region, it adds regions until none of
// these rules adds another:
//
//  1. lost input: a restarted region that reads a lost partition from
//     another region (Failure.Lost, or produced and not available) needs
//     it regenerated, so the producer's region restarts too. Inputs that
//     are available are read again from the store, never recomputed.
//  2. changed output: a partition is changed when its producer restarts
//     and either the partition is nondeterministic (rebalance, random) or
//     its producer reads a changed partition. A started subtask (running
//     or finished) that reads a changed partition may have consumed data
//     the re-run will not reproduce, so its region restarts, finished or
//     not. A pending subtask simply reads the new data.
//  3. what the failure lost (Failure.Lost: a consumer could not read it, or
//     the process holding it is gone): its producer's region restarts when
//     a subtask that has not finished reads it, and a region with a
//     running subtask that reads it from another region has read, or will
//     read, data that is gone: it would fail on it too. It restarts in
//     the same failover, so that one loss costs one failover, not one per
//     consumer (Flink's FLINK-13055; Spark still pays one per FetchFailed,
//     SPARK-19753). Finished readers keep their results (they read the
//     partition before it was lost); pending ones read the regenerated one.
//
// A restarted region whose inputs are unchanged and whose outputs are
// deterministic reproduces its outputs exactly, so the finished consumers
// of those outputs keep their results. That is where this rule restarts
// fewer regions than Flink's (FlinkRegionRestart), which restarts every
// started downstream region.
//
// "Changed" is tracked per subtask, not per region: a re-run subtask's
// output changes only if its own inputs change, even when another subtask
// of its region reads a changed partition.
func regionRestart(t *Topology, s *State, fail Failure) *RestartSet {
	sv := &regionSolver{
		t:         t,
		s:         s,
		lost:      lostSet(t, s, fail),
		inSet:     make([]bool, t.NumRegions()),
		restarted: make([]bool, t.NumSubtasks()),
		inChanged: make([]bool, t.NumSubtasks()),
		changed:   make([]bool, t.NumPartitions()),
	}
	sv.add(t.regionOf[fail.Subtask])
	sv.addRunningReaders(fail)
	for len(sv.queue) > 0 {
		r := sv.queue[0]
		sv.queue = sv.queue[1:]
		sv.restart(r)
	}
	return sv.result(fail)
}

// regionSolver grows the restart set incrementally: every flag below only
// ever turns true, so each region, subtask and partition is handled a
// bounded number of times.
type regionSolver struct {
	t    *Topology
	s    *State
	lost []bool // by partition

	inSet     []bool // by region: in the restart set
	queue     []RegionID
	restarted []bool // by subtask: its region is in the set and was processed
	inChanged []bool // by subtask: reads a changed partition
	changed   []bool // by partition
}

// addRunningReaders applies rule 3.
func (sv *regionSolver) addRunningReaders(fail Failure) {
	t := sv.t
	for _, p := range fail.Lost {
		for _, c := range t.partitions[p].Consumers {
			if !t.external(p, c) {
				continue
			}
			if sv.s.Progress[c] != Finished {
				sv.add(t.regionOf[t.partitions[p].Producer])
			}
			if sv.s.Progress[c] == Running {
				sv.add(t.regionOf[c])
			}
		}
	}
}

func (sv *regionSolver) add(r RegionID) {
	if !sv.inSet[r] {
		sv.inSet[r] = true
		sv.queue = append(sv.queue, r)
	}
}

// restart processes a region that joined the set: rule 1 for its inputs,
// rule 2 for its outputs.
func (sv *regionSolver) restart(r RegionID) {
	t := sv.t
	for _, st := range t.regions[r].Subtasks {
		sv.restarted[st] = true
		for _, p := range t.inputs[st] {
			if sv.lost[p] && t.external(p, st) {
				sv.add(t.regionOf[t.partitions[p].Producer])
			}
		}
		sv.markOutputs(st)
	}
}

// markOutputs marks the outputs of restarted subtask st that its re-run
// changes.
func (sv *regionSolver) markOutputs(st SubtaskID) {
	for _, p := range sv.t.outputs[st] {
		if !sv.changed[p] && (!sv.t.partitions[p].Deterministic || sv.inChanged[st]) {
			sv.markChanged(p)
		}
	}
}

// markChanged marks p changed: its restarted consumers' outputs may change
// in turn, and the regions of its started consumers restart.
func (sv *regionSolver) markChanged(p PartitionID) {
	t := sv.t
	sv.changed[p] = true
	for _, c := range t.partitions[p].Consumers {
		if !sv.inChanged[c] {
			sv.inChanged[c] = true
			if sv.restarted[c] {
				sv.markOutputs(c)
			}
		}
		if sv.s.Progress[c].Started() {
			sv.add(t.regionOf[c])
		}
	}
}

// result builds the restart set, with the reasons read off the final sets
// (every reason that holds, not only the one that first added the region).
func (sv *regionSolver) result(fail Failure) *RestartSet {
	t := sv.t
	rs := &RestartSet{Failover: FailoverRegion, Regions: setMembers(sv.inSet)}
	rs.Subtasks = regionSubtasks(t, rs.Regions)
	rs.Regenerate = blockingOutputs(t, rs.Subtasks)
	for i, ch := range sv.changed {
		if ch {
			rs.Changed = append(rs.Changed, PartitionID(i))
		}
	}
	rs.Reasons = append(rs.Reasons, Reason{Region: t.regionOf[fail.Subtask], Kind: ReasonFailed})
	for _, st := range rs.Subtasks {
		for _, p := range t.inputs[st] {
			if !t.external(p, st) {
				continue
			}
			producer := t.regionOf[t.partitions[p].Producer]
			if sv.lost[p] {
				rs.Reasons = append(rs.Reasons, Reason{Region: producer, Kind: ReasonProducesLost, Partition: p})
			}
			if sv.changed[p] && sv.s.Progress[st].Started() {
				rs.Reasons = append(rs.Reasons, Reason{Region: t.regionOf[st], Kind: ReasonConsumedChanged, Partition: p})
			}
			if slices.Contains(fail.Lost, p) && sv.s.Progress[st] == Running && t.regionOf[st] != t.regionOf[fail.Subtask] {
				rs.Reasons = append(rs.Reasons, Reason{Region: t.regionOf[st], Kind: ReasonReadsLost, Partition: p})
			}
		}
	}
	for _, p := range fail.Lost {
		producer := t.regionOf[t.partitions[p].Producer]
		for _, c := range t.partitions[p].Consumers {
			if t.external(p, c) && sv.s.Progress[c] != Finished {
				rs.Reasons = append(rs.Reasons, Reason{Region: producer, Kind: ReasonProducesLost, Partition: p})
				break
			}
		}
	}
	slices.SortFunc(rs.Reasons, compareReasons)
	rs.Reasons = slices.Compact(rs.Reasons)
	rs.Reasons = slices.Compact(rs.Reasons)
	return rs
}
