package commit

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/batchrun/batchrun/internal/osfs"
	"github.com/batchrun/batchrun/internal/osfs/osfstest"
)

// scene is a folder with four outputs to commit over what is there: a
// file over an old file, a directory over batchrun's old directory, a new
// file where nothing was, and a directory over an empty directory.
type scene struct {
	t    *testing.T
	dir  string
	outs []Output
	old  map[string]string // target name -> content before ("" absent)
	new  map[string]string // target name -> content after
}

func newScene(t *testing.T) *scene {
	dir := t.TempDir()
	s := &scene{t: t, dir: dir, old: map[string]string{}, new: map[string]string{}}
	staging := filepath.Join(dir, ".batchrun-staging-r1")
	// a.csv: a file over a file.
	s.file("a.csv", "old a\n")
	s.file(".batchrun-staging-r1/a/part-00000.csv", "new a\n")
	s.add("a", "a.csv", File, filepath.Join(staging, "a", "part-00000.csv"))
	// d: a directory over batchrun's directory.
	s.file("d/part-00000.csv", "old d0\n")
	s.writeManifest("d", "part-00000.csv")
	s.file(".batchrun-staging-r1/d/part-00000.csv", "new d0\n")
	s.file(".batchrun-staging-r1/d/part-00001.csv", "new d1\n")
	s.add("d", "d", Dir, filepath.Join(staging, "d"))
	// b.csv: a new file.
	s.file(".batchrun-staging-r1/b/part-00000.csv", "new b\n")
	s.add("b", "b.csv", File, filepath.Join(staging, "b", "part-00000.csv"))
	// e: a directory over an empty directory.
	must(t, os.MkdirAll(filepath.Join(dir, "e"), 0o755))
	s.file(".batchrun-staging-r1/e/part-00000.csv", "new e0\n")
	s.add("e", "e", Dir, filepath.Join(staging, "e"))
	for _, o := range s.outs {
		s.old[o.Name] = s.snapshot(o.Target)
	}
	s.new = map[string]string{"a": "new a\n", "b": "new b\n",
		"d": "_BATCHRUN part-00000.csv=new d0\npart-00001.csv=new d1\n",
		"e": "_BATCHRUN part-00000.csv=new e0\n"}
	return s
}

func (s *scene) file(name, content string) {
	p := filepath.Join(s.dir, name)
	must(s.t, os.MkdirAll(filepath.Dir(p), 0o755))
	must(s.t, os.WriteFile(p, []byte(content), 0o644))
}

func (s *scene) writeManifest(dir string, files ...string) {
	data, _ := json.Marshal(Manifest{Version: manifestVersion, Job: "j", Run: "r0", Output: dir, Files: files})
	s.file(filepath.Join(dir, ManifestName), string(data))
}

func (s *scene) add(name, target string, kind Kind, staged string) {
	s.outs = append(s.outs, Output{Name: name, Target: filepath.Join(s.dir, target), Kind: kind, Staged: staged})
}

// snapshot is what is at p: "" when nothing, a file's content, or a
// directory's "name=content" lines (the manifest by name only).
func (s *scene) snapshot(p string) string {
	fi, err := os.Stat(p)
	if errors.Is(err, os.ErrNotExist) {
		return ""
	}
	must(s.t, err)
	if !fi.IsDir() {
		data, err := os.ReadFile(p)
		must(s.t, err)
		return string(data)
	}
	ents, err := os.ReadDir(p)
	must(s.t, err)
	var b strings.Builder
	for _, e := range ents {
		if e.Name() == ManifestName {
			b.WriteString(ManifestName + " ")
			continue
		}
		data, err := os.ReadFile(filepath.Join(p, e.Name()))
		must(s.t, err)
		fmt.Fprintf(&b, "%s=%s", e.Name(), data)
	}
	if b.Len() == 0 {
		return "(empty dir)"
	}
	return b.String()
}

