package recovery

import (
	"slices"
	"testing"
)

// The checks below use only the exported Topology accessors and recompute
// everything the naive way, so that they do not share code with the
// incremental solver they check.

// refLost is the naive lost set: Failure.Lost, plus blocking partitions
// whose producer finished and that are not available.
func refLost(topo *Topology, s *State, fail Failure) []bool {
	lost := make([]bool, topo.NumPartitions())
	for i := range lost {
		p := topo.Partition(PartitionID(i))
		lost[i] = p.Mode == Blocking && s.Progress[p.Producer] == Finished && !s.Available[i]
	}
	for _, p := range fail.Lost {
		lost[p] = true
	}
	return lost
}

// refChanged computes the changed partitions for a given set of restarted
// regions, by iterating the definition to a fixpoint: p is changed if its
// producer restarts and p is nondeterministic or the producer reads a
// changed partition.
func refChanged(topo *Topology, in []bool) []bool {
	changed := make([]bool, topo.NumPartitions())
	for grew := true; grew; {
		grew = false
		for i := range changed {
			p := topo.Partition(PartitionID(i))
			if changed[i] || !in[topo.RegionOf(p.Producer)] {
				continue
			}
			ch := !p.Deterministic
			for _, q := range topo.Inputs(p.Producer) {
				ch = ch || changed[q]
			}
			if ch {
				changed[i], grew = true, true
			}
		}
	}
	return changed
}

// bruteForceRegion is the reference for FailoverRegion: grow the set from
// the failed region by the two rules, recomputing everything from scratch
// each round, until it stops growing.
func bruteForceRegion(topo *Topology, s *State, fail Failure) (regions []RegionID, changed []PartitionID) {
	lost := refLost(topo, s, fail)
	in := make([]bool, topo.NumRegions())
	in[topo.RegionOf(fail.Subtask)] = true
	for grew := true; grew; {
		grew = false
		add := func(r RegionID) {
			if !in[r] {
				in[r], grew = true, true
			}
		}
		ch := refChanged(topo, in)
		for i := range topo.NumPartitions() {
			p := topo.Partition(PartitionID(i))
			pr := topo.RegionOf(p.Producer)
			for _, c := range p.Consumers {
				cr := topo.RegionOf(c)
				if in[cr] && lost[i] && cr != pr {
					add(pr)
				}
				if slices.Contains(fail.Lost, PartitionID(i)) && cr != pr && s.Progress[c] != Finished {
					add(pr) // rule 3: a lost partition an unfinished subtask reads
					if s.Progress[c] == Running {
						add(cr) // rule 3: a running reader of a lost partition
					}
				}
				if ch[i] && s.Progress[c].Started() {
					add(cr)
				}
			}
		}
	}
	for i, ok := range refChanged(topo, in) {
		if ok {
			changed = append(changed, PartitionID(i))
		}
	}
	return setMembers(in), changed
}

// bruteForceFlink is the reference for FlinkRegionRestart: from the failed
// region, add producers of lost inputs and every started consumer region,
// until the set stops growing.
func bruteForceFlink(topo *Topology, s *State, fail Failure) []RegionID {
	lost := refLost(topo, s, fail)
	in := make([]bool, topo.NumRegions())
	in[topo.RegionOf(fail.Subtask)] = true
	for grew := true; grew; {
		grew = false
		for i := range topo.NumPartitions() {
			p := topo.Partition(PartitionID(i))
			pr := topo.RegionOf(p.Producer)
			for _, c := range p.Consumers {
				cr := topo.RegionOf(c)
				if in[cr] && lost[i] && cr != pr && !in[pr] {
					in[pr], grew = true, true
				}
				if in[pr] && !in[cr] && regionStarted(topo, s, cr) {
					in[cr], grew = true, true
				}
			}
		}
	}
	return setMembers(in)
}

// checkRegionRestart checks a FailoverRegion restart set against the
// invariants and the references, and returns Flink's set.
func checkRegionRestart(t *testing.T, topo *Topology, s *State, fail Failure, rs *RestartSet) []RegionID {
	t.Helper()
	desc := fail.Describe(topo)
	flink, err := FlinkRegionRestart(topo, s, fail)
	if err != nil {
		t.Fatalf("fail %s: FlinkRegionRestart: %v", desc, err)
	}
	if ref := bruteForceFlink(topo, s, fail); !slices.Equal(flink, ref) {
		t.Errorf("fail %s: FlinkRegionRestart = %v, want (brute force) %v", desc, flink, ref)
	}
	refRegions, refCh := bruteForceRegion(topo, s, fail)
	if !slices.Equal(rs.Regions, refRegions) {
		t.Errorf("fail %s: regions = %v, want (brute force) %v", desc, rs.Regions, refRegions)
	}
	if !slices.Equal(rs.Changed, refCh) {
		t.Errorf("fail %s: changed = %s, want (brute force) %s", desc,
			topo.partitionNames(rs.Changed), topo.partitionNames(refCh))
	}
	for _, r := range rs.Regions {
		// Flink's rule knows no partition lost with its holder that the
		// failed subtask does not read; ours regenerates those for the
		// subtasks that still need them.
		if !slices.Contains(flink, r) && !producesLostElsewhere(topo, fail, r) {
			t.Errorf("fail %s: restarts %s, which Flink's rule %v does not", desc, r, flink)
		}
	}
	if !slices.Contains(rs.Regions, topo.RegionOf(fail.Subtask)) {
		t.Errorf("fail %s: restart set %v lacks the failed region", desc, rs.Regions)
	}
	checkClosed(t, topo, s, fail, rs)
	checkReasons(t, topo, s, fail, rs)
	return flink
}

