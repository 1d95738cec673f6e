package plan

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/batchrun/batchrun/plan/plantest"
	"github.com/cockroachdb/datadriven"
)

// TestDataDriven runs the testdata files. Commands:
//
//	build [parallelism=N] [mode=all-blocking|all-pipelined]
//	<one step per line, see parseStep>
//	----
//	<Explain text of the compiled job, or "error: ...">
//
// Every successful build is checked against the invariants of
// checkInvariants (brute-force regions included). Rewrite with -rewrite.
func TestDataDriven(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		if filepath.Base(path) == "columns" {
			return // TestProjectDataDriven's: it needs jobs' YAML loader
		}
		env := &ddEnv{}
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			return env.handle(t, d)
		})
	})
}

// ddEnv is the state a testdata file builds up: the last compiled job.
type ddEnv struct {
	g *StageGraph
	r *Regions
}

func (env *ddEnv) handle(t *testing.T, d *datadriven.TestData) string {
	switch d.Cmd {
	case "build":
		// build [parallelism=N] [mode=M]: compile the steps of the input and
		// print the text explain.
		return env.build(t, d)
	case "explain":
		// explain format=text|json|dot: explain the last built job.
		var format string
		d.ScanArgs(t, "format", &format)
		out, err := Explain(env.mustGraph(t, d), env.r, format)
		if err != nil {
			return "error: " + err.Error() + "\n"
		}
		return out
	case "regions":
		// regions: each region of the last built job with its inputs,
		// outputs, producer and consumer regions.
		return describeRegionsDetail(env.mustGraph(t, d), env.r)
	}
	d.Fatalf(t, "unknown command %q", d.Cmd)
	return ""
}

func (env *ddEnv) mustGraph(t *testing.T, d *datadriven.TestData) *StageGraph {
	if env.g == nil {
		d.Fatalf(t, "%s: no job built yet", d.Cmd)
	}
	return env.g
}

func (env *ddEnv) build(t *testing.T, d *datadriven.TestData) string {
	args := map[string]string{}
	for _, arg := range d.CmdArgs {
		args[arg.Key] = arg.SingleVal(t)
	}
	job, err := plantest.ParseJob(args, d.Input)
	if err != nil {
		d.Fatalf(t, "%v", err)
	}
	env.g, env.r = nil, nil
	g, err := Compile(job)
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	env.g, env.r = g, ComputeRegions(g)
	if err := checkInvariants(g, env.r); err != nil {
		d.Fatalf(t, "invariant violated: %v", err)
	}
	out, err := Explain(g, env.r, "text")
	if err != nil {
		d.Fatalf(t, "%v", err)
	}
	return out
}

// describeRegionsDetail prints each region with the partitions it reads
// and writes and its neighbour regions.
func describeRegionsDetail(g *StageGraph, r *Regions) string {
	var b strings.Builder
	for _, reg := range r.List {
		fmt.Fprintf(&b, "%s\n  inputs:    %s\n  outputs:   %s\n  producers: %s\n  consumers: %s\n",
			g.DescribeRegion(reg), joinIDs(reg.Inputs), joinIDs(r.Outputs(g, reg.ID)),
			joinIDs(r.Producers(g, reg.ID)), joinIDs(r.Consumers(g, reg.ID)))
	}
	return b.String()
}

func joinIDs[T fmt.Stringer](ids []T) string {
	if len(ids) == 0 {
		return "-"
	}
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = id.String()
	}
	return strings.Join(s, " ")
}
