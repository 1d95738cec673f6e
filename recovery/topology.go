package recovery

import (
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
)

// SubtaskID indexes a Topology's subtasks, from 0. Its String is only a
// fallback ("t3"); explanations print the subtask's display name.
type SubtaskID int32

func (id SubtaskID) String() string { return "t" + strconv.Itoa(int(id)) }

// LogValue implements slog.LogValuer.
func (id SubtaskID) LogValue() slog.Value { return slog.StringValue(id.String()) }

// RegionID indexes a Topology's regions, from 0: "r4", as in package plan.
type RegionID int32

func (id RegionID) String() string { return "r" + strconv.Itoa(int(id)) }

// LogValue implements slog.LogValuer.
func (id RegionID) LogValue() slog.Value { return slog.StringValue(id.String()) }

// PartitionID indexes a Topology's result partitions, from 0. Its String is
// only a fallback ("p7"); explanations print the partition's display name.
type PartitionID int32

func (id PartitionID) String() string { return "p" + strconv.Itoa(int(id)) }

// LogValue implements slog.LogValuer.
func (id PartitionID) LogValue() slog.Value { return slog.StringValue(id.String()) }

// Mode is how a result partition moves data to its consumers.
type Mode uint8

const (
	// Blocking: the producer writes the partition to the store and commits
	// it when it finishes; consumers read it afterwards, in another region.
	Blocking Mode = iota
	// Pipelined: records stream to consumers that run at the same time; the
	// producer and its consumers are in one region, and nothing is stored.
	Pipelined
)

var modeNames = [...]string{"blocking", "pipelined"}

func (m Mode) String() string {
	if int(m) < len(modeNames) {
		return modeNames[m]
	}
	return "mode(" + strconv.Itoa(int(m)) + ")"
}

// Subtask is one parallel instance of a stage.
type Subtask struct {
	// Name is the display name, unique in the topology and free of spaces:
	// "agg[2]" or "s1.2".
	Name string
}

// Region is a set of subtasks that are scheduled, and restarted, together.
// Regions are given (package plan computes them); every subtask is in
// exactly one region, and a pipelined partition never crosses regions.
type Region struct {
	Subtasks []SubtaskID
}

// Partition is a result partition: the output of one producer subtask on
// one edge, split into one subpartition per consumer subtask.
type Partition struct {
	// Name is the display name, unique in the topology and free of spaces:
	// "e1.0" or "agg[0]->sort".
	Name      string
	Producer  SubtaskID
	Consumers []SubtaskID
	Mode      Mode
	// Deterministic is true when re-running the producer on unchanged
	// inputs gives every consumer the same records in the same order
	// (forward, hash, broadcast, global, range with fixed bounds: DESIGN
	// invariant 2). It is false for rebalance and random edges, and must
	// also be false where the producer's own output depends on timing (an
	// order-sensitive operator fed by several pipelined producers). The
	// zero value, false, is the safe one.
	Deterministic bool
}

// Topology is the execution-level graph recovery reasons about: subtasks,
// the regions they form and the result partitions between them. It is
// immutable once built; accessors return slices the caller must not modify.
type Topology struct {
	subtasks   []Subtask
	regions    []Region
	partitions []Partition

	regionOf        []RegionID      // by subtask
	inputs, outputs [][]PartitionID // by subtask, sorted
	subtaskByName   map[string]SubtaskID
	partitionByName map[string]PartitionID
}

// NewTopology validates and indexes a topology. The slices are copied.
// The subtask graph need not be acyclic for recovery, but every id must be
// in range, every name unique, every subtask in exactly one region, and
// every pipelined partition inside one region.
func NewTopology(subtasks []Subtask, regions []Region, partitions []Partition) (*Topology, error) {
	t := &Topology{
		subtasks:        slices.Clone(subtasks),
		regions:         make([]Region, len(regions)),
		partitions:      make([]Partition, len(partitions)),
		subtaskByName:   make(map[string]SubtaskID, len(subtasks)),
		partitionByName: make(map[string]PartitionID, len(partitions)),
	}
	for i, r := range regions {
		t.regions[i] = Region{Subtasks: slices.Clone(r.Subtasks)}
	}
	for i, p := range partitions {
		p.Consumers = slices.Clone(p.Consumers)
		t.partitions[i] = p
	}
	if err := t.indexSubtasks(); err != nil {
		return nil, err
	}
	if err := t.indexRegions(); err != nil {
		return nil, err
	}
	if err := t.indexPartitions(); err != nil {
		return nil, err
	}
	return t, nil
}

