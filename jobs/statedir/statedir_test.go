package statedir

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/batchrun/batchrun/internal/lockfile"
)

func newRec(id uint64, job string, state State) Record {
	return Record{ID: id, Job: job, State: state, Start: time.Unix(0, int64(id)), Invocations: 1}
}

// TestRunLifecycle: a run's record is readable by anyone while its owner
// works; when the owner lets go without finishing, List says abandoned;
// Resume takes it over; Remove frees exactly what it held.
func TestRunLifecycle(t *testing.T) {
	d, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	run, err := d.NewRun(newRec(100, "j", Running))
	if err != nil {
		t.Fatal(err)
	}
	if run.Rec.PID != os.Getpid() {
		t.Errorf("record pid %d, want %d", run.Rec.PID, os.Getpid())
	}
	if err := os.MkdirAll(run.StoreDir(), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(run.StoreDir(), "000001.sst"), make([]byte, 64<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	ents, err := d.List()
	if err != nil || len(ents) != 1 || ents[0].Abandoned || ents[0].Rec.State != Running {
		t.Fatalf("List while the owner works: %+v, %v", ents, err)
	}
	if n := d.DiskBytes(100); n < 64<<10 {
		t.Errorf("DiskBytes %d, want at least the store's 64 KiB", n)
	}
	if err := run.Close(); err != nil {
		t.Fatal(err)
	}
	ents, _ = d.List()
	if !ents[0].Abandoned {
		t.Fatalf("List after the owner let go of a running run: %+v, want abandoned", ents[0])
	}
	rec := ents[0].Rec
	rec.Invocations++
	run, err = d.Resume(rec)
	if err != nil {
		t.Fatal(err)
	}
	ents, _ = d.List()
	if ents[0].Abandoned || ents[0].Rec.Invocations != 2 {
		t.Fatalf("List after Resume: %+v", ents[0])
	}
	run.Rec.State = Succeeded
	if err := run.Put(); err != nil {
		t.Fatal(err)
	}
	if err := run.Close(); err != nil {
		t.Fatal(err)
	}
	ents, _ = d.List()
	if ents[0].Abandoned {
		t.Fatalf("a finished run is never abandoned: %+v", ents[0])
	}
	before, _ := DiskUsage(d.Path)
	freed, err := d.Remove(100)
	if err != nil {
		t.Fatal(err)
	}
	after, _ := DiskUsage(d.Path)
	if before-after != freed || freed < 64<<10 {
		t.Errorf("Remove freed %d; the directory shrank by %d", freed, before-after)
	}
	if ents, _ := d.List(); len(ents) != 0 {
		t.Errorf("List after Remove: %+v", ents)
	}
}

// TestEventsTornLine: a line cut short by a crash is left out.
func TestEventsTornLine(t *testing.T) {
	d, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	run, err := d.NewRun(newRec(7, "j", Running))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []string{`{"event":"a"}`, `{"event":"b"}`} {
		if err := run.AppendEvent([]byte(e), false); err != nil {
			t.Fatal(err)
		}
	}
	_ = run.Close()
	f, err := os.OpenFile(d.eventsPath(7), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteString(`{"event":"c`)
	_ = f.Close()
	lines, err := d.Events(7)
	if err != nil || len(lines) != 2 || string(lines[1]) != `{"event":"b"}` {
		t.Fatalf("Events = %q, %v", lines, err)
	}
}

// TestLockJobNames: any job name gets a lock file of its own; two jobs
// lock independently, one job excludes itself.
func TestLockJobNames(t *testing.T) {
	d, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	u1, err := d.LockJob(ctx, "a/b", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer u1()
	u2, err := d.LockJob(ctx, "a_b", 0)
	if err != nil {
		t.Fatalf("a second job: %v", err)
	}
	defer u2()
	_, err = d.LockJob(ctx, "a/b", 0)
	if !lockfile.IsLocked(err) || !strings.Contains(err.Error(), "job a/b is in use by pid") {
		t.Fatalf("the same job again: %v", err)
	}
	for _, name := range []string{"a/b", "..", ".hidden", "ok-name_1.2"} {
		if n := lockName(name); strings.ContainsAny(n, "/") || strings.HasPrefix(n, ".") {
			t.Errorf("lockName(%q) = %q", name, n)
		}
	}
}

// TestRemoveLeftovers: a removal cut short after its rename leaves a
// .removing- folder that List never shows as a run and RemoveLeftovers
// deletes; nothing else in runs/ is touched.
func TestRemoveLeftovers(t *testing.T) {
	d, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	run, err := d.NewRun(newRec(9, "j", Succeeded))
	if err != nil {
		t.Fatal(err)
	}
	_ = run.Close()
	left := filepath.Join(d.runsDir(), ".removing-"+IDString(5))
	if err := os.MkdirAll(filepath.Join(left, "store"), 0o755); err != nil {
		t.Fatal(err)
	}
	if ents, _ := d.List(); len(ents) != 1 || ents[0].ID != 9 {
		t.Fatalf("List with a leftover: %+v", ents)
	}
	if err := d.RemoveLeftovers(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(left); !os.IsNotExist(err) {
		t.Fatalf("leftover still there: %v", err)
	}
	if _, err := d.Read(9); err != nil {
		t.Fatalf("the run beside the leftover: %v", err)
	}
}
