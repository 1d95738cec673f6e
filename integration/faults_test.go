package integration

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/batchrun/batchrun/faults"
	"github.com/batchrun/batchrun/jobs"
	"github.com/batchrun/batchrun/plan"
	"github.com/batchrun/batchrun/recovery"
)

// noDelay restarts at once and tolerates every failure the tests inject.
const noDelay = "fixed-delay:attempts=100,delay=0s"

// restartOf parses a restart strategy for RunOptions.Restart.
func restartOf(t testing.TB, s string) *recovery.RestartConfig {
	t.Helper()
	r, err := jobs.ParseRestart(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// faultsOf parses faults for RunOptions.Faults.
func faultsOf(t testing.TB, specs ...string) []faults.Spec {
	t.Helper()
	var out []faults.Spec
	for _, s := range specs {
		f, err := jobs.ParseFault(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, f)
	}
	return out
}

var faultKinds = []string{"error", "panic", "lose", "corrupt"}

// pickFault draws one fault of kind from seed over l's graph: a subtask
// for error and panic, a blocking partition for lose and corrupt. ok is
// false when the graph has no target of that kind (no blocking edge).
func pickFault(l *jobs.Loaded, kind string, seed uint64) (fault string, ok bool) {
	rng := rand.New(rand.NewPCG(seed, 7))
	g := l.Graph
	if kind == "error" || kind == "panic" {
		st := g.Stages[rng.IntN(len(g.Stages))]
		return fmt.Sprintf("%s:%s[%d]@%d", kind, st.Name, rng.IntN(st.Parallelism), rng.IntN(3)), true
	}
	var edges []*plan.Edge
	for _, e := range g.Edges {
		if e.Mode == plan.Blocking {
			edges = append(edges, e)
		}
	}
	if len(edges) == 0 {
		return "", false
	}
	e := edges[rng.IntN(len(edges))]
	from, to := g.Stage(e.From), g.Stage(e.To)
	return fmt.Sprintf("%s:%s[%d]->%s", kind, from.Name, rng.IntN(from.Parallelism), to.Name), true
}

// assertRerunsPredicted checks that the subtasks actually re-run are those
// the failovers' restart sets named: every subtask ran once plus once per
// restart set that contains it.
func assertRerunsPredicted(t *testing.T, r *jobs.Report, l *jobs.Loaded) {
	t.Helper()
	predicted := map[string]int{}
	for _, f := range r.Failovers {
		for _, s := range f.Subtasks {
			predicted[s]++
		}
	}
	actual := map[string]int{}
	for _, a := range r.Attempts {
		if a.Attempt > 0 {
			actual[a.Subtask]++
		}
	}
	if fmt.Sprint(sortedCounts(actual)) != fmt.Sprint(sortedCounts(predicted)) {
		t.Fatalf("re-run subtasks %v, restart sets predicted %v\nfailovers: %+v", sortedCounts(actual), sortedCounts(predicted), r.Failovers)
	}
}

func sortedCounts(m map[string]int) []string {
	var out []string
	for k, v := range m {
		out = append(out, fmt.Sprintf("%s x%d", k, v))
	}
	sort.Strings(out)
	return out
}

// TestFaultsKeepOutput injects each fault kind at several seeds into every
// example in both modes: the output must equal the independent answer and
// the re-runs must equal the predicted restart sets.
func TestFaultsKeepOutput(t *testing.T) {
	for _, ex := range examples {
		want := ex.answer(t, filepath.Join(examplesDir(t), "data"))
		for _, mode := range []string{"all-blocking", "all-pipelined"} {
			cfg := runConfig{mode, 4}
			l := loadExample(t, ex, cfg)
			for _, kind := range faultKinds {
				for seed := uint64(1); seed <= 3; seed++ {
					fault, ok := pickFault(l, kind, seed)
					if !ok {
						continue // all-pipelined jobs store no partition to lose
					}
					t.Run(fmt.Sprintf("%s/%s/%s", ex.name, mode, fault), func(t *testing.T) {
						r, out := runExample(t, ex, cfg, jobs.RunOptions{Faults: faultsOf(t, fault), Restart: restartOf(t, noDelay), Seed: seed})
						if len(r.Failovers) == 0 {
							t.Fatalf("fault %s caused no failover", fault)
						}
						checkOutput(t, ex, out, want)
						assertRerunsPredicted(t, r, l)
					})
				}
			}
		}
	}
}

func checkOutput(t *testing.T, ex example, out string, want [][]string) {
	t.Helper()
	got := readOutput(t, out)
	if !ex.ordered {
		sortRows(got[1:])
	}
	compareRows(t, got, want)
}

var chaosSeeds = flag.Int("chaos.seeds", 25, "seeds per example for TestChaos (the issue's bar is 200)")

// TestChaos runs every example under random faults (rate 0.15) for many
// seeds, alternating modes; every output must be right.
func TestChaos(t *testing.T) {
	for _, ex := range examples {
		want := ex.answer(t, filepath.Join(examplesDir(t), "data"))
		for seed := 1; seed <= *chaosSeeds; seed++ {
			mode := []string{"all-blocking", "all-pipelined"}[seed%2]
			t.Run(fmt.Sprintf("%s/seed=%d", ex.name, seed), func(t *testing.T) {
				chaos := &jobs.Chaos{Seed: uint64(seed), Rate: 0.15}
				r, out := runExample(t, ex, runConfig{mode, 4}, jobs.RunOptions{Chaos: chaos, Restart: restartOf(t, noDelay), Seed: uint64(seed)})
				checkOutput(t, ex, out, want)
				assertRerunsPredicted(t, r, loadExample(t, ex, runConfig{mode, 4}))
			})
		}
	}
}

func loadExample(t *testing.T, ex example, cfg runConfig) *jobs.Loaded {
	t.Helper()
	specPath, _ := stageExample(t, ex.name)
	l, err := jobs.LoadFile(specPath, jobs.FileOptions{Parallelism: cfg.parallelism, Mode: cfg.mode})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestRegionRerunsFewerThanAll: one task failure in the middle of each
// multi-stage example re-runs strictly fewer subtasks under region
// failover than under restart-all.
func TestRegionRerunsFewerThanAll(t *testing.T) {
	for _, ex := range examples {
		l := loadExample(t, ex, runConfig{"all-blocking", 4})
		if len(l.Graph.Stages) < 2 {
			continue
		}
		st := l.Graph.Stages[len(l.Graph.Stages)/2]
		fault := fmt.Sprintf("error:%s[0]@1", st.Name)
		reruns := map[string]int{}
		for _, failover := range []recovery.Failover{recovery.FailoverRegion, recovery.FailoverAll} {
			r, _ := runExample(t, ex, runConfig{"all-blocking", 4}, jobs.RunOptions{
				Faults: faultsOf(t, fault), Restart: restartOf(t, noDelay), Failover: failover})
			reruns[failover.String()] = r.Subtasks - totalSubtasks(l)
		}
		t.Logf("%s %s: re-run %d subtasks under region, %d under all", ex.name, fault, reruns["region"], reruns["all"])
		if !(reruns["region"] < reruns["all"]) {
			t.Errorf("%s: region re-ran %d subtasks, all %d: want fewer", ex.name, reruns["region"], reruns["all"])
		}
	}
}

func totalSubtasks(l *jobs.Loaded) int {
	n := 0
	for _, st := range l.Graph.Stages {
		n += st.Parallelism
	}
	return n
}

// TestLostPartitionCountsOnce: a lost broadcast partition fails every
// consumer that reads it, but that is one failure: a restart strategy
// that allows a single restart still completes the job.
func TestLostPartitionCountsOnce(t *testing.T) {
	ex := exampleNamed(t, "revenue-by-segment")
	want := ex.answer(t, filepath.Join(examplesDir(t), "data"))
	r, out := runExample(t, ex, runConfig{"all-blocking", 4}, jobs.RunOptions{
		Slots: 4, Faults: faultsOf(t, "lose:users[1]"), Restart: restartOf(t, "fixed-delay:attempts=1,delay=0s")})
	checkOutput(t, ex, out, want)
	if len(r.Failovers) == 0 {
		t.Fatalf("losing users[1] caused no failover")
	}
}

// TestLoseMatchesExplain: losing a subtask's blocking output costs one
// failover, and it restarts exactly the subtasks `explain --lose` names,
// though the consumers of the partition run concurrently (slots for all):
// the first to find it gone fails, and the others, running, restart in the
// same failover instead of each failing on its own.
func TestLoseMatchesExplain(t *testing.T) {
	for _, ex := range examples {
		cfg := runConfig{"all-blocking", 4}
		l := loadExample(t, ex, cfg)
		for _, st := range l.Graph.Stages {
			if blockingOutputs(l.Graph, st) != 1 {
				continue // each lost edge is a failure of its own
			}
			name := st.Name + "[0]"
			t.Run(ex.name+"/"+name, func(t *testing.T) {
				text, err := l.ExplainFailure(recovery.FailoverRegion, "", name)
				if err != nil {
					t.Fatal(err)
				}
				want := explainedSubtasks(t, text)
				r, _ := runExample(t, ex, cfg, jobs.RunOptions{Faults: faultsOf(t, "lose:"+name), Restart: restartOf(t, noDelay)})
				if len(r.Failovers) != 1 {
					t.Fatalf("%d failovers, want 1: %+v", len(r.Failovers), r.Failovers)
				}
				got := slices.Clone(r.Failovers[0].Subtasks)
				slices.Sort(got)
				if !slices.Equal(got, want) {
					t.Errorf("run restarted %v, explain --lose %s said %v\n%s", got, name, want, text)
				}
			})
		}
	}
}

// explainedSubtasks reads the subtasks of explain's "restart r0 r2: a[0] b[1]" line.
func explainedSubtasks(t *testing.T, text string) []string {
	t.Helper()
	for _, line := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(line, "restart "); ok {
			_, subtasks, _ := strings.Cut(rest, ": ")
			out := strings.Fields(subtasks)
			slices.Sort(out)
			return out
		}
	}
	t.Fatalf("no restart line in %q", text)
	return nil
}

// TestReportAttempts: --report names each attempt's worker, leader, start,
// end, outcome and cause, the same shape a run on workers has.
func TestReportAttempts(t *testing.T) {
	ex := exampleNamed(t, "revenue-by-segment")
	r, _ := runExample(t, ex, runConfig{"all-blocking", 4}, jobs.RunOptions{
		Faults: faultsOf(t, "error:bysegment[1]@0"), Restart: restartOf(t, noDelay)})
	outcomes := map[string]int{}
	for _, a := range r.Attempts {
		outcomes[a.Outcome]++
		if a.Worker != "local" || a.Leader == "" || a.End.Before(a.Start) || a.Start.IsZero() {
			t.Errorf("attempt %s#%d: worker %q leader %q start %v end %v", a.Subtask, a.Attempt, a.Worker, a.Leader, a.Start, a.End)
		}
		failed := a.Subtask == "bysegment[1]" && a.Attempt == 0
		if failed != (a.Outcome == "failed") || failed != strings.Contains(a.Cause, "injected fault") {
			t.Errorf("attempt %s#%d: outcome %q cause %q", a.Subtask, a.Attempt, a.Outcome, a.Cause)
		}
	}
	if outcomes["failed"] != 1 || outcomes["succeeded"] != len(r.Attempts)-1 {
		t.Errorf("outcomes %v, want one failed and the rest succeeded", outcomes)
	}
}

// blockingOutputs counts st's blocking output edges.
func blockingOutputs(g *plan.StageGraph, st *plan.Stage) int {
	n := 0
	for _, eid := range st.Outputs {
		if g.Edge(eid).Mode == plan.Blocking {
			n++
		}
	}
	return n
}
