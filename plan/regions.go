package plan

import (
	"container/heap"
	"slices"
)

// ComputeRegions groups the subtasks of g into pipelined regions, the way
// Flink's SchedulingPipelinedRegionComputeUtil does:
//
//  1. Subtasks connected by pipelined edges, at the subtask level, share a
//     region (connected components). A forward edge connects producer i to
//     consumer i, a global edge every producer to consumer 0, and every
//     other partitioner each producer to each consumer.
//  2. Over blocking edges the regions form a graph; regions on a cycle of
//     it (a strongly connected component) are merged, so that the region
//     graph is a DAG and each region can wait for all the blocking inputs
//     it reads from other regions. A blocking edge may then connect two
//     subtasks of one region; such a partition is not among the region's
//     Inputs (the region is started before it is committed).
//
// Regions are numbered in topological order of the region DAG; among
// regions ready together, the one holding the smallest subtask (by stage,
// then index) comes first.
func ComputeRegions(g *StageGraph) *Regions {
	x := newSubtaskIndex(g)
	uf := newUnionFind(x.n)
	for _, e := range g.Edges {
		if e.Mode == Pipelined {
			x.unionEdge(g, e, uf)
		}
	}
	comps := x.components(uf)
	for _, scc := range stronglyConnected(len(comps), x.arcs(g, uf, comps)) {
		for _, c := range scc[1:] {
			uf.union(comps[scc[0]], comps[c])
		}
	}
	comps = x.components(uf)
	order := topoRegions(len(comps), x.arcs(g, uf, comps))
	return x.build(g, uf, comps, order)
}

// subtaskIndex numbers the subtasks of a graph densely: stage by stage, so
// the dense order is the (stage, index) order.
type subtaskIndex struct {
	base []int // base[s] is the dense number of subtask s.0
	n    int
}

func newSubtaskIndex(g *StageGraph) *subtaskIndex {
	x := &subtaskIndex{base: make([]int, len(g.Stages))}
	for i, s := range g.Stages {
		x.base[i] = x.n
		x.n += s.Parallelism
	}
	return x
}

func (x *subtaskIndex) id(stage StageID, index int) int { return x.base[stage] + index }

// unionEdge unions the subtasks edge e connects. All-to-all connections
// are unioned through producer 0 and consumer 0, in O(producers+consumers).
func (x *subtaskIndex) unionEdge(g *StageGraph, e *Edge, uf *unionFind) {
	np, nc := g.Stages[e.From].Parallelism, g.Stages[e.To].Parallelism
	switch e.Partitioner {
	case Forward:
		for i := 0; i < min(np, nc); i++ {
			uf.union(x.id(e.From, i), x.id(e.To, i))
		}
		return
	case Global:
		for i := range np {
			uf.union(x.id(e.From, i), x.id(e.To, 0))
		}
		return
	}
	for i := range np {
		uf.union(x.id(e.From, i), x.id(e.To, 0))
	}
	for i := range nc {
		uf.union(x.id(e.From, 0), x.id(e.To, i))
	}
}

// components numbers the current union-find classes 0.. by their smallest
// subtask; the result maps component number to its root.
func (x *subtaskIndex) components(uf *unionFind) []int {
	var roots []int
	seen := make([]bool, x.n)
	for i := range x.n {
		r := uf.find(i)
		if !seen[r] {
			seen[r] = true
			roots = append(roots, r)
		}
	}
	return roots
}

// arcs returns, per component, the sorted distinct components that read a
// blocking partition it writes (self arcs left out).
func (x *subtaskIndex) arcs(g *StageGraph, uf *unionFind, comps []int) [][]int {
	comp := make(map[int]int, len(comps)) // root -> component
	for c, r := range comps {
		comp[r] = c
	}
	of := func(s StageID, i int) int { return comp[uf.find(x.id(s, i))] }
	out := make([][]int, len(comps))
	for _, e := range g.Edges {
		if e.Mode != Blocking {
			continue
		}
		var all []int // consumer components of an all-to-all edge, once
		for i := range g.Stages[e.From].Parallelism {
			from := of(e.From, i)
			var to []int
			switch e.Partitioner {
			case Forward:
				to = []int{of(e.To, i)}
			case Global:
				to = []int{of(e.To, 0)}
			default:
				if all == nil {
					all = allComponents(g.Stages[e.To], of)
				}
				to = all
			}
			for _, c := range to {
				if c != from {
					out[from] = append(out[from], c)
				}
			}
		}
	}
	for i := range out {
		slices.Sort(out[i])
		out[i] = slices.Compact(out[i])
	}
	return out
}

