package storage

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
)

// Seeded damage to a closed store, in the style of Pebble's own tests: a
// seed picks a file by kind and damages it; the store must then either
// refuse to open (ErrUnusable) or read every partition back exactly as
// written, or fail the read of a partition with an error recovery handles
// (IsCorrupt or ErrNotFound, in a *PartitionError naming it). It must
// never panic, exit, or return wrong data. Rerun one seed with
// -storage.damage-seed N.
var (
	damageSeeds = flag.Int("storage.damage-seeds", 200, "seeds for TestDamagedStore and TestUnreadableStore")
	damageSeed  = flag.Int("storage.damage-seed", -1, "run only this seed of TestDamagedStore and TestUnreadableStore")
)

// damageOptions keeps blocks small: Pebble's report of a corrupt block
// searches it for a single flipped bit, a cost quadratic in its size.
func damageOptions(p WritePath) Options {
	return Options{WritePath: p, BlockSize: 4 << 10, SmallStreamBytes: 2 << 10, BatchBytes: 4 << 10, Logger: panicLogger{}}
}

// panicLogger makes a Pebble Fatalf a panic with its message, so that a
// test that reaches one fails with the stack that led there.
type panicLogger struct{}

func (panicLogger) Infof(string, ...any)  {}
func (panicLogger) Errorf(string, ...any) {}
func (panicLogger) Fatalf(f string, args ...any) {
	panic("storage test: Pebble called Fatalf: " + fmt.Sprintf(f, args...))
}

// storedPartition is a partition of the damage template and the states
// it may read back as after damage: each a committed attempt (nil vals:
// no commit record, for a deleted partition).
type storedPartition struct {
	ref      PartitionRef
	versions []storedVersion
}

type storedVersion struct {
	attempt uint32
	vals    [][][]byte
}

// damageVals has, per subpartition: a small stream (in the commit batch
// with WriteIngest), a large one (its own sstable), an empty one and one
// that outgrows SmallStreamBytes midway.
func damageVals(tag string) [][][]byte {
	return [][][]byte{
		{value(tag+"s0", 300), value(tag+"s1", 10)},
		{value(tag+"l0", 3<<10), value(tag+"l1", 2<<10), value(tag+"l2", 5<<10), value(tag+"l3", 1)},
		{},
		{value(tag+"m0", 1500), value(tag+"m1", 1<<10), value(tag+"m2", 700)},
	}
}

