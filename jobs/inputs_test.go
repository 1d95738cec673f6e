package jobs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/batchrun/batchrun/jobs/spec"
)

// TestExpandInputCompressed: a directory read lists the format's files
// compressed or not, a glob takes what it matches.
func TestExpandInputCompressed(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"a.csv", "b.csv.gz", "c.CSV.ZST", "d.csv.bz2", "e.jsonl.gz", "f.gz", "g.csv.xz", "_h.csv.gz", ".i.csv.gz"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		path   string
		format spec.Format
		want   string
	}{
		{dir, spec.FormatAuto, "a.csv b.csv.gz c.CSV.ZST d.csv.bz2"},
		{dir, spec.FormatJSONL, "e.jsonl.gz"},
		{filepath.Join(dir, "*.gz"), spec.FormatAuto, "b.csv.gz e.jsonl.gz f.gz"},
		{filepath.Join(dir, "*.csv*"), spec.FormatAuto, "a.csv b.csv.gz d.csv.bz2 g.csv.xz"},
	} {
		in, err := expandInput(&spec.ReadStep{Path: tc.path, Format: tc.format})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range in.Files {
			got = append(got, filepath.Base(f))
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("expandInput(%s, %s) = %v, want %s", filepath.Base(tc.path), tc.format, got, tc.want)
		}
	}
}
