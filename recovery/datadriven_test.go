package recovery

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
)

// TestDataDriven runs the testdata files. Commands:
//
//	topology [partitions]
//	<topoSpec lines: stage, edge, regions>
//	----
//	<the regions (and partitions): Topology.Describe, or "error: ...">
//
//	state [finished=NAMES] [running=NAMES] [lost=PARTITIONS]
//	----
//	<State.Describe>
//
//	fail subtask=NAME [lost=PARTITIONS] [strategy=region|all|individual]
//	----
//	<RestartSet.Describe, and for region the line
//	 "flink: REGIONS (+EXTRA)" with FlinkRegionRestart's set and the
//	 regions it restarts beyond ours; or "error: ...">
//
//	check-individual
//	----
//	<"ok", or the error of CheckIndividual>
//
// NAMES and PARTITIONS are comma-separated display names, where "[*]"
// matches every index: finished=a[*],b[0] lost=a[*]->b. Subtasks not named
// in state are pending; the blocking outputs of finished subtasks are
// available unless lost. Every region-strategy fail is checked against
// checkRegionRestart (the invariants and the brute-force reference).
// Rewrite with -rewrite.
func TestDataDriven(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		env := &ddEnv{}
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			return env.handle(t, d)
		})
	})
}

// ddEnv is what a testdata file builds up: the last topology and state.
type ddEnv struct {
	topo  *Topology
	state *State
}

func (env *ddEnv) handle(t *testing.T, d *datadriven.TestData) string {
	switch d.Cmd {
	case "topology":
		// topology [partitions]: build a topology from the input; all pending.
		return env.topology(d)
	case "state":
		// state [finished=..] [running=..] [lost=..]: set the run's state.
		return env.setState(t, d)
	case "fail":
		// fail subtask=S [lost=..] [strategy=..]: the restart set of a failure.
		return env.fail(t, d)
	case "check-individual":
		// check-individual: may individual failover run on this topology?
		if err := CheckIndividual(env.mustTopology(t, d)); err != nil {
			return "error: " + err.Error() + "\n"
		}
		return "ok\n"
	}
	d.Fatalf(t, "unknown command %q", d.Cmd)
	return ""
}

func (env *ddEnv) mustTopology(t *testing.T, d *datadriven.TestData) *Topology {
	if env.topo == nil {
		d.Fatalf(t, "%s: no topology yet", d.Cmd)
	}
	return env.topo
}

func (env *ddEnv) topology(d *datadriven.TestData) string {
	env.topo, env.state = nil, nil
	ts, err := parseTopoSpec(d.Input)
	if err == nil {
		env.topo, err = ts.build()
	}
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	env.state = NewState(env.topo)
	return env.topo.Describe(d.HasArg("partitions"))
}

func (env *ddEnv) setState(t *testing.T, d *datadriven.TestData) string {
	topo := env.mustTopology(t, d)
	s := NewState(topo)
	for _, arg := range d.CmdArgs {
		switch arg.Key {
		case "finished", "running":
			p := map[string]Progress{"finished": Finished, "running": Running}[arg.Key]
			for _, id := range env.subtasks(t, d, arg.SingleVal(t)) {
				s.Progress[id] = p
			}
		case "lost":
		default:
			d.Fatalf(t, "state: unknown argument %q", arg.Key)
		}
	}
	for i := range s.Available {
		p := topo.Partition(PartitionID(i))
		s.Available[i] = p.Mode == Blocking && s.Progress[p.Producer] == Finished
	}
	if arg, ok := d.Arg("lost"); ok {
		for _, id := range env.partitions(t, d, arg.SingleVal(t)) {
			s.Available[id] = false
		}
	}
	if err := s.Validate(topo); err != nil {
		d.Fatalf(t, "state: %v", err)
	}
	env.state = s
	return s.Describe(topo)
}

func (env *ddEnv) fail(t *testing.T, d *datadriven.TestData) string {
	topo := env.mustTopology(t, d)
	var name, lost, strategy string
	d.ScanArgs(t, "subtask", &name)
	d.MaybeScanArgs(t, "lost", &lost)
	d.MaybeScanArgs(t, "strategy", &strategy)
	ids := env.subtasks(t, d, name)
	if len(ids) != 1 {
		d.Fatalf(t, "fail: want one subtask, got %q", name)
	}
	fail := Failure{Subtask: ids[0], Lost: env.partitions(t, d, lost)}
	f, err := ParseFailover(strategy)
	if err != nil {
		d.Fatalf(t, "%v", err)
	}
	rs, err := f.Restart(topo, env.state, fail)
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	out := rs.Describe(topo)
	checkRestartSetShape(t, topo, fail, rs)
	if f == FailoverRegion {
		flink := checkRegionRestart(t, topo, env.state, fail, rs)
		out += describeFlink(flink, rs.Regions)
	}
	return out
}

// describeFlink prints "flink: r0 r1 r3 (+r3)": Flink's set and the regions
// it restarts beyond ours ("(same)" when none).
func describeFlink(flink, ours []RegionID) string {
	var extra []string
	for _, r := range flink {
		if !slices.Contains(ours, r) {
			extra = append(extra, "+"+r.String())
		}
	}
	if len(extra) == 0 {
		return fmt.Sprintf("flink: %s (same)\n", regionNames(flink))
	}
	return fmt.Sprintf("flink: %s (%s)\n", regionNames(flink), strings.Join(extra, " "))
}

func (env *ddEnv) subtasks(t *testing.T, d *datadriven.TestData, list string) []SubtaskID {
	topo := env.mustTopology(t, d)
	all := make([]string, topo.NumSubtasks())
	for i := range all {
		all[i] = topo.Subtask(SubtaskID(i)).Name
	}
	names, err := expandNames(list, all)
	if err != nil {
		d.Fatalf(t, "%v", err)
	}
	ids := make([]SubtaskID, len(names))
	for i, n := range names {
		ids[i], _ = topo.SubtaskByName(n)
	}
	return ids
}

func (env *ddEnv) partitions(t *testing.T, d *datadriven.TestData, list string) []PartitionID {
	topo := env.mustTopology(t, d)
	all := make([]string, topo.NumPartitions())
	for i := range all {
		all[i] = topo.Partition(PartitionID(i)).Name
	}
	names, err := expandNames(list, all)
	if err != nil {
		d.Fatalf(t, "%v", err)
	}
	ids := make([]PartitionID, len(names))
	for i, n := range names {
		ids[i], _ = topo.PartitionByName(n)
	}
	return ids
}
