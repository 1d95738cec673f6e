package statedir

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/batchrun/batchrun/internal/lockfile"
	"github.com/batchrun/batchrun/internal/osfs"
)

// Dir is a state directory.
type Dir struct {
	Path string
	// FS carries the record writes (tests inject faults through it).
	FS osfs.FS
	// Mirror, when set, is called with every record written, after the
	// local write: a coordinator keeps its runs' records in etcd too,
	// fenced by its leadership. Its error fails the write.
	Mirror func(Record) error
}

// Open returns the state directory at path, creating its folders.
func Open(path string, fsys osfs.FS) (*Dir, error) {
	if fsys == nil {
		fsys = osfs.Default
	}
	d := &Dir{Path: path, FS: fsys}
	for _, sub := range []string{d.runsDir(), d.locksDir()} {
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return nil, fmt.Errorf("statedir: %w", err)
		}
	}
	return d, nil
}

// Peek returns the state directory at path for reading, without creating
// anything; ok is false when it holds no runs folder.
func Peek(path string) (d *Dir, ok bool) {
	d = &Dir{Path: path, FS: osfs.Default}
	fi, err := os.Stat(d.runsDir())
	return d, err == nil && fi.IsDir()
}

func (d *Dir) runsDir() string  { return filepath.Join(d.Path, "runs") }
func (d *Dir) locksDir() string { return filepath.Join(d.Path, "locks") }

// RunDir is where run id keeps its record, events, store and staging.
func (d *Dir) RunDir(id uint64) string { return filepath.Join(d.runsDir(), IDString(id)) }

// LockJob takes the lock of job, held by the one run of it in progress,
// waiting up to wait; a *lockfile.LockedError names the holder.
func (d *Dir) LockJob(ctx context.Context, job string, wait time.Duration) (unlock func() error, err error) {
	path := filepath.Join(d.locksDir(), lockName(job))
	return lockfile.Lock(ctx, path, "job", job, wait, job)
}

// lockName is a file name for any job name: safe characters as they
// are, the name hex-encoded otherwise.
func lockName(job string) string {
	for _, r := range job {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.'
		if !ok || job[0] == '.' {
			return "x-" + hex.EncodeToString([]byte(job)) + ".lock"
		}
	}
	return job + ".lock"
}

// Run is a run this process works on: it holds the run's LOCK until
// Close, so others see its owner alive.
type Run struct {
	d       *Dir
	Rec     Record
	release func() error
	events  *os.File
}

// NewRun creates rec's run directory, takes its LOCK and writes rec.
func (d *Dir) NewRun(rec Record) (*Run, error) {
	dir := d.RunDir(rec.ID)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, fmt.Errorf("statedir: new run: %w", err)
	}
	return d.own(rec)
}

// Resume takes the LOCK of the existing run rec (its owner died or
// ended) and writes rec as its new record.
func (d *Dir) Resume(rec Record) (*Run, error) { return d.own(rec) }

func (d *Dir) own(rec Record) (*Run, error) {
	release, err := lockfile.LockSoon(filepath.Join(d.RunDir(rec.ID), "LOCK"))
	if err != nil {
		return nil, fmt.Errorf("statedir: run %s: %w", IDString(rec.ID), err)
	}
	rec.PID = os.Getpid()
	rec.Host, _ = os.Hostname()
	r := &Run{d: d, Rec: rec, release: release}
	if err := r.Put(); err != nil {
		_ = release()
		return nil, err
	}
	return r, nil
}

// Put writes the run's record, durably and atomically.
func (r *Run) Put() error {
	data, err := json.MarshalIndent(r.Rec, "", "  ")
	if err != nil {
		return fmt.Errorf("statedir: encode run %s: %w", IDString(r.Rec.ID), err)
	}
	dir := r.d.RunDir(r.Rec.ID)
	if err := osfs.WriteFileAtomic(r.d.FS, filepath.Join(dir, "run.json"), append(data, '\n'), dir); err != nil {
		return fmt.Errorf("statedir: record run %s: %w", IDString(r.Rec.ID), err)
	}
	if r.d.Mirror != nil {
		if err := r.d.Mirror(r.Rec); err != nil {
			return fmt.Errorf("statedir: record run %s: %w", IDString(r.Rec.ID), err)
		}
	}
	return nil
}

// Import writes rec, a run record kept elsewhere (a coordinator's etcd),
// as the record of its run here, creating the run's directory if needed.
// The caller holds the job's lock; a run this process owns is not
// imported over.
func (d *Dir) Import(rec Record) error {
	dir := d.RunDir(rec.ID)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("statedir: import run %s: %w", IDString(rec.ID), err)
	}
	data, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return fmt.Errorf("statedir: encode run %s: %w", IDString(rec.ID), err)
	}
	if err := osfs.WriteFileAtomic(d.FS, filepath.Join(dir, "run.json"), append(data, '\n'), dir); err != nil {
		return fmt.Errorf("statedir: import run %s: %w", IDString(rec.ID), err)
	}
	return nil
}

// StoreDir is the run's Pebble store.
func (r *Run) StoreDir() string { return filepath.Join(r.d.RunDir(r.Rec.ID), "store") }

// StagingDir is where the run stages its stream outputs.
func (r *Run) StagingDir() string { return filepath.Join(r.d.RunDir(r.Rec.ID), "staging") }

// MoveStoreAside renames the run's store to store.damaged-N (the next
// free N) so that a new, empty one can take its place; the damaged one
// goes when the run is removed.
func (r *Run) MoveStoreAside() (string, error) {
	for n := 1; ; n++ {
		aside := r.StoreDir() + ".damaged-" + strconv.Itoa(n)
		if _, err := os.Lstat(aside); errors.Is(err, iofs.ErrNotExist) {
			if err := os.Rename(r.StoreDir(), aside); err != nil {
				return "", fmt.Errorf("statedir: move the store aside: %w", err)
			}
			return aside, nil
		}
	}
}

// Close releases the run's LOCK and its event log.
func (r *Run) Close() error {
	var errs []error
	if r.events != nil {
		errs = append(errs, r.events.Close())
	}
	errs = append(errs, r.release())
	return errors.Join(errs...)
}

// PutReport keeps the run's last report (what --report writes), atomically:
// the history `batchrun runs show` prints.
func (r *Run) PutReport(data []byte) error {
	dir := r.d.RunDir(r.Rec.ID)
	if err := osfs.WriteFileAtomic(r.d.FS, filepath.Join(dir, "report.json"), data, dir); err != nil {
		return fmt.Errorf("statedir: report of run %s: %w", IDString(r.Rec.ID), err)
	}
	return nil
}

// Report returns run id's last report, or nil when it has none (its
// process died before it ended).
func (d *Dir) Report(id uint64) ([]byte, error) {
	data, err := os.ReadFile(filepath.Join(d.RunDir(id), "report.json"))
	if errors.Is(err, iofs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("statedir: report of run %s: %w", IDString(id), err)
	}
	return data, nil
}
