package jobs

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// output is one write step's target and its staging area. Subtasks write
// part files into staging; only commit moves them into place, so a failed
// or killed run leaves the previous output untouched (invariant 4).
type output struct {
	step    string
	target  string // the file (single) or directory (parts) users see
	single  bool   // one subtask: target is a file
	staging string // directory holding this run's part files
	ext     string // part files' extension: ".csv", ".jsonl", ".parquet", ".txt"
}

const stagingPrefix = ".batchrun-staging-"

func newOutput(step, target string, parallelism int, run uint64, ext string) *output {
	dir := filepath.Dir(target)
	staging := filepath.Join(dir, fmt.Sprintf("%s%016x", stagingPrefix, run), step)
	return &output{step: step, target: target, single: parallelism == 1, staging: staging, ext: ext}
}

// partPath is where subtask index writes: part-NNNNN with the output's
// extension.
func (o *output) partPath(index int) string {
	ext := o.ext
	if ext == "" {
		ext = ".csv" // a run recorded before outputs had formats
	}
	return filepath.Join(o.staging, fmt.Sprintf("part-%05d%s", index, ext))
}

// stagedPath is what commit moves into place.
func (o *output) stagedPath() string {
	if o.single {
		return o.partPath(0)
	}
	return o.staging
}

func (o *output) prepare() error {
	if err := os.MkdirAll(o.staging, 0o755); err != nil {
		return fmt.Errorf("jobs: prepare output %s: %w", o.step, err)
	}
	return nil
}

// commit moves the staged result into place. A single file is replaced by
// one rename. A directory is swapped with two renames: the old directory
// is moved aside first and removed after the new one is in place. commit
// is idempotent: a resumed run whose killed invocation already moved an
// output (its staging is gone) finds nothing to do.
func (o *output) commit() error {
	if _, err := os.Stat(o.stagedPath()); os.IsNotExist(err) {
		return os.RemoveAll(o.target + ".batchrun-old")
	}
	if o.single {
		if err := os.Rename(o.partPath(0), o.target); err != nil {
			return fmt.Errorf("jobs: commit output %s: %w", o.step, err)
		}
		return syncDir(filepath.Dir(o.target))
	}
	old := o.target + ".batchrun-old"
	if err := os.RemoveAll(old); err != nil {
		return fmt.Errorf("jobs: commit output %s: %w", o.step, err)
	}
	hadOld := true
	if err := os.Rename(o.target, old); err != nil {
		if !os.IsNotExist(err) {
			return fmt.Errorf("jobs: commit output %s: %w", o.step, err)
		}
		hadOld = false
	}
	if err := os.Rename(o.staging, o.target); err != nil {
		if hadOld {
			_ = os.Rename(old, o.target)
		}
		return fmt.Errorf("jobs: commit output %s: %w", o.step, err)
	}
	if err := syncDir(filepath.Dir(o.target)); err != nil {
		return err
	}
	return os.RemoveAll(old)
}

// stagingRoot is the per-run directory that holds o's staging directory.
func (o *output) stagingRoot() string { return filepath.Dir(o.staging) }

// cleanupStaging removes every output's staging area (after a commit or a
// failure); errors are ignored because nothing reads staging again.
func cleanupStaging(outs []*output) {
	roots := map[string]bool{}
	for _, o := range outs {
		roots[o.stagingRoot()] = true
	}
	dirs := make([]string, 0, len(roots))
	for d := range roots {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	for _, d := range dirs {
		_ = os.RemoveAll(d)
	}
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("jobs: sync %s: %w", dir, err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("jobs: sync %s: %w", dir, err)
	}
	return nil
}

// quarantineFile is one subtask's part of a read's quarantine output: the
// malformed rows it dropped, buffered, synced at finish.
type quarantineFile struct {
	f *os.File
	w *bufio.Writer
}

func openQuarantine(path string) (*quarantineFile, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("jobs: quarantine: %w", err)
	}
	return &quarantineFile{f: f, w: bufio.NewWriterSize(f, 64<<10)}, nil
}

func (q *quarantineFile) Write(p []byte) (int, error) { return q.w.Write(p) }

// finish flushes and syncs the file; close still runs after it.
func (q *quarantineFile) finish() error {
	if err := q.w.Flush(); err != nil {
		return fmt.Errorf("jobs: quarantine: %w", err)
	}
	if err := q.f.Sync(); err != nil {
		return fmt.Errorf("jobs: quarantine: %w", err)
	}
	return nil
}

func (q *quarantineFile) close() { _ = q.f.Close() }
