package integration

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/batchrun/batchrun/jobs"
)

// holdRun starts the crash harness's `batchrun run` with args, held right
// after its run is recorded (point "hold"), until the returned release
// (stdin closes) or kill. bin is buildCrashBinary's.
func holdRun(t *testing.T, bin string, args ...string) (proc *exec.Cmd, release func()) {
	t.Helper()
	holder := exec.Command(bin, args...)
	holder.Env = append(os.Environ(), "BATCHRUN_TEST_CRASH=hold")
	stdin, err := holder.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := holder.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = holder.Process.Kill(); _ = holder.Wait() })
	line, err := bufio.NewReader(stderr).ReadString('\n')
	if err != nil || line != "holding\n" {
		t.Fatalf("holder said %q, %v; want holding", line, err)
	}
	go func() { _, _ = io.Copy(io.Discard, stderr) }()
	return holder, func() { _ = stdin.Close() }
}

// TestConcurrentRuns: while one `batchrun run` of a job is in progress, a
// second run of the same job exits with code 5 naming the holder's pid;
// after the holder is killed with SIGKILL, `runs` shows its run abandoned,
// and the next run takes the lock, resumes the killed run and writes the
// right output.
func TestConcurrentRuns(t *testing.T) {
	bin := buildCrashBinary(t)
	ex := exampleNamed(t, "wordcount")
	specPath, dir := stageExample(t, ex.name)
	state := filepath.Join(dir, "state")
	args := []string{"run", "--state-dir", state, specPath}
	holder, _ := holdRun(t, bin, args...)

	out, err := runBinary(t, bin, nil, args...)
	if code := exitCode(err); code != 5 {
		t.Fatalf("second run: exit %d, want 5 (locked)\n%s", code, out)
	}
	pid := strconv.Itoa(holder.Process.Pid)
	if !regexp.MustCompile(`job wordcount is in use by pid ` + pid + `\b`).MatchString(out) {
		t.Fatalf("second run's message does not name the holder pid %s:\n%s", pid, out)
	}
	if runs := listRuns(t, bin, state); len(runs) != 1 || runs[0].State != "running" {
		t.Fatalf("runs while the holder runs: %+v, want one running", runs)
	}

	if err := holder.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = holder.Wait()
	if runs := listRuns(t, bin, state); len(runs) != 1 || runs[0].State != "abandoned" || !runs[0].Resumable {
		t.Fatalf("runs after the holder was killed: %+v, want one abandoned, resumable", runs)
	}
	if out, err := runBinary(t, bin, nil, args...); err != nil {
		t.Fatalf("run after the holder died: %v\n%s", err, out)
	}
	checkOutput(t, ex, filepath.Join(dir, ex.output), ex.answer(t, filepath.Join(examplesDir(t), "data")))
	if runs := listRuns(t, bin, state); len(runs) != 1 || runs[0].State != "succeeded" || runs[0].Invocations != 2 {
		t.Fatalf("runs after the resume: %+v, want the one run succeeded in 2 invocations", runs)
	}
}

// TestLocksPerJob: a run of one job does not stop another job on the
// same state directory, nor `runs` or `gc` (which keeps the running job's
// runs and says so) (issue 11, item 7).
func TestLocksPerJob(t *testing.T) {
	bin := buildCrashBinary(t)
	wc := exampleNamed(t, "wordcount")
	wcSpec, _ := stageExample(t, wc.name)
	rev := exampleNamed(t, "revenue-by-segment")
	revSpec, revDir := stageExample(t, rev.name)
	state := filepath.Join(t.TempDir(), "state")
	if out, err := runBinary(t, bin, nil, "run", "--state-dir", state, wcSpec); err != nil {
		t.Fatalf("first wordcount run: %v\n%s", err, out)
	}
	holdRun(t, bin, "run", "--state-dir", state, wcSpec)

	if out, err := runBinary(t, bin, nil, "run", "--state-dir", state, revSpec); err != nil {
		t.Fatalf("another job beside a running one: %v\n%s", err, out)
	}
	checkOutput(t, rev, filepath.Join(revDir, rev.output), rev.answer(t, filepath.Join(examplesDir(t), "data")))
	if runs := listRuns(t, bin, state); len(runs) != 3 {
		t.Fatalf("runs beside a running job: %+v, want 3", runs)
	}
	out, err := runBinary(t, bin, nil, "gc", "--state-dir", state, "--keep", "0")
	if err != nil || !strings.Contains(out, "kept the runs of job wordcount: it is running") {
		t.Fatalf("gc beside a running job: %v\n%s", err, out)
	}
}

func listRuns(t *testing.T, bin, state string) []jobs.RunInfo {
	t.Helper()
	cmd := exec.Command(bin, "runs", "--state-dir", state, "--json")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("runs: %v", err)
	}
	var runs []jobs.RunInfo
	if err := json.Unmarshal(out, &runs); err != nil {
		t.Fatalf("runs --json: %v\n%s", err, out)
	}
	return runs
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return -1
}
