// Package lockfile owns batchrun's inter-process locks: an flock(2) on a
// lock file, taken without blocking or by retrying up to a wait, with a
// record of the holder (pid, start, job, host) for the error other
// processes get, and a probe that tells whether a lock is held without
// taking it for long. A lock dies with its holder, however the holder
// dies: the kernel releases it.
//
// It must not import any batchrun package.
package lockfile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/gofrs/flock"
)

// lockRetryDelay is how often a waiting LockStateDir or LockOutput tries
// the lock again.
const lockRetryDelay = 100 * time.Millisecond

// LockedError reports a state directory or output that another process
// has locked. PID, Start, Job and Host describe the holder as it recorded
// itself; PID is 0 when that record is missing, unreadable or left by a
// process that has since exited (the lock was taken a moment ago and its
// holder has not written its record yet).
type LockedError struct {
	// What is "job" or "output".
	What string
	// Path is the job's name or the output's target (not the lock file).
	Path  string
	PID   int
	Start time.Time
	Job   string
	// Host is the holder's hostname, named in the message only when it is
	// not this host (a state directory on a shared filesystem).
	Host string
}

func (e *LockedError) Error() string {
	const hint = "; wait for it with --wait DURATION, or try again later"
	subject := e.What + " " + e.Path
	if e.PID == 0 {
		return fmt.Sprintf("%s is locked by another process%s", subject, hint)
	}
	holder := fmt.Sprintf("pid %d", e.PID)
	if host, _ := os.Hostname(); e.Host != "" && e.Host != host {
		holder += " on " + e.Host
	}
	since := e.Start.UTC().Format(time.RFC3339)
	if e.Job != "" && !(e.What == "job" && e.Path == e.Job) {
		holder += ", job " + e.Job
	}
	return fmt.Sprintf("%s is in use by %s since %s%s", subject, holder, since, hint)
}

// IsLocked reports whether err is (or wraps) a *LockedError.
func IsLocked(err error) bool {
	var le *LockedError
	return errors.As(err, &le)
}

// Lock takes the exclusive lock of path (creating the file, not its
// directory), so that one process at a time does what it guards. Once it
// is held, the holder's pid, start time, job and hostname are written to
// path+".holder" for the error other processes get.
//
// While another process holds the lock, Lock tries again every 100ms for
// up to wait (0: once), then returns a *LockedError naming the holder
// (what and subject say what the lock guards: "job", "revenue"); if ctx
// ends first it returns ctx's error. A lock left by a dead process is no
// obstacle: the kernel releases an flock when its holder exits, however it
// exits (SIGKILL, OOM killer), so the next caller simply takes it.
//
// unlock removes the holder record and the lock file, then releases the
// lock. The lock is per open file, not per process: a second Lock in the
// same process fails too.
func Lock(ctx context.Context, path, what, subject string, wait time.Duration, job string) (unlock func() error, err error) {
	return lockFile(ctx, path, what, subject, wait, job, nil)
}

// LockOutput takes the exclusive lock of output target, so that runs
// from different state directories cannot write the same output at once.
// It is Lock's lock on <dir of target>/.<base of target>.batchrun-lock
// (creating that directory if needed), with the same waiting, holder
// record and dead-holder behavior; unlock removes both files, so a
// committed output directory holds no trace of the lock.
func LockOutput(ctx context.Context, target string, wait time.Duration, job string) (unlock func() error, err error) {
	target = filepath.Clean(target)
	dir, base := filepath.Split(target)
	if dir == "" {
		dir = "."
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("lock output %s: %w", target, err)
	}
	return lockFile(ctx, filepath.Join(dir, "."+base+".batchrun-lock"), "output", target, wait, job, nil)
}

