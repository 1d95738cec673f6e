package jobs

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/batchrun/batchrun/jobs/statedir"
)

// gcNow is the "now" of the GC tests.
var gcNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// historyRun is a run of the history tests: name is how cases refer to
// it, ago how long before gcNow it started, took how long it ran (0:
// unfinished), storeBytes what its store holds, live whether its process
// is still working on it.
type historyRun struct {
	name       string
	job        string
	state      statedir.State
	ago        time.Duration
	took       time.Duration
	storeBytes int
	live       bool
}

// historyRuns, newest first: job a's a4 is a run killed yesterday (its
// record says running, nobody holds it: abandoned); job b's b1 is
// committing right now in a live process.
var historyRuns = []historyRun{
	{name: "a3", job: "a", state: statedir.Succeeded, ago: time.Hour, took: time.Minute},
	{name: "b1", job: "b", state: statedir.Committing, ago: 2 * time.Hour, storeBytes: 20 << 10, live: true},
	{name: "a2", job: "a", state: statedir.Failed, ago: 3 * time.Hour, took: time.Minute, storeBytes: 30 << 10},
	{name: "a1", job: "a", state: statedir.Succeeded, ago: 5 * time.Hour, took: time.Minute},
	{name: "b2", job: "b", state: statedir.Succeeded, ago: 10 * time.Hour, took: time.Minute},
	{name: "a4", job: "a", state: statedir.Running, ago: 30 * time.Hour, storeBytes: 10 << 10},
	{name: "b3", job: "b", state: statedir.Superseded, ago: 50 * time.Hour, took: time.Hour},
}

