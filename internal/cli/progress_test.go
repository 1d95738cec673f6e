package cli

import "testing"

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
