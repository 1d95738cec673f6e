package plan

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/batchrun/batchrun/jobs/spec"
)

var (
	quickSeed  = flag.Int64("plan.seed", 0, "seed of TestQuickRegions (0: from the clock)")
	quickCount = flag.Int("plan.jobs", 1000, "number of random jobs of TestQuickRegions")
)

// TestQuickRegions compiles random DAG jobs and checks every invariant,
// regions against the brute force included. A failure prints the seed and
// the job in the testdata syntax; rerun with -plan.seed=N.
func TestQuickRegions(t *testing.T) {
	seed := *quickSeed
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewSource(seed))
	merged := 0 // jobs where the SCC rule merged components
	for i := range *quickCount {
		job := randomJob(rng)
		g, err := Compile(job)
		if err != nil {
			t.Fatalf("seed %d job %d: %v\n%s", seed, i, err, formatJob(job))
		}
		r := ComputeRegions(g)
		if err := checkInvariants(g, r); err != nil {
			t.Fatalf("seed %d job %d: %v\n%s", seed, i, err, formatJob(job))
		}
		out, err := Explain(g, r, "json")
		if err != nil || !json.Valid([]byte(out)) {
			t.Fatalf("seed %d job %d: explain json: %v\n%s", seed, i, err, out)
		}
		if sccMerged(g, r) {
			merged++
		}
	}
	t.Logf("%d of %d jobs needed the SCC rule", merged, *quickCount)
}

// randomJob builds a DAG of 1 to 10 steps: reads first, each later step
// reading earlier non-write steps (a join's probe side often the newest),
// with random kinds, parallelism, modes and exchange overrides.
func randomJob(rng *rand.Rand) *spec.Job {
	job := &spec.Job{Name: "quick", Parallelism: 1 + rng.Intn(4), Mode: spec.GlobalMode(rng.Intn(2))}
	n := 1 + rng.Intn(10)
	var sources []string // steps whose output can be read
	for i := range n {
		s := &spec.Step{ID: fmt.Sprintf("s%d", i), Parallelism: rng.Intn(5), Exchange: spec.ExchangeMode(rng.Intn(3))}
		s.Kind = spec.Kind(rng.Intn(int(spec.KindWindow) + 1))
		if len(sources) == 0 || rng.Intn(8) == 0 {
			s.Kind = spec.KindRead
		}
		pick := func() string { return sources[rng.Intn(len(sources))] }
		switch s.Kind {
		case spec.KindRead:
		case spec.KindJoin:
			s.Inputs = []string{pick(), pick()}
			if rng.Intn(2) == 0 {
				// Probe the newest step at its parallelism, as a chain of
				// joins does (a star schema): where a join may chain onto
				// another.
				newest := job.Steps[len(job.Steps)-1]
				if newest.Kind != spec.KindWrite {
					s.Inputs[0], s.Parallelism = newest.ID, newest.Parallelism
				}
			}
		case spec.KindUnion:
			for range 1 + rng.Intn(3) {
				s.Inputs = append(s.Inputs, pick())
			}
		default:
			s.Inputs = []string{pick()}
		}
		fillKind(rng, s)
		job.Steps = append(job.Steps, s)
		if s.Kind != spec.KindWrite {
			sources = append(sources, s.ID)
		}
	}
	return job
}

// fillKind sets a random step's kind-specific fields.
func fillKind(rng *rand.Rand, s *spec.Step) {
	keys := []string{"k"}
	if rng.Intn(3) == 0 {
		keys = nil
	}
	switch s.Kind {
	case spec.KindAggregate:
		s.Aggregate = &spec.AggregateStep{Keys: keys}
	case spec.KindJoin:
		s.Join = &spec.JoinStep{LeftKeys: []string{"a"}, RightKeys: []string{"b"}, Broadcast: rng.Intn(2) == 0}
	case spec.KindRepartition:
		s.Repartition = &spec.RepartitionStep{By: spec.Partitioning(rng.Intn(4)), Keys: keys}
	case spec.KindLimit:
		s.Limit = &spec.LimitStep{N: 10}
	case spec.KindDistinct:
		s.Distinct = &spec.DistinctStep{Keys: []string{"k"}}
	case spec.KindWindow:
		s.Window = &spec.WindowStep{PartitionBy: keys}
	case spec.KindUnion:
		if rng.Intn(2) == 0 {
			s.Union = &spec.UnionStep{Distinct: &spec.DistinctStep{Keys: []string{"k"}}}
		}
	}
	if s.Kind == spec.KindAggregate && rng.Intn(3) == 0 {
		s.Aggregate.Aggs = []spec.Agg{{Func: spec.AggCountDistinct, Arg: "v"}}
	}
}

