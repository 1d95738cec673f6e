package jobs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/batchrun/batchrun/jobs/spec"
)

const sqlSpecHead = `name: t
steps:
  - id: orders
    read: {path: orders.csv, schema: ["id int64", "cust int64", "amount float64"]}
  - id: customers
    read: {path: customers.csv, schema: ["id int64", "name string"]}
`

func parseSQLSpec(t *testing.T, steps string) (*spec.Job, error) {
	t.Helper()
	dir := t.TempDir()
	for name, text := range map[string]string{
		"orders.csv":    "id,cust,amount\n1,1,5\n2,1,7\n3,2,1\n",
		"customers.csv": "id,name\n1,a\n2,b\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return Parse([]byte(sqlSpecHead+steps), "t.yaml", dir, LoadOptions{})
}

// A sql step becomes steps whose last keeps its id, so the write reading
// it is unchanged; a second sql step reads the first.
func TestSQLStepExpands(t *testing.T) {
	job, err := parseSQLSpec(t, `  - id: per_customer
    sql: |
      SELECT c.name, sum(o.amount) AS total
      FROM orders o JOIN customers c ON o.cust = c.id
      GROUP BY c.name
  - id: top
    sql: SELECT name FROM per_customer WHERE total > 2 ORDER BY name
  - id: out
    write: {path: out.csv}
    input: top
`)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range job.Steps {
		if s.Kind == spec.KindSQL {
			t.Fatalf("step %q is still a sql step", s.ID)
		}
	}
	res, err := spec.Resolve(job)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Schemas["per_customer"].String(); got != "(name string, total float64)" {
		t.Errorf("per_customer schema %s", got)
	}
	if got := job.Step("out").Inputs; len(got) != 1 || got[0] != "top" {
		t.Errorf("out reads %v, want top", got)
	}
	for _, id := range []string{"per_customer", "top"} {
		if !strings.Contains(job.SQLPlans[id], "-> "+id) {
			t.Errorf("plan of %s does not show its root step:\n%s", id, job.SQLPlans[id])
		}
	}
}

// Errors inside a query name the spec file's line of the query's line,
// the step, the query's line and column, with a caret.
func TestSQLStepErrors(t *testing.T) {
	for _, tc := range []struct {
		steps string
		line  int
		msg   string
	}{
		{`  - id: q
    sql: |
      SELECT name
      FROM customers
      WHERE nmae = 'a'
`, 11, `sql: line 3, column 7: unknown column "nmae" (did you mean "name"?)`},
		{`  - id: q
    sql: SELECT name FROM customer
`, 8, `sql: line 1, column 18: unknown table "customer" (did you mean "customers"?)`},
		{`  - id: q
    sql: SELECT * FROM customers
    input: orders
`, 8, `input: a sql step reads the tables its FROM names`},
		{`  - id: a
    sql: SELECT * FROM b
  - id: b
    sql: SELECT * FROM a
`, 7, `reads it back (a cycle)`},
	} {
		_, err := parseSQLSpec(t, tc.steps)
		var se *spec.Error
		if !errors.As(err, &se) {
			t.Fatalf("%q: error %v, want a spec error", tc.steps, err)
		}
		if se.Line != tc.line || !strings.Contains(se.Msg, tc.msg) {
			t.Errorf("error at line %d: %s\nwant line %d with %q", se.Line, se.Msg, tc.line, tc.msg)
		}
	}
}

// A sql step's parallelism is its steps': every step the query compiles
// to runs with it.
func TestSQLStepParallelism(t *testing.T) {
	job, err := parseSQLSpec(t, `  - id: q
    parallelism: 3
    sql: SELECT c.name, count(*) AS n FROM orders o JOIN customers c ON o.cust = c.id GROUP BY c.name
`)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range job.Steps {
		if s.ID == "q" || strings.HasPrefix(s.ID, "q.") {
			n++
			if s.Parallelism != 3 {
				t.Errorf("step %s has parallelism %d, want 3", s.ID, s.Parallelism)
			}
		} else if s.Parallelism != 0 {
			t.Errorf("step %s, not the query's, has parallelism %d", s.ID, s.Parallelism)
		}
	}
	if n < 3 {
		t.Errorf("the query compiled to %d steps, want a join, an aggregate and a select at least", n)
	}
}

// The builder's SQL step expands the same way.
func TestBuilderSQL(t *testing.T) {
	b := NewBuilder("t")
	b.Read("orders", "orders.csv", "id int64", "cust int64", "amount float64")
	q := b.SQL("big", "SELECT id FROM orders WHERE amount > 5")
	b.Write("out", q, "out.csv")
	job, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	if s := job.Step("big"); s == nil || s.Kind != spec.KindSelect {
		t.Fatalf("step big is %+v, want the query's final select", s)
	}
}

// A read step no step reads is dropped after the job resolves (a table
// the query does not use is not scanned), unless it quarantines bad rows;
// explain names the dropped ones.
func TestUnreadReadsDropped(t *testing.T) {
	job, err := parseSQLSpec(t, `  - id: extra
    read: {path: orders.csv, schema: ["id int64", "cust int64", "amount float64"], on_error: quarantine, quarantine: bad.csv}
  - id: q
    sql: SELECT id FROM orders
`)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range job.Steps {
		ids = append(ids, s.ID)
	}
	if got := strings.Join(ids, ","); got != "orders,extra,q" {
		t.Errorf("steps %s, want orders,extra,q (customers unread, extra quarantines)", got)
	}
	if got := strings.Join(job.Unread, ","); got != "customers" {
		t.Errorf("Unread = %q, want customers", got)
	}
	l, err := Compile(job)
	if err != nil {
		t.Fatal(err)
	}
	out, err := l.Explain("text")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "read steps no step reads, not run: customers\n") {
		t.Errorf("explain does not name the dropped read:\n%s", out)
	}
	// An unread step is still checked before it is dropped.
	_, err = parseSQLSpec(t, `  - id: bad
    read: {path: orders.csv, schema: ["id int64", "id int64"]}
  - id: q
    sql: SELECT id FROM orders
`)
	if err == nil || !strings.Contains(err.Error(), `"bad"`) {
		t.Errorf("error %v, want one about step bad", err)
	}
}

