package parser

import (
	"os"
	"path/filepath"
	"testing"
)

// TestTPCH parses the 22 TPC-H queries as DuckDB prints them and checks
// that each round-trips through the canonical printer.
func TestTPCH(t *testing.T) {
	files, err := filepath.Glob("testdata/tpch/q*.sql")
	if err != nil || len(files) != 22 {
		t.Fatalf("testdata/tpch: want 22 queries, found %d (%v)", len(files), err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			src := readFile(t, f)
			q, err := Parse(src)
			if err != nil {
				var perr *Error
				if asError(err, &perr) {
					t.Fatalf("%s\n%s", f, perr.Render(src))
				}
				t.Fatal(err)
			}
			checkRoundTrip(t, src, q)
		})
	}
}

// TestTPCHCopiesMatchShared checks testdata/tpch against the workspace's
// ../shared/tpch/queries, where the copies come from; it skips where that
// directory is absent (CI's clean checkout).
func TestTPCHCopiesMatchShared(t *testing.T) {
	shared := filepath.Join("..", "..", "..", "shared", "tpch", "queries")
	files, _ := filepath.Glob(filepath.Join(shared, "q*.sql"))
	if len(files) == 0 {
		t.Skipf("%s not present (a clean checkout): nothing to compare testdata/tpch with", shared)
	}
	for _, f := range files {
		if got, want := readFile(t, filepath.Join("testdata", "tpch", filepath.Base(f))), readFile(t, f); got != want {
			t.Errorf("testdata/tpch/%s differs from %s: copy it again", filepath.Base(f), f)
		}
	}
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