// checkClosed checks the set is closed under both rules: every started
// consumer of a changed partition restarts, and every lost input of a
// restarted subtask has its producer restarted.
func checkClosed(t *testing.T, topo *Topology, s *State, fail Failure, rs *RestartSet) {
	t.Helper()
	in := make([]bool, topo.NumRegions())
	for _, r := range rs.Regions {
		in[r] = true
	}
	lost := refLost(topo, s, fail)
	for i, ch := range refChanged(topo, in) {
		p := topo.Partition(PartitionID(i))
		for _, c := range p.Consumers {
			name := topo.Subtask(c).Name
			if ch && s.Progress[c].Started() && !in[topo.RegionOf(c)] {
				t.Errorf("fail %s: %s (%s) read changed %s but does not restart",
					fail.Describe(topo), name, s.Progress[c], p.Name)
			}
			if lost[i] && in[topo.RegionOf(c)] && !in[topo.RegionOf(p.Producer)] {
				t.Errorf("fail %s: %s restarts but its lost input %s is not regenerated",
					fail.Describe(topo), name, p.Name)
			}
		}
	}
}

// checkReasons checks every restarted region has a reason and every reason
// holds.
func checkReasons(t *testing.T, topo *Topology, s *State, fail Failure, rs *RestartSet) {
	t.Helper()
	in := make([]bool, topo.NumRegions())
	for _, r := range rs.Regions {
		in[r] = true
	}
	changed := refChanged(topo, in)
	lost := refLost(topo, s, fail)
	has := make([]bool, topo.NumRegions())
	for _, r := range rs.Reasons {
		has[r.Region] = true
		if !reasonHolds(topo, s, fail, in, changed, lost, r) {
			t.Errorf("fail %s: reason %q does not hold", fail.Describe(topo), r.Describe(topo))
		}
	}
	for _, r := range rs.Regions {
		if !has[r] {
			t.Errorf("fail %s: %s restarts without a reason", fail.Describe(topo), r)
		}
	}
}

func reasonHolds(topo *Topology, s *State, fail Failure, in, changed, lost []bool, r Reason) bool {
	if !in[r.Region] {
		return false
	}
	switch r.Kind {
	case ReasonFailed:
		return r.Region == topo.RegionOf(fail.Subtask)
	case ReasonProducesLost:
		p := topo.Partition(r.Partition)
		if !lost[r.Partition] || topo.RegionOf(p.Producer) != r.Region {
			return false
		}
		for _, c := range p.Consumers {
			if cr := topo.RegionOf(c); in[cr] && cr != r.Region {
				return true
			}
			if cr := topo.RegionOf(c); slices.Contains(fail.Lost, r.Partition) && cr != r.Region && s.Progress[c] != Finished {
				return true
			}
		}
	case ReasonConsumedChanged:
		p := topo.Partition(r.Partition)
		if !changed[r.Partition] || topo.RegionOf(p.Producer) == r.Region {
			return false
		}
		for _, c := range p.Consumers {
			if topo.RegionOf(c) == r.Region && s.Progress[c].Started() {
				return true
			}
		}
	case ReasonReadsLost:
		p := topo.Partition(r.Partition)
		if !slices.Contains(fail.Lost, r.Partition) || topo.RegionOf(p.Producer) == r.Region {
			return false
		}
		for _, c := range p.Consumers {
			if topo.RegionOf(c) == r.Region && s.Progress[c] == Running {
				return true
			}
		}
	}
	return false
}

// checkRestartSetShape checks what every strategy's set must satisfy: the
// failed subtask restarts, Subtasks are the subtasks of Regions (except for
// individual), Regenerate are their blocking outputs, all sorted.
func checkRestartSetShape(t *testing.T, topo *Topology, fail Failure, rs *RestartSet) {
	t.Helper()
	desc := fail.Describe(topo)
	if !slices.Contains(rs.Subtasks, fail.Subtask) {
		t.Errorf("fail %s (%s): the failed subtask does not restart", desc, rs.Failover)
	}
	if rs.Failover != FailoverIndividual {
		if want := regionSubtasks(topo, rs.Regions); !slices.Equal(rs.Subtasks, want) {
			t.Errorf("fail %s (%s): subtasks = %v, want those of the regions %v", desc, rs.Failover, rs.Subtasks, want)
		}
	}
	var want []PartitionID
	for i := range topo.NumPartitions() {
		p := topo.Partition(PartitionID(i))
		if p.Mode == Blocking && slices.Contains(rs.Subtasks, p.Producer) {
			want = append(want, PartitionID(i))
		}
	}
	if !slices.Equal(rs.Regenerate, want) {
		t.Errorf("fail %s (%s): regenerate = %v, want %v", desc, rs.Failover, rs.Regenerate, want)
	}
	for _, sorted := range []bool{slices.IsSorted(rs.Regions), slices.IsSorted(rs.Subtasks), slices.IsSorted(rs.Changed)} {
		if !sorted {
			t.Errorf("fail %s (%s): unsorted restart set %+v", desc, rs.Failover, rs)
		}
	}
}

// producesLostElsewhere reports whether region r produces a partition of
// fail.Lost that the failed subtask does not read.
func producesLostElsewhere(topo *Topology, fail Failure, r RegionID) bool {
	for _, p := range fail.Lost {
		if topo.RegionOf(topo.Partition(p).Producer) == r && !slices.Contains(topo.Inputs(fail.Subtask), p) {
			return true
		}
	}
	return false
}
