package lockfile

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestLockedErrorMessage(t *testing.T) {
	start := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	host, _ := os.Hostname()
	const hint = "; wait for it with --wait DURATION, or try again later"
	for _, tc := range []struct {
		err  LockedError
		want string
	}{
		{LockedError{What: "job", Path: "revenue", PID: 123, Start: start, Job: "revenue", Host: host},
			"job revenue is in use by pid 123 since 2026-11-25T10:00:00Z" + hint},
		{LockedError{What: "job", Path: "revenue", PID: 123, Start: start.In(time.FixedZone("CET", 3600))},
			"job revenue is in use by pid 123 since 2026-11-25T10:00:00Z" + hint},
		{LockedError{What: "output", Path: "out/a.csv", PID: 7, Start: start, Job: "a", Host: "other-host-" + host},
			"output out/a.csv is in use by pid 7 on other-host-" + host + ", job a since 2026-11-25T10:00:00Z" + hint},
		{LockedError{What: "job", Path: "x"},
			"job x is locked by another process" + hint},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("%+v.Error() = %q, want %q", tc.err, got, tc.want)
		}
	}
}

// lockJob is the lock a run of job takes in dir.
func lockJob(ctx context.Context, dir, job string) (func() error, error) {
	return Lock(ctx, filepath.Join(dir, "LOCK"), "job", job, 0, job)
}

// lockedErr returns err as a *LockedError, failing t if it is not one.
func lockedErr(t *testing.T, err error) *LockedError {
	t.Helper()
	var le *LockedError
	if !errors.As(err, &le) || !IsLocked(err) {
		t.Fatalf("err = %v, want a *LockedError", err)
	}
	return le
}

