package integration

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/batchrun/batchrun/internal/osfs"
	"github.com/batchrun/batchrun/internal/osfs/osfstest"
	"github.com/batchrun/batchrun/jobs"
	"github.com/batchrun/batchrun/jobs/commit"
)

// commitJob has two outputs, a file and a directory of two parts; its
// rows carry ${v}, so the outputs of v=old and v=new differ in every row.
const commitJob = `name: two-outputs
params: {v: old}
steps:
  - id: src
    read: {path: in.csv, schema: ["k int64"]}
  - id: tag
    select: ["k", "'${v}' AS v"]
    input: src
  - id: file
    write: {path: out/file.csv}
    input: tag
    parallelism: 1
  - id: dir
    write: {path: out/dir}
    input: tag
    parallelism: 2
`

// commitScene is a folder where commitJob has run once with v=old.
type commitScene struct {
	t     *testing.T
	dir   string
	state string
}

func newCommitScene(t *testing.T) *commitScene {
	s := &commitScene{t: t, dir: t.TempDir()}
	s.state = filepath.Join(s.dir, "state")
	writeFile(t, filepath.Join(s.dir, "in.csv"), "k\n1\n2\n3\n4\n")
	writeFile(t, filepath.Join(s.dir, "job.yaml"), commitJob)
	if _, err := s.run("old", nil); err != nil {
		t.Fatalf("first run: %v", err)
	}
	return s
}

func (s *commitScene) run(v string, fsys osfs.FS) (*jobs.Report, error) {
	l, err := jobs.LoadFile(filepath.Join(s.dir, "job.yaml"), jobs.FileOptions{Params: map[string]string{"v": v}})
	if err != nil {
		s.t.Fatal(err)
	}
	return l.Run(context.Background(), jobs.RunOptions{StateDir: s.state, Slots: 4, FS: fsys, Restart: restartOf(s.t, "none")})
}

// outputs says what each output holds: "old", "new" or "missing", and
// fails the test on anything else (a partial or mixed output).
func (s *commitScene) outputs() map[string]string {
	got := map[string]string{}
	for _, name := range []string{"file.csv", "dir"} {
		rows := s.rows(filepath.Join(s.dir, "out", name))
		switch {
		case rows == nil:
			got[name] = "missing"
		case rows.equal("old"):
			got[name] = "old"
		case rows.equal("new"):
			got[name] = "new"
		default:
			s.t.Fatalf("output %s holds neither the old nor the new rows, whole: %v", name, rows)
		}
	}
	return got
}

type rowSet []string

func (r rowSet) equal(v string) bool {
	return strings.Join(r, " ") == fmt.Sprintf("1,%[1]s 2,%[1]s 3,%[1]s 4,%[1]s", v)
}

// rows reads a file, or every part of a directory, without headers and
// sorted; nil when path does not exist.
func (s *commitScene) rows(path string) rowSet {
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		s.t.Fatal(err)
	}
	files := []string{path}
	if fi.IsDir() {
		files, _ = filepath.Glob(filepath.Join(path, "part-*.csv"))
	}
	rows := rowSet{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			s.t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
		if lines[0] != "k,v" {
			s.t.Fatalf("%s: header %q", f, lines[0])
		}
		rows = append(rows, lines[1:]...)
	}
	sort.Strings(rows)
	return rows
}

// lastRun is the newest run's record as `batchrun runs` shows it.
func (s *commitScene) lastRun() jobs.RunInfo {
	runs, err := jobs.ListRuns(s.state)
	if err != nil || len(runs) == 0 {
		s.t.Fatalf("ListRuns: %v, %v", runs, err)
	}
	return runs[0]
}

// leftovers lists hidden staging folders next to the outputs.
func (s *commitScene) leftovers() []string {
	m, _ := filepath.Glob(filepath.Join(s.dir, "out", ".batchrun-*"))
	return m
}

func allAre(m map[string]string, v string) bool {
	for _, x := range m {
		if x != v {
			return false
		}
	}
	return true
}

// TestCommitFaultAtEveryStep injects a fault at each step that batchrun
// itself takes through the filesystem while it records and commits a run
// of a job with two outputs (every write and fsync of the run record, each
// manifest, each exchange and rename of the commit, the commit point),
// once as an I/O error and once as a crash (nothing reaches the disk after
// it), with and without atomic exchange. After the fault each output holds
// the old rows or the new rows, whole, and the run record agrees: a
// succeeded run has every new output, a failed one every old output.
// Then a plain rerun commits the new outputs and leaves no staging.
func TestCommitFaultAtEveryStep(t *testing.T) {
	for _, noExchange := range []bool{false, true} {
		counter := &osfstest.Faulty{FS: osfs.Default, NoExchange: noExchange}
		if _, err := newCommitScene(t).run("new", counter); err != nil {
			t.Fatal(err)
		}
		n := len(counter.Steps())
		for _, crash := range []bool{false, true} {
			for k := 1; k <= n; k++ {
				t.Run(fmt.Sprintf("exchange=%v/crash=%v/step=%d", !noExchange, crash, k), func(t *testing.T) {
					commitFaultAt(t, &osfstest.Faulty{FS: osfs.Default, FailAt: k, Crash: crash, NoExchange: noExchange})
				})
			}
		}
	}
}

