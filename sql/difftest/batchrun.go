package difftest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/batchrun/batchrun/sql/difftest/compare"
)

// Build builds the batchrun binary of the module at root (the repository,
// ../.. from here) into dir: the harness drives the binary, as a user
// would, so that this module need not import batchrun's packages.
func Build(root, dir string) (string, error) {
	bin := filepath.Join(dir, "batchrun")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/batchrun/batchrun/cmd/batchrun")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build in %s: %v\n%s", root, err, out)
	}
	return bin, nil
}

// Runner runs queries through a batchrun binary.
type Runner struct {
	Bin string
	// Legacy maps DECIMAL columns to float64 and DATE to string in the read
	// steps' schemas, for a batchrun without decimal and date types.
	Legacy bool
}

// Failure is batchrun failing a query: it exited non-zero, wrote an answer
// that cannot be read, or an answer that differs from DuckDB's. Any other
// error is the harness's own.
type Failure struct {
	What   string // "exit 3", "bad output", "wrong answer", ...
	Detail string // stderr, or the diff
}

func (f *Failure) Error() string { return "batchrun: " + f.What + ": " + f.Detail }

var spaces = regexp.MustCompile(`\s+`)

// Reason is the failure in one short line, for known-failures.txt.
func (f *Failure) Reason() string {
	d := strings.TrimSpace(f.Detail)
	if f.What != "wrong answer" { // batchrun's last line is its error
		d = d[strings.LastIndex(d, "\n")+1:]
	}
	d = spaces.ReplaceAllString(d, " ")
	if len(d) > 160 {
		d = d[:157] + "..."
	}
	return f.What + ": " + d
}

// Run writes a job spec to dir that reads tables and runs query as a sql
// step, runs it, and reads the answer.
func (r *Runner) Run(ctx context.Context, dir, name string, tables []Table, query string) (*compare.Table, error) {
	out := filepath.Join(dir, "out.csv")
	spec, err := Spec(name, tables, query, out, r.Legacy)
	if err != nil {
		return nil, err
	}
	specPath := filepath.Join(dir, "spec.yaml")
	if err := os.WriteFile(specPath, []byte(spec), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, r.Bin, "run", specPath, "--state-dir", filepath.Join(dir, "state"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			return nil, err
		}
		if ctx.Err() != nil {
			return nil, &Failure{What: "timed out", Detail: ctx.Err().Error()}
		}
		// Paths relative to dir, so that reasons do not change run to run.
		msg := strings.ReplaceAll(stderr.String(), dir+string(filepath.Separator), "")
		return nil, &Failure{What: fmt.Sprintf("exit %d", exit.ExitCode()), Detail: msg}
	}
	got, err := compare.ReadCSV(out)
	if err != nil {
		return nil, &Failure{What: "bad output", Detail: err.Error()}
	}
	return got, nil
}

// Spec is a job named name: a read step per table, the step q holding
// query verbatim (but for ${, which a spec would take for a parameter), and
// a write of q to the CSV file out by one subtask.
func Spec(name string, tables []Table, query, out string, legacy bool) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "name: %s\nsteps:\n", quote(name))
	for _, t := range tables {
		var schema []string
		for _, c := range t.Columns {
			typ, err := SpecType(c.Type, legacy)
			if err != nil {
				return "", fmt.Errorf("table %s column %s: %w", t.Name, c.Name, err)
			}
			schema = append(schema, quote(c.Name+" "+typ))
		}
		fmt.Fprintf(&b, "  - id: %s\n    read: {path: %s, schema: [%s]", t.Name, quote(t.Path), strings.Join(schema, ", "))
		if t.NullString != "" {
			fmt.Fprintf(&b, ", null_string: %s", quote(t.NullString))
		}
		b.WriteString("}\n")
	}
	b.WriteString("  - id: q\n    sql: |\n")
	for _, line := range strings.Split(strings.TrimSpace(query), "\n") {
		fmt.Fprintf(&b, "      %s\n", strings.ReplaceAll(line, "${", "$${"))
	}
	fmt.Fprintf(&b, "  - id: out\n    write: {path: %s}\n    input: q\n    parallelism: 1\n", quote(out))
	return b.String(), nil
}

var decimalType = regexp.MustCompile(`^DECIMAL\((\d+),\s*(\d+)\)$`)

// SpecType is the read step's type for a column of DuckDB type typ. legacy:
// decimals as float64 and dates as strings.
func SpecType(typ string, legacy bool) (string, error) {
	t := strings.ToUpper(typ)
	switch {
	case decimalType.MatchString(t):
		if legacy {
			return "float64", nil
		}
		m := decimalType.FindStringSubmatch(t)
		return fmt.Sprintf("decimal(%s,%s)", m[1], m[2]), nil
	case t == "DATE":
		if legacy {
			return "string", nil
		}
		return "date", nil
	case t == "TINYINT" || t == "SMALLINT" || t == "INTEGER" || t == "BIGINT":
		return "int64", nil
	case t == "DOUBLE" || t == "FLOAT":
		return "float64", nil
	case t == "VARCHAR":
		return "string", nil
	case t == "BOOLEAN":
		return "bool", nil
	}
	return "", fmt.Errorf("no batchrun type for DuckDB's %s", typ)
}

// quote is s as a YAML double-quoted scalar (JSON's string syntax is one).
func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
