package integration

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

// TestConcurrentRuns: while one `batchrun run` holds the state directory,
// a second one of the same job exits with code 5 naming the holder's pid;
// after the holder is killed with SIGKILL, the next run takes the lock,
// resumes the killed run and writes the right output.
func TestConcurrentRuns(t *testing.T) {
	bin := buildBinary(t)
	ex := exampleNamed(t, "wordcount")
	specPath, dir := stageExample(t, ex.name)
	args := []string{"run", "--state-dir", filepath.Join(dir, "state"), specPath}

	holder := exec.Command(bin, args...)
	holder.Env = append(os.Environ(), "BATCHRUN_TEST_CRASH=hold")
	stdin, err := holder.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stderr, err := holder.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stderr).ReadString('\n')
	if err != nil || line != "holding\n" {
		t.Fatalf("holder said %q, %v; want holding", line, err)
	}

	err, out := runBinary(t, bin, nil, args...)
	if code := exitCode(err); code != 5 {
		t.Fatalf("second run: exit %d, want 5 (locked)\n%s", code, out)
	}
	pid := strconv.Itoa(holder.Process.Pid)
	if !regexp.MustCompile(`locked by pid ` + pid + `\b`).MatchString(out) {
		t.Fatalf("second run's message does not name the holder pid %s:\n%s", pid, out)
	}

	if err := holder.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = holder.Wait()
	if err, out := runBinary(t, bin, nil, args...); err != nil {
		t.Fatalf("run after the holder died: %v\n%s", err, out)
	}
	checkOutput(t, ex, filepath.Join(dir, ex.output), ex.answer(t, filepath.Join(examplesDir(t), "data")))
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