func TestLockConflict(t *testing.T) {
	dir := t.TempDir()
	before := time.Now().UTC().Truncate(time.Second)
	unlock, err := lockJob(context.Background(), dir, "revenue")
	if err != nil {
		t.Fatal(err)
	}
	var h holder
	data, err := os.ReadFile(filepath.Join(dir, "LOCK.holder"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &h); err != nil {
		t.Fatalf("LOCK.holder %q: %v", data, err)
	}
	host, _ := os.Hostname()
	if h.PID != os.Getpid() || h.Job != "revenue" || h.Host != host || h.Start.Before(before) {
		t.Errorf("LOCK.holder = %+v, want pid %d, job revenue, host %s, start >= %v", h, os.Getpid(), host, before)
	}

	// The lock is per open file: this process cannot take it twice.
	_, err = Lock(context.Background(), filepath.Join(dir, "LOCK"), "job", "revenue", 0, "other")
	le := lockedErr(t, err)
	if le.PID != os.Getpid() || le.Job != "revenue" || !le.Start.Equal(h.Start) || le.Path != "revenue" {
		t.Errorf("LockedError = %+v, want the holder %+v of job revenue", le, h)
	}
	want := fmt.Sprintf("job revenue is in use by pid %d since %s; wait for it with --wait DURATION, or try again later",
		os.Getpid(), h.Start.Format(time.RFC3339))
	if err.Error() != want {
		t.Errorf("err = %q, want %q", err, want)
	}

	// A bounded wait gives up no sooner than asked.
	start := time.Now()
	_, err = Lock(context.Background(), filepath.Join(dir, "LOCK"), "job", "revenue", 250*time.Millisecond, "other")
	lockedErr(t, err)
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Errorf("lockJob with wait 250ms gave up after %v", d)
	}

	// unlock removes the lock file and the holder record; the lock is free.
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("state directory after unlock holds %v, want nothing", names)
	}
	unlock, err = lockJob(context.Background(), dir, "next")
	if err != nil {
		t.Fatalf("lockJob after unlock: %v", err)
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// TestLockWaitTakesReleasedLock: a waiter that found the lock held takes
// it once the holder releases it; a waiter whose context ends gets the
// context's error, not a LockedError.
func TestLockWaitTakesReleasedLock(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "LOCK")
	unlock, err := lockJob(context.Background(), dir, "first")
	if err != nil {
		t.Fatal(err)
	}
	busy := make(chan struct{})
	var once sync.Once
	type result struct {
		unlock func() error
		err    error
	}
	done := make(chan result)
	go func() {
		u, err := lockFile(context.Background(), path, "job", dir, time.Hour, "second",
			func() { once.Do(func() { close(busy) }) })
		done <- result{u, err}
	}()
	<-busy // the waiter found the lock held
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil {
		t.Fatalf("waiter: %v", r.err)
	}
	data, err := os.ReadFile(path + ".holder")
	if err != nil || !strings.Contains(string(data), `"job":"second"`) {
		t.Errorf("LOCK.holder = %q, %v; want the waiter's record", data, err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	_, err = lockFile(ctx, path, "job", dir, time.Hour, "third", cancel)
	if !errors.Is(err, context.Canceled) || IsLocked(err) {
		t.Errorf("waiter with a canceled context: err = %v, want context.Canceled", err)
	}
	if err := r.unlock(); err != nil {
		t.Fatal(err)
	}
}

func TestLockOutput(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "out", "sales.csv") // out/ created by LockOutput
	unlock, err := LockOutput(context.Background(), target, 0, "sales")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{".sales.csv.batchrun-lock", ".sales.csv.batchrun-lock.holder"}
	if got := dirNames(t, filepath.Join(dir, "out")); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("output directory holds %v, want %v", got, want)
	}
	// Another output in the same directory is not locked.
	u2, err := LockOutput(context.Background(), filepath.Join(dir, "out", "other.csv"), 0, "other")
	if err != nil {
		t.Fatalf("LockOutput of another target: %v", err)
	}
	if err := u2(); err != nil {
		t.Fatal(err)
	}
	// The same output, named differently, is.
	_, err = LockOutput(context.Background(), filepath.Join(dir, "out", ".", "sales.csv"), 0, "sales2")
	le := lockedErr(t, err)
	if le.What != "output" || le.Path != target || le.PID != os.Getpid() || le.Job != "sales" {
		t.Errorf("LockedError = %+v, want output %s held by pid %d, job sales", le, target, os.Getpid())
	}
	if !strings.HasPrefix(err.Error(), "output "+target+" is in use by pid ") {
		t.Errorf("err = %q, want it to name output %s", err, target)
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	if got := dirNames(t, filepath.Join(dir, "out")); len(got) != 0 {
		t.Errorf("output directory after unlock holds %v, want nothing", got)
	}
}

// holdLockEnv makes the test binary, run as TestHelperHoldLock, hold the
// lock of the state directory it names.
const holdLockEnv = "BATCHRUN_TEST_HOLD_LOCK_DIR"

// TestHelperHoldLock is not a test: TestLockDeadHolder runs the test binary
// with it as a child process that takes the lock, prints "locked" and
// holds the lock until its stdin closes (or it is killed).
func TestHelperHoldLock(t *testing.T) {
	dir := os.Getenv(holdLockEnv)
	if dir == "" {
		t.Skip("helper process for TestLockDeadHolder")
	}
	unlock, err := lockJob(context.Background(), dir, "revenue")
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("locked")
	_, _ = io.Copy(io.Discard, os.Stdin)
	_ = unlock()
}

// TestLockDeadHolder: a lock whose holder was SIGKILLed is taken by the
// next caller; before that, the caller is refused with the holder's pid.
func TestLockDeadHolder(t *testing.T) {
	dir := t.TempDir()
	child := exec.Command(os.Args[0], "-test.run=^TestHelperHoldLock$")
	child.Env = append(os.Environ(), holdLockEnv+"="+dir)
	stdin, err := child.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = child.Process.Kill(); _ = stdin.Close(); _ = child.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if line != "locked\n" {
		t.Fatalf("child printed %q (%v), want \"locked\"", line, err)
	}

	_, err = lockJob(context.Background(), dir, "revenue")
	if le := lockedErr(t, err); le.PID != child.Process.Pid || le.Job != "revenue" {
		t.Fatalf("LockedError = %+v, want pid %d, job revenue", le, child.Process.Pid)
	}
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := child.Wait(); err == nil {
		t.Fatal("child exited cleanly, want killed")
	}
	deadPID := child.Process.Pid

	// The kernel released the dead child's lock; its record is left over.
	unlock, err := lockJob(context.Background(), dir, "next")
	if err != nil {
		t.Fatalf("lockJob after the holder died: %v", err)
	}
	// A record left by a dead process while the lock is held (the live
	// holder has not written its own yet) names no one.
	if err := writeHolder(filepath.Join(dir, "LOCK.holder"), holder{PID: deadPID, Start: time.Now(), Job: "revenue", Host: hostname()}); err != nil {
		t.Fatal(err)
	}
	_, err = lockJob(context.Background(), dir, "third")
	if le := lockedErr(t, err); le.PID != 0 {
		t.Errorf("LockedError = %+v, want no holder (pid %d is dead)", le, deadPID)
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
}

func hostname() string {
	h, _ := os.Hostname()
	return h
}

// TestHeld: a probe sees a held lock without taking it, a free or missing
// lock as free; an owner taking the lock while probes run gets it.
func TestHeld(t *testing.T) {
	path := filepath.Join(t.TempDir(), "LOCK")
	if held, err := Held(path); held || err != nil {
		t.Fatalf("missing lock file: held=%v err=%v", held, err)
	}
	release, err := LockSoon(path)
	if err != nil {
		t.Fatal(err)
	}
	if held, err := Held(path); !held || err != nil {
		t.Fatalf("while held: held=%v err=%v", held, err)
	}
	if err := release(); err != nil {
		t.Fatal(err)
	}
	if held, err := Held(path); held || err != nil {
		t.Fatalf("after release: held=%v err=%v", held, err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // a busy prober
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
				_, _ = Held(path)
			}
		}
	}()
	for range 50 {
		release, err := LockSoon(path)
		if err != nil {
			t.Fatalf("LockSoon beside a prober: %v", err)
		}
		_ = release()
	}
	close(stop)
	wg.Wait()
}
