package commit

import (
	"fmt"
	"path/filepath"

	"github.com/batchrun/batchrun/internal/osfs"
)

// Plan is one run's commit as its log records it. Apply and Recover change
// it and hand it to the caller's LogFunc at every decision.
type Plan struct {
	Entries []Entry `json:"outputs"`
	// Committed is the commit point: every output is in place. A run is
	// succeeded exactly when a durable Plan says so.
	Committed bool `json:"committed"`
	// Cleaned says the backups are gone (after the commit point).
	Cleaned bool `json:"cleaned,omitempty"`
}

// Entry is one output of a Plan.
type Entry struct {
	Name   string `json:"name"`
	Target string `json:"target"`
	Kind   Kind   `json:"kind"`
	Staged string `json:"staged"`
	// Backup is where the old target waits until the commit point.
	Backup string `json:"backup,omitempty"`
	// HadOld says something was at Target when the commit was planned.
	HadOld bool `json:"had_old,omitempty"`
	// New identifies the staged result wherever a crash leaves it.
	New osfs.FileID `json:"new"`
	// Done says a stream has been written (streams cannot be undone, so a
	// recovered commit does not write them twice).
	Done bool `json:"done,omitempty"`
}

// LogFunc persists p, synced, in the run's log. A Plan with Committed set
// is the record of the run's success.
type LogFunc func(p *Plan) error

// MarshalText implements encoding.TextMarshaler.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *Kind) UnmarshalText(b []byte) error {
	for _, c := range []Kind{File, Dir, Stream} {
		if c.String() == string(b) {
			*k = c
			return nil
		}
	}
	return fmt.Errorf("commit: unknown output kind %q", b)
}

// Prepare checks every target again (what was refused before the run
// started may have appeared since), writes the manifest of each directory
// output, makes the staged results durable, and returns the Plan to log
// before Apply. prev, the plan of an earlier invocation of the same run
// (or nil), carries over which streams are already written.
func Prepare(fsys osfs.FS, outs []Output, job, run string, prev *Plan) (*Plan, error) {
	if err := Check(fsys, outs); err != nil {
		return nil, err
	}
	p := &Plan{}
	dirs := map[string]bool{}
	for _, o := range outs {
		e, err := prepareOne(fsys, o, job, run)
		if err != nil {
			return nil, fmt.Errorf("commit: output %s: %w", o.Name, err)
		}
		e.Done = e.Kind == Stream && prev.streamDone(o.Name)
		p.Entries = append(p.Entries, e)
		dirs[filepath.Dir(o.Staged)] = true
		dirs[filepath.Dir(filepath.Dir(o.Staged))] = true
	}
	for _, d := range sortedKeys(dirs) {
		if err := fsys.SyncDir(d); err != nil {
			return nil, fmt.Errorf("commit: %w", err)
		}
	}
	return p, nil
}

func prepareOne(fsys osfs.FS, o Output, job, run string) (Entry, error) {
	e := Entry{Name: o.Name, Target: o.Target, Kind: o.Kind, Staged: o.Staged}
	switch o.Kind {
	case Dir:
		if err := writeManifest(fsys, o.Staged, job, run, o.Name); err != nil {
			return e, err
		}
		if err := fsys.SyncDir(o.Staged); err != nil {
			return e, err
		}
	default:
		if err := fsys.SyncFile(o.Staged); err != nil {
			return e, err
		}
	}
	fi, err := fsys.Lstat(o.Staged)
	if err != nil {
		return e, fmt.Errorf("staged result: %w", err)
	}
	e.New = osfs.IDOf(fi)
	if o.Kind == Stream {
		return e, nil
	}
	e.Backup = o.Staged + ".old"
	e.HadOld, err = osfs.Exists(fsys, o.Target)
	return e, err
}

func (p *Plan) streamDone(name string) bool {
	if p == nil {
		return false
	}
	for _, e := range p.Entries {
		if e.Name == name && e.Kind == Stream {
			return e.Done
		}
	}
	return false
}
