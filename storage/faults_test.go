package storage

import (
	"bufio"
	"errors"
	"math/rand/v2"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
)

// readRules reads the non-comment lines of a testdata file.
func readRules(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rules []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			rules = append(rules, l)
		}
	}
	return rules
}

// TestWriteFaults injects a file system error while an attempt is written
// and committed, and checks that it surfaces as an error, that nothing of
// the attempt is visible, and that Discard cleans up so that a new attempt
// commits.
func TestWriteFaults(t *testing.T) {
	for _, rule := range readRules(t, "testdata/faults") {
		t.Run(rule, func(t *testing.T) {
			inj, err := errorfs.ParseDSL(rule)
			if err != nil {
				t.Fatal(err)
			}
			var armed atomic.Bool
			fs := errorfs.Wrap(vfs.NewMem(), errorfs.InjectorFunc(func(op errorfs.Op) error {
				if !armed.Load() {
					return nil
				}
				return inj.MaybeError(op)
			}))
			s := openMem(t, Options{FS: fs, SmallStreamBytes: 64 << 10})
			ref := PartitionRef{Run: 1, Edge: 3, Producer: 2}
			vals := testValues("f")
			armed.Store(true)
			err = appendAndCommit(s, ref, 0, vals)
			armed.Store(false)
			if err == nil || !strings.Contains(err.Error(), "injected error") || !strings.HasPrefix(err.Error(), "storage: ") {
				t.Fatalf("write with %s: err = %v, want the injected error", rule, err)
			}
			for c := range vals {
				if _, err := s.OpenSubpartition(ref, c); !errors.Is(err, ErrNotFound) {
					t.Errorf("sub %d after the failed attempt: %v, want ErrNotFound", c, err)
				}
			}
			if got := dataAttempts(t, s, ref); got != "" {
				t.Errorf("data left: attempts %q", got)
			}
			if files := tmpFiles(t, s); len(files) != 0 {
				t.Errorf("temporary files left: %v", files)
			}
			writeAttempt(t, s, ref, 1, vals)
			checkEqual(t, s, ref, vals)
		})
	}
}

// appendAndCommit writes one attempt and discards it on any error.
func appendAndCommit(s *Store, ref PartitionRef, attempt uint32, vals [][][]byte) error {
	w := s.NewPartitionWriter(ref, attempt, len(vals))
	defer w.Discard()
	for c := range vals {
		for _, v := range vals[c] {
			if err := w.Append(c, int64(len(v)), v); err != nil {
				return err
			}
		}
	}
	return w.Commit()
}

// TestCrash kills the store (a crash clone keeps only synced data) after
// one partition committed and while another was being written: the
// committed one must read back intact, the other must be invisible.
func TestCrash(t *testing.T) {
	for _, p := range writePaths {
		t.Run(p.String(), func(t *testing.T) {
			mem := vfs.NewCrashableMem()
			s, err := Open("/store", Options{FS: mem, WritePath: p, SmallStreamBytes: 64 << 10})
			if err != nil {
				t.Fatal(err)
			}
			done, open := PartitionRef{Run: 1, Edge: 0, Producer: 0}, PartitionRef{Run: 1, Edge: 0, Producer: 1}
			writeAttempt(t, s, done, 0, testValues("done"))
			w := s.NewPartitionWriter(open, 0, 2)
			for i := 0; i < 30; i++ {
				if err := w.Append(i%2, 1, value("open", 200<<10)); err != nil {
					t.Fatal(err)
				}
			}
			rng := rand.New(rand.NewPCG(1, 2))
			for i, pct := range []int{0, 50, 100} {
				clone := mem.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: pct, RNG: rng})
				s2, err := Open("/store", Options{FS: clone})
				if err != nil {
					t.Fatalf("clone %d: reopen: %v", i, err)
				}
				checkEqual(t, s2, done, testValues("done"))
				if _, err := s2.OpenSubpartition(open, 0); !errors.Is(err, ErrNotFound) {
					t.Errorf("clone %d: uncommitted partition: %v, want ErrNotFound", i, err)
				}
				if files := tmpFiles(t, s2); len(files) != 0 {
					t.Errorf("clone %d: temporary files not cleared: %v", i, files)
				}
				s2.Close()
			}
			w.Discard()
			s.Close()
		})
	}
}
