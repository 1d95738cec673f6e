package plan

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// String renders an op as its step id, with the role when it is split:
// "filter", "agg(partial)", "agg(final)".
func (o Op) String() string {
	switch {
	case o.TopN && o.Role == Whole:
		return o.Step + "(top-n)"
	case o.TopN:
		return o.Step + "(top-n " + o.Role.String() + ")"
	case o.Role == Whole:
		return o.Step
	}
	return o.Step + "(" + o.Role.String() + ")"
}

// OpChain renders a stage's ops in order: "events -> big -> agg(partial)".
func (s *Stage) OpChain() string {
	ops := make([]string, len(s.Ops))
	for i, op := range s.Ops {
		ops[i] = op.String()
	}
	return strings.Join(ops, " -> ")
}

// DescribeStage renders a stage on one line: "s0 events x2: events -> agg(partial)".
func (g *StageGraph) DescribeStage(s *Stage) string {
	return fmt.Sprintf("%s %s x%d: %s", s.ID, s.Name, s.Parallelism, s.OpChain())
}

// PartitionerString renders an edge's partitioner with its keys: "hash[a,b]".
func (e *Edge) PartitionerString() string {
	if e.Partitioner == Hash {
		return "hash[" + strings.Join(e.Keys, ",") + "]"
	}
	return e.Partitioner.String()
}

// DescribeEdge renders an edge on one line:
// "e0 s0 events -> s1 agg: hash[user_id] blocking deterministic". The
// consumer's port follows its name ("s2 j/1") when it has several inputs.
func (g *StageGraph) DescribeEdge(e *Edge) string {
	from, to := g.Stages[e.From], g.Stages[e.To]
	det := "deterministic"
	if !e.Deterministic() {
		det = "nondeterministic"
	}
	return fmt.Sprintf("%s %s %s -> %s %s: %s %s %s",
		e.ID, from.ID, from.Name, to.ID, g.portName(e), e.PartitionerString(), e.Mode, det)
}

// portName is the consumer's name, with "/port" when it has several inputs.
func (g *StageGraph) portName(e *Edge) string {
	to := g.Stages[e.To]
	if e.Op > 0 {
		return to.Name + "(" + to.Ops[e.Op].Step + " build)"
	}
	if len(to.Inputs) > 1 {
		return to.Name + "/" + strconv.Itoa(e.Port)
	}
	return to.Name
}

// DescribeRegion renders a region with its subtasks: "r0 {events[0] agg[0]}".
func (g *StageGraph) DescribeRegion(r *Region) string {
	return r.ID.String() + " {" + strings.Join(g.subtaskNames(r.Subtasks), " ") + "}"
}

func (g *StageGraph) subtaskNames(ss []SubtaskID) []string {
	names := make([]string, len(ss))
	for i, s := range ss {
		names[i] = g.SubtaskName(s)
	}
	return names
}

// Explain renders a compiled job in format "text", "json" or "dot". When r
// is nil the regions are computed.
func Explain(g *StageGraph, r *Regions, format string) (string, error) {
	if r == nil {
		r = ComputeRegions(g)
	}
	switch format {
	case "text":
		return explainText(g, r), nil
	case "json":
		return explainJSON(g, r)
	case "dot":
		return explainDot(g, r), nil
	}
	return "", fmt.Errorf("plan: unknown explain format %q (want text, json or dot)", format)
}

// explainText lists stages, edges, the subtask count and regions, one per line.
func explainText(g *StageGraph, r *Regions) string {
	var b strings.Builder
	b.WriteString("stages:\n")
	n := 0
	for _, s := range g.Stages {
		fmt.Fprintf(&b, "  %s\n", g.DescribeStage(s))
		n += s.Parallelism
	}
	b.WriteString("edges:\n")
	for _, e := range g.Edges {
		fmt.Fprintf(&b, "  %s\n", g.DescribeEdge(e))
	}
	fmt.Fprintf(&b, "subtasks: %d\n", n)
	fmt.Fprintf(&b, "regions: %d\n", len(r.List))
	for _, reg := range r.List {
		fmt.Fprintf(&b, "  %s\n", g.DescribeRegion(reg))
	}
	return b.String()
}

// Description is a compiled job as data: its stages, edges and regions.
// It is `explain --format json` and the plan a run's report keeps, so that
// a reader (the web UI) can draw the graph without compiling the spec
// again; structs keep the JSON field order stable.
type Description struct {
	Stages  []StageDescription  `json:"stages"`
	Edges   []EdgeDescription   `json:"edges"`
	Regions []RegionDescription `json:"regions"`
}

