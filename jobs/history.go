package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/batchrun/batchrun/jobs/statedir"
)

// RunInfo is one run of a state directory as `batchrun runs` shows it.
type RunInfo struct {
	ID     string            `json:"id"` // statedir.IDString
	Job    string            `json:"job"`
	Spec   string            `json:"spec"`
	Params map[string]string `json:"params,omitempty"`
	// State is running, committing, succeeded, failed, superseded,
	// abandoned (its record says running or committing but its process
	// died) or damaged (its record cannot be read).
	State string `json:"state"`
	// Resumable says the next run of the job with the same work continues
	// it.
	Resumable bool      `json:"resumable"`
	Start     time.Time `json:"start"`
	// End is zero while the run is running or committing.
	End time.Time `json:"end,omitzero"`
	// Invocations counts the processes that worked on the run (resumes + 1).
	Invocations int `json:"invocations"`
	Failovers   int `json:"failovers"`
	// StoredBytes is what the run occupies on disk (its partitions mostly).
	StoredBytes int64  `json:"stored_bytes"`
	Error       string `json:"error,omitempty"`
}

// FormatBytes formats n as the run summary does: "512 B", "1.5 KiB".
func FormatBytes(n int64) string { return byteSize(n) }

// ListRuns lists the runs recorded in stateDir, newest first. It takes no
// lock and opens no store, so it works beside running jobs; a run in
// progress shows what its record last said. A state directory without
// runs has none (and is not created).
func ListRuns(stateDir string) ([]RunInfo, error) {
	sd, ok := statedir.Peek(stateDir)
	if !ok {
		return nil, nil
	}
	ents, err := sd.List()
	if err != nil {
		return nil, err
	}
	runs := make([]RunInfo, len(ents))
	for i, e := range ents {
		runs[i] = runInfo(sd, e)
	}
	return runs, nil
}