// allComponents returns the distinct components of stage st's subtasks.
func allComponents(st *Stage, of func(StageID, int) int) []int {
	t := make([]int, st.Parallelism)
	for i := range t {
		t[i] = of(st.ID, i)
	}
	slices.Sort(t)
	return slices.Compact(t)
}

// build assembles the Regions from the final components in topological
// order.
func (x *subtaskIndex) build(g *StageGraph, uf *unionFind, comps []int, order []int) *Regions {
	rank := make(map[int]RegionID, len(comps)) // root -> region
	r := &Regions{List: make([]*Region, len(comps)), Of: make(map[SubtaskID]RegionID, x.n)}
	for id, c := range order {
		rank[comps[c]] = RegionID(id)
		r.List[id] = &Region{ID: RegionID(id)}
	}
	for _, st := range g.Stages {
		for i := range st.Parallelism {
			s := SubtaskID{Stage: st.ID, Index: int32(i)}
			id := rank[uf.find(x.id(st.ID, i))]
			r.Of[s] = id
			r.List[id].Subtasks = append(r.List[id].Subtasks, s)
		}
	}
	for _, e := range g.Edges {
		if e.Mode != Blocking {
			continue
		}
		for p := range g.Stages[e.From].Parallelism {
			from := r.Of[SubtaskID{e.From, int32(p)}]
			for _, c := range g.Consumers(e, p) {
				to := r.List[r.Of[SubtaskID{e.To, c}]]
				if to.ID != from {
					to.Inputs = append(to.Inputs, PartitionID{e.ID, int32(p)})
				}
			}
		}
	}
	for _, reg := range r.List {
		slices.SortFunc(reg.Inputs, comparePartitions)
		reg.Inputs = slices.Compact(reg.Inputs)
	}
	return r
}

func comparePartitions(a, b PartitionID) int {
	if a.Edge != b.Edge {
		return int(a.Edge) - int(b.Edge)
	}
	return int(a.Producer) - int(b.Producer)
}

func compareSubtasks(a, b SubtaskID) int {
	if a.Stage != b.Stage {
		return int(a.Stage) - int(b.Stage)
	}
	return int(a.Index) - int(b.Index)
}

// Region returns the region with the given id.
func (r *Regions) Region(id RegionID) *Region { return r.List[id] }

// Outputs returns the blocking result partitions that region id's subtasks
// write, sorted. (Its pipelined outputs never leave the region.)
func (r *Regions) Outputs(g *StageGraph, id RegionID) []PartitionID {
	var out []PartitionID
	for _, s := range r.List[id].Subtasks {
		for _, e := range g.Stages[s.Stage].Outputs {
			if g.Edges[e].Mode == Blocking {
				out = append(out, PartitionID{Edge: e, Producer: s.Index})
			}
		}
	}
	slices.SortFunc(out, comparePartitions)
	return out
}

// Consumers returns the other regions that read a blocking partition
// region id writes, sorted.
func (r *Regions) Consumers(g *StageGraph, id RegionID) []RegionID {
	var out []RegionID
	for _, p := range r.Outputs(g, id) {
		out = append(out, r.Readers(g, p)...)
	}
	slices.Sort(out)
	out = slices.Compact(out)
	return slices.DeleteFunc(out, func(c RegionID) bool { return c == id })
}

