package recovery

import (
	"fmt"
	"slices"
	"strings"
)

// Strategy decides what a failure restarts. Failover is the product's;
// tests decorate one (to show that a rule of it is load-bearing).
type Strategy interface {
	// Check refuses a topology the strategy cannot recover.
	Check(t *Topology) error
	// Restart returns the restart set of failure f in state s.
	Restart(t *Topology, s *State, f Failure) (*RestartSet, error)
	String() string
}

var _ Strategy = Failover(0)

// Failover is a failover strategy: which subtasks a failure restarts. The
// zero value is the default, FailoverRegion.
type Failover uint8

const (
	// FailoverRegion restarts the minimal set of regions of DESIGN invariant
	// 3: the failed region; the producer regions of lost inputs,
	// transitively; and every region with a started subtask that read a
	// changed partition (one a re-run may not reproduce), transitively.
	FailoverRegion Failover = iota
	// FailoverAll restarts every subtask (Flink's RestartAllFailoverStrategy).
	FailoverAll
	// FailoverIndividual restarts only the failed subtask (Flink's
	// RestartIndividualFailoverStrategy). It is safe only when no subtask
	// has pipelined partners (CheckIndividual) and the failed subtask's
	// inputs are intact.
	FailoverIndividual
)

var failoverNames = [...]string{"region", "all", "individual"}

func (f Failover) String() string {
	if int(f) < len(failoverNames) {
		return failoverNames[f]
	}
	return fmt.Sprintf("failover(%d)", uint8(f))
}

// ParseFailover parses "region", "all" or "individual"; "" is the default,
// region.
func ParseFailover(s string) (Failover, error) {
	if s == "" {
		return FailoverRegion, nil
	}
	for i, name := range failoverNames {
		if s == name {
			return Failover(i), nil
		}
	}
	return 0, fmt.Errorf("recovery: unknown failover strategy %q (want region, all or individual)", s)
}

// Check is the plan-time check of strategy f on t: CheckIndividual for
// FailoverIndividual, nil otherwise.
func (f Failover) Check(t *Topology) error {
	if f == FailoverIndividual {
		return CheckIndividual(t)
	}
	return nil
}

// CheckIndividual refuses a topology on which restarting one subtask alone
// is unsafe: one with a pipelined partition, whose producer and consumers
// exchange records live and cannot be restarted apart.
func CheckIndividual(t *Topology) error {
	for i := range t.partitions {
		p := &t.partitions[i]
		if p.Mode == Pipelined {
			return fmt.Errorf("recovery: individual failover needs blocking partitions only; "+
				"%s is pipelined (%s -> %s)", p.Name, t.subtasks[p.Producer].Name, t.subtaskNames(p.Consumers))
		}
	}
	return nil
}

// RestartSet is what a failover strategy decides for one failure.
type RestartSet struct {
	Failover Failover
	// Regions restart as a whole, sorted. Empty for FailoverIndividual.
	Regions []RegionID
	// Subtasks restart, sorted: the subtasks of Regions, or the failed one.
	Subtasks []SubtaskID
	// Regenerate are the blocking partitions the restarted subtasks produce,
	// sorted: their commits are void until the new attempts commit.
	Regenerate []PartitionID
	// Changed (FailoverRegion only) are the regenerated partitions, pipelined
	// ones included, whose new content may differ from what consumers
	// already read, sorted. Every started consumer of one restarts.
	Changed []PartitionID
	// Reasons say why each region restarts, sorted by region then kind then
	// partition; a region may have several. FailoverAll gives only the
	// failed region's; FailoverIndividual none.
	Reasons []Reason
}

// ReasonKind is why a region is in a restart set.
type ReasonKind uint8

const (
	// ReasonFailed: the region holds the failed subtask.
	ReasonFailed ReasonKind = iota
	// ReasonProducesLost: the region produces a lost partition that another
	// restarted region, or one that has not finished, reads.
	ReasonProducesLost
	// ReasonConsumedChanged: a started subtask of the region reads a changed
	// partition of another region.
	ReasonConsumedChanged
	// ReasonReadsLost: a running subtask of the region reads a lost
	// partition of another region: it would fail on it anyway.
	ReasonReadsLost
)

var reasonNames = [...]string{"failed", "produces lost", "consumed changed", "reads lost"}

func (k ReasonKind) String() string {
	if int(k) < len(reasonNames) {
		return reasonNames[k]
	}
	return fmt.Sprintf("reason(%d)", uint8(k))
}

// Reason is one reason a region restarts. Partition is set for every kind
// but ReasonFailed.
type Reason struct {
	Region    RegionID
	Kind      ReasonKind
	Partition PartitionID
}

// Describe prints "r2: failed", "r0: produces lost a[0]->b" or
// "r3: consumed changed b[1]->c".
func (r Reason) Describe(t *Topology) string {
	if r.Kind == ReasonFailed {
		return fmt.Sprintf("%s: %s", r.Region, r.Kind)
	}
	return fmt.Sprintf("%s: %s %s", r.Region, r.Kind, t.partitions[r.Partition].Name)
}

func compareReasons(a, b Reason) int {
	if a.Region != b.Region {
		return int(a.Region - b.Region)
	}
	if a.Kind != b.Kind {
		return int(a.Kind) - int(b.Kind)
	}
	return int(a.Partition - b.Partition)
}

