package difftest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/batchrun/batchrun/sql/difftest/querygen"
)

// TestHarness runs the harness against internal/fakebatchrun, which
// answers with DuckDB and writes CSV as batchrun does: every query must
// pass (so a failure of TestTPCH or TestGenerated is batchrun's, not the
// harness's), and every way of spoiling an answer must be caught (so their
// passes mean something).
func TestHarness(t *testing.T) {
	e := setup(t)
	fake := &Runner{Bin: buildFake(t)}
	files, _ := filepath.Glob(tpchQueries + "/q*.sql")
	for _, f := range files {
		q, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if d := e.diff(t, fake, e.tpch, string(q)); d != nil {
			t.Errorf("%s: %v", f, d)
		}
	}
	for seed := int64(1); seed <= 40; seed++ {
		q := querygen.Generate(seed)
		if d := e.diff(t, fake, e.small, q); d != nil {
			t.Errorf("seed %d: %v\n%s", seed, d, q)
		}
	}
	tpch1, _ := os.ReadFile(tpchQueries + "/q01.sql")
	const rows = "SELECT id, g, n, d, f FROM t1 ORDER BY id"
	const tied = "SELECT k, id FROM t1 ORDER BY k" // its first two rows tie on k
	for _, tc := range []struct {
		fault, query string
		small, fails bool
	}{
		{"drop", string(tpch1), false, true},
		{"swap", string(tpch1), false, true},
		{"value", string(tpch1), false, true},
		{"drop", rows, true, true},
		{"swap", rows, true, true},
		{"value", rows, true, true},
		{"null-to-empty", rows, true, true},
		{"swap", tied, true, false},
	} {
		t.Setenv("FAKE_FAULT", tc.fault)
		tables := e.tpch
		if tc.small {
			tables = e.small
		}
		d := e.diff(t, fake, tables, tc.query)
		t.Logf("fault %s: %v", tc.fault, d) // what the diffs look like, with -v
		if (d != nil) != tc.fails {
			t.Errorf("fault %s on %.40q...: failure %v, want a failure: %v", tc.fault, tc.query, d, tc.fails)
		}
	}
}

// buildFake builds internal/fakebatchrun.
func buildFake(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "fakebatchrun")
	if out, err := exec.Command("go", "build", "-o", bin, "./internal/fakebatchrun").CombinedOutput(); err != nil {
		t.Fatalf("go build ./internal/fakebatchrun: %v\n%s", err, out)
	}
	return bin
}