// Producers returns the regions that write the partitions in region id's
// Inputs, sorted.
func (r *Regions) Producers(g *StageGraph, id RegionID) []RegionID {
	var out []RegionID
	for _, p := range r.List[id].Inputs {
		out = append(out, r.Of[SubtaskID{Stage: g.Edges[p.Edge].From, Index: p.Producer}])
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Readers returns the regions whose subtasks read partition p, sorted (the
// producer's own region included when p stays inside it).
func (r *Regions) Readers(g *StageGraph, p PartitionID) []RegionID {
	e := g.Edges[p.Edge]
	var out []RegionID
	for _, c := range g.Consumers(e, int(p.Producer)) {
		out = append(out, r.Of[SubtaskID{Stage: e.To, Index: c}])
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// unionFind is a disjoint-set forest over 0..n-1 with path halving.
type unionFind struct{ parent []int }

func newUnionFind(n int) *unionFind {
	uf := &unionFind{parent: make([]int, n)}
	for i := range uf.parent {
		uf.parent[i] = i
	}
	return uf
}

func (uf *unionFind) find(i int) int {
	for uf.parent[i] != i {
		uf.parent[i] = uf.parent[uf.parent[i]]
		i = uf.parent[i]
	}
	return i
}

// union joins the classes of a and b; the smaller root wins, so a class's
// root is its smallest member.
func (uf *unionFind) union(a, b int) {
	ra, rb := uf.find(a), uf.find(b)
	if ra == rb {
		return
	}
	if rb < ra {
		ra, rb = rb, ra
	}
	uf.parent[rb] = ra
}

// stronglyConnected returns the strongly connected components with more
// than one node of the graph with n nodes and adjacency out, each sorted,
// by Tarjan's algorithm (iterative, so deep graphs do not grow the stack).
func stronglyConnected(n int, out [][]int) [][]int {
	t := tarjan{out: out, index: make([]int, n), low: make([]int, n), on: make([]bool, n)}
	for i := range t.index {
		t.index[i] = -1
	}
	for v := range n {
		if t.index[v] < 0 {
			t.visit(v)
		}
	}
	return t.sccs
}

type tarjan struct {
	out        [][]int
	index, low []int
	on         []bool
	stack      []int
	next       int
	sccs       [][]int
}

// visit runs Tarjan's depth-first search from root with an explicit stack
// of (node, next arc) frames.
func (t *tarjan) visit(root int) {
	type frame struct{ v, arc int }
	frames := []frame{{root, 0}}
	t.open(root)
	for len(frames) > 0 {
		f := &frames[len(frames)-1]
		if f.arc < len(t.out[f.v]) {
			w := t.out[f.v][f.arc]
			f.arc++
			if t.index[w] < 0 {
				t.open(w)
				frames = append(frames, frame{w, 0})
			} else if t.on[w] {
				t.low[f.v] = min(t.low[f.v], t.index[w])
			}
			continue
		}
		v := f.v
		frames = frames[:len(frames)-1]
		if len(frames) > 0 {
			u := frames[len(frames)-1].v
			t.low[u] = min(t.low[u], t.low[v])
		}
		if t.low[v] == t.index[v] {
			t.close(v)
		}
	}
}

func (t *tarjan) open(v int) {
	t.index[v], t.low[v] = t.next, t.next
	t.next++
	t.stack = append(t.stack, v)
	t.on[v] = true
}

// close pops the component rooted at v.
func (t *tarjan) close(v int) {
	var scc []int
	for {
		w := t.stack[len(t.stack)-1]
		t.stack = t.stack[:len(t.stack)-1]
		t.on[w] = false
		scc = append(scc, w)
		if w == v {
			break
		}
	}
	if len(scc) > 1 {
		slices.Sort(scc)
		t.sccs = append(t.sccs, scc)
	}
}

// topoRegions orders the n nodes of the DAG out topologically; among ready
// nodes the smallest number (its smallest subtask) goes first.
func topoRegions(n int, out [][]int) []int {
	indeg := make([]int, n)
	for _, ws := range out {
		for _, w := range ws {
			indeg[w]++
		}
	}
	ready := &intHeap{}
	for v := range n {
		if indeg[v] == 0 {
			heap.Push(ready, v)
		}
	}
	order := make([]int, 0, n)
	for ready.Len() > 0 {
		v := heap.Pop(ready).(int)
		order = append(order, v)
		for _, w := range out[v] {
			if indeg[w]--; indeg[w] == 0 {
				heap.Push(ready, w)
			}
		}
	}
	return order
}

type intHeap []int

func (h intHeap) Len() int           { return len(h) }
func (h intHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h intHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *intHeap) Push(x any)        { *h = append(*h, x.(int)) }
func (h *intHeap) Pop() any {
	old := *h
	v := old[len(old)-1]
	*h = old[:len(old)-1]
	return v
}