func checkName(kind, name string) error {
	if name == "" || strings.ContainsAny(name, " \t\n") {
		return fmt.Errorf("recovery: %s name %q: want a non-empty name without spaces", kind, name)
	}
	return nil
}

func (t *Topology) indexSubtasks() error {
	for i, st := range t.subtasks {
		if err := checkName("subtask", st.Name); err != nil {
			return err
		}
		if _, dup := t.subtaskByName[st.Name]; dup {
			return fmt.Errorf("recovery: subtask name %q used twice", st.Name)
		}
		t.subtaskByName[st.Name] = SubtaskID(i)
	}
	return nil
}

func (t *Topology) indexRegions() error {
	t.regionOf = make([]RegionID, len(t.subtasks))
	for i := range t.regionOf {
		t.regionOf[i] = -1
	}
	for i, r := range t.regions {
		if len(r.Subtasks) == 0 {
			return fmt.Errorf("recovery: region %s is empty", RegionID(i))
		}
		for _, st := range r.Subtasks {
			if !t.validSubtask(st) {
				return fmt.Errorf("recovery: region %s: no subtask %s", RegionID(i), st)
			}
			if prev := t.regionOf[st]; prev >= 0 {
				return fmt.Errorf("recovery: subtask %s is in regions %s and %s", t.subtasks[st].Name, prev, RegionID(i))
			}
			t.regionOf[st] = RegionID(i)
		}
	}
	for i, r := range t.regionOf {
		if r < 0 {
			return fmt.Errorf("recovery: subtask %s is in no region", t.subtasks[i].Name)
		}
	}
	return nil
}

func (t *Topology) indexPartitions() error {
	t.inputs = make([][]PartitionID, len(t.subtasks))
	t.outputs = make([][]PartitionID, len(t.subtasks))
	for i := range t.partitions {
		id := PartitionID(i)
		if err := t.checkPartition(id); err != nil {
			return err
		}
		p := &t.partitions[i]
		t.partitionByName[p.Name] = id
		t.outputs[p.Producer] = append(t.outputs[p.Producer], id)
		for _, c := range p.Consumers {
			t.inputs[c] = append(t.inputs[c], id)
		}
	}
	return nil
}

func (t *Topology) checkPartition(id PartitionID) error {
	p := &t.partitions[id]
	if err := checkName("partition", p.Name); err != nil {
		return err
	}
	if _, dup := t.partitionByName[p.Name]; dup {
		return fmt.Errorf("recovery: partition name %q used twice", p.Name)
	}
	if p.Mode > Pipelined {
		return fmt.Errorf("recovery: partition %s: bad %s", p.Name, p.Mode)
	}
	if !t.validSubtask(p.Producer) {
		return fmt.Errorf("recovery: partition %s: no producer subtask %s", p.Name, p.Producer)
	}
	for i, c := range p.Consumers {
		switch {
		case !t.validSubtask(c):
			return fmt.Errorf("recovery: partition %s: no consumer subtask %s", p.Name, c)
		case c == p.Producer:
			return fmt.Errorf("recovery: partition %s: %s consumes its own output", p.Name, t.subtasks[c].Name)
		case slices.Contains(p.Consumers[:i], c):
			return fmt.Errorf("recovery: partition %s: consumer %s listed twice", p.Name, t.subtasks[c].Name)
		case p.Mode == Pipelined && t.regionOf[c] != t.regionOf[p.Producer]:
			return fmt.Errorf("recovery: pipelined partition %s crosses regions %s and %s",
				p.Name, t.regionOf[p.Producer], t.regionOf[c])
		}
	}
	return nil
}

