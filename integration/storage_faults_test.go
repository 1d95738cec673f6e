package integration

import (
	"context"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"

	"github.com/batchrun/batchrun/jobs"
	"github.com/batchrun/batchrun/storage"
)

// diskFull fails every write to the shuffle's sstables with ENOSPC while
// it is on.
func diskFull() (*errorfs.Toggle, vfs.FS) {
	toggle := &errorfs.Toggle{Injector: errorfs.InjectorFunc(func(op errorfs.Op) error {
		if op.Kind == errorfs.OpFileWrite && strings.Contains(op.Path, "ingest-tmp") {
			return syscall.ENOSPC
		}
		return nil
	})}
	return toggle, errorfs.Wrap(vfs.Default, toggle)
}

// TestDiskFullThenResume: a full disk during a blocking shuffle write
// fails the run with a clear error and commits nothing; once space is
// back, running again completes with the right output.
func TestDiskFullThenResume(t *testing.T) {
	ex := exampleNamed(t, "revenue-by-segment")
	want := ex.answer(t, filepath.Join(examplesDir(t), "data"))
	specPath, dir := stageExample(t, ex.name)
	l, err := jobs.LoadFile(specPath, jobs.FileOptions{Parallelism: 4})
	if err != nil {
		t.Fatal(err)
	}
	toggle, fs := diskFull()
	// Every stream goes through an sstable (none is small enough to ride
	// in the commit batch), so every shuffle write hits the full disk.
	store := storage.Options{FS: fs, SmallStreamBytes: 1}
	opts := jobs.RunOptions{StateDir: filepath.Join(dir, "state"), Slots: 4, Store: store, Restart: restartOf(t, "none")}

	toggle.On()
	r, err := l.Run(context.Background(), opts)
	if err == nil || !strings.Contains(err.Error(), "no space left on device") {
		t.Fatalf("run on a full disk: err = %v, want one saying no space left on device", err)
	}
	if r == nil || r.Status != "failed" {
		t.Fatalf("report after a full disk: %+v, want status failed", r)
	}
	assertNoOutput(t, filepath.Join(dir, ex.output))

	toggle.Off()
	r, err = l.Run(context.Background(), opts)
	if err != nil {
		t.Fatalf("run after space came back: %v", err)
	}
	if !r.Resumed {
		t.Errorf("the second run did not resume the failed one")
	}
	checkOutput(t, ex, filepath.Join(dir, ex.output), want)
}

func assertNoOutput(t *testing.T, path string) {
	t.Helper()
	if m, _ := filepath.Glob(path); len(m) != 0 {
		t.Fatalf("a failed run left output %s", path)
	}
}
