package commit

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/batchrun/batchrun/internal/osfs"
)

// ErrIncomplete is wrapped by the errors of Apply and Recover that leave a
// commit half done on disk: a rollback step failed, or the decision could
// not be recorded. The caller must keep the run's Plan and staging as they
// are; the next invocation's Recover finishes the rollback (or the roll
// forward, if the commit point turns out to be durable).
var ErrIncomplete = errors.New("commit: incomplete; the next run finishes or undoes it")

// Apply publishes p's outputs: streams first, then every swap, then the
// commit point (p.Committed, logged). It returns nil exactly when the
// commit point is recorded; the caller then calls Cleanup. On an error it
// rolls every swap back, so the old outputs are in place when it returns,
// unless the error wraps ErrIncomplete. stdout receives the output whose
// target is "-".
func Apply(fsys osfs.FS, p *Plan, log LogFunc, stdout io.Writer) error {
	if err := writeStreams(p, log, stdout); err != nil {
		return err // nothing renamed yet
	}
	for i := range p.Entries {
		e := &p.Entries[i]
		if e.Kind == Stream {
			continue
		}
		if err := swap(fsys, e); err != nil {
			return rollbackAfter(fsys, p, fmt.Errorf("commit: output %s: %w", e.Name, err))
		}
	}
	if err := syncTargetDirs(fsys, p); err != nil {
		return rollbackAfter(fsys, p, err)
	}
	p.Committed = true
	if err := log(p); err != nil {
		// The record may or may not be durable. Record the opposite
		// decision before undoing anything; if even that fails, stop and
		// let Recover act on whichever record survived.
		p.Committed = false
		if lerr := log(p); lerr != nil {
			return fmt.Errorf("%w: record the commit: %w; record its rollback: %w", ErrIncomplete, err, lerr)
		}
		return rollbackAfter(fsys, p, fmt.Errorf("commit: record the commit: %w", err))
	}
	return nil
}

// swap moves e's staged result to its target, the old target (if any) to
// e.Backup.
func swap(fsys osfs.FS, e *Entry) error {
	if !e.HadOld {
		// Nothing was there when the commit was planned: never replace
		// what appeared since.
		if ok, err := osfs.Exists(fsys, e.Target); err != nil {
			return err
		} else if ok {
			return errAppeared(e)
		}
		return fsys.Rename(e.Staged, e.Target)
	}
	err := fsys.Exchange(e.Staged, e.Target)
	if err == nil {
		return fsys.Rename(e.Staged, e.Backup) // the old output, now at Staged
	}
	if !errors.Is(err, osfs.ErrUnsupported) {
		return err
	}
	// Two renames: between them the target is missing (only here).
	if err := fsys.Rename(e.Target, e.Backup); err != nil {
		return err
	}
	return fsys.Rename(e.Staged, e.Target)
}

func errAppeared(e *Entry) error {
	return &ConflictError{Output: e.Name, Target: e.Target, Reason: "it appeared while the run was committing"}
}

// syncTargetDirs makes every rename durable (before the commit point, and
// after a rollback). A staging directory that is gone has nothing to sync.
func syncTargetDirs(fsys osfs.FS, p *Plan) error {
	dirs := map[string]bool{}
	for _, e := range p.Entries {
		if e.Kind != Stream {
			dirs[filepath.Dir(e.Target)] = true
			dirs[filepath.Dir(e.Staged)] = true
		}
	}
	for _, d := range sortedKeys(dirs) {
		if err := fsys.SyncDir(d); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("commit: %w", err)
		}
	}
	return nil
}

// rollbackAfter undoes p after cause; a failed rollback makes the error
// ErrIncomplete.
func rollbackAfter(fsys osfs.FS, p *Plan, cause error) error {
	if err := Rollback(fsys, p); err != nil {
		return fmt.Errorf("%w: %w; rollback: %w", ErrIncomplete, cause, err)
	}
	return cause
}