func (t *Topology) validSubtask(id SubtaskID) bool { return id >= 0 && int(id) < len(t.subtasks) }

func (t *Topology) validPartition(id PartitionID) bool {
	return id >= 0 && int(id) < len(t.partitions)
}

// NumSubtasks returns the number of subtasks; ids are 0..NumSubtasks()-1.
func (t *Topology) NumSubtasks() int { return len(t.subtasks) }

// NumRegions returns the number of regions; ids are 0..NumRegions()-1.
func (t *Topology) NumRegions() int { return len(t.regions) }

// NumPartitions returns the number of partitions; ids are 0..NumPartitions()-1.
func (t *Topology) NumPartitions() int { return len(t.partitions) }

// Subtask returns subtask id.
func (t *Topology) Subtask(id SubtaskID) Subtask { return t.subtasks[id] }

// Region returns region id. Its Subtasks must not be modified.
func (t *Topology) Region(id RegionID) Region { return t.regions[id] }

// Partition returns partition id. Its Consumers must not be modified.
func (t *Topology) Partition(id PartitionID) Partition { return t.partitions[id] }

// RegionOf returns the region of subtask id.
func (t *Topology) RegionOf(id SubtaskID) RegionID { return t.regionOf[id] }

// Inputs returns the partitions subtask id consumes, sorted.
func (t *Topology) Inputs(id SubtaskID) []PartitionID { return t.inputs[id] }

// Outputs returns the partitions subtask id produces, sorted.
func (t *Topology) Outputs(id SubtaskID) []PartitionID { return t.outputs[id] }

// SubtaskByName looks a subtask up by display name.
func (t *Topology) SubtaskByName(name string) (SubtaskID, bool) {
	id, ok := t.subtaskByName[name]
	return id, ok
}

// PartitionByName looks a partition up by display name.
func (t *Topology) PartitionByName(name string) (PartitionID, bool) {
	id, ok := t.partitionByName[name]
	return id, ok
}

// external reports whether partition p crosses regions: its producer's
// region differs from consumer c's. Blocking partitions between subtasks of
// one region (a region merged over a cycle of blocking edges) are internal.
func (t *Topology) external(p PartitionID, c SubtaskID) bool {
	return t.regionOf[t.partitions[p].Producer] != t.regionOf[c]
}

// Describe prints one line per region, "r0 {a[0] a[1]}", and, with
// partitions, one line per partition:
// "a[0]->b: a[0] -> b[0] b[1] blocking nondeterministic".
func (t *Topology) Describe(partitions bool) string {
	var b strings.Builder
	for i, r := range t.regions {
		fmt.Fprintf(&b, "%s {%s}\n", RegionID(i), t.subtaskNames(r.Subtasks))
	}
	if !partitions {
		return b.String()
	}
	for _, p := range t.partitions {
		fmt.Fprintf(&b, "%s: %s -> %s %s", p.Name, t.subtasks[p.Producer].Name, t.subtaskNames(p.Consumers), p.Mode)
		if !p.Deterministic {
			b.WriteString(" nondeterministic")
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// subtaskNames joins the display names of ids with spaces ("-" if none).
func (t *Topology) subtaskNames(ids []SubtaskID) string {
	if len(ids) == 0 {
		return "-"
	}
	names := make([]string, len(ids))
	for i, id := range ids {
		names[i] = t.subtasks[id].Name
	}
	return strings.Join(names, " ")
}

// partitionNames joins the display names of ids with spaces ("none" if none).
func (t *Topology) partitionNames(ids []PartitionID) string {
	if len(ids) == 0 {
		return "none"
	}
	names := make([]string, len(ids))
	for i, id := range ids {
		names[i] = t.partitions[id].Name
	}
	return strings.Join(names, " ")
}

func regionNames(ids []RegionID) string {
	if len(ids) == 0 {
		return "none"
	}
	names := make([]string, len(ids))
	for i, id := range ids {
		names[i] = id.String()
	}
	return strings.Join(names, " ")
}
