package plan

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/cockroachdb/datadriven"
)

// TestDataDriven runs the testdata files. Commands:
//
//	build [parallelism=N] [mode=all-blocking|all-pipelined]
//	<one step per line, see parseStep>
//	----
//	<Explain text of the compiled job, or "error: ...">
//
// Every successful build is checked against the invariants of
// checkInvariants (brute-force regions included). Rewrite with -rewrite.
func TestDataDriven(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		env := &ddEnv{}
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			return env.handle(t, d)
		})
	})
}

// ddEnv is the state a testdata file builds up: the last compiled job.
type ddEnv struct {
	g *StageGraph
	r *Regions
}

func (env *ddEnv) handle(t *testing.T, d *datadriven.TestData) string {
	switch d.Cmd {
	case "build":
		// build [parallelism=N] [mode=M]: compile the steps of the input and
		// print the text explain.
		return env.build(t, d)
	case "explain":
		// explain format=text|json|dot: explain the last built job.
		var format string
		d.ScanArgs(t, "format", &format)
		out, err := Explain(env.mustGraph(t, d), env.r, format)
		if err != nil {
			return "error: " + err.Error() + "\n"
		}
		return out
	case "regions":
		// regions: each region of the last built job with its inputs,
		// outputs, producer and consumer regions.
		return describeRegionsDetail(env.mustGraph(t, d), env.r)
	}
	d.Fatalf(t, "unknown command %q", d.Cmd)
	return ""
}

func (env *ddEnv) mustGraph(t *testing.T, d *datadriven.TestData) *StageGraph {
	if env.g == nil {
		d.Fatalf(t, "%s: no job built yet", d.Cmd)
	}
	return env.g
}

func (env *ddEnv) build(t *testing.T, d *datadriven.TestData) string {
	job := &spec.Job{Name: "test"}
	for _, arg := range d.CmdArgs {
		switch arg.Key {
		case "parallelism":
			job.Parallelism = atoiOrFatal(t, d, arg.SingleVal(t))
		case "mode":
			switch arg.SingleVal(t) {
			case "all-blocking":
				job.Mode = spec.AllBlocking
			case "all-pipelined":
				job.Mode = spec.AllPipelined
			default:
				d.Fatalf(t, "unknown mode %q", arg.SingleVal(t))
			}
		default:
			d.Fatalf(t, "unknown build argument %q", arg.Key)
		}
	}
	for i, line := range strings.Split(d.Input, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		s, err := parseStep(line)
		if err != nil {
			d.Fatalf(t, "input line %d: %v", i+1, err)
		}
		job.Steps = append(job.Steps, s)
	}
	env.g, env.r = nil, nil
	g, err := Compile(job)
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	env.g, env.r = g, ComputeRegions(g)
	if err := checkInvariants(g, env.r); err != nil {
		d.Fatalf(t, "invariant violated: %v", err)
	}
	out, err := Explain(g, env.r, "text")
	if err != nil {
		d.Fatalf(t, "%v", err)
	}
	return out
}

func atoiOrFatal(t *testing.T, d *datadriven.TestData, s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		d.Fatalf(t, "%v", err)
	}
	return n
}

// parseStep parses one step line: a kind and key=value fields.
//
//	read        id=X [parallelism=N]
//	filter      id=X input=Y [parallelism=N] [exchange=pipelined|blocking]
//	select      (as filter)
//	agg         id=X input=Y [keys=a,b] [count_distinct] ... (no keys: global)
//	join        id=X input=L,R [left=a] [right=b] [broadcast] ...
//	sort        id=X input=Y [keys=a,b] ...
//	limit       id=X input=Y [n=10] ...
//	union       id=X input=A,B,... [distinct=a,b] ...
//	distinct    id=X input=Y keys=a,b ...
//	explode     id=X input=Y ...
//	repartition id=X input=Y by=hash|rebalance|random|broadcast [keys=a] ...
//	write       id=X input=Y [parallelism=N] ...      (default parallelism 1)
//
// parallelism, exchange are accepted on every step; a bare word is a flag
// (broadcast).
func parseStep(line string) (*spec.Step, error) {
	fields := strings.Fields(line)
	kindName := fields[0]
	if kindName == "agg" {
		kindName = "aggregate"
	}
	kind, ok := spec.ParseKind(kindName)
	if !ok {
		return nil, fmt.Errorf("unknown step kind %q", fields[0])
	}
	kv := map[string]string{}
	for _, f := range fields[1:] {
		k, v, _ := strings.Cut(f, "=")
		if _, dup := kv[k]; dup {
			return nil, fmt.Errorf("field %q given twice", k)
		}
		kv[k] = v
	}
	s := &spec.Step{ID: kv["id"], Kind: kind, Inputs: list(kv["input"])}
	delete(kv, "id")
	delete(kv, "input")
	if err := parseCommon(s, kv); err != nil {
		return nil, err
	}
	if err := parseKindFields(s, kv); err != nil {
		return nil, err
	}
	if len(kv) > 0 {
		return nil, fmt.Errorf("unknown fields %v for %v", slices.Sorted(maps.Keys(kv)), kind)
	}
	return s, nil
}

