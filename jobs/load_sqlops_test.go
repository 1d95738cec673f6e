package jobs

import (
	"testing"

	"github.com/batchrun/batchrun/jobs/spec"
)

// TestParseSQLStepFeatures decodes the settings a SQL front end compiles
// into: a join's residual condition, a join without keys (broadcast by
// default), NULLS FIRST/LAST and a limit with an offset, in YAML and with
// the builder.
func TestParseSQLStepFeatures(t *testing.T) {
	src := header + `  - id: users
    read: {path: u.csv, schema: ["uid int64", "name string"]}
  - id: j
    join: {left: events, right: users, on: ["user_id = uid"], type: left, where: "name NOT LIKE 'x%' AND amount > 1"}
  - id: cross
    join: {left: events, right: users, type: anti, where: "user_id < uid"}
  - id: cross2
    join: {left: events, right: users, on: []}
  - id: s
    sort: ["amount DESC NULLS LAST", "country NULLS FIRST", user_id]
    input: events
  - id: l
    limit: {count: 10, offset: 20}
    input: s
  - id: l2
    limit: 5
    input: s
`
	job, err := Parse([]byte(src), "t.yaml", "", LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	j := job.Step("j").Join
	if j.Where == nil || j.Where.String() != "name NOT LIKE 'x%' AND amount > 1" || j.Broadcast || j.Keyless() {
		t.Errorf("join j = %+v", j)
	}
	for _, id := range []string{"cross", "cross2"} {
		if c := job.Step(id).Join; !c.Keyless() || !c.Broadcast {
			t.Errorf("join %s = %+v, want keyless and broadcast", id, c)
		}
	}
	want := []spec.SortKey{{Column: "amount", Desc: true, Nulls: spec.NullsLast}, {Column: "country", Nulls: spec.NullsFirst}, {Column: "user_id"}}
	for i, k := range job.Step("s").Sort.Keys {
		if k != want[i] {
			t.Errorf("sort key %d = %+v, want %+v", i, k, want[i])
		}
	}
	if l := job.Step("l").Limit; l.N != 10 || l.Offset != 20 || l.Keep() != 30 {
		t.Errorf("limit l = %+v", l)
	}
	if l := job.Step("l2").Limit; l.N != 5 || l.Offset != 0 {
		t.Errorf("limit l2 = %+v", l)
	}

	b := NewBuilder("t")
	ev := b.Read("events", "e.csv", "user_id int64", "amount float64")
	us := b.Read("users", "u.csv", "uid int64", "lim float64")
	b.Join("cross", ev, us, On(), Semi).Where("amount > lim")
	b.Limit("top", b.Sort("s", ev, "amount DESC NULLS LAST"), 3).Offset(2)
	bj, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	if c := bj.Step("cross").Join; !c.Keyless() || !c.Broadcast || c.Where.String() != "amount > lim" {
		t.Errorf("built join = %+v", c)
	}
	if l := bj.Step("top").Limit; l.N != 3 || l.Offset != 2 {
		t.Errorf("built limit = %+v", l)
	}
	bad := NewBuilder("t")
	bad.Join("j", bad.Read("a", "a.csv", "x int64"), bad.Read("b", "b.csv", "y int64"), On(), Right)
	if _, err := bad.Build(); err == nil {
		t.Errorf("keyless right join built")
	}
}