func runInfo(sd *statedir.Dir, e statedir.Entry) RunInfo {
	r := e.Rec
	info := RunInfo{
		ID: statedir.IDString(e.ID), Job: r.Job, Spec: r.Spec, Params: r.Params,
		State: r.State.String(), Resumable: r.State.Resumable(), Start: r.Start, End: r.End,
		Invocations: r.Invocations, Failovers: r.Failovers, StoredBytes: sd.DiskBytes(e.ID), Error: r.Error,
	}
	switch {
	case e.Damaged != "":
		info.State, info.Resumable, info.Error = "damaged", false, e.Damaged
	case e.Abandoned:
		info.State = "abandoned"
	}
	return info
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

// GCResult is what GC removed (newest first, StoredBytes the bytes freed)
// and the jobs whose runs it left because they were running.
type GCResult struct {
	Removed []RunInfo
	Skipped []string
}

// GC removes the runs of stateDir that the policy opts does not keep:
// each run's directory (record, events, store), so its disk space is
// freed at once. A resumable run (running, committing, failed, abandoned)
// or a damaged one is removed only when OlderThan is set and it is older
// than that. GC takes each job's lock without waiting while it removes that
// job's runs, so it never races a run of it; the runs of a job that is
// running are skipped.
func GC(stateDir string, opts GCOptions) (GCResult, error) {
	var res GCResult
	if opts.KeepLast < 0 || opts.OlderThan < 0 {
		return res, &OptionError{Err: fmt.Errorf("jobs: gc: keep %d and older-than %v must not be negative", opts.KeepLast, opts.OlderThan)}
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	sd, ok := statedir.Peek(stateDir)
	if !ok {
		return res, nil
	}
	if err := sd.RemoveLeftovers(); err != nil {
		return res, fmt.Errorf("jobs: gc: %w", err)
	}
	ents, err := sd.List()
	if err != nil {
		return res, err
	}
	byJob := map[string][]statedir.Entry{}
	var jobs []string
	for _, e := range gcVictims(ents, opts) {
		if byJob[e.Rec.Job] == nil {
			jobs = append(jobs, e.Rec.Job)
		}
		byJob[e.Rec.Job] = append(byJob[e.Rec.Job], e)
	}
	for _, job := range jobs {
		removed, skipped, err := gcJob(sd, job, byJob[job], opts.DryRun)
		res.Removed = append(res.Removed, removed...)
		if skipped {
			res.Skipped = append(res.Skipped, job)
		}
		if err != nil {
			return res, err
		}
	}
	return res, nil
}

// gcJob removes victims, runs of job, under the job's lock.
func gcJob(sd *statedir.Dir, job string, victims []statedir.Entry, dryRun bool) (removed []RunInfo, skipped bool, err error) {
	unlock, err := sd.LockJob(context.Background(), job, 0)
	if IsLocked(err) {
		return nil, true, nil
	} else if err != nil {
		return nil, false, err
	}
	defer unlock()
	for _, e := range victims {
		info := runInfo(sd, e)
		if !dryRun {
			// The run's old outputs, if its cleanup was cut short, live in
			// hidden folders next to its targets: they go with the run.
			if err := finishCleanup(sd, e); err != nil {
				return removed, false, fmt.Errorf("jobs: gc: run %s: %w", info.ID, err)
			}
			n, err := sd.Remove(e.ID)
			if err != nil {
				return removed, false, fmt.Errorf("jobs: gc: %w", err)
			}
			info.StoredBytes = n
		}
		removed = append(removed, info)
	}
	return removed, false, nil
}

// gcVictims returns the runs of ents (newest first) that opts removes.
func gcVictims(ents []statedir.Entry, opts GCOptions) []statedir.Entry {
	var victims []statedir.Entry
	seen := map[string]int{} // runs of each job seen so far
	for _, e := range ents {
		rec := e.Rec
		seen[rec.Job]++
		if seen[rec.Job] <= opts.KeepLast {
			continue
		}
		last := rec.End
		if last.IsZero() {
			last = rec.Start
		}
		if e.Damaged != "" {
			last = e.Modified
		}
		// A resumable run may be continued, and a damaged one may be
		// someone's to inspect: only --older-than removes them.
		keepUnlessOld := rec.State.Resumable() || e.Damaged != ""
		old := opts.Now.Sub(last) > opts.OlderThan
		if opts.OlderThan == 0 {
			old = !keepUnlessOld
		}
		if old {
			victims = append(victims, e)
		}
	}
	return victims
}

// RunDetail is one run as `batchrun runs show` prints it: its record, its
// last report (nil when its process died before it ended) and its event
// log.
type RunDetail struct {
	Info   RunInfo
	Report *Report
	Events []Event
}

// ShowRun finds the run of stateDir whose id starts with id (it must name
// one run) and reads its history. It takes no lock.
func ShowRun(stateDir, id string) (*RunDetail, error) {
	sd, ok := statedir.Peek(stateDir)
	if !ok {
		return nil, &RunNotFoundError{ID: id, Dir: stateDir}
	}
	ents, err := sd.List()
	if err != nil {
		return nil, err
	}
	var match []statedir.Entry
	for _, e := range ents {
		if id != "" && strings.HasPrefix(statedir.IDString(e.ID), id) {
			match = append(match, e)
		}
	}
	if id == "" && len(ents) > 0 {
		match = ents[:1] // the newest run
	}
	switch {
	case len(match) == 0:
		return nil, &RunNotFoundError{ID: id, Dir: stateDir}
	case len(match) > 1:
		return nil, &RunNotFoundError{ID: id, Dir: stateDir, Ambiguous: len(match)}
	}
	rid := match[0].ID
	d := &RunDetail{Info: runInfo(sd, match[0])}
	data, err := sd.Report(rid)
	if err != nil {
		return nil, err
	}
	if data != nil {
		d.Report = new(Report)
		if err := json.Unmarshal(data, d.Report); err != nil {
			return nil, fmt.Errorf("jobs: report of run %s: %w", d.Info.ID, err)
		}
	}
	lines, err := sd.Events(rid)
	if err != nil {
		return nil, err
	}
	for _, l := range lines {
		var ev Event
		if json.Unmarshal(l, &ev) == nil {
			d.Events = append(d.Events, ev)
		}
	}
	return d, nil
}

// RunNotFoundError says no run, or more than one, has the id asked for.
type RunNotFoundError struct {
	ID, Dir   string
	Ambiguous int
}

func (e *RunNotFoundError) Error() string {
	if e.Ambiguous > 0 {
		return fmt.Sprintf("jobs: %d runs in %s have ids starting with %q: give more of it", e.Ambiguous, e.Dir, e.ID)
	}
	if e.ID == "" {
		return fmt.Sprintf("jobs: no runs in %s", e.Dir)
	}
	return fmt.Sprintf("jobs: no run in %s has an id starting with %q (see batchrun runs)", e.Dir, e.ID)
}
