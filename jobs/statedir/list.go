package statedir

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/batchrun/batchrun/internal/lockfile"
	"github.com/batchrun/batchrun/internal/osfs"
)

// Entry is one run directory as a reader finds it.
type Entry struct {
	ID  uint64
	Rec Record
	// Damaged says why the record could not be read (Rec then holds only
	// ID); such a run is never resumed.
	Damaged string
	// Abandoned: the record says running or committing, but no process
	// holds the run's LOCK: its owner died. The next run of the job
	// resumes it.
	Abandoned bool
	// Modified is when the run directory last changed.
	Modified time.Time
}

// List reads every run of the state directory, newest first. It takes no
// lock and opens no store: a run in progress is listed as its record last
// said. A record that cannot be read is listed as Damaged.
func (d *Dir) List() ([]Entry, error) {
	ents, err := os.ReadDir(d.runsDir())
	if errors.Is(err, iofs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("statedir: list runs: %w", err)
	}
	var out []Entry
	for _, e := range ents {
		id, err := strconv.ParseUint(e.Name(), 16, 64)
		if err != nil || !e.IsDir() || len(e.Name()) != 16 {
			continue // not a run directory
		}
		out = append(out, d.entry(id))
	}
	slices.SortFunc(out, func(a, b Entry) int {
		if c := b.Rec.Start.Compare(a.Rec.Start); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	return out, nil
}

func (d *Dir) entry(id uint64) Entry {
	e := Entry{ID: id, Rec: Record{ID: id}}
	dir := d.RunDir(id)
	if fi, err := os.Stat(dir); err == nil {
		e.Modified = fi.ModTime()
	}
	rec, err := d.Read(id)
	if err != nil {
		e.Damaged = err.Error()
		e.Rec.Start = time.Unix(0, int64(id)) // ids are start times
		return e
	}
	e.Rec = rec
	if rec.State.Unfinished() {
		held, err := lockfile.Held(filepath.Join(dir, "LOCK"))
		e.Abandoned = err == nil && !held
	}
	return e
}

// DiskBytes is what run id's directory occupies (its store mostly). List
// leaves it out: a run starting lists the runs of its state directory and
// needs their records, not a walk of every store.
func (d *Dir) DiskBytes(id uint64) int64 {
	n, _ := DiskUsage(d.RunDir(id))
	return n
}

// Read reads run id's record.
func (d *Dir) Read(id uint64) (Record, error) {
	data, err := os.ReadFile(filepath.Join(d.RunDir(id), "run.json"))
	if err != nil {
		return Record{}, fmt.Errorf("statedir: run %s: %w", IDString(id), err)
	}
	var rec Record
	if err := json.Unmarshal(data, &rec); err != nil {
		return Record{}, fmt.Errorf("statedir: run %s: damaged record: %w", IDString(id), err)
	}
	if rec.ID != id {
		return Record{}, fmt.Errorf("statedir: run %s: its record names run %s", IDString(id), IDString(rec.ID))
	}
	return rec, nil
}

// Remove deletes run id's directory (record, events, store) and returns
// the bytes it occupied. The caller holds the job's lock, so no process
// works on the run.
func (d *Dir) Remove(id uint64) (int64, error) {
	dir := d.RunDir(id)
	n, _ := DiskUsage(dir)
	// Rename first, so that a crash mid-removal leaves no half run that
	// looks like a run.
	trash := filepath.Join(d.runsDir(), ".removing-"+IDString(id))
	if err := os.Rename(dir, trash); err != nil {
		return 0, fmt.Errorf("statedir: remove run %s: %w", IDString(id), err)
	}
	if err := os.RemoveAll(trash); err != nil {
		return 0, fmt.Errorf("statedir: remove run %s: %w", IDString(id), err)
	}
	return n, nil
}

// RemoveLeftovers deletes what crashed removals left (.removing-*).
func (d *Dir) RemoveLeftovers() error {
	matches, err := filepath.Glob(filepath.Join(d.runsDir(), ".removing-*"))
	if err != nil {
		return err
	}
	var errs []error
	for _, m := range matches {
		errs = append(errs, os.RemoveAll(m))
	}
	return errors.Join(errs...)
}

// DiskUsage is what the files under path occupy on disk (allocated
// blocks, as du counts them; sizes where the platform has no blocks).
func DiskUsage(path string) (int64, error) {
	var n int64
	err := filepath.WalkDir(path, func(p string, de iofs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, iofs.ErrNotExist) {
				return nil
			}
			return err
		}
		fi, err := de.Info()
		if err != nil {
			return nil // removed meanwhile
		}
		n += osfs.DiskBytes(fi)
		return nil
	})
	return n, err
}
