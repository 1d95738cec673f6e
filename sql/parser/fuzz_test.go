package parser

import (
	"errors"
	"path/filepath"
	"testing"
)

func asError(err error, target **Error) bool { return errors.As(err, target) }

// FuzzParse feeds arbitrary text to Parse: it must never panic, every
// failure must be an *Error whose position lies inside the input, and
// whatever parses must round-trip through the printer. Seeded with the
// TPC-H queries and the datadriven inputs' flavour.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/tpch/q*.sql")
	for _, file := range files {
		f.Add(readFile(f, file))
	}
	for _, s := range []string{
		"SELECT a, b AS c FROM t WHERE a = 1 AND NOT b OR c IS NOT NULL",
		"SELECT * EXCLUDE (a) FROM (SELECT 1 AS a) x JOIN y USING (a) ORDER BY 1 DESC NULLS LAST LIMIT 2 OFFSET 1",
		"SELECT sum(x) OVER (PARTITION BY a ORDER BY b ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM t",
		"SELECT DATE '1998-12-01' - INTERVAL '90' DAY, x::decimal(15,2), 'it''s' || \"Q\"",
		"WITH a AS (SELECT 1) SELECT * FROM a UNION ALL (SELECT 2 ORDER BY 1 LIMIT 1)",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		q, err := Parse(src)
		if err != nil {
			var perr *Error
			if !errors.As(err, &perr) {
				t.Fatalf("Parse(%q): error %T is not *Error: %v", src, err, err)
			}
			if perr.Pos.Offset < 0 || perr.Pos.Offset > len(src) || perr.Pos.Line < 1 || perr.Pos.Col < 1 {
				t.Fatalf("Parse(%q): error position %+v outside the input", src, perr.Pos)
			}
			_ = perr.Render(src)
			return
		}
		checkRoundTrip(t, src, q)
	})
}
