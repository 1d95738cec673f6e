package plan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/batchrun/batchrun/jobs/spec"
)

// conn is one subtask-level connection of an edge: producer subtask P of
// the edge's source stage may send rows to consumer subtask C.
type conn struct {
	e    *Edge
	p, c int
}

// bruteConns enumerates every connection of every edge from the
// partitioner's definition, without using StageGraph.Consumers.
func bruteConns(g *StageGraph) []conn {
	var out []conn
	for _, e := range g.Edges {
		np, nc := g.Stages[e.From].Parallelism, g.Stages[e.To].Parallelism
		for p := range np {
			for c := range nc {
				connected := true
				switch e.Partitioner {
				case Forward:
					connected = p == c
				case Global:
					connected = c == 0
				}
				if connected {
					out = append(out, conn{e, p, c})
				}
			}
		}
	}
	return out
}

// bruteRegions computes regions naively: label propagation over pipelined
// connections (brutePipelined), then, until nothing changes, a transitive
// closure of the blocking region graph, merging every pair of regions that
// reach each other. It returns each subtask's label (the dense number of
// the smallest subtask of its region) and the dense numbering.
func bruteRegions(g *StageGraph) (label map[SubtaskID]int, dense func(SubtaskID) int) {
	label, dense = brutePipelined(g)
	conns := bruteConns(g)
	n := len(label)
	for changed := true; changed; {
		changed = false
		reach := make([][]bool, n)
		for i := range reach {
			reach[i] = make([]bool, n)
		}
		for _, cn := range conns {
			if cn.e.Mode == Blocking {
				reach[label[cn.from()]][label[cn.to()]] = true
			}
		}
		for k := range n {
			for i := range n {
				for j := range n {
					reach[i][j] = reach[i][j] || reach[i][k] && reach[k][j]
				}
			}
		}
		for i := range n {
			for j := i + 1; j < n; j++ {
				if reach[i][j] && reach[j][i] {
					relabel(label, j, i)
					changed = true
				}
			}
		}
	}
	return label, dense
}

// brutePipelined labels the connected components of subtasks over
// pipelined connections by propagating the smallest label until nothing
// changes.
func brutePipelined(g *StageGraph) (label map[SubtaskID]int, dense func(SubtaskID) int) {
	var all []SubtaskID
	for _, s := range g.Stages {
		for i := range s.Parallelism {
			all = append(all, SubtaskID{s.ID, int32(i)})
		}
	}
	dense = func(s SubtaskID) int { return slices.Index(all, s) }
	label = map[SubtaskID]int{}
	for i, s := range all {
		label[s] = i
	}
	conns := bruteConns(g)
	for changed := true; changed; {
		changed = false
		for _, cn := range conns {
			a, b := cn.from(), cn.to()
			if cn.e.Mode == Pipelined && label[a] != label[b] {
				m := min(label[a], label[b])
				relabel(label, label[a], m)
				relabel(label, label[b], m)
				changed = true
			}
		}
	}
	return label, dense
}

func (cn conn) from() SubtaskID { return SubtaskID{cn.e.From, int32(cn.p)} }
func (cn conn) to() SubtaskID   { return SubtaskID{cn.e.To, int32(cn.c)} }

func relabel(label map[SubtaskID]int, from, to int) {
	for s, l := range label {
		if l == from {
			label[s] = to
		}
	}
}

// checkInvariants checks a compiled graph and its regions.
func checkInvariants(g *StageGraph, r *Regions) error {
	if err := checkGraph(g); err != nil {
		return err
	}
	if err := checkRegions(g, r); err != nil {
		return err
	}
	return checkRegionHelpers(g, r)
}

