package scheduler

import (
	"fmt"
	"testing"

	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/plan"
)

// chainJob is read(2) -> repartition(2, by) -> aggregate(1): three stages,
// all blocking, one region per subtask.
func chainJob(by spec.Partitioning) *spec.Job {
	schema := spec.Schema{{Name: "k", Type: spec.Int64}}
	return &spec.Job{Name: "chain", Parallelism: 2, Steps: []*spec.Step{
		{ID: "a", Kind: spec.KindRead, Read: &spec.ReadStep{Path: "a.csv", Schema: schema}},
		{ID: "b", Kind: spec.KindRepartition, Inputs: []string{"a"},
			Repartition: &spec.RepartitionStep{By: by, Keys: []string{"k"}}},
		{ID: "c", Kind: spec.KindAggregate, Inputs: []string{"b"}, Parallelism: 1,
			Aggregate: &spec.AggregateStep{Keys: []string{"k"}}},
	}}
}

// TestResumeReuse checks which regions a resumed run keeps, given the
// partitions found committed. a[1]'s output is missing, so a[1] runs
// again: over a hash edge its output is the same and b keeps its results;
// over a rebalance edge it deals its rows anew, so every b that read it
// must run again (and c after them, which had not committed anyway).
func TestResumeReuse(t *testing.T) {
	for _, tc := range []struct {
		by   spec.Partitioning
		want string
	}{
		{spec.PartitionHash, "[a[0] b[0] b[1]]"},
		{spec.PartitionRebalance, "[a[0]]"},
	} {
		g, err := plan.Compile(chainJob(tc.by))
		if err != nil {
			t.Fatal(err)
		}
		regions := plan.ComputeRegions(g)
		var committed []plan.PartitionID
		for _, e := range g.Edges {
			for p := 0; p < g.Stage(e.From).Parallelism; p++ {
				if g.Stage(e.From).Name == "a" && p == 1 {
					continue // lost
				}
				committed = append(committed, plan.PartitionID{Edge: e.ID, Producer: int32(p)})
			}
		}
		s, err := New(g, regions, nil, Options{Slots: 4, Committed: committed})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range s.Reused() {
			for _, st := range regions.List[r].Subtasks {
				got = append(got, g.SubtaskName(st))
			}
		}
		if fmt.Sprint(got) != tc.want {
			t.Errorf("%s edge: reused %v, want %s", tc.by, got, tc.want)
		}
	}
}
