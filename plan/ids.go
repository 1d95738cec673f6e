package plan

import (
	"fmt"
	"log/slog"
)

// StageID numbers stages in topological order, from 0.
type StageID int32

func (s StageID) String() string { return fmt.Sprintf("s%d", int32(s)) }

// EdgeID numbers edges, from 0.
type EdgeID int32

func (e EdgeID) String() string { return fmt.Sprintf("e%d", int32(e)) }

// RegionID numbers regions in topological order, from 0.
type RegionID int32

func (r RegionID) String() string { return fmt.Sprintf("r%d", int32(r)) }

// SubtaskID is one parallel instance of a stage.
type SubtaskID struct {
	Stage StageID
	Index int32
}

func (s SubtaskID) String() string { return fmt.Sprintf("s%d.%d", s.Stage, s.Index) }

// LogValue implements slog.LogValuer.
func (s SubtaskID) LogValue() slog.Value { return slog.StringValue(s.String()) }

// PartitionID is a result partition: the output of producer subtask
// Producer of edge Edge's source stage, on that edge.
type PartitionID struct {
	Edge     EdgeID
	Producer int32
}

func (p PartitionID) String() string { return fmt.Sprintf("e%d.%d", p.Edge, p.Producer) }

// LogValue implements slog.LogValuer.
func (p PartitionID) LogValue() slog.Value { return slog.StringValue(p.String()) }
