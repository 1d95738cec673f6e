package cli

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain makes the test binary double as the commands the scripts run:
//
//	batchrun ARGS...            the real CLI (Main, no hooks)
//	exitcode N PROG ARGS...     runs PROG and succeeds only if it exits with
//	                            exactly N; its stdout and stderr pass through,
//	                            so `stdout`/`stderr` check PROG's output
//
// testscript's `! exec` only checks for a non-zero status; the exit codes are
// part of the CLI's contract (README "Exit codes"), so scripts assert them
// exactly with exitcode.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"batchrun": func() { os.Exit(Main(os.Args, os.Stdout, os.Stderr, Hooks{})) },
		"exitcode": func() { os.Exit(exitcodeMain(os.Args[1:])) },
	})
}

// exitcodeMain runs args[1:] and returns 0 if it exited with code args[0],
// else 1 with a message on stderr.
func exitcodeMain(args []string) int {
	if len(args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: exitcode N PROG [ARGS...]")
		return 1
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		fmt.Fprintf(os.Stderr, "exitcode: bad code %q\n", args[0])
		return 1
	}
	cmd := exec.Command(args[1], args[2:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	got := 0
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() < 0 {
			fmt.Fprintf(os.Stderr, "exitcode: %s: %v\n", args[1], err)
			return 1
		}
		got = ee.ExitCode()
	}
	if got != want {
		fmt.Fprintf(os.Stderr, "exitcode: %s exited with %d, want %d\n", args[1], got, want)
		return 1
	}
	return 0
}

// TestScripts runs the transcripts in testdata/script. Besides the
// commands above they may use `lsdir DIR`, which prints DIR's entries one a
// line, sorted, so that `cmp stdout` can assert what a run left behind.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                "testdata/script",
		RequireUniqueNames: true,
		Cmds:               map[string]func(*testscript.TestScript, bool, []string){"lsdir": cmdLsdir},
	})
}

// lsdir DIR: print DIR's entry names, sorted, one a line.
func cmdLsdir(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: lsdir DIR")
	}
	entries, err := os.ReadDir(ts.MkAbs(args[0]))
	ts.Check(err)
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	sort.Strings(names)
	w := ts.Stdout() // even for an empty DIR, so stdout is replaced
	for _, n := range names {
		fmt.Fprintln(w, n)
	}
}