// parseCommon parses the fields every step kind takes, deleting them from kv.
func parseCommon(s *spec.Step, kv map[string]string) error {
	if v, ok := kv["parallelism"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			return err
		}
		s.Parallelism = n
		delete(kv, "parallelism")
	}
	if v, ok := kv["exchange"]; ok {
		switch v {
		case "pipelined":
			s.Exchange = spec.ModePipelined
		case "blocking":
			s.Exchange = spec.ModeBlocking
		default:
			return fmt.Errorf("unknown exchange %q", v)
		}
		delete(kv, "exchange")
	}
	return nil
}

// parseKindFields fills the step's kind-specific struct, deleting the
// fields it used from kv.
func parseKindFields(s *spec.Step, kv map[string]string) error {
	take := func(k string) string { v := kv[k]; delete(kv, k); return v }
	switch s.Kind {
	case spec.KindRead:
		s.Read = &spec.ReadStep{Path: s.ID + ".csv"}
	case spec.KindFilter:
		s.Filter = &spec.FilterStep{}
	case spec.KindSelect:
		s.Select = &spec.SelectStep{}
	case spec.KindAggregate:
		s.Aggregate = &spec.AggregateStep{Keys: list(take("keys"))}
		if _, ok := kv["count_distinct"]; ok {
			delete(kv, "count_distinct")
			s.Aggregate.Aggs = []spec.Agg{{Func: spec.AggCountDistinct, Arg: "v"}}
		}
	case spec.KindDistinct:
		s.Distinct = &spec.DistinctStep{Keys: list(take("keys"))}
	case spec.KindExplode:
		s.Explode = &spec.ExplodeStep{Column: "line", Split: " "}
	case spec.KindJoin:
		_, bc := kv["broadcast"]
		delete(kv, "broadcast")
		s.Join = &spec.JoinStep{LeftKeys: list(take("left")), RightKeys: list(take("right")), Broadcast: bc}
	case spec.KindSort:
		s.Sort = &spec.SortStep{}
		for _, k := range list(take("keys")) {
			s.Sort.Keys = append(s.Sort.Keys, spec.SortKey{Column: k})
		}
	case spec.KindLimit:
		n, _ := strconv.ParseInt(take("n"), 10, 64)
		s.Limit = &spec.LimitStep{N: n}
	case spec.KindUnion:
		s.Union = &spec.UnionStep{}
		if _, ok := kv["distinct"]; ok {
			s.Union.Distinct = &spec.DistinctStep{Keys: list(take("distinct"))}
		}
	case spec.KindRepartition:
		by, ok := spec.ParsePartitioning(take("by"))
		if !ok {
			return fmt.Errorf("repartition %q: by= must be hash, rebalance, random or broadcast", s.ID)
		}
		s.Repartition = &spec.RepartitionStep{By: by, Keys: list(take("keys"))}
	case spec.KindWrite:
		s.Write = &spec.WriteStep{Path: s.ID + ".csv"}
	}
	return nil
}

// list splits a comma-separated list; "" is the empty list.
func list(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// describeRegionsDetail prints each region with the partitions it reads
// and writes and its neighbour regions.
func describeRegionsDetail(g *StageGraph, r *Regions) string {
	var b strings.Builder
	for _, reg := range r.List {
		fmt.Fprintf(&b, "%s\n  inputs:    %s\n  outputs:   %s\n  producers: %s\n  consumers: %s\n",
			g.DescribeRegion(reg), joinIDs(reg.Inputs), joinIDs(r.Outputs(g, reg.ID)),
			joinIDs(r.Producers(g, reg.ID)), joinIDs(r.Consumers(g, reg.ID)))
	}
	return b.String()
}

func joinIDs[T fmt.Stringer](ids []T) string {
	if len(ids) == 0 {
		return "-"
	}
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = id.String()
	}
	return strings.Join(s, " ")
}
