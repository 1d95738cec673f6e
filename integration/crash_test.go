package integration

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/batchrun/batchrun/jobs"
)

// binDir holds the batchrun binary the tests build once (TestMain
// removes it).
var binDir string

// built are the binaries the tests build, once each: cmd/batchrun, and
// the crash harness internal/crashbin (batchrun with crash points).
var built struct {
	sync.Mutex
	bins map[string]string
}

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "batchrun-integration-")
	if err != nil {
		panic(err)
	}
	binDir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// buildBinary builds cmd/batchrun once per test binary run.
func buildBinary(t *testing.T) string { return buildOnce(t, "../cmd/batchrun") }

// buildCrashBinary builds the crash harness: the batchrun command line
// that kills itself at the point BATCHRUN_TEST_CRASH names.
func buildCrashBinary(t *testing.T) string { return buildOnce(t, "./internal/crashbin") }

func buildOnce(t *testing.T, pkg string) string {
	t.Helper()
	built.Lock()
	defer built.Unlock()
	if bin, ok := built.bins[pkg]; ok {
		return bin
	}
	bin := filepath.Join(binDir, filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", bin, pkg)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", pkg, err, out)
	}
	if built.bins == nil {
		built.bins = map[string]string{}
	}
	built.bins[pkg] = bin
	return bin
}