// A read step that two steps read becomes one read per reader (the second
// named ID.read2), so that neither scan's rows are stored for the other;
// a read that skips bad rows stays one scan, so its skipped rows count
// once.
func TestSharedReadsSplit(t *testing.T) {
	job, err := parseSQLSpec(t, `  - id: lenient
    read: {path: customers.csv, schema: ["id int64", "name string"], on_error: skip}
  - id: a
    filter: amount > 1
    input: orders
  - id: b
    select: [id]
    input: orders
  - id: c
    filter: id > 1
    input: lenient
  - id: d
    select: [name]
    input: lenient
`)
	if err != nil {
		t.Fatal(err)
	}
	inputs := func(id string) string { return strings.Join(job.Step(id).Inputs, ",") }
	if got := inputs("a") + " " + inputs("b"); got != "orders orders.read2" {
		t.Errorf("a and b read %s, want orders orders.read2", got)
	}
	if r := job.Step("orders.read2"); r == nil || r.Read == nil || r.Read.Path != job.Step("orders").Read.Path {
		t.Fatalf("orders.read2 is %+v, want a copy of the read orders", r)
	}
	if got := inputs("c") + " " + inputs("d"); got != "lenient lenient" {
		t.Errorf("c and d read %s, want lenient twice (it skips bad rows)", got)
	}
	var ids []string
	for _, s := range job.Steps {
		ids = append(ids, s.ID)
	}
	if got := strings.Join(ids, ","); got != "orders,lenient,a,orders.read2,b,c,d" {
		t.Errorf("steps %s: a copy comes right before its reader", got)
	}
}