func commitFaultAt(t *testing.T, f *osfstest.Faulty) {
	s := newCommitScene(t)
	_, err := s.run("new", f)
	outs, rec := s.outputs(), s.lastRun()
	switch {
	case err == nil && !(rec.State == "succeeded" && allAre(outs, "new")):
		t.Fatalf("fault at %s: the run succeeded, its record says %s, outputs %v", f.Failed(), rec.State, outs)
	case rec.State == "succeeded" && !allAre(outs, "new"):
		t.Fatalf("fault at %s: the record says succeeded, outputs are %v (err %v)", f.Failed(), outs, err)
	case rec.State == "failed" && !allAre(outs, "old"):
		t.Fatalf("fault at %s: the record says failed, outputs are %v (err %v)", f.Failed(), outs, err)
	case !f.NoExchange:
		for name, v := range outs {
			if v == "missing" {
				t.Fatalf("fault at %s: output %s missing although exchange is atomic", f.Failed(), name)
			}
		}
	}
	if err != nil && !f.Crash && !errors.Is(err, commit.ErrIncomplete) && !allAre(outs, "old") {
		t.Fatalf("fault at %s: %v, and outputs are %v, want all old", f.Failed(), err, outs)
	}
	if _, err := s.run("new", nil); err != nil {
		t.Fatalf("rerun after a fault at %s: %v", f.Failed(), err)
	}
	if outs := s.outputs(); !allAre(outs, "new") || s.lastRun().State != "succeeded" {
		t.Fatalf("rerun after a fault at %s: outputs %v, record %s", f.Failed(), outs, s.lastRun().State)
	}
	if left := s.leftovers(); len(left) > 0 {
		t.Fatalf("rerun after a fault at %s left %v", f.Failed(), left)
	}
}

// TestCommitConflictAtCommitTime: an obstacle that appears at the second
// output's target while the run computes (a directory of someone else's)
// fails the run at commit time before anything is replaced: the first
// output keeps its old rows, the record says failed (not committing, not
// succeeded), and once the obstacle is gone the next run commits both
// without recomputing what was committed to the store (issue 11, item 4).
func TestCommitConflictAtCommitTime(t *testing.T) {
	s := newCommitScene(t)
	l, err := jobs.LoadFile(filepath.Join(s.dir, "job.yaml"), jobs.FileOptions{Params: map[string]string{"v": "new"}})
	if err != nil {
		t.Fatal(err)
	}
	obstacle := filepath.Join(s.dir, "out", "dir")
	var once sync.Once
	opts := jobs.RunOptions{StateDir: s.state, Slots: 4, Restart: restartOf(s.t, "none"),
		Observer: onFirstAttempt(func() { once.Do(func() { replaceWithForeignDir(t, obstacle) }) })}
	_, err = l.Run(context.Background(), opts)
	if err == nil || !strings.Contains(err.Error(), `which batchrun did not write`) {
		t.Fatalf("run with an obstacle at commit: err = %v", err)
	}
	if got := s.rows(filepath.Join(s.dir, "out", "file.csv")); !got.equal("old") {
		t.Fatalf("the first output was replaced by a failed commit: %v", got)
	}
	if rec := s.lastRun(); rec.State != "failed" || !rec.Resumable {
		t.Fatalf("record after a failed commit: %+v", rec)
	}
	if err := os.RemoveAll(obstacle); err != nil {
		t.Fatal(err)
	}
	r, err := s.run("new", nil)
	if err != nil {
		t.Fatal(err)
	}
	if outs := s.outputs(); !allAre(outs, "new") {
		t.Fatalf("after the obstacle went: %v", outs)
	}
	if !r.Resumed || len(r.Reused) == 0 {
		t.Fatalf("the rerun recomputed everything: resumed %v, reused %v", r.Resumed, r.Reused)
	}
}

// onFirstAttempt is an Observer that calls f each time a subtask attempt
// ends (the first is long before the commit).
type onFirstAttempt func()

func (f onFirstAttempt) SubtaskFinished(stage, index int, rowsOut int64, err error) { f() }

func replaceWithForeignDir(t *testing.T, dir string) {
	if err := os.RemoveAll(dir); err != nil {
		t.Error(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Error(err)
	}
	writeFile(t, filepath.Join(dir, "notes.txt"), "someone else's\n")
}
