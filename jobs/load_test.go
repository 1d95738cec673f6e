package jobs

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators/formats"
)

// headerInfer is a small SchemaInferrer for tests: it types each column of
// the header from the first 100 rows as int64, float64 or string. It keeps
// these tests independent of the operators package's inference.
func headerInfer(path string, delim byte) (spec.Schema, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return nil, errors.New("no header")
	}
	var schema spec.Schema
	for _, name := range strings.Split(sc.Text(), string(delim)) {
		schema = append(schema, spec.Field{Name: name, Type: spec.Int64})
	}
	for n := 0; n < 100 && sc.Scan(); n++ {
		for i, v := range strings.Split(sc.Text(), string(delim)) {
			if i >= len(schema) || v == "" {
				continue
			}
			if _, err := strconv.ParseInt(v, 10, 64); err == nil {
				continue
			}
			if _, err := strconv.ParseFloat(v, 64); err == nil && schema[i].Type != spec.String {
				schema[i].Type = spec.Float64
				continue
			}
			schema[i].Type = spec.String
		}
	}
	return schema, sc.Err()
}

// operatorsInfer is the production inferrer (InferCSV in loaded.go), called
// directly here.
func operatorsInfer(path string, delim byte) (spec.Schema, error) {
	return formats.InferCSVSchema(path, delim, 1000)
}

func TestLoadExamples(t *testing.T) {
	for name, infer := range map[string]SchemaInferrer{"test inferrer": headerInfer, "operators inferrer": operatorsInfer} {
		t.Run(name, func(t *testing.T) { testLoadExamples(t, infer) })
	}
}

func testLoadExamples(t *testing.T, infer SchemaInferrer) {
	for _, tc := range []struct{ file, out, schema string }{
		{"wordcount.yaml", "out", "(word string, n int64)"},
		{"revenue-by-segment.yaml", "out", "(segment string, orders int64, revenue float64, avg_amount float64)"},
		{"top-customers.yaml", "out", "(user_id int64, name string, total float64, orders int64)"},
		{"etl-cleanup.yaml", "out", "(customer_id int64, name string, email string, country string, amount float64, " +
			"amount_cents int64, tier string, signup_ts string)"},
		{"user-orders-window.yaml", "out", "(order_id int64, user_id int64, country string, amount float64, ts int64, " +
			"n int64, running_total float64, prev_amount float64, max_last3 float64, orders int64)"},
	} {
		path := filepath.Join("..", "examples", tc.file)
		job, err := Load(path, LoadOptions{Infer: infer})
		if err != nil {
			t.Errorf("Load(%s): %v", tc.file, err)
			continue
		}
		res, err := spec.Resolve(job)
		if err != nil {
			t.Fatalf("Resolve(%s): %v", tc.file, err)
		}
		if got := res.Schemas[tc.out].String(); got != tc.schema {
			t.Errorf("%s: schema of %s = %s, want %s", tc.file, tc.out, got, tc.schema)
		}
		for _, s := range job.Steps {
			if s.Read != nil && !strings.HasPrefix(s.Read.Path, filepath.Join("..", "examples", "data")+string(filepath.Separator)) {
				t.Errorf("%s: read path %s does not resolve against the spec's directory", tc.file, s.Read.Path)
			}
			if s.Write != nil && !strings.HasPrefix(s.Write.Path, filepath.Join("..", "examples", "out")+string(filepath.Separator)) {
				t.Errorf("%s: write path %s does not resolve into examples/out", tc.file, s.Write.Path)
			}
		}
	}
}

