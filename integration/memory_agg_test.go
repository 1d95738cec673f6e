package integration

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/batchrun/batchrun/jobs"
)

// The memory-bounded aggregate and join tests run the examples whose
// plans hold hash tables (revenue-by-segment: a broadcast join and an
// aggregate by segment; top-customers: a hash join and an aggregate by
// user) or a window's sort (user-orders-window) under --memory 256 KiB,
// split between the slots, and check the independent answers and the
// report's operator spill counters.

func TestMemoryBoundedAggregateJoin(t *testing.T) {
	for _, tc := range []struct {
		name  string
		slots int
		// spills: the bounded run must spill (a hash table is over its
		// share of the budget); the stages that spill are logged.
		spills bool
	}{
		{"revenue-by-segment", 2, true},
		{"top-customers", 2, true},
		{"user-orders-window", 2, true},
	} {
		ex := exampleNamed(t, tc.name)
		want := ex.answer(t, filepath.Join(examplesDir(t), "data"))
		for _, cfg := range []runConfig{{"all-blocking", 4}, {"all-pipelined", 2}} {
			slots := tc.slots
			if cfg.mode == "all-pipelined" {
				slots = max(slots, 8) // a pipelined region runs all its subtasks at once
			}
			t.Run(fmt.Sprintf("%s/%s/slots=%d", tc.name, cfg, slots), func(t *testing.T) {
				report, out := runExample(t, ex, cfg, jobs.RunOptions{Slots: slots, Memory: 256 << 10})
				checkOutput(t, ex, out, want)
				var spilled, runs int64
				for _, s := range report.Stages {
					spilled += s.OperatorSpilled
					runs += s.SpillRuns
					if s.SpillRuns > 0 {
						t.Logf("stage %s (%s): %d bytes in %d spill runs", s.ID, s.Ops, s.OperatorSpilled, s.SpillRuns)
					}
				}
				if tc.spills && (spilled <= 0 || runs <= 0) {
					t.Errorf("operators spilled %d bytes in %d runs, want > 0", spilled, runs)
				}
			})
		}
	}
}