// writeDamageTemplate writes the store that each seed copies and damages,
// in two sessions so that there are several WALs and MANIFEST edits:
// WriteIngest partitions, one deleted; then WriteBatch partitions (left
// in the WAL) and a replacing attempt.
func writeDamageTemplate(t *testing.T, dir string) []storedPartition {
	ref := func(p uint32) PartitionRef { return PartitionRef{Run: 7, Edge: 1, Producer: p} }
	write := func(s *Store, p, attempt uint32) [][][]byte {
		vals := damageVals(fmt.Sprintf("p%da%d", p, attempt))
		writeAttempt(t, s, ref(p), attempt, vals)
		return vals
	}
	s, err := Open(dir, damageOptions(WriteIngest))
	if err != nil {
		t.Fatal(err)
	}
	p0a0, p1, p2 := write(s, 0, 0), write(s, 1, 0), write(s, 2, 0)
	if err := s.DeletePartition(ref(2)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(dir, damageOptions(WriteBatch)); err != nil {
		t.Fatal(err)
	}
	p0a1, p3, p4 := write(s, 0, 1), write(s, 3, 0), write(s, 4, 2)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return []storedPartition{
		{ref(0), []storedVersion{{1, p0a1}, {0, p0a0}}},
		{ref(1), []storedVersion{{0, p1}}},
		{ref(2), []storedVersion{{0, nil}, {0, p2}}},
		{ref(3), []storedVersion{{0, p3}}},
		{ref(4), []storedVersion{{2, p4}}},
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if de.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// fileKinds are the kinds of files a store holds; a seed picks one.
var fileKinds = []struct {
	name  string
	match func(string) bool
}{
	{"sstable", func(n string) bool { return strings.HasSuffix(n, ".sst") }},
	{"MANIFEST", func(n string) bool { return strings.HasPrefix(n, "MANIFEST-") }},
	{"CURRENT", func(n string) bool { return strings.HasPrefix(n, "marker.manifest.") || n == "CURRENT" }},
	{"OPTIONS", func(n string) bool { return strings.HasPrefix(n, "OPTIONS-") }},
	{"WAL", func(n string) bool { return strings.HasSuffix(n, ".log") }},
	{"format marker", func(n string) bool { return strings.HasPrefix(n, "marker.format-version.") }},
}

// pickFile returns a file of the kind kind in dir, chosen by r.
func pickFile(t *testing.T, dir string, kind int, r *rand.Rand) string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		if e.Type().IsRegular() && fileKinds[kind].match(e.Name()) {
			names = append(names, e.Name())
		}
	}
	if len(names) == 0 {
		t.Fatalf("no %s file in %s", fileKinds[kind].name, dir)
	}
	slices.Sort(names)
	return filepath.Join(dir, names[r.IntN(len(names))])
}

// damageFile damages path as r says: a byte changed, a bit flipped, the
// file truncated, a run of bytes zeroed, the file deleted; an empty file
// (a marker, whose name is its content) is deleted or renamed. It returns
// what it did.
func damageFile(t *testing.T, path string, r *rand.Rand) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	name := filepath.Base(path)
	if len(data) == 0 || r.IntN(10) == 0 {
		if r.IntN(2) == 0 {
			mustDo(t, os.Remove(path))
			return "deleted " + name
		}
		to := name[:len(name)-1] + string(rune('0'+(name[len(name)-1]-'0'+1+byte(r.IntN(8)))%10))
		mustDo(t, os.Rename(path, filepath.Join(filepath.Dir(path), to)))
		return "renamed " + name + " to " + to
	}
	off := r.IntN(len(data))
	var did string
	switch r.IntN(4) {
	case 0:
		x := byte(1 + r.IntN(255))
		data[off] ^= x
		did = fmt.Sprintf("xored byte %d of %s with %#x", off, name, x)
	case 1:
		bit := r.IntN(8)
		data[off] ^= 1 << bit
		did = fmt.Sprintf("flipped bit %d of byte %d of %s", bit, off, name)
	case 2:
		did = fmt.Sprintf("truncated %s to %d of %d bytes", name, off, len(data))
		data = data[:off]
	default:
		n := min(1+r.IntN(512), len(data)-off)
		clear(data[off : off+n])
		did = fmt.Sprintf("zeroed bytes [%d, %d) of %s", off, off+n, name)
	}
	mustDo(t, os.WriteFile(path, data, 0o644))
	return did
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// outcome counts what the seeds led to, to check that damage is seen.
type outcome struct{ unusable, exact, corrupt, notFound int }

// check fails the test if no seed made the store unusable or a read
// fail: the damage would not be reaching the store.
func (o *outcome) check(t *testing.T) {
	t.Logf("outcomes: %d unusable stores; subpartitions: %d exact, %d corrupt or unreadable, %d not found",
		o.unusable, o.exact, o.corrupt, o.notFound)
	if *damageSeed < 0 && *damageSeeds >= 50 && (o.unusable == 0 || o.corrupt == 0) {
		t.Errorf("no seed made the store unusable or a read fail: the damage is not reaching the store")
	}
}

// checkStore opens dir after damage, reads every partition back and
// regenerates them.
func checkStore(t *testing.T, dir string, opts Options, parts []storedPartition, o *outcome) {
	t.Helper()
	s, err := Open(dir, opts)
	if err != nil {
		checkUnusable(t, dir, err)
		o.unusable++
		return
	}
	defer func() {
		if err := s.Close(); err != nil {
			t.Logf("close: %v", err) // a background compaction may have met the damage
		}
	}()
	for _, p := range parts {
		checkPartition(t, s, p, o)
	}
	regenerate(t, s, parts)
}

// checkUnusable checks Open's error for a store it cannot use.
func checkUnusable(t *testing.T, dir string, err error) {
	t.Helper()
	msg := err.Error()
	if !errors.Is(err, ErrUnusable) || !strings.HasPrefix(msg, "storage: store "+dir+" is unusable (") || strings.Contains(msg, "\n") {
		t.Fatalf("Open: %q, want one line wrapping ErrUnusable and naming %s", msg, dir)
	}
	var ue *UnusableError
	if !errors.As(err, &ue) || ue.Dir != dir {
		t.Fatalf("Open: %v is not an *UnusableError for %s", err, dir)
	}
}

// checkPartition reads every subpartition of p: each must read back one
// of p's versions exactly, the same for all, or fail with an error
// recovery handles.
func checkPartition(t *testing.T, s *Store, p storedPartition, o *outcome) {
	t.Helper()
	version := -1
	// One sub past the partition's, which must not be found.
	for c := range len(damageVals("")) + 1 {
		got, attempt, err := readSub(s, p.ref, c)
		if err != nil {
			checkReadError(t, p.ref, c, err, o)
			continue
		}
		v := matchVersion(p, c, attempt, got)
		if v < 0 {
			t.Fatalf("%s sub %d read back %d values of attempt %d that were never committed there", p.ref, c, len(got), attempt)
		}
		if version >= 0 && v != version {
			t.Fatalf("%s sub %d read back version %d, another sub version %d", p.ref, c, v, version)
		}
		version = v
		o.exact++
	}
}

// readSub reads subpartition c of ref in full, with the attempt it
// followed.
func readSub(s *Store, ref PartitionRef, c int) ([][]byte, uint32, error) {
	r, err := s.OpenSubpartition(ref, c)
	if err != nil {
		return nil, 0, err
	}
	defer r.Close()
	var out [][]byte
	for {
		v, err := r.Next()
		if err == io.EOF {
			return out, r.Commit().Attempt, nil
		} else if err != nil {
			return nil, 0, err
		}
		out = append(out, slices.Clone(v))
	}
}

// matchVersion returns the version of p whose sub c is got, or -1. A sub
// past the partition's consumers matches only a version without it.
func matchVersion(p storedPartition, c int, attempt uint32, got [][]byte) int {
	for i, v := range p.versions {
		if v.vals != nil && v.attempt == attempt && c < len(v.vals) && equalValues(got, v.vals[c]) {
			return i
		}
	}
	return -1
}

func checkReadError(t *testing.T, ref PartitionRef, c int, err error, o *outcome) {
	t.Helper()
	var pe *PartitionError
	if !errors.As(err, &pe) || pe.Ref != ref {
		t.Fatalf("%s sub %d: %v, want a *PartitionError naming the partition", ref, c, err)
	}
	switch {
	case errors.Is(err, ErrNotFound):
		o.notFound++
	case IsCorrupt(err):
		o.corrupt++
	default:
		t.Fatalf("%s sub %d: %v, want IsCorrupt or ErrNotFound", ref, c, err)
	}
}

// regenerate commits a new attempt of every partition, as recovery
// would, and reads it back: a store that opened must take new data.
func regenerate(t *testing.T, s *Store, parts []storedPartition) {
	t.Helper()
	for _, p := range parts {
		vals := damageVals(fmt.Sprintf("%s-again", p.ref))
		if err := appendAndCommit(s, p.ref, 9, vals); err != nil {
			t.Fatalf("regenerate %s: %v", p.ref, err)
		}
		for c := range vals {
			if got, _, err := readSub(s, p.ref, c); err != nil || !equalValues(got, vals[c]) {
				t.Fatalf("regenerated %s sub %d: %d values, err %v", p.ref, c, len(got), err)
			}
		}
	}
}

// forEachSeed runs f for every seed (or the one -storage.damage-seed
// names) on a copy of the template store.
func forEachSeed(t *testing.T, f func(t *testing.T, seed uint64, dir string, parts []storedPartition)) {
	template := t.TempDir()
	parts := writeDamageTemplate(t, template)
	for seed := range *damageSeeds {
		if *damageSeed >= 0 && seed != *damageSeed {
			continue
		}
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "store")
			copyDir(t, template, dir)
			f(t, uint64(seed), dir, parts)
		})
	}
}