// StageDescription is one stage: its ops in order and its subtasks' names.
type StageDescription struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Parallelism int      `json:"parallelism"`
	Ops         []string `json:"ops"`
	Subtasks    []string `json:"subtasks"`
}

// EdgeDescription is one exchange: producer and consumer stage ids, the
// consumer's input port, the partitioner and its keys, pipelined or
// blocking.
type EdgeDescription struct {
	ID            string   `json:"id"`
	From          string   `json:"from"`
	To            string   `json:"to"`
	Port          int      `json:"port"`
	Partitioner   string   `json:"partitioner"`
	Keys          []string `json:"keys"`
	Mode          string   `json:"mode"`
	Deterministic bool     `json:"deterministic"`
}

// RegionDescription is one pipelined region: the subtasks that run
// together and the blocking partitions they read.
type RegionDescription struct {
	ID       string   `json:"id"`
	Subtasks []string `json:"subtasks"`
	Inputs   []string `json:"inputs"`
}

// Describe returns g and its regions as data. When r is nil the regions
// are computed.
func Describe(g *StageGraph, r *Regions) *Description {
	if r == nil {
		r = ComputeRegions(g)
	}
	p := &Description{Stages: []StageDescription{}, Edges: []EdgeDescription{}, Regions: []RegionDescription{}}
	for _, s := range g.Stages {
		js := StageDescription{ID: s.ID.String(), Name: s.Name, Parallelism: s.Parallelism, Ops: []string{}, Subtasks: []string{}}
		for _, op := range s.Ops {
			js.Ops = append(js.Ops, op.String())
		}
		for i := range s.Parallelism {
			js.Subtasks = append(js.Subtasks, g.SubtaskName(SubtaskID{Stage: s.ID, Index: int32(i)}))
		}
		p.Stages = append(p.Stages, js)
	}
	for _, e := range g.Edges {
		p.Edges = append(p.Edges, EdgeDescription{
			ID: e.ID.String(), From: e.From.String(), To: e.To.String(), Port: e.Port,
			Partitioner: e.Partitioner.String(), Keys: append([]string{}, e.Keys...),
			Mode: e.Mode.String(), Deterministic: e.Deterministic(),
		})
	}
	for _, reg := range r.List {
		jr := RegionDescription{ID: reg.ID.String(), Subtasks: g.subtaskNames(reg.Subtasks), Inputs: []string{}}
		for _, in := range reg.Inputs {
			jr.Inputs = append(jr.Inputs, in.String())
		}
		p.Regions = append(p.Regions, jr)
	}
	return p
}

func explainJSON(g *StageGraph, r *Regions) (string, error) {
	out, err := json.MarshalIndent(Describe(g, r), "", "  ")
	if err != nil {
		return "", fmt.Errorf("plan: explain json: %w", err)
	}
	return string(out) + "\n", nil
}

// explainDot draws the stages as boxes and the edges with their
// partitioner and mode (blocking edges dashed); regions are comments.
func explainDot(g *StageGraph, r *Regions) string {
	var b strings.Builder
	b.WriteString("digraph plan {\n  rankdir=LR;\n  node [shape=box];\n")
	for _, s := range g.Stages {
		label := fmt.Sprintf("%s %s x%d\n%s", s.ID, s.Name, s.Parallelism, s.OpChain())
		fmt.Fprintf(&b, "  %s [label=%s];\n", s.ID, dotQuote(label))
	}
	for _, e := range g.Edges {
		label := fmt.Sprintf("%s %s\n%s", e.ID, e.PartitionerString(), e.Mode)
		if len(g.Stages[e.To].Inputs) > 1 {
			label += " port " + strconv.Itoa(e.Port)
		}
		style := "solid"
		if e.Mode == Blocking {
			style = "dashed"
		}
		fmt.Fprintf(&b, "  %s -> %s [label=%s, style=%s];\n", e.From, e.To, dotQuote(label), style)
	}
	for _, reg := range r.List {
		fmt.Fprintf(&b, "  // %s\n", g.DescribeRegion(reg))
	}
	b.WriteString("}\n")
	return b.String()
}

// dotQuote quotes s as a DOT string; a newline becomes DOT's "\n".
func dotQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}
