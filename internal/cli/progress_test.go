package cli

import (
	"testing"
	"time"

	"github.com/vbauerster/mpb/v8/decor"
)

// TestStageProgress: a subtask counts once however often it finishes, with
// the rows of its latest attempt, so a stage never passes its total.
func TestStageProgress(t *testing.T) {
	s := newStageProgress(2)
	if !s.finished(0, 10) || !s.finished(1, 5) {
		t.Fatal("first finishes not counted")
	}
	if s.finished(0, 12) {
		t.Error("a re-run subtask counted twice")
	}
	if len(s.done) != s.total || s.rows != 17 {
		t.Errorf("done %d of %d, rows %d; want 2 of 2 and 17 (12 + 5)", len(s.done), s.total, s.rows)
	}
}

// TestInputBytesAndETA: a reading stage shows its bytes read of its input
// (capped at the total: re-run attempts read again) and an estimate from
// them; without input counts the estimate comes from the subtasks.
func TestInputBytesAndETA(t *testing.T) {
	if got := inputBytes(nil, 0); got != "" {
		t.Errorf("no input progress: %q", got)
	}
	if got := eta(nil, 0, decor.Statistics{Current: 1, Total: 4}, 30*time.Second); got != " ETA 1m30s" {
		t.Errorf("a quarter of the subtasks in 30s: %q, want ETA 1m30s", got)
	}
	if got := eta(nil, 0, decor.Statistics{Current: 4, Total: 4}, time.Minute); got != "" {
		t.Errorf("a finished stage: %q, want no ETA", got)
	}
}
