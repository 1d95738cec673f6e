package recovery

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// topoSpec is the compact stage-level description the tests build
// topologies from:
//
//	stage a x2                       # stage a, parallelism 2 (default 1)
//	edge a -> b hash blocking        # partitioner and mode
//	regions a[0] a[1] | b[0] | b[1]  # optional: given regions
//
// Partitioners: forward (equal parallelism; i -> i), global (to consumer
// 0), hash, broadcast, rebalance, random (to every consumer); rebalance and
// random are nondeterministic. Each producer subtask of an edge a -> b gets
// one partition, named "a[i]->b". Without a regions line, the regions are
// the connected components over pipelined partitions (connectedRegions),
// numbered by their smallest subtask. "#" starts a comment.
type topoSpec struct {
	stages  []stageSpec
	edges   []edgeSpec
	regions [][]string // given regions, by subtask name; nil: computed
}

type stageSpec struct {
	name        string
	parallelism int
}

type edgeSpec struct {
	from, to    string
	partitioner string
	pipelined   bool
}

var deterministicPartitioners = map[string]bool{
	"forward": true, "global": true, "hash": true, "broadcast": true,
	"rebalance": false, "random": false,
}

func parseTopoSpec(input string) (*topoSpec, error) {
	ts := &topoSpec{}
	for i, line := range strings.Split(input, "\n") {
		line, _, _ = strings.Cut(line, "#")
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		var err error
		switch fields[0] {
		case "stage":
			err = ts.parseStage(fields[1:])
		case "edge":
			err = ts.parseEdge(fields[1:])
		case "regions":
			for _, r := range strings.Split(strings.Join(fields[1:], " "), "|") {
				ts.regions = append(ts.regions, strings.Fields(r))
			}
		default:
			err = fmt.Errorf("unknown directive %q", fields[0])
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
	}
	return ts, nil
}

func (ts *topoSpec) parseStage(f []string) error {
	st := stageSpec{parallelism: 1}
	switch {
	case len(f) == 2 && strings.HasPrefix(f[1], "x"):
		n, err := strconv.Atoi(f[1][1:])
		if err != nil || n < 1 {
			return fmt.Errorf("stage %s: bad parallelism %q", f[0], f[1])
		}
		st.parallelism = n
	case len(f) != 1:
		return fmt.Errorf("want: stage NAME [xN]")
	}
	st.name = f[0]
	if ts.stage(st.name) != nil {
		return fmt.Errorf("stage %s declared twice", st.name)
	}
	ts.stages = append(ts.stages, st)
	return nil
}

func (ts *topoSpec) parseEdge(f []string) error {
	if len(f) != 5 || f[1] != "->" {
		return fmt.Errorf("want: edge FROM -> TO PARTITIONER blocking|pipelined")
	}
	e := edgeSpec{from: f[0], to: f[2], partitioner: f[3]}
	if _, ok := deterministicPartitioners[e.partitioner]; !ok {
		return fmt.Errorf("unknown partitioner %q", e.partitioner)
	}
	switch f[4] {
	case "blocking":
	case "pipelined":
		e.pipelined = true
	default:
		return fmt.Errorf("unknown mode %q", f[4])
	}
	from, to := ts.stage(e.from), ts.stage(e.to)
	switch {
	case from == nil || to == nil:
		return fmt.Errorf("edge %s -> %s: undeclared stage", e.from, e.to)
	case e.partitioner == "forward" && from.parallelism != to.parallelism:
		return fmt.Errorf("forward edge %s -> %s: parallelism differs", e.from, e.to)
	case e.partitioner == "global" && to.parallelism != 1:
		return fmt.Errorf("global edge %s -> %s: consumer parallelism is not 1", e.from, e.to)
	}
	for _, o := range ts.edges {
		if o.from == e.from && o.to == e.to {
			return fmt.Errorf("edge %s -> %s declared twice", e.from, e.to)
		}
	}
	ts.edges = append(ts.edges, e)
	return nil
}

func (ts *topoSpec) stage(name string) *stageSpec {
	for i := range ts.stages {
		if ts.stages[i].name == name {
			return &ts.stages[i]
		}
	}
	return nil
}

// build expands the spec into a Topology: subtasks stage by stage, then one
// partition per producer subtask per edge.
func (ts *topoSpec) build() (*Topology, error) {
	var subtasks []Subtask
	first := map[string]SubtaskID{}
	for _, st := range ts.stages {
		first[st.name] = SubtaskID(len(subtasks))
		for i := range st.parallelism {
			subtasks = append(subtasks, Subtask{Name: fmt.Sprintf("%s[%d]", st.name, i)})
		}
	}
	var parts []Partition
	for _, e := range ts.edges {
		from, to := ts.stage(e.from), ts.stage(e.to)
		for i := range from.parallelism {
			p := Partition{
				Name:          fmt.Sprintf("%s[%d]->%s", e.from, i, e.to),
				Producer:      first[e.from] + SubtaskID(i),
				Deterministic: deterministicPartitioners[e.partitioner],
			}
			if e.pipelined {
				p.Mode = Pipelined
			}
			for _, c := range consumerIndexes(e.partitioner, i, to.parallelism) {
				p.Consumers = append(p.Consumers, first[e.to]+SubtaskID(c))
			}
			parts = append(parts, p)
		}
	}
	regions, err := ts.regionList(subtasks, parts)
	if err != nil {
		return nil, err
	}
	return NewTopology(subtasks, regions, parts)
}

func consumerIndexes(partitioner string, producer, n int) []int {
	switch partitioner {
	case "forward":
		return []int{producer}
	case "global":
		return []int{0}
	}
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

func (ts *topoSpec) regionList(subtasks []Subtask, parts []Partition) ([]Region, error) {
	if ts.regions == nil {
		return connectedRegions(len(subtasks), parts), nil
	}
	byName := map[string]SubtaskID{}
	for i, st := range subtasks {
		byName[st.Name] = SubtaskID(i)
	}
	regions := make([]Region, len(ts.regions))
	for i, names := range ts.regions {
		for _, n := range names {
			id, ok := byName[n]
			if !ok {
				return nil, fmt.Errorf("regions: unknown subtask %q", n)
			}
			regions[i].Subtasks = append(regions[i].Subtasks, id)
		}
	}
	return regions, nil
}

// connectedRegions is the naive region computation: connected components
// of the subtasks over pipelined partitions, numbered by smallest subtask.
// (Unlike plan, it does not merge regions on a cycle of blocking edges;
// recovery does not need the region graph to be acyclic.)
func connectedRegions(n int, parts []Partition) []Region {
	comp := make([]int, n)
	for i := range comp {
		comp[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		if comp[i] != i {
			comp[i] = find(comp[i])
		}
		return comp[i]
	}
	for _, p := range parts {
		if p.Mode != Pipelined {
			continue
		}
		for _, c := range p.Consumers {
			a, b := find(int(p.Producer)), find(int(c))
			comp[max(a, b)] = min(a, b) // the root is the smallest member
		}
	}
	var regions []Region
	index := map[int]int{}
	for i := range n {
		root := find(i)
		r, ok := index[root]
		if !ok {
			r = len(regions)
			index[root] = r
			regions = append(regions, Region{})
		}
		regions[r].Subtasks = append(regions[r].Subtasks, SubtaskID(i))
	}
	return regions
}

// expandNames resolves a comma-separated list of names; "[*]" in a name
// matches every index ("a[*]", "a[*]->b").
func expandNames(list string, all []string) ([]string, error) {
	var out []string
	for _, pat := range strings.Split(list, ",") {
		if pat == "" {
			continue
		}
		prefix, suffix, wild := strings.Cut(pat, "[*]")
		n := len(out)
		for _, name := range all {
			if name == pat || (wild && matchIndex(name, prefix+"[", "]"+suffix)) {
				out = append(out, name)
			}
		}
		if len(out) == n {
			return nil, fmt.Errorf("%q matches nothing", pat)
		}
	}
	return slices.Compact(out), nil
}

func matchIndex(name, prefix, suffix string) bool {
	if !strings.HasPrefix(name, prefix) || !strings.HasSuffix(name, suffix) || len(name) < len(prefix)+len(suffix) {
		return false
	}
	_, err := strconv.Atoi(name[len(prefix) : len(name)-len(suffix)])
	return err == nil
}