// state returns "old", "new" or "missing" for each output, failing the
// test on anything else (a partial output).
func (s *scene) state() map[string]string {
	got := map[string]string{}
	for _, o := range s.outs {
		if o.Kind == Stream {
			continue // written through, checked by its reader
		}
		switch now := s.snapshot(o.Target); now {
		case s.old[o.Name]:
			got[o.Name] = "old"
		case s.new[o.Name]:
			got[o.Name] = "new"
		case "":
			got[o.Name] = "missing"
		default:
			s.t.Fatalf("output %s is neither old nor new: %q", o.Name, now)
		}
	}
	return got
}

func (s *scene) logPath() string { return filepath.Join(s.dir, "log.json") }

// logTo is the LogFunc: the plan, replaced atomically through fsys.
func (s *scene) logTo(fsys osfs.FS) LogFunc {
	return func(p *Plan) error {
		data, err := json.Marshal(p)
		if err != nil {
			return err
		}
		return osfs.WriteFileAtomic(fsys, s.logPath(), data, s.dir)
	}
}

// logged reads the durable plan; nil when none was written.
func (s *scene) logged() *Plan {
	data, err := os.ReadFile(s.logPath())
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	must(s.t, err)
	var p Plan
	must(s.t, json.Unmarshal(data, &p))
	return &p
}

// commit is what a run does: prepare, log the plan, apply.
func (s *scene) commit(fsys osfs.FS) error {
	p, err := Prepare(fsys, s.outs, "j", "r1", nil)
	if err != nil {
		return err
	}
	if err := s.logTo(fsys)(p); err != nil {
		return err
	}
	if err := Apply(fsys, p, s.logTo(fsys), io.Discard); err != nil {
		return err
	}
	return Cleanup(fsys, p, s.logTo(fsys))
}

// recover is what the next run does: recover a logged plan, then commit
// again if it was rolled back.
func (s *scene) recover() {
	if p := s.logged(); p != nil {
		committed, err := Recover(osfs.Default, p, s.logTo(osfs.Default))
		must(s.t, err)
		if committed {
			return
		}
	}
	must(s.t, s.commit(osfs.Default))
}