// checkGraph checks the shape of a compiled graph: ids, topological order,
// ports, partitioner preconditions and that every step has its ops.
func checkGraph(g *StageGraph) error {
	names := map[string]bool{}
	for i, s := range g.Stages {
		if s.ID != StageID(i) || s.Parallelism < 1 || len(s.Ops) == 0 || names[s.Name] || s.Ops[0].Step != s.Name {
			return fmt.Errorf("bad stage %d: %+v", i, s)
		}
		names[s.Name] = true
		for p, e := range s.Inputs {
			if g.Edges[e].To != s.ID || g.Edges[e].Port != p {
				return fmt.Errorf("stage %s input %d is %s", s.ID, p, g.DescribeEdge(g.Edges[e]))
			}
		}
		for _, e := range s.Outputs {
			if g.Edges[e].From != s.ID {
				return fmt.Errorf("stage %s output %s", s.ID, g.DescribeEdge(g.Edges[e]))
			}
		}
	}
	for i, e := range g.Edges {
		from, to := g.Stages[e.From], g.Stages[e.To]
		switch {
		case e.ID != EdgeID(i) || e.From >= e.To:
			return fmt.Errorf("edge %d not topological: %s", i, g.DescribeEdge(e))
		case e.Partitioner == Forward && from.Parallelism != to.Parallelism:
			return fmt.Errorf("forward edge across parallelism: %s", g.DescribeEdge(e))
		case e.Partitioner == Global && to.Parallelism != 1:
			return fmt.Errorf("global edge into parallelism %d: %s", to.Parallelism, g.DescribeEdge(e))
		case !slices.Contains(from.Outputs, e.ID) || !slices.Contains(to.Inputs, e.ID):
			return fmt.Errorf("edge %s missing from its stages", e.ID)
		}
	}
	return checkOps(g)
}

// checkOps checks that each step appears once whole, or as a partial and
// then a final op in a later stage; a sort fused into a top-N appears as
// no op, and its limit's ops are marked TopN.
func checkOps(g *StageGraph) error {
	roles := map[string][]Role{}
	topN := map[string]bool{}
	for _, s := range g.Stages {
		if err := checkOneJoin(g, s); err != nil {
			return err
		}
		for _, op := range s.Ops {
			roles[op.Step] = append(roles[op.Step], op.Role)
			if op.TopN {
				topN[op.Step] = true
			}
		}
	}
	fusedSorts := map[string]bool{}
	for _, s := range g.Job.Steps {
		if topN[s.ID] {
			if s.Kind != spec.KindLimit || len(s.Inputs) != 1 || g.Job.Step(s.Inputs[0]).Kind != spec.KindSort {
				return fmt.Errorf("step %s (%v) is a top-N but does not read a sort", s.ID, s.Kind)
			}
			fusedSorts[s.Inputs[0]] = true
		}
	}
	for _, s := range g.Job.Steps {
		got := roles[s.ID]
		if fusedSorts[s.ID] {
			if len(got) != 0 {
				return fmt.Errorf("fused sort %s has ops %v", s.ID, got)
			}
			continue
		}
		if !slices.Equal(got, []Role{Whole}) && !slices.Equal(got, []Role{Partial, Final}) {
			return fmt.Errorf("step %s has ops %v", s.ID, got)
		}
		if len(got) == 2 && !splittable(s) {
			return fmt.Errorf("step %s (%v) is split", s.ID, s.Kind)
		}
	}
	return nil
}

// checkOneJoin checks that a stage holds only what a subtask can run
// (jobs/task.go): a chain has one join slot, so at most one join. A join
// heading the stage reads its build side on port 1 of its own two inputs
// and leaves no side input; a join further down the chain reads it from
// exactly one side input, a broadcast edge whose Op is that join. No
// other op has a side input.
func checkOneJoin(g *StageGraph, s *Stage) error {
	join := -1
	for i, op := range s.Ops {
		if g.Job.Step(op.Step).Kind != spec.KindJoin {
			continue
		}
		if join >= 0 {
			return fmt.Errorf("stage %s holds two joins (ops %d and %d): %v", s.Name, join, i, s.Ops)
		}
		join = i
	}
	var side []*Edge
	for _, eid := range s.Inputs {
		if e := g.Edges[eid]; e.Op != 0 {
			side = append(side, e)
		}
	}
	switch {
	case join <= 0 && len(side) > 0:
		return fmt.Errorf("stage %s: side input %s feeds op %d, no join is chained there", s.Name, side[0].ID, side[0].Op)
	case join == 0 && len(s.Inputs) != 2:
		return fmt.Errorf("stage %s: the join at its head has %d inputs, want 2", s.Name, len(s.Inputs))
	case join > 0 && len(side) != 1:
		return fmt.Errorf("stage %s: chained join (op %d) has %d side inputs, want 1", s.Name, join, len(side))
	case join > 0 && (side[0].Op != join || side[0].Partitioner != Broadcast):
		return fmt.Errorf("stage %s: side input %s (%v) feeds op %d, the join is op %d", s.Name, side[0].ID, side[0].Partitioner, side[0].Op, join)
	}
	return nil
}