// Rollback puts every old output back and every staged result back in
// its staging path, from whatever state between two steps of Apply the
// filesystem is in. It is re-entrant: a crash during Rollback is undone by
// the next Rollback. It must not be called once p is Committed.
func Rollback(fsys osfs.FS, p *Plan) error {
	if p.Committed {
		return errors.New("commit: rollback of a committed plan")
	}
	var errs []error
	for i := len(p.Entries) - 1; i >= 0; i-- {
		e := &p.Entries[i]
		if e.Kind == Stream {
			continue
		}
		if err := rollbackOne(fsys, e); err != nil {
			errs = append(errs, fmt.Errorf("output %s: %w", e.Name, err))
		}
	}
	if err := syncTargetDirs(fsys, p); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func rollbackOne(fsys osfs.FS, e *Entry) error {
	inPlace, err := newAtTarget(fsys, e)
	if err != nil {
		return err
	}
	if inPlace {
		staged, err := osfs.Exists(fsys, e.Staged)
		if err != nil {
			return err
		}
		if staged { // exchanged: the old output is at Staged
			return fsys.Exchange(e.Staged, e.Target)
		}
		if err := fsys.Rename(e.Target, e.Staged); err != nil {
			return err
		}
	}
	backup, err := osfs.Exists(fsys, e.Backup)
	if err != nil || !backup {
		return err
	}
	if there, err := osfs.Exists(fsys, e.Target); err != nil || there {
		return errors.Join(err, fmt.Errorf("cannot restore %s from %s: something else is there now", e.Target, e.Backup))
	}
	return fsys.Rename(e.Backup, e.Target)
}

// newAtTarget reports whether e's staged result is at its target: by
// identity where the platform has one; otherwise it is there exactly when
// the staging path is empty and the target is not (no exchange is used
// without identities).
func newAtTarget(fsys osfs.FS, e *Entry) (bool, error) {
	fi, err := fsys.Lstat(e.Target)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	if !e.New.IsZero() {
		return osfs.IDOf(fi) == e.New, nil
	}
	staged, err := osfs.Exists(fsys, e.Staged)
	return !staged, err
}

// Recover resolves the commit of a run that stopped while committing: a
// durable commit point rolls forward (Cleanup) and returns true; otherwise
// every swap is rolled back and it returns false, and the caller checks
// and applies a new Plan.
func Recover(fsys osfs.FS, p *Plan, log LogFunc) (committed bool, err error) {
	if p.Committed {
		return true, Cleanup(fsys, p, log)
	}
	if err := Rollback(fsys, p); err != nil {
		return false, fmt.Errorf("%w: rollback: %w", ErrIncomplete, err)
	}
	return false, nil
}

// Cleanup removes the old outputs of a committed plan and records that.
// A failure leaves only hidden backups behind; the outputs are committed.
func Cleanup(fsys osfs.FS, p *Plan, log LogFunc) error {
	if !p.Committed || p.Cleaned {
		return nil
	}
	for _, e := range p.Entries {
		if e.Kind != Stream && e.HadOld {
			if err := fsys.RemoveAll(e.Backup); err != nil {
				return fmt.Errorf("commit: remove the old %s: %w", e.Name, err)
			}
		}
	}
	p.Cleaned = true
	return log(p)
}

// writeStreams writes every stream not yet written: the staged file is
// copied to the target (opened for writing, never created or truncated).
func writeStreams(p *Plan, log LogFunc, stdout io.Writer) error {
	for i := range p.Entries {
		e := &p.Entries[i]
		if e.Kind != Stream || e.Done {
			continue
		}
		if err := copyToStream(e, stdout); err != nil {
			return fmt.Errorf("commit: output %s: %w", e.Name, err)
		}
		e.Done = true
		if err := log(p); err != nil {
			return err
		}
	}
	return nil
}

func copyToStream(e *Entry, stdout io.Writer) (err error) {
	src, err := os.Open(e.Staged)
	if err != nil {
		return err
	}
	defer src.Close()
	dst := stdout
	if e.Target != StdoutTarget {
		f, err := os.OpenFile(e.Target, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		defer func() { err = errors.Join(err, f.Close()) }()
		dst = f
	}
	_, err = io.Copy(dst, src)
	return err
}