// TestDamagedStore damages one file of a closed store per seed, cycling
// through the kinds of files, and checks what Open and the reads do.
func TestDamagedStore(t *testing.T) {
	var o outcome
	forEachSeed(t, func(t *testing.T, seed uint64, dir string, parts []storedPartition) {
		r := rand.New(rand.NewPCG(seed, 0x5eed))
		kind := int(seed % uint64(len(fileKinds)))
		did := damageFile(t, pickFile(t, dir, kind, r), r)
		t.Log(did)
		// A resumed run's store must exist; half the seeds open as a new
		// run would, which must not start over the remains either.
		opts := damageOptions(WriteIngest)
		opts.MustExist = seed%4 < 2
		checkStore(t, dir, opts, parts, &o)
	})
	o.check(t)
}

// TestUnreadableStore fails reads of one kind of store file with EIO, at
// a seeded rate, while the store is opened and read (Pebble's errorfs):
// the same outcomes as damage, and never a panic.
func TestUnreadableStore(t *testing.T) {
	var o outcome
	forEachSeed(t, func(t *testing.T, seed uint64, dir string, parts []storedPartition) {
		kind := int(seed % uint64(len(fileKinds)))
		r := rand.New(rand.NewPCG(seed, 0xe10))
		var mu sync.Mutex
		rate := 0.05 + 0.5*r.Float64()
		fs := errorfs.Wrap(vfs.Default, errorfs.InjectorFunc(func(op errorfs.Op) error {
			if op.Kind != errorfs.OpFileRead && op.Kind != errorfs.OpFileReadAt && op.Kind != errorfs.OpOpen {
				return nil
			}
			if !fileKinds[kind].match(filepath.Base(op.Path)) {
				return nil
			}
			mu.Lock()
			defer mu.Unlock()
			if r.Float64() < rate {
				return syscall.EIO
			}
			return nil
		}))
		opts := damageOptions(WriteIngest)
		opts.FS, opts.MustExist = fs, true
		s, err := Open(dir, opts)
		if err != nil {
			checkUnusable(t, dir, err)
			o.unusable++
			return
		}
		for _, p := range parts {
			checkPartition(t, s, p, &o)
		}
		if err := s.Close(); err != nil {
			t.Logf("close: %v", err)
		}
	})
	o.check(t)
}