// splittable reports whether step s may run as a partial and a final op.
func splittable(s *spec.Step) bool {
	switch s.Kind {
	case spec.KindAggregate, spec.KindSort, spec.KindLimit, spec.KindDistinct:
		return true
	}
	return false
}

// checkRegions compares r with the brute force and checks that no
// pipelined connection crosses regions and that the region ids are a
// topological order of the blocking region graph (so it is acyclic).
func checkRegions(g *StageGraph, r *Regions) error {
	label, dense := bruteRegions(g)
	if got, want := canonical(g, r.Of, dense), canonical(g, label, dense); got != want {
		return fmt.Errorf("regions differ from brute force:\n got %s\nwant %s", got, want)
	}
	seen := map[SubtaskID]bool{}
	for i, reg := range r.List {
		if reg.ID != RegionID(i) || len(reg.Subtasks) == 0 || !slices.IsSortedFunc(reg.Subtasks, compareSubtasks) {
			return fmt.Errorf("bad region %d: %s", i, g.DescribeRegion(reg))
		}
		for _, s := range reg.Subtasks {
			if seen[s] || r.Of[s] != reg.ID {
				return fmt.Errorf("subtask %s in two regions or Of wrong", g.SubtaskName(s))
			}
			seen[s] = true
		}
	}
	if len(seen) != len(label) || len(r.Of) != len(label) {
		return fmt.Errorf("regions hold %d subtasks, graph has %d", len(seen), len(label))
	}
	inputs := map[RegionID][]PartitionID{}
	for _, cn := range bruteConns(g) {
		a, b := r.Of[cn.from()], r.Of[cn.to()]
		switch {
		case cn.e.Mode == Pipelined && a != b:
			return fmt.Errorf("pipelined %s crosses %s -> %s", cn.e.ID, a, b)
		case cn.e.Mode == Blocking && a > b:
			return fmt.Errorf("blocking %s goes back %s -> %s: not topological", cn.e.ID, a, b)
		case cn.e.Mode == Blocking && a != b:
			inputs[b] = append(inputs[b], PartitionID{cn.e.ID, int32(cn.p)})
		}
	}
	for _, reg := range r.List {
		want := inputs[reg.ID]
		slices.SortFunc(want, comparePartitions)
		want = slices.Compact(want)
		if !slices.Equal(reg.Inputs, want) {
			return fmt.Errorf("%s inputs %v, want %v", reg.ID, reg.Inputs, want)
		}
	}
	return nil
}

// canonical renders a partition of subtasks, given as a label per subtask,
// independent of the label values: the groups, each sorted, in order.
func canonical[L comparable](g *StageGraph, label map[SubtaskID]L, dense func(SubtaskID) int) string {
	groups := map[L][]SubtaskID{}
	for s, l := range label {
		groups[l] = append(groups[l], s)
	}
	var out []string
	for _, ss := range groups {
		slices.SortFunc(ss, func(a, b SubtaskID) int { return dense(a) - dense(b) })
		out = append(out, strings.Join(g.subtaskNames(ss), " "))
	}
	slices.Sort(out)
	return "{" + strings.Join(out, "} {") + "}"
}

// checkRegionHelpers checks Outputs, Readers, Consumers and Producers
// against the regions' Inputs.
func checkRegionHelpers(g *StageGraph, r *Regions) error {
	consumers := map[RegionID][]RegionID{}
	producers := map[RegionID][]RegionID{}
	for _, reg := range r.List {
		for _, p := range reg.Inputs {
			from := r.Of[SubtaskID{g.Edges[p.Edge].From, p.Producer}]
			consumers[from] = append(consumers[from], reg.ID)
			producers[reg.ID] = append(producers[reg.ID], from)
			if !slices.Contains(r.Outputs(g, from), p) || !slices.Contains(r.Readers(g, p), reg.ID) {
				return fmt.Errorf("%s reads %s, not an output of %s", reg.ID, p, from)
			}
		}
	}
	for _, reg := range r.List {
		if got, want := r.Consumers(g, reg.ID), sortedIDs(consumers[reg.ID]); !slices.Equal(got, want) {
			return fmt.Errorf("%s consumers = %v, want %v", reg.ID, got, want)
		}
		if got, want := r.Producers(g, reg.ID), sortedIDs(producers[reg.ID]); !slices.Equal(got, want) {
			return fmt.Errorf("%s producers = %v, want %v", reg.ID, got, want)
		}
	}
	return nil
}

func sortedIDs(ids []RegionID) []RegionID {
	slices.Sort(ids)
	return slices.Compact(ids)
}
