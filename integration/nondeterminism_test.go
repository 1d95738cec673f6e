package integration

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/batchrun/batchrun/jobs"
	"github.com/batchrun/batchrun/recovery"
)

// TestChangedRuleIsLoadBearing shows why a finished consumer of a
// rebalance edge must re-run when its producer re-runs. In etl-cleanup,
// raw (2 subtasks) deals its batches round robin to spread (3 subtasks),
// starting at a consumer drawn per attempt. With one slot, spread[0] and
// spread[1] finish before spread[2] finds raw[1]'s partition lost. raw[1]
// re-runs and deals its batch starting elsewhere:
//   - with the rule, spread[0] and spread[1] re-run too (they consumed a
//     changed partition) and the output is exact;
//   - without it (a test-only switch), the rows raw[1] sent to a finished
//     consumer in attempt 0 are kept, and the new attempt sends them again
//     or sends spread[2]'s share elsewhere: rows are duplicated or lost.
func TestChangedRuleIsLoadBearing(t *testing.T) {
	ex := examples[3]
	if ex.name != "etl-cleanup" {
		t.Fatalf("examples[3] is %s, want etl-cleanup", ex.name)
	}
	want := ex.answer(t, filepath.Join(examplesDir(t), "data"))
	const seed = 1 // raw[1]'s attempts 0 and 1 start their round robin at different consumers
	opts := jobs.RunOptions{Slots: 1, Seed: seed, Restart: restartOf(t, noDelay), Faults: faultsOf(t, "lose:raw[1]->spread[2]")}

	r, out := runExample(t, ex, runConfig{"all-blocking", 2}, opts)
	checkOutput(t, ex, out, want)
	if got := strings.Join(r.Failovers[0].Subtasks, " "); got != "raw[1] spread[0] spread[1] spread[2]" {
		t.Fatalf("restart set %q, want raw[1] and every spread subtask", got)
	}

	opts.Failover = withoutChangedRule{recovery.FailoverRegion}
	r, out = runExample(t, ex, runConfig{"all-blocking", 2}, opts)
	if got := strings.Join(r.Failovers[0].Subtasks, " "); got != "raw[1] spread[2]" {
		t.Fatalf("restart set without the rule %q, want raw[1] spread[2]", got)
	}
	got := readOutput(t, out)
	sortRows(got[1:])
	if diff := rowDiff(got[1:], want[1:]); diff == "" {
		t.Fatalf("without the changed rule the output is still right: the test no longer shows the rule is needed")
	} else {
		t.Logf("without the changed rule: %s", diff)
	}
}

// rowDiff describes how two sorted row lists differ as multisets: rows
// only in got (duplicated or wrong) and only in want (lost).
func rowDiff(got, want [][]string) string {
	count := map[string]int{}
	for _, r := range got {
		count[strings.Join(r, ",")]++
	}
	for _, r := range want {
		count[strings.Join(r, ",")]--
	}
	extra, missing := 0, 0
	for _, n := range count {
		if n > 0 {
			extra += n
		} else {
			missing -= n
		}
	}
	if extra == 0 && missing == 0 {
		return ""
	}
	return fmt.Sprintf("%d rows extra, %d missing (got %d rows, want %d)", extra, missing, len(got), len(want))
}

// withoutChangedRule is region failover without the "consumed a changed
// partition" part of its rule: the regions restarted only for that reason
// are dropped. It exists to show, here, that the rule is load-bearing.
type withoutChangedRule struct{ recovery.Failover }

func (w withoutChangedRule) Restart(t *recovery.Topology, s *recovery.State, f recovery.Failure) (*recovery.RestartSet, error) {
	rs, err := w.Failover.Restart(t, s, f)
	if err != nil {
		return nil, err
	}
	keep := make(map[recovery.RegionID]bool)
	for _, r := range rs.Reasons {
		if r.Kind != recovery.ReasonConsumedChanged {
			keep[r.Region] = true
		}
	}
	out := *rs
	out.Regions, out.Reasons, out.Subtasks = nil, nil, nil
	for _, r := range rs.Regions {
		if keep[r] {
			out.Regions = append(out.Regions, r)
		}
	}
	for _, r := range rs.Reasons {
		if keep[r.Region] {
			out.Reasons = append(out.Reasons, r)
		}
	}
	return &out, nil
}
