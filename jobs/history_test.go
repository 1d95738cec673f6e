package jobs

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/batchrun/batchrun/storage"
)

// gcNow is the "now" of the GC tests.
var gcNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// historyRun is a run record of the GC tests: name is how cases refer to
// it, ago how long before gcNow it started, took how long it ran (0:
// unfinished), parts how many partitions it has committed.
type historyRun struct {
	name  string
	job   string
	state storage.RunState
	ago   time.Duration
	took  time.Duration
	parts int
}

// historyRuns, newest first: job a's a4 is a crashed run from yesterday,
// job b's b1 was killed while committing its outputs.
var historyRuns = []historyRun{
	{name: "a3", job: "a", state: storage.RunSucceeded, ago: time.Hour, took: time.Minute, parts: 1},
	{name: "b1", job: "b", state: storage.RunCommitting, ago: 2 * time.Hour, parts: 2},
	{name: "a2", job: "a", state: storage.RunFailed, ago: 3 * time.Hour, took: time.Minute, parts: 2},
	{name: "a1", job: "a", state: storage.RunSucceeded, ago: 5 * time.Hour, took: time.Minute},
	{name: "b2", job: "b", state: storage.RunSucceeded, ago: 10 * time.Hour, took: time.Minute},
	{name: "a4", job: "a", state: storage.RunRunning, ago: 30 * time.Hour, parts: 1},
	{name: "b3", job: "b", state: storage.RunAbandoned, ago: 50 * time.Hour, took: time.Hour, parts: 1},
}