// writeHistory fills stateDir with historyRuns and returns the name of
// each run id (as RunInfo.ID spells it). Live runs stay open until the
// test ends.
func writeHistory(t *testing.T, stateDir string) (names map[string]string) {
	t.Helper()
	sd, err := statedir.Open(stateDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	names = map[string]string{}
	for i, r := range historyRuns {
		id := uint64(gcNow.Add(-r.ago).UnixNano()) // ids are start times
		rec := statedir.Record{ID: id, Job: r.job, Spec: r.job + ".yaml", Digest: "d-" + r.name,
			Params: map[string]string{"date": "2026-11-25"}, State: r.state, Start: gcNow.Add(-r.ago),
			Invocations: 1, Failovers: i % 2}
		if r.took > 0 {
			rec.End = rec.Start.Add(r.took)
		}
		run, err := sd.NewRun(rec)
		if err != nil {
			t.Fatal(err)
		}
		if r.storeBytes > 0 {
			mustWrite(t, filepath.Join(run.StoreDir(), "000001.sst"), strings.Repeat("x", r.storeBytes))
		}
		if r.live {
			t.Cleanup(func() { _ = run.Close() })
		} else if err := run.Close(); err != nil {
			t.Fatal(err)
		}
		names[statedir.IDString(id)] = r.name
	}
	return names
}

func mustWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// runNames returns the names of runs.
func runNames(names map[string]string, runs []RunInfo) string {
	var out []string
	for _, r := range runs {
		out = append(out, names[r.ID])
	}
	return strings.Join(out, " ")
}

// TestListRuns: every run, newest first, as its record says, except that a
// running run whose process died is abandoned; sizes are what is on disk.
func TestListRuns(t *testing.T) {
	stateDir := t.TempDir()
	names := writeHistory(t, stateDir)
	runs, err := ListRuns(stateDir)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := runNames(names, runs), "a3 b1 a2 a1 b2 a4 b3"; got != want {
		t.Errorf("ListRuns = %s, want %s (newest first)", got, want)
	}
	for i, r := range runs {
		h := historyRuns[i]
		state := h.state.String()
		if h.name == "a4" {
			state = "abandoned"
		}
		if r.State != state || r.Resumable != h.state.Resumable() || r.Job != h.job || r.Spec != h.job+".yaml" ||
			r.Params["date"] != "2026-11-25" || !r.Start.Equal(gcNow.Add(-h.ago)) || r.End.IsZero() != (h.took == 0) ||
			r.Failovers != i%2 || r.Invocations != 1 {
			t.Errorf("run %s: ListRuns gave %+v, want state %s and %+v", h.name, r, state, h)
		}
		if r.StoredBytes < int64(h.storeBytes) || r.StoredBytes > int64(h.storeBytes)+64<<10 {
			t.Errorf("run %s: StoredBytes = %d, want its store (%d) and a few small files", h.name, r.StoredBytes, h.storeBytes)
		}
	}
}

// TestListRunsDamaged: a record that cannot be read is listed as damaged,
// not resumable, and does not hide the other runs.
func TestListRunsDamaged(t *testing.T) {
	stateDir := t.TempDir()
	names := writeHistory(t, stateDir)
	a2 := uint64(gcNow.Add(-historyRuns[2].ago).UnixNano())
	mustWrite(t, filepath.Join(stateDir, "runs", statedir.IDString(a2), "run.json"), "{not json")
	runs, err := ListRuns(stateDir)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := runNames(names, runs), "a3 b1 a2 a1 b2 a4 b3"; got != want {
		t.Errorf("ListRuns = %s, want %s", got, want)
	}
	i := slices.IndexFunc(runs, func(r RunInfo) bool { return names[r.ID] == "a2" })
	if r := runs[i]; r.State != "damaged" || r.Resumable || !strings.Contains(r.Error, "damaged record") {
		t.Errorf("damaged run a2 listed as %+v", r)
	}
}

func TestListRunsNoStateDir(t *testing.T) {
	stateDir := filepath.Join(t.TempDir(), "none")
	runs, err := ListRuns(stateDir)
	if err != nil || len(runs) != 0 {
		t.Errorf("ListRuns of a missing state directory = %v, %v; want nothing", runs, err)
	}
	res, err := GC(stateDir, GCOptions{})
	if err != nil || len(res.Removed) != 0 {
		t.Errorf("GC of a missing state directory = %v, %v; want nothing", res, err)
	}
	if _, err := os.Stat(stateDir); !os.IsNotExist(err) {
		t.Errorf("ListRuns and GC created %s (stat: %v)", stateDir, err)
	}
}

func TestGC(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opts    GCOptions
		removed string // newest first
		left    string // what is left, newest first
	}{
		// Every finished run goes; the killed a4, the committing b1 and the
		// failed a2 may be resumed, so only --older-than removes them.
		{"all finished", GCOptions{}, "a3 a1 b2 b3", "b1 a2 a4"},
		{"keep 1", GCOptions{KeepLast: 1}, "a1 b2 b3", "a3 b1 a2 a4"},
		// Older than a day: a4 was killed 30h ago and is no longer protected.
		{"older than 24h", GCOptions{OlderThan: 24 * time.Hour}, "a4 b3", "a3 b1 a2 a1 b2"},
		// a1 ended 4h59m ago; a2 2h59m ago.
		{"keep 2 older than 4h", GCOptions{KeepLast: 2, OlderThan: 4 * time.Hour}, "a1 a4 b3", "a3 b1 a2 b2"},
		{"keep 3 older than 4h", GCOptions{KeepLast: 3, OlderThan: 4 * time.Hour}, "a4", "a3 b1 a2 a1 b2 b3"},
		{"keep 10", GCOptions{KeepLast: 10}, "", "a3 b1 a2 a1 b2 a4 b3"},
		{"older than 100h", GCOptions{OlderThan: 100 * time.Hour}, "", "a3 b1 a2 a1 b2 a4 b3"},
		{"dry run", GCOptions{DryRun: true}, "a3 a1 b2 b3", "a3 b1 a2 a1 b2 a4 b3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stateDir := t.TempDir()
			names := writeHistory(t, stateDir)
			before := diskBytes(t, stateDir)
			tc.opts.Now = gcNow
			res, err := GC(stateDir, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := runNames(names, res.Removed); got != tc.removed {
				t.Errorf("GC(%+v) removed %q, want %q", tc.opts, got, tc.removed)
			}
			left, err := ListRuns(stateDir)
			if err != nil {
				t.Fatal(err)
			}
			if got := runNames(names, left); got != tc.left {
				t.Errorf("after GC(%+v), runs = %q, want %q", tc.opts, got, tc.left)
			}
			// What GC says it freed is what left the disk.
			var freed int64
			for _, r := range res.Removed {
				freed += r.StoredBytes
			}
			if after := diskBytes(t, stateDir); !tc.opts.DryRun && before-after != freed {
				t.Errorf("GC reported %d bytes freed; the state directory shrank by %d", freed, before-after)
			}
		})
	}
}

func diskBytes(t *testing.T, dir string) int64 {
	n, err := statedir.DiskUsage(filepath.Join(dir, "runs"))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestGCOptionsInvalid(t *testing.T) {
	for _, opts := range []GCOptions{{KeepLast: -1}, {OlderThan: -time.Hour}} {
		if _, err := GC(t.TempDir(), opts); err == nil || !strings.HasPrefix(err.Error(), "jobs: gc: ") {
			t.Errorf("GC(%+v) = %v, want a jobs: gc: error", opts, err)
		}
	}
}

// TestGCSkipsRunningJob: GC leaves every run of a job that is running (its
// lock is held) and removes the other jobs' runs; ListRuns works beside it.
func TestGCSkipsRunningJob(t *testing.T) {
	stateDir := t.TempDir()
	names := writeHistory(t, stateDir)
	sd, err := statedir.Open(stateDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	unlock, err := sd.LockJob(context.Background(), "a", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	res, err := GC(stateDir, GCOptions{Now: gcNow})
	if err != nil {
		t.Fatal(err)
	}
	if got := runNames(names, res.Removed); got != "b2 b3" || !slices.Equal(res.Skipped, []string{"a"}) {
		t.Errorf("GC beside a running job a removed %q and skipped %v; want b2 b3, and a skipped", got, res.Skipped)
	}
	runs, err := ListRuns(stateDir)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := runNames(names, runs), "a3 b1 a2 a1 a4"; got != want {
		t.Errorf("runs = %q, want %q", got, want)
	}
}
