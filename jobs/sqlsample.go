package jobs

import (
	"encoding/csv"
	"errors"
	"io"
	"os"

	"github.com/batchrun/batchrun/jobs/spec"
)

// sampleRows is how many rows of a table sampleUnique reads.
const sampleRows = 2000

// sampleUnique lists the columns of read r in which the first rows of its
// first file repeat no value: likely keys, which the SQL planner uses to
// order joins (a join on a unique key does not multiply rows). It is a
// guess that only affects speed; it reads plain CSV files only and
// returns nil for anything else or on any error.
func sampleUnique(r *spec.ReadStep) []string {
	if spec.FormatOf(r.Path, r.Format) != spec.FormatCSV || !r.HasHeader() {
		return nil
	}
	in, err := expandInput(r)
	if err != nil || spec.CompressionExt(in.Files[0]) != "" {
		return nil
	}
	f, err := os.Open(in.Files[0])
	if err != nil {
		return nil
	}
	defer f.Close()
	cr := csv.NewReader(f)
	cr.Comma = ','
	if r.Delimiter != 0 {
		cr.Comma = rune(r.Delimiter)
	}
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil || len(header) != len(r.Schema) {
		return nil
	}
	seen := make([]map[string]bool, len(header))
	for i := range seen {
		seen[i] = map[string]bool{}
	}
	dup := make([]bool, len(header))
	rows := 0
	for ; rows < sampleRows; rows++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil || len(rec) != len(header) {
			return nil
		}
		for i, v := range rec {
			dup[i] = dup[i] || v == "" || seen[i][v]
			seen[i][v] = true
		}
	}
	var unique []string
	for i, f := range r.Schema {
		if rows > 0 && !dup[i] {
			unique = append(unique, f.Name)
		}
	}
	return unique
}