// Describe prints the restart set:
//
//	restart r0 r3: a[0] b[1]
//	  r0: produces lost a[0]->b
//	  r3: failed
//	regenerate: a[0]->b b[1]->c
//	changed: none
//
// The first line is "restart b[1]" for FailoverIndividual, and the changed
// line is printed for FailoverRegion only.
func (rs *RestartSet) Describe(t *Topology) string {
	var b strings.Builder
	if rs.Failover == FailoverIndividual {
		fmt.Fprintf(&b, "restart %s\n", t.subtaskNames(rs.Subtasks))
	} else {
		fmt.Fprintf(&b, "restart %s: %s\n", regionNames(rs.Regions), t.subtaskNames(rs.Subtasks))
	}
	for _, r := range rs.Reasons {
		fmt.Fprintf(&b, "  %s\n", r.Describe(t))
	}
	fmt.Fprintf(&b, "regenerate: %s\n", t.partitionNames(rs.Regenerate))
	if rs.Failover == FailoverRegion {
		fmt.Fprintf(&b, "changed: %s\n", t.partitionNames(rs.Changed))
	}
	return b.String()
}

// Restart computes the restart set strategy f gives failure fail of a run
// of t in state s. It fails if s or fail does not fit t, or if f is
// FailoverIndividual and the failed subtask has a lost input (only its
// producer's re-run could regenerate it).
func (f Failover) Restart(t *Topology, s *State, fail Failure) (*RestartSet, error) {
	if err := s.Validate(t); err != nil {
		return nil, err
	}
	if err := fail.validate(t, s); err != nil {
		return nil, err
	}
	switch f {
	case FailoverRegion:
		return regionRestart(t, s, fail), nil
	case FailoverAll:
		return allRestart(t, fail), nil
	case FailoverIndividual:
		return individualRestart(t, s, fail)
	}
	return nil, fmt.Errorf("recovery: unknown %s", f)
}

// allRestart restarts every region.
func allRestart(t *Topology, fail Failure) *RestartSet {
	rs := &RestartSet{
		Failover: FailoverAll,
		Regions:  make([]RegionID, t.NumRegions()),
		Subtasks: make([]SubtaskID, t.NumSubtasks()),
		Reasons:  []Reason{{Region: t.regionOf[fail.Subtask], Kind: ReasonFailed}},
	}
	for i := range rs.Regions {
		rs.Regions[i] = RegionID(i)
	}
	for i := range rs.Subtasks {
		rs.Subtasks[i] = SubtaskID(i)
	}
	rs.Regenerate = blockingOutputs(t, rs.Subtasks)
	return rs
}

// individualRestart restarts the failed subtask alone, if its inputs are
// intact.
func individualRestart(t *Topology, s *State, fail Failure) (*RestartSet, error) {
	lost := lostSet(t, s, fail)
	var need []PartitionID
	for _, p := range t.inputs[fail.Subtask] {
		if lost[p] {
			need = append(need, p)
		}
	}
	if len(need) > 0 {
		return nil, fmt.Errorf("recovery: individual failover cannot restart %s alone: "+
			"its lost inputs %s must be regenerated by their producers (use region failover)",
			t.subtasks[fail.Subtask].Name, t.partitionNames(need))
	}
	sub := []SubtaskID{fail.Subtask}
	return &RestartSet{
		Failover:   FailoverIndividual,
		Subtasks:   sub,
		Regenerate: blockingOutputs(t, sub),
	}, nil
}

// blockingOutputs returns the blocking partitions the subtasks produce,
// sorted.
func blockingOutputs(t *Topology, subtasks []SubtaskID) []PartitionID {
	var out []PartitionID
	for _, st := range subtasks {
		for _, p := range t.outputs[st] {
			if t.partitions[p].Mode == Blocking {
				out = append(out, p)
			}
		}
	}
	slices.Sort(out)
	return out
}

// regionSubtasks returns the subtasks of regions, sorted.
func regionSubtasks(t *Topology, regions []RegionID) []SubtaskID {
	var out []SubtaskID
	for _, r := range regions {
		out = append(out, t.regions[r].Subtasks...)
	}
	slices.Sort(out)
	return out
}

// FlinkRegionRestart returns, for comparison, the regions Flink's
// RestartPipelinedRegionFailoverStrategy restarts, sorted: the failed
// region; the producer regions of the lost inputs of every region in the
// set; and every consumer region of every region in the set, transitively,
// whether or not the data it read changes. Like Flink's scheduler, which
// skips vertices still CREATED, it leaves out regions that have not
// started. RegionRestart's set is always a subset of it.
func FlinkRegionRestart(t *Topology, s *State, fail Failure) ([]RegionID, error) {
	if err := s.Validate(t); err != nil {
		return nil, err
	}
	if err := fail.validate(t, s); err != nil {
		return nil, err
	}
	lost := lostSet(t, s, fail)
	in := make([]bool, t.NumRegions())
	queue := []RegionID{t.regionOf[fail.Subtask]}
	in[queue[0]] = true
	add := func(r RegionID) {
		if !in[r] {
			in[r] = true
			queue = append(queue, r)
		}
	}
	for len(queue) > 0 {
		r := queue[0]
		queue = queue[1:]
		for _, st := range t.regions[r].Subtasks {
			for _, p := range t.inputs[st] {
				if lost[p] && t.external(p, st) {
					add(t.regionOf[t.partitions[p].Producer])
				}
			}
			for _, p := range t.outputs[st] {
				for _, c := range t.partitions[p].Consumers {
					if regionStarted(t, s, t.regionOf[c]) {
						add(t.regionOf[c])
					}
				}
			}
		}
	}
	return setMembers(in), nil
}

// regionStarted reports whether any subtask of region r started.
func regionStarted(t *Topology, s *State, r RegionID) bool {
	for _, st := range t.regions[r].Subtasks {
		if s.Progress[st].Started() {
			return true
		}
	}
	return false
}

// setMembers returns the indexes i with in[i], in order.
func setMembers(in []bool) []RegionID {
	var out []RegionID
	for i, ok := range in {
		if ok {
			out = append(out, RegionID(i))
		}
	}
	return out
}
