package plan_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/batchrun/batchrun/jobs"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/plan"
)

// TestProjectDataDriven runs testdata/columns (an external test: it loads
// YAML specs with jobs, which imports plan). Command:
//
//	project
//	<a job spec's steps, YAML>
//	----
//	<per read, the columns it emits; per other step whose output lost
//	columns, its schema; or "error: ...">
func TestProjectDataDriven(t *testing.T) {
	datadriven.RunTest(t, "testdata/columns", func(t *testing.T, d *datadriven.TestData) string {
		if d.Cmd != "project" {
			d.Fatalf(t, "unknown command %q", d.Cmd)
		}
		text := "name: t\nparallelism: 2\nsteps:\n" + d.Input
		job, err := jobs.Parse([]byte(text), "spec.yaml", "", jobs.LoadOptions{})
		if err != nil {
			return "error: " + err.Error() + "\n"
		}
		l, err := jobs.Compile(job)
		if err != nil {
			return "error: " + err.Error() + "\n"
		}
		p, err := plan.Project(l.Job, l.Resolved)
		if err != nil {
			return "error: " + err.Error() + "\n"
		}
		return describeProjection(l.Job, l.Resolved, p)
	})
}

// describeProjection prints each read's columns ("all" when none is
// pruned) and each other step whose schema the projection changed.
func describeProjection(job *spec.Job, res *spec.Resolved, p *plan.Projection) string {
	var b strings.Builder
	for _, s := range res.Order {
		was, now := res.Schemas[s.ID], p.Schemas[s.ID]
		switch {
		case s.Kind == spec.KindRead && p.Pruned(job, s.ID):
			fmt.Fprintf(&b, "read %s: %s of %d\n", s.ID, strings.Join(p.Reads[s.ID].Names(), ", "), len(was))
		case s.Kind == spec.KindRead:
			fmt.Fprintf(&b, "read %s: all %d\n", s.ID, len(was))
		case now.String() != was.String():
			fmt.Fprintf(&b, "  %s %s: %s\n", s.Kind, s.ID, strings.Join(now.Names(), ", "))
		}
	}
	return b.String()
}
