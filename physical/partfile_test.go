package physical

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/batchrun/batchrun/operators/formats"
)

// finishedWrite is a part file's write whose Finish succeeds at once.
type finishedWrite struct{ formats.FileWrite }

func (finishedWrite) Finish(context.Context) error { return nil }

// TestPublishPart: a finished attempt's partial file is renamed into
// place; when the rename fails (its partial file is gone), the attempt
// fails and leaves the part as it was, and the next attempt publishes.
func TestPublishPart(t *testing.T) {
	dir := t.TempDir()
	part := filepath.Join(dir, "part-00000.csv")
	if err := os.WriteFile(part, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	w := &publishingWrite{FileWrite: finishedWrite{}, path: part}
	if err := w.Finish(context.Background()); err == nil {
		t.Fatal("published a part without its partial file")
	}
	if data, _ := os.ReadFile(part); string(data) != "old\n" {
		t.Fatalf("a failed publish changed the part: %q", data)
	}
	if err := os.WriteFile(PartialPath(part), []byte("new\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := w.Finish(context.Background()); err != nil {
		t.Fatalf("the next attempt: %v", err)
	}
	if data, _ := os.ReadFile(part); string(data) != "new\n" {
		t.Errorf("part holds %q, want the new attempt's", data)
	}
	if _, err := os.Stat(PartialPath(part)); !os.IsNotExist(err) {
		t.Errorf("the partial file is still there: %v", err)
	}
}
