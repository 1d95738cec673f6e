package integration

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/batchrun/batchrun/jobs"
	"github.com/batchrun/batchrun/storage"
)

var corruptSeeds = flag.Int("corrupt.seeds", 60, "seeds for TestCorruptStoreResumes")

// corruptJob hashes rows across two subtasks and aggregates them, so
// that its store holds blocking partitions of several subpartitions.
const corruptJob = `name: corrupt
parallelism: 2
steps:
  - id: src
    read: {path: in.csv, schema: ["k int64", "pad string"]}
  - id: spread
    repartition: {by: hash, keys: [k]}
    input: src
  - id: agg
    aggregate: {by: [k], compute: ["count(*) AS n", "max(pad) AS top"]}
    input: spread
  - id: out
    sort: [k]
    input: agg
  - id: write
    write: {path: out.csv}
    input: out
    parallelism: 1
`

// writeCorruptInput writes rows of random padding (incompressible).
func writeCorruptInput(t *testing.T, path string) {
	r := rand.New(rand.NewPCG(1, 2))
	var b bytes.Buffer
	b.WriteString("k,pad\n")
	const letters = "abcdefghijklmnopqrstuvwxyz0123456789"
	pad := make([]byte, 40)
	for i := range 4000 {
		for j := range pad {
			pad[j] = letters[r.IntN(len(letters))]
		}
		fmt.Fprintf(&b, "%d,%s\n", i%300, pad)
	}
	writeFile(t, path, b.String())
}

// damage picks a store file by seed, cycling through the kinds of files
// Pebble keeps (sstables, the MANIFEST, the WAL, OPTIONS, markers), and
// damages it: bytes flipped, the file truncated, a block zeroed or the
// file deleted. It returns what it did.
func damage(t *testing.T, store string, seed uint64) string {
	r := rand.New(rand.NewPCG(seed, 99))
	ents, err := os.ReadDir(store)
	if err != nil {
		t.Fatal(err)
	}
	kinds := []string{".sst", "MANIFEST-", ".log", "OPTIONS-", "marker."}
	kind := kinds[seed%uint64(len(kinds))]
	var files []string
	for _, e := range ents {
		if strings.Contains(e.Name(), kind) && e.Type().IsRegular() {
			files = append(files, filepath.Join(store, e.Name()))
		}
	}
	if len(files) == 0 {
		return "no " + kind + " file"
	}
	slices.Sort(files)
	f := files[r.IntN(len(files))]
	data, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	op := r.IntN(4)
	switch {
	case op == 3 || len(data) == 0:
		err = os.Remove(f)
		return "deleted " + filepath.Base(f) + "; " + fmt.Sprint(err)
	case op == 0:
		for range 1 + r.IntN(8) {
			data[r.IntN(len(data))] ^= byte(1 + r.IntN(255))
		}
	case op == 1:
		data = data[:r.IntN(len(data))]
	case op == 2:
		at := r.IntN(len(data))
		clear(data[at:min(len(data), at+4096)])
	}
	if err := os.WriteFile(f, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("op %d on %s (%d bytes)", op, filepath.Base(f), len(data))
}

// corruptRun runs corruptJob in dir; every subpartition stream is an
// sstable of its own (SmallStreamBytes 1), so that every kind of store
// file holds partition data or its commit records.
func corruptRun(t *testing.T, dir string, fresh bool, faults ...string) (*jobs.Report, error) {
	l, err := jobs.LoadFile(filepath.Join(dir, "job.yaml"), jobs.FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return l.Run(context.Background(), jobs.RunOptions{StateDir: filepath.Join(dir, "state"), Slots: 4,
		Restart: restartOf(t, "none"), Faults: faultsOf(t, faults...), Fresh: fresh, Store: storage.Options{SmallStreamBytes: 1}})
}

// TestCorruptStoreResumes damages, seed by seed, one file of the store a
// failed run left (issue 11, item 5): bytes flipped, truncated, zeroed or
// the file deleted, cycling through sstables, the MANIFEST, the WAL,
// OPTIONS and the marker files. Then nothing panics, `runs` and `gc`
// work, and the next run resumes and writes exactly the output of an
// undamaged run: a damaged partition is regenerated, and a store that
// cannot be opened is moved aside and recomputed. Now and then the next
// run is --fresh instead: it supersedes the damaged run without opening
// its store.
func TestCorruptStoreResumes(t *testing.T) {
	base := t.TempDir()
	writeCorruptInput(t, filepath.Join(base, "in.csv"))
	writeFile(t, filepath.Join(base, "job.yaml"), corruptJob)
	if _, err := corruptRun(t, base, false); err != nil {
		t.Fatalf("clean run: %v", err)
	}
	want, err := os.ReadFile(filepath.Join(base, "out.csv"))
	if err != nil {
		t.Fatal(err)
	}
	for seed := range uint64(*corruptSeeds) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			dir := t.TempDir()
			if err := os.Link(filepath.Join(base, "in.csv"), filepath.Join(dir, "in.csv")); err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(dir, "job.yaml"), corruptJob)
			if _, err := corruptRun(t, dir, false, "error:write[0]"); err == nil {
				t.Fatal("the run with a fault succeeded")
			}
			state := filepath.Join(dir, "state")
			stores, _ := filepath.Glob(filepath.Join(state, "runs", "*", "store"))
			if len(stores) != 1 {
				t.Fatalf("stores after the failed run: %v", stores)
			}
			what := damage(t, stores[0], seed)
			t.Log(what)
			if runs, err := jobs.ListRuns(state); err != nil || len(runs) != 1 || runs[0].State != "failed" {
				t.Fatalf("runs after damage (%s): %+v, %v", what, runs, err)
			}
			fresh := seed%7 == 3 // now and then --fresh: the damaged run is superseded
			r, err := corruptRun(t, dir, fresh)
			if err != nil {
				t.Fatalf("run after damage (%s, fresh %v): %v", what, fresh, err)
			}
			got, err := os.ReadFile(filepath.Join(dir, "out.csv"))
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("output after damage (%s) differs from a clean run's (%v)", what, err)
			}
			if r.Resumed == fresh {
				t.Fatalf("the run after damage (%s): resumed %v with fresh %v", what, r.Resumed, fresh)
			}
			runs := 1
			if fresh {
				runs = 2
			}
			if res, err := jobs.GC(state, jobs.GCOptions{OlderThan: time.Nanosecond}); err != nil || len(res.Removed) != runs {
				t.Fatalf("gc after damage (%s): %+v, %v", what, res, err)
			}
		})
	}
}
