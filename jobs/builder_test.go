package jobs

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/batchrun/batchrun/jobs/spec"
)

// docExample returns the YAML of the "Full example" section of docs/spec.md,
// so that the documented example is tested.
func docExample(t *testing.T) []byte {
	t.Helper()
	doc, err := os.ReadFile("../docs/spec.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "## Full example")
	if !ok {
		t.Fatal(`docs/spec.md has no "## Full example" section`)
	}
	_, rest, _ = strings.Cut(rest, "```yaml\n")
	yml, _, ok := strings.Cut(rest, "```")
	if !ok {
		t.Fatal("docs/spec.md: no yaml block in the full example")
	}
	return []byte(yml)
}

// fullExample builds the docs/spec.md full example with the Builder.
func fullExample() *Builder {
	b := NewBuilder("revenue-by-segment").Parallelism(4).Mode(spec.AllBlocking)
	ev := b.Read("events", "data/events.csv", "user_id int64", "country string", "amount float64", "ts int64").Delimiter(',')
	users := b.Read("users", "data/users.csv", "user_id int64", "name string", "segment string")
	big := b.Filter("big", ev, "amount > 10 AND country IN ('DE','FR')")
	j := b.Join("joined", big, users, On("user_id"), Inner).NoBroadcast()
	agg := b.Aggregate("bysegment", j, []string{"segment"}, "count(*) AS orders", "sum(amount) AS revenue").
		Parallelism(2).Exchange(spec.ModePipelined)
	proj := b.Select("proj", agg, "segment", "revenue / orders AS avg_order")
	sorted := b.Sort("sorted", agg, "revenue DESC", "segment")
	top := b.Limit("top", sorted, 10)
	de := b.Filter("de", ev, "country = 'DE'")
	fr := b.Filter("fr", ev, "country = 'FR'")
	both := b.Union("both", de, fr)
	spread := b.Repartition("spread", both, spec.PartitionRebalance).Parallelism(4)
	byuser := b.Repartition("byuser", spread, spec.PartitionHash, "user_id")
	renamed := b.Select("renamed", users, "user_id AS uid", "name")
	named := b.Join("named", byuser, renamed, On("user_id = uid"), Left).Broadcast()
	b.Write("out", top, "out/revenue.csv").Parallelism(1)
	b.Write("out_avg", proj, "out/avg_order.csv")
	b.Write("out_named", named, "out/named")
	return b
}

func TestBuilderEqualsYAML(t *testing.T) {
	fromYAML, err := Parse(docExample(t), "spec.md", "", LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	built, err := fullExample().Build()
	if err != nil {
		t.Fatal(err)
	}
	fromYAML.File = ""
	for _, s := range fromYAML.Steps {
		s.Line = 0
	}
	if !reflect.DeepEqual(fromYAML, built) {
		for i := range built.Steps {
			if i < len(fromYAML.Steps) && !reflect.DeepEqual(fromYAML.Steps[i], built.Steps[i]) {
				t.Errorf("step %s differs:\nyaml    %+v\nbuilder %+v", built.Steps[i].ID, *fromYAML.Steps[i], *built.Steps[i])
			}
		}
		t.Fatalf("builder job != YAML job:\nyaml    %+v\nbuilder %+v", *fromYAML, *built)
	}
}

// TestFullExampleDecoded checks the settings the full example spells out
// land in the right fields.
func TestFullExampleDecoded(t *testing.T) {
	job, err := Parse(docExample(t), "spec.md", "/base", LoadOptions{Params: map[string]string{"min_amount": "25"}})
	if err != nil {
		t.Fatal(err)
	}
	step := func(id string) *spec.Step {
		s := job.Step(id)
		if s == nil {
			t.Fatalf("no step %q", id)
		}
		return s
	}
	for _, tc := range []struct{ what, got, want string }{
		{"name", job.Name, "revenue-by-segment"},
		{"read path", step("events").Read.Path, "/base/data/events.csv"},
		{"write path", step("out").Write.Path, "/base/out/revenue.csv"},
		{"param from caller", step("big").Filter.Predicate.String(), "amount > 25 AND country IN ('DE', 'FR')"},
		{"join inputs", strings.Join(step("named").Inputs, ","), "byuser,renamed"},
		{"join keys", strings.Join(step("named").Join.LeftKeys, ",") + "=" + strings.Join(step("named").Join.RightKeys, ","), "user_id=uid"},
		{"union inputs", strings.Join(step("both").Inputs, ","), "de,fr"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %q, want %q", tc.what, tc.got, tc.want)
		}
	}
	if j := step("named").Join; j.Type != spec.LeftJoin || !j.Broadcast {
		t.Errorf("named join = %+v, want a left broadcast join", *j)
	}
	if s := step("bysegment"); s.Parallelism != 2 || s.Exchange != spec.ModePipelined {
		t.Errorf("bysegment parallelism %d exchange %s, want 2 pipelined", s.Parallelism, s.Exchange)
	}
	if s := step("spread"); s.Parallelism != 4 || s.Repartition.By != spec.PartitionRebalance {
		t.Errorf("spread = parallelism %d by %s, want 4 rebalance", s.Parallelism, s.Repartition.By)
	}
	if job.Parallelism != 4 || job.Mode != spec.AllBlocking || step("big").Line != 11 {
		t.Errorf("job parallelism %d mode %s, big at line %d; want 4 all-blocking 11", job.Parallelism, job.Mode, step("big").Line)
	}
}

func TestBuilderDeferredErrors(t *testing.T) {
	other := NewBuilder("other")
	foreign := other.Read("x", "x.csv", "a int64")
	for _, tc := range []struct {
		name  string
		build func(b *Builder)
		want  string
	}{
		{"bad expression", func(b *Builder) {
			b.Write("w", b.Filter("f", b.Read("r", "r.csv", "a int64"), "a >"), "o.csv")
		}, `step "f": filter: expression "a >": line 1 col 4: expected an operand, found end of input`},
		{"bad schema", func(b *Builder) { b.Read("r", "r.csv", "a") }, `step "r": schema: column "a": want "name type"`},
		{"bad join keys", func(b *Builder) {
			r := b.Read("r", "r.csv", "a int64")
			b.Join("j", r, r, On("a = "), Inner)
		}, `step "j": join on: bad key "a = ": want "column" or "left_column = right_column"`},
		{"keyless join, same names", func(b *Builder) {
			r := b.Read("r", "r.csv", "a int64")
			b.Join("j", r, r, On(), Inner)
		}, `step "j": column "a" is ambiguous: rename it with a select before the join`},
		{"where on non-join", func(b *Builder) {
			b.Limit("l", b.Read("r", "r.csv", "a int64"), 1).Where("a > 1")
		}, `step "l": Where applies to join steps only`},
		{"offset on non-limit", func(b *Builder) {
			b.Read("r", "r.csv", "a int64").Offset(1)
		}, `step "r": Offset applies to limit steps only`},
		{"bad where", func(b *Builder) {
			b.Join("j", b.Read("r", "r.csv", "a int64"), b.Read("s", "s.csv", "b int64"), On(), Semi).Where("a <")
		}, `step "j": join where: expression "a <": line 1 col 4: expected an operand, found end of input`},
		{"foreign handle", func(b *Builder) { b.Limit("l", foreign, 1) }, `step "l": input "x" belongs to another builder`},
		{"nil handle", func(b *Builder) { b.Limit("l", nil, 1) }, `step "l": input 1 is nil`},
		{"delimiter on non-read", func(b *Builder) {
			b.Limit("l", b.Read("r", "r.csv", "a int64"), 1).Delimiter(';')
		}, `step "l": Delimiter applies to read steps only`},
		{"resolve error", func(b *Builder) {
			b.Sort("s", b.Read("r", "r.csv", "a int64"), "b")
		}, `step "s": sort key: unknown column "b" (have a)`},
		{"no schema, no inferrer", func(b *Builder) { b.Read("r", "r.csv") },
			`step "r": read has no schema and schema inference is not configured`},
	} {
		b := NewBuilder("t")
		tc.build(b)
		_, err := b.Build()
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s: Build error = %v, want %s", tc.name, err, tc.want)
		}
	}
}

func TestBuilderInfer(t *testing.T) {
	b := NewBuilder("t").Infer(func(path string, delim byte) (spec.Schema, error) {
		return spec.Schema{{Name: path, Type: spec.Int64}}, nil
	})
	b.Write("w", b.Read("r", "a"), "o.csv")
	job, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	if got := job.Steps[0].Read.Schema.String(); got != "(a int64)" {
		t.Errorf("inferred schema = %s, want (a int64)", got)
	}
}
