package physical

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/batchrun/batchrun/operators/formats"
)

// A subtask's part file of an output is written under a temporary name
// and renamed into place, durably, when the subtask finishes: the file at
// the part's path is always whole, from an attempt that finished. A
// resumed run keeps the part files of the subtasks it reuses (the run
// record lists the finished writers), and an attempt killed while
// rewriting a part leaves the finished one in place.

// PartialPath is where an attempt writes part path until it finishes.
func PartialPath(path string) string { return path + ".partial" }

// publishPart renames the finished partial file of path into place and
// syncs the directory, so that the rename outlives a crash.
func publishPart(path string) error {
	if err := os.Rename(PartialPath(path), path); err != nil {
		return fmt.Errorf("publish part %s: %w", path, err)
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return fmt.Errorf("publish part %s: %w", path, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("publish part %s: sync directory: %w", path, err)
	}
	return nil
}

// publishingWrite is a part file's write that publishes the part when it
// finishes (FileWrite.Finish syncs the file first).
type publishingWrite struct {
	formats.FileWrite
	path string
}

func (w *publishingWrite) Finish(ctx context.Context) error {
	if err := w.FileWrite.Finish(ctx); err != nil {
		return err
	}
	return publishPart(w.path)
}