func all(m map[string]string, want string) bool {
	for _, v := range m {
		if v != want {
			return false
		}
	}
	return true
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// cleanSteps counts the mutating steps of a commit without faults.
func cleanSteps(t *testing.T, noExchange bool) int {
	s := newScene(t)
	f := &osfstest.Faulty{FS: osfs.Default, NoExchange: noExchange}
	must(t, s.commit(f))
	if st := s.state(); !all(st, "new") {
		t.Fatalf("clean commit: %v", st)
	}
	return len(f.Steps())
}

// TestCommitFaultAtEveryStep fails each step of the protocol in turn (each
// write, fsync, rename, exchange and removal, the log's included), once as
// an I/O error the process survives and once as a crash, with and without
// atomic exchange. After an error the old outputs are in place, whole,
// unless the error says the commit is incomplete. After a crash each
// output is old or new, whole (or, without exchange, missing between its
// two renames), and a durable commit point means every output is new.
// Then the next run recovers, and every output is new with a log that
// says committed.
func TestCommitFaultAtEveryStep(t *testing.T) {
	for _, noExchange := range []bool{false, true} {
		n := cleanSteps(t, noExchange)
		if n < 20 {
			t.Fatalf("a clean commit has only %d steps", n)
		}
		for _, crash := range []bool{false, true} {
			for k := 1; k <= n; k++ {
				name := fmt.Sprintf("noexchange=%v/crash=%v/step=%d", noExchange, crash, k)
				t.Run(name, func(t *testing.T) { faultAt(t, k, crash, noExchange) })
			}
		}
	}
}

func faultAt(t *testing.T, k int, crash, noExchange bool) {
	s := newScene(t)
	f := &osfstest.Faulty{FS: osfs.Default, FailAt: k, Crash: crash, NoExchange: noExchange}
	err := s.commit(f)
	if err == nil {
		t.Fatalf("no error with a fault at step %d (%s)", k, f.Failed())
	}
	st := s.state()
	committed := s.logged() != nil && s.logged().Committed
	switch {
	case committed:
		if !all(st, "new") {
			t.Fatalf("the log says committed but outputs are %v (fault at %s)", st, f.Failed())
		}
	case !crash && !errors.Is(err, ErrIncomplete) && !all(st, "old"):
		t.Fatalf("after %v, outputs are %v, want all old", err, st)
	case !noExchange:
		for name, v := range st {
			if v == "missing" && s.old[name] != "" {
				t.Fatalf("output %s is missing with atomic exchange (fault at %s)", name, f.Failed())
			}
		}
	}
	s.recover()
	if st := s.state(); !all(st, "new") {
		t.Fatalf("after recovery outputs are %v", st)
	}
	if p := s.logged(); p == nil || !p.Committed || !p.Cleaned {
		t.Fatalf("after recovery the log is %+v", p)
	}
	for _, e := range s.logged().Entries {
		if ok, _ := osfs.Exists(osfs.Default, e.Backup); ok {
			t.Fatalf("backup %s left behind", e.Backup)
		}
	}
}

// TestRollbackIsReentrant crashes a rollback at each of its steps and
// rolls back again: the old outputs come back whole.
func TestRollbackIsReentrant(t *testing.T) {
	for _, noExchange := range []bool{false, true} {
		for k := 1; ; k++ {
			s := newScene(t)
			fs0 := &osfstest.Faulty{FS: osfs.Default, NoExchange: noExchange}
			p, err := Prepare(fs0, s.outs, "j", "r1", nil)
			must(t, err)
			for i := range p.Entries {
				must(t, swap(fs0, &p.Entries[i]))
			}
			f := &osfstest.Faulty{FS: osfs.Default, FailAt: k, Crash: true, NoExchange: noExchange}
			if Rollback(f, p) == nil {
				if st := s.state(); !all(st, "old") {
					t.Fatalf("rollback: %v", st)
				}
				break // k is past the last step
			}
			must(t, Rollback(osfs.Default, p))
			if st := s.state(); !all(st, "old") {
				t.Fatalf("noexchange=%v: rollback crashed at step %d, then rolled back: %v", noExchange, k, st)
			}
		}
	}
}

// TestStreamFailsFirst: a stream that cannot be written fails the commit
// before any output is swapped, and its record says it was not written;
// once it can be written, the next commit writes it and swaps the rest.
func TestStreamFailsFirst(t *testing.T) {
	s := newScene(t)
	staged := filepath.Join(s.dir, "stream-staged.csv")
	s.file("stream-staged.csv", "streamed\n")
	sink := filepath.Join(s.dir, "sink", "out") // its folder is missing: open fails
	s.outs = append([]Output{{Name: "stream", Target: sink, Kind: Stream, Staged: staged}}, s.outs...)
	err := s.commit(osfs.Default)
	if err == nil || !strings.Contains(err.Error(), "output stream") {
		t.Fatalf("commit with an unwritable stream: %v", err)
	}
	if st := s.state(); !all(st, "old") {
		t.Fatalf("outputs after the stream failed: %v, want all old", st)
	}
	if p := s.logged(); p == nil || p.Committed || p.Entries[0].Done {
		t.Fatalf("log after the stream failed: %+v", p)
	}
	must(t, os.MkdirAll(filepath.Dir(sink), 0o755))
	must(t, syscall.Mkfifo(sink, 0o644))
	got := make(chan string)
	go func() {
		data, _ := os.ReadFile(sink) // the reader at the FIFO's other end
		got <- string(data)
	}()
	s.recover()
	if st := s.state(); !all(st, "new") {
		t.Fatalf("after the rerun: %v", st)
	}
	if g := <-got; g != "streamed\n" {
		t.Fatalf("stream got %q", g)
	}
}
