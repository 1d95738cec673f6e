package difftest

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/batchrun/batchrun/sql/difftest/duck"
)

func TestJudge(t *testing.T) {
	known := Known{"TestTPCH/q01": "exit 3: no sql step"}
	f := &Failure{What: "wrong answer", Detail: "row 1 differs"}
	tests := []struct {
		name   string
		f      *Failure
		update bool
		want   outcome
		msg    string
	}{
		{"TestTPCH/q02", nil, false, pass, ""},
		{"TestTPCH/q02", f, false, fail, "batchrun: wrong answer: row 1 differs"},
		{"TestTPCH/q01", f, false, skip, "known failure (listed as: exit 3: no sql step)"},
		{"TestTPCH/q01", nil, false, fail, "TestTPCH/q01 passes now: remove it from testdata/known-failures.txt"},
		{"TestTPCH/q02", f, true, skip, "known failure"},
		{"TestTPCH/q01", nil, true, pass, ""},
	}
	for _, tc := range tests {
		got, msg := judge(tc.name, known, tc.f, tc.update)
		if got != tc.want || !strings.HasPrefix(msg, tc.msg) {
			t.Errorf("judge(%s, failure %v, update %v) = %d %q, want %d %q...", tc.name, tc.f != nil, tc.update, got, msg, tc.want, tc.msg)
		}
	}
}

func TestKnownRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "known.txt")
	k := Known{"TestGenerated/seed=10": "b", "TestGenerated/seed=9": "a c", "TestTPCH/q01": "d"}
	if err := k.Write(path); err != nil {
		t.Fatal(err)
	}
	back, err := ReadKnown(path)
	if err != nil || !reflect.DeepEqual(back, k) {
		t.Fatalf("read back %v (%v), want %v", back, err, k)
	}
}

func TestFailureReason(t *testing.T) {
	f := &Failure{What: "exit 3", Detail: "progress\nbatchrun: spec.yaml:9: step \"q\": unknown key \"sql\"\n"}
	if got, want := f.Reason(), `exit 3: batchrun: spec.yaml:9: step "q": unknown key "sql"`; got != want {
		t.Errorf("Reason() = %q, want %q", got, want)
	}
}

// TestSpec: the spec is the documented one: a read step per table with
// its schema mapped from DuckDB's types, the query verbatim in q (a ${
// doubled), one write of q.
func TestSpec(t *testing.T) {
	tables := []Table{{Name: "t", Path: "/d/t.csv", NullString: `\N`, Columns: []duck.Column{
		{Name: "a", Type: "INTEGER"}, {Name: "m", Type: "DECIMAL(15,2)"}, {Name: "d", Type: "DATE"}, {Name: "s", Type: "VARCHAR"}}}}
	got, err := Spec("j", tables, "SELECT a\n  FROM t -- ${x}\n;\n", "/o/out.csv", false)
	want := `name: "j"
steps:
  - id: t
    read: {path: "/d/t.csv", schema: ["a int64", "m decimal(15,2)", "d date", "s string"], null_string: "\\N"}
  - id: q
    sql: |
      SELECT a
        FROM t -- $${x}
      ;
  - id: out
    write: {path: "/o/out.csv"}
    input: q
    parallelism: 1
`
	if err != nil || got != want {
		t.Fatalf("got (%v):\n%s\nwant:\n%s", err, got, want)
	}
	legacy, _ := Spec("j", tables, "SELECT 1", "/o/out.csv", true)
	if !strings.Contains(legacy, `["a int64", "m float64", "d string", "s string"]`) {
		t.Errorf("legacy types:\n%s", legacy)
	}
	if _, err := SpecType("TIMESTAMP", false); err == nil {
		t.Error("SpecType(TIMESTAMP) has no error")
	}
}

// tpchQueries holds the 22 TPC-H queries as DuckDB's tpch_queries()
// prints them (from ../shared/tpch/queries): the parser's test copies.
const tpchQueries = "../parser/testdata/tpch"
