package jobs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/batchrun/batchrun/storage"
)

// RunInfo is one run of a state directory as `batchrun runs` shows it.
type RunInfo struct {
	ID     string            `json:"id"` // storage.RunIDString
	Job    string            `json:"job"`
	Spec   string            `json:"spec"`
	Params map[string]string `json:"params,omitempty"`
	// State is running, committing, succeeded, failed or abandoned.
	State string    `json:"state"`
	Start time.Time `json:"start"`
	// End is zero while the run is running or committing.
	End time.Time `json:"end,omitzero"`
	// Invocations counts the processes that worked on the run (resumes + 1).
	Invocations int `json:"invocations"`
	Failovers   int `json:"failovers"`
	// StoredBytes sums the run's committed partitions still in the store.
	StoredBytes int64  `json:"stored_bytes"`
	Error       string `json:"error,omitempty"`
}

// FormatBytes formats n as the run summary does: "512 B", "1.5 KiB".
func FormatBytes(n int64) string { return byteSize(n) }

// storeDir is where a state directory keeps its Pebble store.
func storeDir(stateDir string) string { return filepath.Join(stateDir, "store") }

// ListRuns lists the runs recorded in stateDir, newest first. A state
// directory without a store has no runs (and is not created). It takes
// the state directory's lock without waiting (the store admits one process
// at a time anyway), so while a run is in progress it fails with a
// *LockedError naming that run.
func ListRuns(stateDir string) ([]RunInfo, error) {
	var runs []RunInfo
	err := withStore(stateDir, func(s *storage.Store) error {
		recs, err := sortedRuns(s)
		if err != nil {
			return err
		}
		for _, rec := range recs {
			info, err := runInfo(s, rec)
			if err != nil {
				return err
			}
			runs = append(runs, info)
		}
		return nil
	})
	return runs, err
}

// GCOptions is the garbage collection policy of GC.
type GCOptions struct {
	// KeepLast keeps the KeepLast newest runs of each job, whatever their
	// state and age.
	KeepLast int
	// OlderThan removes only runs that ended (or, unfinished, started)
	// more than OlderThan before Now; 0 means any age.
	OlderThan time.Duration
	// Now is the current time (default time.Now()).
	Now time.Time
	// DryRun reports what would be removed and removes nothing.
	DryRun bool
}

// GC removes the runs of stateDir that the policy opts does not keep and
// returns them, newest first: every partition, commit record, event and
// the run record itself (storage.Store.DeleteRun). A run in state running
// or committing was interrupted and may be resumed: it is removed only
// when OlderThan is set and it is older than that. GC takes the state
// directory's lock without waiting, so it never races a run; Pebble
// reclaims the space in later compactions.
func GC(stateDir string, opts GCOptions) ([]RunInfo, error) {
	if opts.KeepLast < 0 || opts.OlderThan < 0 {
		return nil, fmt.Errorf("jobs: gc: keep %d and older-than %v must not be negative", opts.KeepLast, opts.OlderThan)
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	var removed []RunInfo
	err := withStore(stateDir, func(s *storage.Store) error {
		recs, err := sortedRuns(s)
		if err != nil {
			return err
		}
		for _, rec := range gcVictims(recs, opts) {
			info, err := runInfo(s, rec)
			if err != nil {
				return err
			}
			if !opts.DryRun {
				if err := s.DeleteRun(rec.ID); err != nil {
					return fmt.Errorf("jobs: gc: %w", err)
				}
			}
			removed = append(removed, info)
		}
		return nil
	})
	return removed, err
}

// gcVictims returns the runs of recs (newest first) that opts removes.
func gcVictims(recs []storage.RunRecord, opts GCOptions) []storage.RunRecord {
	var victims []storage.RunRecord
	seen := map[string]int{} // runs of each job seen so far
	for _, rec := range recs {
		seen[rec.Job]++
		if seen[rec.Job] <= opts.KeepLast {
			continue
		}
		last := rec.End
		if last.IsZero() {
			last = rec.Start
		}
		// A failed run is resumable too: only --older-than removes it.
		unfinished := rec.State.Resumable()
		old := opts.Now.Sub(last) > opts.OlderThan
		if opts.OlderThan == 0 {
			old = !unfinished
		}
		if old {
			victims = append(victims, rec)
		}
	}
	return victims
}

// withStore runs f on stateDir's store, holding the state directory's
// lock. A state directory without a store is left alone and f is not
// called.
func withStore(stateDir string, f func(*storage.Store) error) (err error) {
	if _, err := os.Stat(storeDir(stateDir)); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	unlock, err := LockStateDir(context.Background(), stateDir, 0, "")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, unlock()) }()
	s, err := storage.Open(storeDir(stateDir), storage.Options{})
	if err != nil {
		return fmt.Errorf("jobs: open store: %w", err)
	}
	defer func() { err = errors.Join(err, s.Close()) }()
	return f(s)
}

// sortedRuns returns the store's run records, newest first.
func sortedRuns(s *storage.Store) ([]storage.RunRecord, error) {
	recs, err := s.Runs()
	if err != nil {
		return nil, fmt.Errorf("jobs: list runs: %w", err)
	}
	slices.SortStableFunc(recs, func(a, b storage.RunRecord) int {
		if c := b.Start.Compare(a.Start); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	return recs, nil
}

func runInfo(s *storage.Store, rec storage.RunRecord) (RunInfo, error) {
	n, err := s.RunStoredBytes(rec.ID)
	if err != nil {
		return RunInfo{}, fmt.Errorf("jobs: run %s: %w", storage.RunIDString(rec.ID), err)
	}
	return RunInfo{
		ID: storage.RunIDString(rec.ID), Job: rec.Job, Spec: rec.Spec, Params: rec.Params,
		State: rec.State.String(), Start: rec.Start, End: rec.End, Invocations: rec.Invocations, Failovers: rec.Failovers,
		StoredBytes: n, Error: rec.Error,
	}, nil
}