// formatJob renders a job in the testdata build syntax, to paste into a
// testdata file when the quick test fails.
func formatJob(job *spec.Job) string {
	var b strings.Builder
	fmt.Fprintf(&b, "build parallelism=%d mode=%v\n", job.Parallelism, job.Mode)
	for _, s := range job.Steps {
		kind := s.Kind.String()
		if s.Kind == spec.KindAggregate {
			kind = "agg"
		}
		fmt.Fprintf(&b, "%s id=%s", kind, s.ID)
		if len(s.Inputs) > 0 {
			fmt.Fprintf(&b, " input=%s", strings.Join(s.Inputs, ","))
		}
		if s.Parallelism > 0 {
			fmt.Fprintf(&b, " parallelism=%d", s.Parallelism)
		}
		if s.Exchange != spec.ModeDefault {
			fmt.Fprintf(&b, " exchange=%v", s.Exchange)
		}
		b.WriteString(formatKindFields(s))
		b.WriteString("\n")
	}
	return b.String()
}

func formatKindFields(s *spec.Step) string {
	switch {
	case s.Aggregate != nil:
		out := ""
		if len(s.Aggregate.Keys) > 0 {
			out = " keys=" + strings.Join(s.Aggregate.Keys, ",")
		}
		if hasCountDistinct(s.Aggregate) {
			out += " count_distinct"
		}
		return out
	case s.Distinct != nil:
		return " keys=" + strings.Join(s.Distinct.Keys, ",")
	case s.Window != nil && len(s.Window.PartitionBy) > 0:
		return " keys=" + strings.Join(s.Window.PartitionBy, ",")
	case s.Union != nil && s.Union.Distinct != nil:
		return " distinct=" + strings.Join(s.Union.Distinct.Keys, ",")
	case s.Join != nil:
		out := " left=" + strings.Join(s.Join.LeftKeys, ",") + " right=" + strings.Join(s.Join.RightKeys, ",")
		if s.Join.Broadcast {
			out += " broadcast"
		}
		return out
	case s.Repartition != nil:
		out := " by=" + s.Repartition.By.String()
		if s.Repartition.By == spec.PartitionHash && len(s.Repartition.Keys) > 0 {
			out += " keys=" + strings.Join(s.Repartition.Keys, ",")
		}
		return out
	}
	return ""
}

// sccMerged reports whether the SCC rule merged pipelined components: there
// are fewer regions than components.
func sccMerged(g *StageGraph, r *Regions) bool {
	label, _ := brutePipelined(g)
	comps := map[int]bool{}
	for _, l := range label {
		comps[l] = true
	}
	return len(comps) > len(r.List)
}

// BenchmarkComputeRegions: a read, a hash aggregate and a write at
// parallelism 1000, all blocking (10^6 subtask connections per edge).
func BenchmarkComputeRegions(b *testing.B) {
	job := &spec.Job{Parallelism: 1000, Steps: []*spec.Step{
		{ID: "events", Kind: spec.KindRead},
		{ID: "agg", Kind: spec.KindAggregate, Inputs: []string{"events"}, Aggregate: &spec.AggregateStep{Keys: []string{"k"}}},
		{ID: "out", Kind: spec.KindWrite, Inputs: []string{"agg"}, Parallelism: 1000},
	}}
	g, err := Compile(job)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		ComputeRegions(g)
	}
}
