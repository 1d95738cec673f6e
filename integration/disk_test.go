package integration

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/batchrun/batchrun/jobs/statedir"
)

// TestFailedRunFreesDisk: a failed run of three rows leaves little on
// disk (no preallocated WAL of tens of MB), and gc frees what it says it
// frees (issue 11, item 6).
func TestFailedRunFreesDisk(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "in.csv"), "k\n1\n2\n3\n")
	writeFile(t, filepath.Join(dir, "job.yaml"), `name: tiny
steps:
  - {id: src, read: {path: in.csv}}
  - {id: agg, input: src, aggregate: {by: [k], compute: ["count(*) AS n"]}}
  - {id: out, input: agg, write: {path: out.csv}}
`)
	state := filepath.Join(dir, "state")
	out, err := runBinary(t, bin, nil, "run", "--state-dir", state, "--restart", "none", "--fault", "error:out[0]", filepath.Join(dir, "job.yaml"))
	if exitCode(err) != 1 {
		t.Fatalf("failing run: %v\n%s", err, out)
	}
	used, err := statedir.DiskUsage(state)
	if err != nil {
		t.Fatal(err)
	}
	if used > 4<<20 {
		t.Errorf("a failed 3-row run leaves %d bytes on disk, want under 4 MiB", used)
	}
	out, err = runBinary(t, bin, nil, "gc", "--state-dir", state, "--keep", "0", "--older-than", "1ns")
	if err != nil || !strings.Contains(out, "removed 1 run(s), freed ") {
		t.Fatalf("gc: %v\n%s", err, out)
	}
	after, err := statedir.DiskUsage(state)
	if err != nil {
		t.Fatal(err)
	}
	if after > 16<<10 {
		t.Errorf("after gc the state directory holds %d bytes", after)
	}
}