// lockFile takes the flock on path, retrying until wait elapses, and
// records the holder in path+".holder". onBusy, if not nil, is called each
// time the lock is found held and lockFile is about to wait (tests).
func lockFile(ctx context.Context, path, what, subject string, wait time.Duration, job string, onBusy func()) (func() error, error) {
	deadline := time.Now().Add(wait)
	for {
		fl, ok, err := tryLock(path)
		if err != nil {
			return nil, fmt.Errorf("lock %s %s: %w", what, subject, err)
		}
		if ok {
			h := holder{PID: os.Getpid(), Start: time.Now().UTC().Truncate(time.Second), Job: job}
			h.Host, _ = os.Hostname()
			if err := writeHolder(path+".holder", h); err != nil {
				return nil, errors.Join(fmt.Errorf("lock %s %s: %w", what, subject, err), fl.Unlock())
			}
			return func() error { return unlockFile(fl, path) }, nil
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil, lockedError(path, what, subject)
		}
		if onBusy != nil {
			onBusy()
		}
		t := time.NewTimer(min(left, lockRetryDelay))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("waiting for the lock of %s %s: %w", what, subject, ctx.Err())
		case <-t.C:
		}
	}
}

// tryLock tries once to take the flock on path. Because unlock removes
// the lock file, the lock taken may be on a file already unlinked by its
// previous holder; it then counts as not taken, and the caller tries again
// at once (the next open creates a fresh file).
func tryLock(path string) (*flock.Flock, bool, error) {
	for {
		fl := flock.New(path)
		ok, err := fl.TryLock()
		if err != nil || !ok {
			return nil, false, err
		}
		locked, err := fl.Stat()
		if err != nil {
			return nil, false, errors.Join(err, fl.Unlock())
		}
		cur, statErr := os.Stat(path)
		if statErr == nil && os.SameFile(locked, cur) {
			return fl, true, nil
		}
		if err := fl.Unlock(); err != nil {
			return nil, false, err
		}
		if statErr != nil && !errors.Is(statErr, os.ErrNotExist) {
			return nil, false, statErr
		}
	}
}

// unlockFile removes the holder record and the lock file while still
// holding the lock, then releases it.
func unlockFile(fl *flock.Flock, path string) error {
	var errs []error
	for _, p := range []string{path + ".holder", path} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	errs = append(errs, fl.Unlock())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("unlock %s: %w", path, err)
	}
	return nil
}

// holder is what a lock holder records about itself.
type holder struct {
	PID   int       `json:"pid"`
	Start time.Time `json:"start"` // RFC 3339
	Job   string    `json:"job"`
	Host  string    `json:"host"`
}

// writeHolder writes h to path atomically: a reader sees the previous
// holder's record or this one, never a partial one. Only the lock holder
// writes it, so a fixed temporary name is safe.
func writeHolder(path string, h holder) error {
	data, err := json.Marshal(h)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// lockedError describes the holder of the lock on path from its record.
func lockedError(path, what, subject string) *LockedError {
	e := &LockedError{What: what, Path: subject}
	data, err := os.ReadFile(path + ".holder")
	if err != nil {
		return e
	}
	var h holder
	if json.Unmarshal(data, &h) != nil || h.PID <= 0 {
		return e
	}
	if host, _ := os.Hostname(); h.Host == host && !processAlive(h.PID) {
		// A record left by a holder that died; the live holder has not
		// written its own yet.
		return e
	}
	e.PID, e.Start, e.Job, e.Host = h.PID, h.Start, h.Job, h.Host
	return e
}

// processAlive reports whether process pid (on this host) exists.
func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	return !errors.Is(p.Signal(syscall.Signal(0)), os.ErrProcessDone)
}

// Held reports whether some process holds the lock of path, by taking a
// shared lock on it for an instant. A missing lock file is not held. An
// owner that takes the lock exclusively while a probe holds it shared
// must retry (LockSoon).
func Held(path string) (bool, error) {
	fl := flock.New(path, flock.SetFlag(os.O_RDONLY))
	ok, err := fl.TryRLock()
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if !ok {
		return true, nil
	}
	return false, fl.Unlock()
}

// LockSoon takes the exclusive lock of path (creating the file) for a
// lock that only probes (Held) contend with: it retries for up to a
// second, since a probe holds the lock for microseconds. The lock stays
// until release; the file is never removed.
func LockSoon(path string) (release func() error, err error) {
	fl := flock.New(path)
	for i := 0; ; i++ {
		ok, err := fl.TryLock()
		if err != nil {
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if ok {
			return fl.Unlock, nil
		}
		if i == 1000 {
			return nil, fmt.Errorf("lock %s: held by another process", path)
		}
		time.Sleep(time.Millisecond)
	}
}
