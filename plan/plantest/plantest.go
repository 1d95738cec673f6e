// Package plantest parses jobs written one step per line, for the
// datadriven tests of plan and scheduler. Test code only.
package plantest

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/batchrun/batchrun/jobs/spec"
)

// ParseJob builds a job from args (parallelism=N, mode=all-blocking|
// all-pipelined) and input, one step per line (ParseStep); blank lines and
// lines starting with # are skipped.
func ParseJob(args map[string]string, input string) (*spec.Job, error) {
	job := &spec.Job{Name: "test"}
	for k, v := range args {
		switch k {
		case "parallelism":
			n, err := strconv.Atoi(v)
			if err != nil {
				return nil, fmt.Errorf("parallelism: %w", err)
			}
			job.Parallelism = n
		case "mode":
			switch v {
			case "all-blocking":
				job.Mode = spec.AllBlocking
			case "all-pipelined":
				job.Mode = spec.AllPipelined
			default:
				return nil, fmt.Errorf("unknown mode %q", v)
			}
		default:
			return nil, fmt.Errorf("unknown job argument %q", k)
		}
	}
	for i, line := range strings.Split(input, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		s, err := ParseStep(line)
		if err != nil {
			return nil, fmt.Errorf("input line %d: %w", i+1, err)
		}
		job.Steps = append(job.Steps, s)
	}
	return job, nil
}

// ParseStep parses one step line: a kind and key=value fields.
//
//	read        id=X [parallelism=N]
//	filter      id=X input=Y [parallelism=N] [exchange=pipelined|blocking]
//	select      (as filter)
//	agg         id=X input=Y [keys=a,b] [count_distinct] ... (no keys: global)
//	join        id=X input=L,R [left=a] [right=b] [broadcast] ...
//	sort        id=X input=Y [keys=a,b] ...
//	limit       id=X input=Y [n=10] [offset=0] ...
//	union       id=X input=A,B,... [distinct=a,b] ...
//	distinct    id=X input=Y keys=a,b ...
//	explode     id=X input=Y ...
//	window      id=X input=Y [keys=a,b] ...         (keys: the partition keys)
//	repartition id=X input=Y by=hash|rebalance|random|broadcast [keys=a] ...
//	write       id=X input=Y [parallelism=N] ...      (default parallelism 1)
//
// parallelism, exchange are accepted on every step; a bare word is a flag
// (broadcast).
func ParseStep(line string) (*spec.Step, error) {
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
	case spec.KindWindow:
		s.Window = &spec.WindowStep{PartitionBy: list(take("keys")), Funcs: []spec.WindowFunc{{Func: spec.WinRowNumber}}}
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
		n, err := strconv.ParseInt(cmp.Or(take("n"), "10"), 10, 64)
		if err != nil {
			return fmt.Errorf("limit %q: n: %w", s.ID, err)
		}
		off, err := strconv.ParseInt(cmp.Or(take("offset"), "0"), 10, 64)
		if err != nil {
			return fmt.Errorf("limit %q: offset: %w", s.ID, err)
		}
		s.Limit = &spec.LimitStep{N: n, Offset: off}
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
