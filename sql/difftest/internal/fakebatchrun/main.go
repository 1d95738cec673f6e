// Command fakebatchrun stands in for batchrun in the harness's own test
// (TestHarness): it runs the `sql:` step of a spec written by
// difftest.Spec with DuckDB and writes the answer as batchrun writes CSV
// (NULL an empty field, the empty string ""), so the whole path — spec,
// run, CSV, comparison — can be checked to pass before batchrun has SQL.
// FAKE_FAULT=drop|swap|value|null-to-empty then spoils the answer, to check
// that the comparison fails.
//
//	fakebatchrun run SPEC --state-dir DIR
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/batchrun/batchrun/sql/difftest/duck"
)

func main() {
	if len(os.Args) < 3 || os.Args[1] != "run" {
		fmt.Fprintln(os.Stderr, "usage: fakebatchrun run SPEC [--state-dir DIR]")
		os.Exit(2)
	}
	if err := run(os.Args[2], os.Getenv("FAKE_FAULT")); err != nil {
		fmt.Fprintln(os.Stderr, "fakebatchrun:", err)
		os.Exit(1)
	}
}

var (
	readStep  = regexp.MustCompile(`(?m)^  - id: (\S+)\n    read: \{path: ("[^"]*"), schema: \[(.*)\](?:, null_string: ("[^"]*"))?\}$`)
	sqlStep   = regexp.MustCompile(`(?m)^    sql: \|\n((?:      .*\n)+)`)
	writeStep = regexp.MustCompile(`(?m)^    write: \{path: ("[^"]*")\}$`)
	decimal   = regexp.MustCompile(`^decimal\((\d+),(\d+)\)$`)
)

func run(specPath, fault string) error {
	b, err := os.ReadFile(specPath)
	if err != nil {
		return err
	}
	spec := string(b)
	db, err := duck.Open(1, false)
	if err != nil {
		return err
	}
	defer db.Close()
	for _, m := range readStep.FindAllStringSubmatch(spec, -1) {
		if err := db.Exec(view(m[1], unquote(m[2]), m[3], unquote(m[4]))); err != nil {
			return err
		}
	}
	sm, wm := sqlStep.FindStringSubmatch(spec), writeStep.FindStringSubmatch(spec)
	if sm == nil || wm == nil {
		return fmt.Errorf("%s: no sql or write step", specPath)
	}
	query := strings.ReplaceAll(strings.ReplaceAll(sm[1], "\n      ", "\n"), "$${", "${")
	query = strings.TrimSuffix(strings.TrimSpace(strings.TrimPrefix(query, "      ")), ";")
	out := unquote(wm[1])
	if err := db.Exec(fmt.Sprintf("COPY (%s) TO '%s' (HEADER, DELIMITER ',')", query, out)); err != nil {
		return err
	}
	return spoil(out, fault)
}

// view is a CREATE VIEW of the read step id over its CSV file.
func view(id, path, schema, nullString string) string {
	var cols []string
	for _, c := range strings.Split(schema, ", ") {
		name, typ, _ := strings.Cut(unquote(c), " ")
		if m := decimal.FindStringSubmatch(typ); m != nil {
			typ = fmt.Sprintf("DECIMAL(%s,%s)", m[1], m[2])
		} else {
			typ = map[string]string{"int64": "BIGINT", "float64": "DOUBLE", "string": "VARCHAR", "date": "DATE", "bool": "BOOLEAN"}[typ]
		}
		cols = append(cols, fmt.Sprintf("'%s': '%s'", name, typ))
	}
	return fmt.Sprintf("CREATE VIEW %s AS SELECT * FROM read_csv('%s', header = true, auto_detect = false, nullstr = '%s', columns = {%s})",
		id, path, nullString, strings.Join(cols, ", "))
}

func unquote(s string) string {
	var v string
	json.Unmarshal([]byte(s), &v)
	return v
}

// spoil rewrites the answer in out as fault says: drop its last row, swap
// its first two, change the first value, or write a NULL as "".
func spoil(out, fault string) error {
	if fault == "" {
		return nil
	}
	b, err := os.ReadFile(out)
	if err != nil {
		return err
	}
	lines := strings.SplitAfter(string(b), "\n")
	lines = lines[:len(lines)-1] // the "" after the last "\n"
	switch {
	case fault == "drop" && len(lines) > 1:
		lines = lines[:len(lines)-1]
	case fault == "swap" && len(lines) > 2:
		lines[1], lines[2] = lines[2], lines[1]
	case fault == "value" && len(lines) > 1:
		lines[1] = "9" + lines[1]
	case fault == "null-to-empty":
		for i := 1; i < len(lines); i++ {
			lines[i] = strings.Replace(strings.Replace(lines[i], ",,", `,"",`, 1), ",\n", ",\"\"\n", 1)
		}
	}
	return os.WriteFile(out, []byte(strings.Join(lines, "")), 0o644)
}