// runBinary runs the binary and returns its exit error (nil on success).
func runBinary(t *testing.T, bin string, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func killedBySIGKILL(err error) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

// TestKillAndResume kills `batchrun run` with SIGKILL at seeded points
// (before any commit, after some subtasks committed, in the middle of the
// output commit), runs it again on the same state directory, and checks
// that the output equals the independent answer and that no subtask whose
// partitions were committed before the kill ran again.
func TestKillAndResume(t *testing.T) {
	bin := buildCrashBinary(t)
	cases := []struct {
		example string
		crash   string
		// reused is how many subtasks had committed when the process was
		// killed: the resume keeps at least those (subtasks running beside
		// the one that triggered the kill may commit before SIGKILL lands).
		reused int
	}{
		{"revenue-by-segment", "started", 0},
		{"revenue-by-segment", "commits=1", 1},
		{"revenue-by-segment", "commits=5", 5},
		{"revenue-by-segment", "commits=10", 10},
		// Every subtask, the output's writer too, finished: the resume
		// runs nothing, keeps the writer's part file and commits.
		{"revenue-by-segment", "commits=13", 13},
		{"revenue-by-segment", "output-commit", 0},
		{"etl-cleanup", "commits=1", 1},
		{"etl-cleanup", "output-commit", 0},
		// Killed with the reads and two of the four window subtasks
		// committed: the resume runs the other two and the write.
		{"user-orders-window", "commits=6", 6},
		{"user-orders-window", "output-commit", 0},
	}
	for _, c := range cases {
		t.Run(c.example+"/"+c.crash, func(t *testing.T) {
			ex := exampleNamed(t, c.example)
			want := ex.answer(t, filepath.Join(examplesDir(t), "data"))
			specPath, dir := stageExample(t, ex.name)
			state := filepath.Join(dir, "state")
			args := []string{"run", "--state-dir", state, "--parallelism", "4", "--slots", "4", specPath}
			out, err := runBinary(t, bin, []string{"BATCHRUN_TEST_CRASH=" + c.crash}, args...)
			if !killedBySIGKILL(err) {
				t.Fatalf("crash at %s: want SIGKILL, got %v\n%s", c.crash, err, out)
			}
			if c.crash != "output-commit" {
				if _, err := os.Stat(filepath.Join(dir, ex.output)); !os.IsNotExist(err) {
					t.Fatalf("output exists after a kill before the output commit: %v", err)
				}
			}
			reportPath := filepath.Join(dir, "report.json")
			if out, err := runBinary(t, bin, nil, append(args[:len(args)-1], "--report", reportPath, specPath)...); err != nil {
				t.Fatalf("resume: %v\n%s", err, out)
			}
			checkOutput(t, ex, filepath.Join(dir, ex.output), want)
			r := readReport(t, reportPath)
			if !r.Resumed {
				t.Fatalf("second run did not resume")
			}
			assertNothingReusedRan(t, r, c.reused)
		})
	}
}

func exampleNamed(t *testing.T, name string) example {
	for _, ex := range examples {
		if ex.name == name {
			return ex
		}
	}
	t.Fatalf("no example %s", name)
	return example{}
}

func readReport(t *testing.T, path string) *jobs.Report {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r jobs.Report
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

// assertNothingReusedRan: the resumed run reused at least min subtasks
// (exactly none when min is 0: nothing had committed) and ran none of them.
func assertNothingReusedRan(t *testing.T, r *jobs.Report, min int) {
	t.Helper()
	if len(r.Reused) < min || (min == 0 && len(r.Reused) > 0) {
		t.Fatalf("resume reused %d subtasks %v, want at least %d (none when 0)", len(r.Reused), r.Reused, min)
	}
	for _, a := range r.Attempts {
		if slices.Contains(r.Reused, a.Subtask) {
			t.Fatalf("subtask %s was committed before the kill and ran again", a.Subtask)
		}
	}
}

// partsJob writes a directory output from a hash exchange (deterministic
// all the way), so that a resume reuses its finished writers.
const partsJob = `name: parts
parallelism: 2
steps:
  - id: src
    read: {path: in.csv, schema: ["k int64"]}
  - id: counts
    aggregate: {by: [k], compute: ["count(*) AS n"]}
    input: src
  - id: out
    write: {path: out}
    input: counts
    parallelism: 2
`

// TestResumeRemovesStaleParts: a killed run leaves in its staging a part
// file of a writer that did not finish (junk here) and a partial file (a
// writer killed while rewriting its part). Killed before any writer
// finished, the resume writes every part again, over the junk; killed
// after every subtask finished, it reuses the writers, and must remove the
// partial file, or the directory output it commits would hold it. Either way the
// answer is right, no partial file is committed, and a file of the user's
// beside the output is untouched.
func TestResumeRemovesStaleParts(t *testing.T) {
	bin := buildCrashBinary(t)
	var in strings.Builder
	in.WriteString("k\n")
	for i := range 1000 {
		fmt.Fprintf(&in, "%d\n", i%100)
	}
	for _, crash := range []string{"commits=1", "commits=4"} { // 4: every subtask
		t.Run(crash, func(t *testing.T) {
			dir := t.TempDir()
			specPath := filepath.Join(dir, "parts.yaml")
			writeFile(t, specPath, partsJob)
			writeFile(t, filepath.Join(dir, "in.csv"), in.String())
			args := []string{"run", "--state-dir", filepath.Join(dir, "state"), "--slots", "4", specPath}
			if out, err := runBinary(t, bin, []string{"BATCHRUN_TEST_CRASH=" + crash}, args...); !killedBySIGKILL(err) {
				t.Fatalf("want SIGKILL, got %v\n%s", err, out)
			}
			stagings, err := filepath.Glob(filepath.Join(dir, ".batchrun-staging-*", "out"))
			if err != nil || len(stagings) != 1 {
				t.Fatalf("staging: %v (%v), want one", stagings, err)
			}
			writeFile(t, filepath.Join(stagings[0], "part-00000.csv.partial"), "half a row")
			if crash == "commits=1" {
				writeFile(t, filepath.Join(stagings[0], "part-00001.csv"), "k,n\njunk,of a writer that did not finish\n")
			}
			mine := filepath.Join(dir, "notes.txt")
			writeFile(t, mine, "the user's")
			reportPath := filepath.Join(dir, "report.json")
			if out, err := runBinary(t, bin, nil, append(args[:len(args)-1], "--report", reportPath, specPath)...); err != nil {
				t.Fatalf("resume: %v\n%s", err, out)
			}
			rows := slices.DeleteFunc(readOutput(t, filepath.Join(dir, "out")), func(r []string) bool { return r[0] == "k" })
			if len(rows) != 100 || slices.ContainsFunc(rows, func(r []string) bool { return len(r) != 2 || r[1] != "10" }) {
				t.Errorf("output rows %v, want 100 keys counted 10 each", rows)
			}
			parts, err := os.ReadDir(filepath.Join(dir, "out"))
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range parts {
				if strings.HasSuffix(p.Name(), ".partial") {
					t.Errorf("the output holds a partial file: %s", p.Name())
				}
			}
			if data, err := os.ReadFile(mine); err != nil || string(data) != "the user's" {
				t.Errorf("the user's file beside the output: %q, %v", data, err)
			}
			if r := readReport(t, reportPath); crash == "commits=4" && len(r.Attempts) != 0 {
				t.Errorf("every subtask had finished, yet the resume ran %d attempts", len(r.Attempts))
			}
		})
	}
}
