package recovery

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

var (
	seedFlag  = flag.Uint64("seed", 0, "seed of TestRandomFailures (0: from the clock)")
	casesFlag = flag.Int("cases", 3000, "cases TestRandomFailures runs")
)

// TestRandomFailures checks every strategy on random layered topologies,
// states and failures: region failover against the brute-force reference
// and the invariants (checkRegionRestart), all and individual against
// their shape. Replay a failure with -seed.
func TestRandomFailures(t *testing.T) {
	seed := *seedFlag
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (replay with -seed=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	fewer := 0
	for i := range *casesFlag {
		ts := randomTopoSpec(rng)
		topo, err := ts.build()
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		s, fail, ok := randomFailure(rng, topo)
		if !ok {
			continue
		}
		if !checkRandomCase(t, i, ts, topo, s, fail) {
			return
		}
		if rs, _ := FailoverRegion.Restart(topo, s, fail); rs != nil {
			if flink, _ := FlinkRegionRestart(topo, s, fail); len(flink) > len(rs.Regions) {
				fewer++
			}
		}
	}
	t.Logf("%d of %d cases restart fewer regions than Flink's rule", fewer, *casesFlag)
}

// checkRandomCase runs every strategy on one case; on a failure it logs
// the case and returns false.
func checkRandomCase(t *testing.T, i int, ts *topoSpec, topo *Topology, s *State, fail Failure) bool {
	t.Helper()
	rs, err := FailoverRegion.Restart(topo, s, fail)
	if err != nil {
		t.Errorf("region: %v", err)
	} else {
		checkRestartSetShape(t, topo, fail, rs)
		checkRegionRestart(t, topo, s, fail, rs)
	}
	all, err := FailoverAll.Restart(topo, s, fail)
	if err != nil {
		t.Errorf("all: %v", err)
	} else {
		checkRestartSetShape(t, topo, fail, all)
		if len(all.Subtasks) != topo.NumSubtasks() {
			t.Errorf("all restarts %d of %d subtasks", len(all.Subtasks), topo.NumSubtasks())
		}
	}
	checkIndividual(t, topo, s, fail)
	if t.Failed() {
		t.Logf("case %d, as testdata:\ntopology\n%s----\n\n%s\n----\n\n%s\n----", i, ts, stateCommand(topo, s), failCommand(topo, fail))
		return false
	}
	return true
}

// checkIndividual: individual failover restarts the failed subtask alone
// exactly when its inputs are intact (on any topology: CheckIndividual is
// the caller's plan-time guard).
func checkIndividual(t *testing.T, topo *Topology, s *State, fail Failure) {
	rs, err := FailoverIndividual.Restart(topo, s, fail)
	lost := refLost(topo, s, fail)
	needs := slices.ContainsFunc(topo.Inputs(fail.Subtask), func(p PartitionID) bool { return lost[p] })
	switch {
	case needs && err == nil:
		t.Errorf("individual restarted %s, whose inputs are lost", topo.Subtask(fail.Subtask).Name)
	case !needs && err != nil:
		t.Errorf("individual: %v", err)
	case err == nil:
		checkRestartSetShape(t, topo, fail, rs)
		if len(rs.Subtasks) != 1 {
			t.Errorf("individual restarts %v", rs.Subtasks)
		}
	}
}

// String prints the spec in its testdata syntax, for replaying a case.
func (ts *topoSpec) String() string {
	var b []byte
	for _, st := range ts.stages {
		b = fmt.Appendf(b, "stage %s x%d\n", st.name, st.parallelism)
	}
	for _, e := range ts.edges {
		mode := "blocking"
		if e.pipelined {
			mode = "pipelined"
		}
		b = fmt.Appendf(b, "edge %s -> %s %s %s\n", e.from, e.to, e.partitioner, mode)
	}
	return string(b)
}

// randomTopoSpec draws 2-5 layers of 1-2 stages of parallelism 1-3; every
// stage past the first layer reads 1-2 stages of earlier layers.
func randomTopoSpec(rng *rand.Rand) *topoSpec {
	ts := &topoSpec{}
	var layers [][]string
	for l := range 2 + rng.IntN(4) {
		var layer []string
		for k := range 1 + rng.IntN(2) {
			name := fmt.Sprintf("%c%d", 'a'+l, k)
			ts.stages = append(ts.stages, stageSpec{name: name, parallelism: 1 + rng.IntN(3)})
			layer = append(layer, name)
		}
		layers = append(layers, layer)
	}
	for l := 1; l < len(layers); l++ {
		var earlier []string
		for _, layer := range layers[:l] {
			earlier = append(earlier, layer...)
		}
		for _, to := range layers[l] {
			rng.Shuffle(len(earlier), func(i, j int) { earlier[i], earlier[j] = earlier[j], earlier[i] })
			for _, from := range earlier[:min(len(earlier), 1+rng.IntN(2))] {
				ts.edges = append(ts.edges, randomEdge(rng, ts, from, to))
			}
		}
	}
	return ts
}

func randomEdge(rng *rand.Rand, ts *topoSpec, from, to string) edgeSpec {
	kinds := []string{"hash", "broadcast", "rebalance", "random"}
	if ts.stage(from).parallelism == ts.stage(to).parallelism {
		kinds = append(kinds, "forward", "forward")
	}
	if ts.stage(to).parallelism == 1 {
		kinds = append(kinds, "global")
	}
	return edgeSpec{from: from, to: to, partitioner: kinds[rng.IntN(len(kinds))], pipelined: rng.IntN(3) == 0}
}

// randomFailure simulates a schedule part way (or, one time in five, draws
// any progress), loses some committed
// partitions and fails a running subtask, with some of its blocking inputs
// lost. ok is false if no subtask is running.
func randomFailure(rng *rand.Rand, topo *Topology) (*State, Failure, bool) {
	s := NewState(topo)
	if rng.IntN(5) == 0 {
		// An arbitrary state, not one a schedule reaches: the rules must
		// hold regardless.
		for i := range s.Progress {
			s.Progress[i] = Progress(rng.IntN(3))
		}
	} else {
		for range rng.IntN(3 * topo.NumSubtasks()) {
			if !randomStep(rng, topo, s) {
				break
			}
		}
	}
	for i := range s.Available {
		p := topo.Partition(PartitionID(i))
		s.Available[i] = p.Mode == Blocking && s.Progress[p.Producer] == Finished && rng.IntN(6) != 0
	}
	var running []SubtaskID
	for i, p := range s.Progress {
		if p == Running {
			running = append(running, SubtaskID(i))
		}
	}
	if len(running) == 0 {
		return nil, Failure{}, false
	}
	fail := Failure{Subtask: running[rng.IntN(len(running))]}
	for _, p := range topo.Inputs(fail.Subtask) {
		if topo.Partition(p).Mode == Blocking && rng.IntN(4) == 0 {
			fail.Lost = append(fail.Lost, p)
		}
	}
	return s, fail, true
}

// randomStep takes one scheduling step: start a pending region whose
// inputs from other regions are produced, or finish a running subtask whose
// producers all finished. It returns false if there is no step to take.
func randomStep(rng *rand.Rand, topo *Topology, s *State) bool {
	type step struct {
		region  RegionID
		subtask SubtaskID
	}
	var steps []step
	for r := range topo.NumRegions() {
		if regionReady(topo, s, RegionID(r)) {
			steps = append(steps, step{region: RegionID(r), subtask: -1})
		}
	}
	for i, p := range s.Progress {
		if p == Running && producersFinished(topo, s, SubtaskID(i)) {
			steps = append(steps, step{region: -1, subtask: SubtaskID(i)})
		}
	}
	if len(steps) == 0 {
		return false
	}
	st := steps[rng.IntN(len(steps))]
	if st.subtask >= 0 {
		s.Progress[st.subtask] = Finished
		return true
	}
	for _, id := range topo.Region(st.region).Subtasks {
		s.Progress[id] = Running
	}
	return true
}

func regionReady(topo *Topology, s *State, r RegionID) bool {
	for _, id := range topo.Region(r).Subtasks {
		if s.Progress[id] != Pending {
			return false
		}
		for _, p := range topo.Inputs(id) {
			prod := topo.Partition(p).Producer
			if topo.RegionOf(prod) != r && s.Progress[prod] != Finished {
				return false
			}
		}
	}
	return true
}

func producersFinished(topo *Topology, s *State, id SubtaskID) bool {
	for _, p := range topo.Inputs(id) {
		if s.Progress[topo.Partition(p).Producer] != Finished {
			return false
		}
	}
	return true
}

// stateCommand prints s as a testdata state command.
func stateCommand(topo *Topology, s *State) string {
	var finished, running []SubtaskID
	for i, p := range s.Progress {
		switch p {
		case Finished:
			finished = append(finished, SubtaskID(i))
		case Running:
			running = append(running, SubtaskID(i))
		}
	}
	out := "state"
	if len(finished) > 0 {
		out += " finished=" + strings.ReplaceAll(topo.subtaskNames(finished), " ", ",")
	}
	if len(running) > 0 {
		out += " running=" + strings.ReplaceAll(topo.subtaskNames(running), " ", ",")
	}
	var gone []PartitionID
	for i := range s.Available {
		if s.lost(topo, PartitionID(i)) {
			gone = append(gone, PartitionID(i))
		}
	}
	if len(gone) > 0 {
		out += " lost=" + strings.ReplaceAll(topo.partitionNames(gone), " ", ",")
	}
	return out
}

// failCommand prints fail as a testdata fail command.
func failCommand(topo *Topology, fail Failure) string {
	out := "fail subtask=" + topo.Subtask(fail.Subtask).Name
	if len(fail.Lost) > 0 {
		out += " lost=" + strings.ReplaceAll(topo.partitionNames(fail.Lost), " ", ",")
	}
	return out
}