// header is a job prefix whose steps start on line 4.
const header = `name: t
steps:
  - id: events
    read: {path: e.csv, schema: ["user_id int64", "country string", "amount float64"]}
`

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, spec, want string
	}{
		{"unknown top-level key", "name: t\nparalelism: 2\nsteps: []\n",
			`t.yaml:2: job: unknown key "paralelism" (want one of name, parallelism, mode, params, steps)`},
		{"unknown step key", header + "  - id: f\n    filter: amount > 1\n    inputs: events\n",
			`t.yaml:7: step "f": step: unknown key "inputs" (want one of id, input, parallelism, exchange, ` +
				`read, filter, select, aggregate, join, sort, limit, union, repartition, write, distinct, explode, window, sql)`},
		{"unknown read key", "steps:\n  - id: r\n    read: {path: a.csv, shema: [\"a int64\"]}\n",
			`t.yaml:3: step "r": read: unknown key "shema" (want one of path, schema, format, delimiter, quote, header, null_string, on_error, quarantine)`},
		{"duplicate key", header + "  - id: f\n    filter: amount > 1\n    filter: amount > 2\n    input: events\n",
			`t.yaml:7: step "f": step: duplicate key "filter"`},
		{"no kind", header + "  - id: f\n    input: events\n",
			`t.yaml:5: step "f": step has no kind (want one of read, filter, select, aggregate, join, sort, limit, union, repartition, write, distinct, explode, window, sql)`},
		{"two kinds", header + "  - id: f\n    filter: amount > 1\n    limit: 3\n    input: events\n",
			`t.yaml:7: step "f": step has two kinds, filter and limit: split it into two steps`},
		{"no id", header + "  - filter: amount > 1\n    input: events\n", `t.yaml:5: step has no id`},
		{"unknown input", header + "  - id: f\n    filter: amount > 1\n    input: evnts\n",
			`t.yaml:5: step "f": unknown input "evnts"`},
		{"missing input", header + "  - id: f\n    filter: amount > 1\n",
			`t.yaml:5: step "f": filter takes 1 input, got 0`},
		{"join with input", header + "  - id: j\n    join: {left: events, right: events, on: [user_id]}\n    input: events\n",
			`t.yaml:7: step "j": input: a join names its inputs in its own settings`},
		{"cycle", header + "  - id: a\n    limit: 1\n    input: b\n  - id: b\n    limit: 1\n    input: a\n",
			`t.yaml:5: step "a": cycle: a -> b -> a`},
		{"bad expression", header + "  - id: f\n    filter: \"amount >\"\n    input: events\n",
			`t.yaml:6: step "f": filter: expression "amount >": line 1 col 9: expected an operand, found end of input`},
		{"bad aggregate", header + "  - id: a\n    aggregate: {by: [country], compute: [\"total(amount)\"]}\n    input: events\n",
			`t.yaml:6: step "a": aggregate "total(amount)": expression "total(amount)": line 1 col 1: unknown aggregate function "total" (known: count, sum, min, max, avg, count_distinct, first, any_value)`},
		{"unknown column", header + "  - id: f\n    filter: amt > 1\n    input: events\n",
			`t.yaml:5: step "f": filter: unknown column "amt" (have user_id, country, amount)`},
		{"type mismatch", header + "  - id: f\n    filter: country > 1\n    input: events\n",
			`t.yaml:5: step "f": filter: cannot compare string with int64 in "country > 1"`},
		{"join key types", header + "  - id: j\n    join: {left: events, right: events, on: [\"amount = user_id\"]}\n",
			`t.yaml:5: step "j": join key amount = user_id: types differ (float64 vs int64)`},
		{"unknown param", header + "  - id: f\n    filter: amount > ${min}\n    input: events\n",
			`t.yaml:6: step "f": unknown parameter "min": pass a value or add a default under params:`},
		{"unterminated param", header + "  - id: f\n    filter: amount > ${min\n    input: events\n",
			`t.yaml:6: step "f": unterminated ${ (write $${ for a literal ${)`},
		{"bad mode", "mode: blocking\nsteps: []\n",
			`t.yaml:1: mode: unknown mode "blocking" (want all-blocking or all-pipelined)`},
		{"bad exchange", header + "  - id: f\n    limit: 1\n    input: events\n    exchange: eager\n",
			`t.yaml:8: step "f": exchange: unknown mode "eager" (want pipelined or blocking)`},
		{"bad schema type", "steps:\n  - id: r\n    read: {path: a.csv, schema: [\"a integer64\"]}\n",
			`t.yaml:3: step "r": schema: column "a": unknown type "integer64" (want int64, float64, string, bool, date, timestamp or decimal(p,s))`},
		{"bad schema column", "steps:\n  - id: r\n    read: {path: a.csv, schema: [\"a\"]}\n",
			`t.yaml:3: step "r": schema: column "a": want "name type"`},
		{"long delimiter", "steps:\n  - id: r\n    read: {path: a.csv, schema: [\"a int64\"], delimiter: \"::\"}\n",
			`t.yaml:3: step "r": delimiter: want a single one-byte character, got "::"`},
		{"no inferrer", "steps:\n  - id: r\n    read: {path: a.csv}\n",
			`t.yaml:2: step "r": read has no schema and schema inference is not configured`},
		{"limit not a number", header + "  - id: l\n    limit: ten\n    input: events\n",
			`t.yaml:6: step "l": limit: want an integer, got "ten"`},
		{"limit unknown key", header + "  - id: l\n    limit: {count: 1, skip: 2}\n    input: events\n",
			`t.yaml:6: step "l": limit: unknown key "skip" (want one of count, offset)`},
		{"limit no count", header + "  - id: l\n    limit: {offset: 2}\n    input: events\n",
			`t.yaml:6: step "l": limit has no count: add count: N (the number of rows to keep after the offset)`},
		{"limit negative offset", header + "  - id: l\n    limit: {count: 1, offset: -2}\n    input: events\n",
			`t.yaml:5: step "l": limit offset must be >= 0, got -2`},
		{"bad sort nulls", header + "  - id: s\n    sort: [\"amount NULLS LOW\"]\n    input: events\n",
			`t.yaml:6: step "s": sort "amount NULLS LOW": expression "amount NULLS LOW": line 1 col 14: expected FIRST or LAST after NULLS, found "LOW"`},
		{"bad join where", header + "  - id: j\n    join: {left: events, right: events, on: [user_id], type: semi, where: \"amount >\"}\n",
			`t.yaml:6: step "j": join where: expression "amount >": line 1 col 9: expected an operand, found end of input`},
		{"join where ambiguous", header + "  - id: j\n    join: {left: events, right: events, on: [user_id], type: semi, where: \"amount > 1\"}\n",
			`t.yaml:5: step "j": join where: column "amount" is in both inputs ("events" and "events"): rename it with a select before the join`},
		{"keyless no broadcast", header + "  - id: j\n    join: {left: events, right: events, type: semi, broadcast: false}\n",
			`t.yaml:5: step "j": a join without keys (on) broadcasts its right input: broadcast cannot be false`},
		{"keyless full", header + "  - id: j\n    join: {left: events, right: events, on: [], type: full}\n",
			`t.yaml:5: step "j": a full join needs keys (on): a join without keys broadcasts its right input, which a full join cannot`},
		{"bad partitioning", header + "  - id: p\n    repartition: {by: range}\n    input: events\n",
			`t.yaml:6: step "p": repartition by: unknown partitioning "range" (want hash, rebalance, random or broadcast)`},
		{"parallelism twice", header + "  - id: p\n    repartition: {by: random, parallelism: 2}\n    parallelism: 3\n    input: events\n",
			`t.yaml:6: step "p": repartition parallelism: the step's parallelism is set too; keep one`},
		{"negative parallelism", "parallelism: -1\n" + header, `t.yaml: parallelism must be >= 0, got -1`},
		{"bad yaml", "steps:\n  - id: r\n    read: {path: a.csv\n  - id: s\n",
			`t.yaml:4: invalid YAML: did not find expected ',' or '}' (while parsing a flow mapping)`},
		{"steps not a list", "steps: {id: r}\n", `t.yaml:1: steps: want a list of steps`},
		{"empty", "", `t.yaml: empty job spec`},
		{"only comments", "# nothing yet\n\n", `t.yaml: empty job spec`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.spec), "t.yaml", "", LoadOptions{})
			if err == nil {
				t.Fatalf("Parse = nil error, want %s", tc.want)
			}
			var se *SpecError
			if !errors.As(err, &se) {
				t.Errorf("Parse error is %T, want *SpecError", err)
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("Parse error\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestParamNewline(t *testing.T) {
	src := header + "  - id: f\n    filter: amount > ${min}\n    input: events\n"
	_, err := Parse([]byte(src), "t.yaml", "", LoadOptions{Params: map[string]string{"min": "1\n2"}})
	want := `t.yaml:6: step "f": parameter "min": value contains a newline`
	if err == nil || err.Error() != want {
		t.Errorf("Parse error = %v, want %s", err, want)
	}
}

func TestParams(t *testing.T) {
	src := `params: {min: "5", tag: x}
steps:
  - id: r
    read: {path: "${dir}/a.csv", schema: ["amount int64", "note string"]}
  - id: f
    filter: "amount > ${min} AND note <> '$${tag}'"   # $${ is a literal
    input: r
`
	for _, tc := range []struct {
		name   string
		params map[string]string
		pred   string
		path   string
	}{
		{"defaults", map[string]string{"dir": "d"}, "amount > 5 AND note <> '${tag}'", "d/a.csv"},
		{"caller overrides default", map[string]string{"dir": "/abs", "min": "7", "tag": "declared, so accepted"},
			"amount > 7 AND note <> '${tag}'", "/abs/a.csv"},
	} {
		job, err := Parse([]byte(src), "t.yaml", "base", LoadOptions{Params: tc.params})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		wantPath := tc.path
		if !filepath.IsAbs(wantPath) {
			wantPath = filepath.Join("base", wantPath)
		}
		if got := job.Steps[1].Filter.Predicate.String(); got != tc.pred {
			t.Errorf("%s: predicate = %s, want %s", tc.name, got, tc.pred)
		}
		if got := job.Steps[0].Read.Path; got != wantPath {
			t.Errorf("%s: path = %s, want %s", tc.name, got, wantPath)
		}
	}
	_, err := Parse([]byte(src), "t.yaml", "", LoadOptions{})
	if want := `t.yaml:4: step "r": unknown parameter "dir": pass a value or add a default under params:`; err == nil || err.Error() != want {
		t.Errorf("missing param: error = %v, want %s", err, want)
	}
	// A given parameter the spec neither uses nor declares is a mistake
	// (a misspelt --param), named with the line of params:.
	_, err = Parse([]byte(src), "t.yaml", "", LoadOptions{Params: map[string]string{"dir": "d", "mni": "7"}})
	if want := `t.yaml:1: unknown parameter "mni" given (--param): the spec has no ${mni} and no default for it under params:`; err == nil || err.Error() != want {
		t.Errorf("unknown given param: error = %v, want %s", err, want)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("testdata/nope.yaml", LoadOptions{})
	// A spec that cannot be read is a spec error (exit code 3) naming the file.
	var se *spec.Error
	want := "testdata/nope.yaml: cannot read spec: no such file or directory"
	if !errors.As(err, &se) || err.Error() != want {
		t.Errorf("Load(missing) = %v, want spec error %q", err, want)
	}
}

func TestInferError(t *testing.T) {
	src := "steps:\n  - id: r\n    read: {path: a.csv, delimiter: \";\"}\n  - id: w\n    write: {path: o.csv}\n    input: r\n"
	var gotDelim byte
	infer := func(path string, delim byte) (spec.Schema, error) {
		gotDelim = delim
		return nil, errors.New("bad header")
	}
	_, err := Parse([]byte(src), "t.yaml", "", LoadOptions{Infer: infer})
	if want := `t.yaml:2: step "r": infer schema: bad header`; err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
	if gotDelim != ';' {
		t.Errorf("inferrer got delimiter %q, want ';'", gotDelim)
	}
}

// TestParseTypedSchema: schema types may hold spaces ("decimal(15, 2)");
// dates, timestamps and decimals type-check through the job.
func TestParseTypedSchema(t *testing.T) {
	src := `steps:
  - id: r
    read: {path: a.csv, schema: ["price decimal(15, 2)", "disc DECIMAL(3,2)", "day date", "ts timestamp", "n int32"]}
  - id: s
    select: ["price * (1 - disc) AS rev", "date_add('month', 1, day) AS next", "CAST(ts AS date) AS d", n]
    input: r
  - id: a
    aggregate: {by: [next], compute: ["sum(rev) AS rev", "avg(rev) AS avg_rev", "max(d) AS d"]}
    input: s
`
	job, err := Parse([]byte(src), "t.yaml", "", LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := job.Steps[0].Read.Schema.String(); got != "(price decimal(15,2), disc decimal(3,2), day date, ts timestamp, n int64)" {
		t.Errorf("schema = %s", got)
	}
	res, err := spec.Resolve(job)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Schemas["a"].String(); got != "(next date, rev decimal(18,4), avg_rev float64, d date)" {
		t.Errorf("aggregate schema = %s", got)
	}
	_, err = Parse([]byte(strings.Replace(src, "decimal(15, 2)", "decimal(19, 2)", 1)), "t.yaml", "", LoadOptions{})
	if want := `t.yaml:3: step "r": schema: column "price": type "decimal(19, 2)": precision must be 1 to 18`; err == nil || err.Error() != want {
		t.Errorf("decimal(19, 2): error = %v, want %s", err, want)
	}
}