// writeHistory fills a store in stateDir with historyRuns and returns the
// name of each run id (as RunInfo.ID spells it) and each run's stored bytes.
func writeHistory(t *testing.T, stateDir string) (names map[string]string, stored map[string]int64) {
	t.Helper()
	s, err := storage.Open(storeDir(stateDir), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	names, stored = map[string]string{}, map[string]int64{}
	for i, r := range historyRuns {
		id := uint64(len(historyRuns) - i) // ids grow with the start time
		rec := storage.RunRecord{ID: id, Job: r.job, Spec: r.job + ".yaml", Digest: "d-" + r.name,
			Params: map[string]string{"date": "2026-11-25"}, State: r.state, Start: gcNow.Add(-r.ago),
			Invocations: 1, Failovers: i % 2}
		if r.took > 0 {
			rec.End = rec.Start.Add(r.took)
		}
		if err := s.PutRun(rec); err != nil {
			t.Fatal(err)
		}
		for p := range r.parts {
			stored[r.name] += commitPartition(t, s, storage.PartitionRef{Run: id, Edge: 0, Producer: uint32(p)}, r.name)
		}
		names[storage.RunIDString(id)] = r.name
	}
	return names, stored
}

// commitPartition commits one partition of two subpartitions under ref
// and returns its stored bytes.
func commitPartition(t *testing.T, s *storage.Store, ref storage.PartitionRef, tag string) int64 {
	t.Helper()
	w := s.NewPartitionWriter(ref, 0, 2)
	defer w.Discard()
	for c := range 2 {
		if err := w.Append(c, 3, []byte(strings.Repeat(tag, 10+c))); err != nil {
			t.Fatal(err)
		}
	}
	var n int64
	for _, rec := range w.Stats() {
		n += rec.Bytes
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	return n
}

// runNames returns the names of runs.
func runNames(names map[string]string, runs []RunInfo) string {
	var out []string
	for _, r := range runs {
		out = append(out, names[r.ID])
	}
	return strings.Join(out, " ")
}

func TestListRuns(t *testing.T) {
	stateDir := t.TempDir()
	names, stored := writeHistory(t, stateDir)
	runs, err := ListRuns(stateDir)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := runNames(names, runs), "a3 b1 a2 a1 b2 a4 b3"; got != want {
		t.Errorf("ListRuns = %s, want %s (newest first)", got, want)
	}
	for i, r := range runs {
		h := historyRuns[i]
		if r.StoredBytes != stored[h.name] || (h.parts > 0) != (r.StoredBytes > 0) {
			t.Errorf("run %s: StoredBytes = %d, want %d", h.name, r.StoredBytes, stored[h.name])
		}
		if r.State != h.state.String() || r.Job != h.job || r.Spec != h.job+".yaml" || r.Params["date"] != "2026-11-25" ||
			!r.Start.Equal(gcNow.Add(-h.ago)) || r.End.IsZero() != (h.took == 0) || r.Failovers != i%2 || r.Invocations != 1 {
			t.Errorf("run %s: ListRuns gave %+v, want %+v", h.name, r, h)
		}
	}
}

func TestListRunsNoStore(t *testing.T) {
	stateDir := filepath.Join(t.TempDir(), "none")
	runs, err := ListRuns(stateDir)
	if err != nil || len(runs) != 0 {
		t.Errorf("ListRuns of a missing state directory = %v, %v; want nothing", runs, err)
	}
	removed, err := GC(stateDir, GCOptions{})
	if err != nil || len(removed) != 0 {
		t.Errorf("GC of a missing state directory = %v, %v; want nothing", removed, err)
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
		// Every finished run goes; the interrupted a4 and b1 may be resumed.
		// a2 failed: it may still be resumed, so only --older-than removes it.
		{"all finished", GCOptions{}, "a3 a1 b2 b3", "b1 a2 a4"},
		{"keep 1", GCOptions{KeepLast: 1}, "a1 b2 b3", "a3 b1 a2 a4"},
		// Older than a day: a4 crashed 30h ago and is no longer protected.
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
			names, stored := writeHistory(t, stateDir)
			tc.opts.Now = gcNow
			removed, err := GC(stateDir, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := runNames(names, removed); got != tc.removed {
				t.Errorf("GC(%+v) removed %q, want %q", tc.opts, got, tc.removed)
			}
			for _, r := range removed {
				if r.StoredBytes != stored[names[r.ID]] {
					t.Errorf("GC reported run %s with %d stored bytes, want %d", names[r.ID], r.StoredBytes, stored[names[r.ID]])
				}
			}
			left, err := ListRuns(stateDir)
			if err != nil {
				t.Fatal(err)
			}
			if got := runNames(names, left); got != tc.left {
				t.Errorf("after GC(%+v), runs = %q, want %q", tc.opts, got, tc.left)
			}
			if !tc.opts.DryRun {
				checkNoData(t, stateDir, removed)
			}
		})
	}
}

// checkNoData checks that nothing of runs is left in the store: no run
// record, no committed partition.
func checkNoData(t *testing.T, stateDir string, runs []RunInfo) {
	t.Helper()
	s, err := storage.Open(storeDir(stateDir), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, r := range runs {
		id, err := strconv.ParseUint(r.ID, 16, 64)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Run(id); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("run %s: Run after GC: %v, want ErrNotFound", r.ID, err)
		}
		if n, err := s.RunStoredBytes(id); err != nil || n != 0 {
			t.Errorf("run %s: RunStoredBytes after GC = %d, %v; want 0", r.ID, n, err)
		}
	}
}

func TestGCOptionsInvalid(t *testing.T) {
	for _, opts := range []GCOptions{{KeepLast: -1}, {OlderThan: -time.Hour}} {
		if _, err := GC(t.TempDir(), opts); err == nil || !strings.HasPrefix(err.Error(), "jobs: gc: ") {
			t.Errorf("GC(%+v) = %v, want a jobs: gc: error", opts, err)
		}
	}
}

// TestHistoryLocked: GC and ListRuns refuse a state directory another run
// holds, and remove nothing.
func TestHistoryLocked(t *testing.T) {
	stateDir := t.TempDir()
	names, _ := writeHistory(t, stateDir)
	unlock, err := LockStateDir(context.Background(), stateDir, 0, "revenue")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := GC(stateDir, GCOptions{Now: gcNow}); !IsLocked(err) {
		t.Errorf("GC of a locked state directory: err = %v, want a LockedError", err)
	}
	if _, err := ListRuns(stateDir); !IsLocked(err) {
		t.Errorf("ListRuns of a locked state directory: err = %v, want a LockedError", err)
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	runs, err := ListRuns(stateDir)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := runNames(names, runs), "a3 b1 a2 a1 b2 a4 b3"; got != want {
		t.Errorf("after a refused GC, runs = %q, want %q", got, want)
	}
}
