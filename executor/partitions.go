package executor

import (
	"errors"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/batchrun/batchrun/plan"
	"github.com/batchrun/batchrun/shuffle"
	"github.com/batchrun/batchrun/storage"
)

// Partitions is where a run's blocking partitions are written and read:
// the run's store here, another worker's over the network later, or a
// decorator that injects faults.
type Partitions interface {
	// Writer writes producer partition p, numbered attempt in the store,
	// split into subpartitions parts by part.
	Writer(p plan.PartitionID, attempt uint32, subpartitions int, part shuffle.Partitioner) shuffle.Writer
	// Reader reads part in.Subpartition of each partition of
	// in.Partitions, in order, for consumer subtask c.
	Reader(c plan.SubtaskID, in Input, schema *arrow.Schema) (shuffle.Reader, error)
	// Lost reports which partition err says is missing or corrupt, if
	// err is such a read error of this run.
	Lost(err error) (plan.PartitionID, bool)
}

// StorePartitions keeps a run's blocking partitions in its Pebble store.
type StorePartitions struct {
	Store *storage.Store
	Run   uint64
	Opts  shuffle.Options
}

var _ Partitions = (*StorePartitions)(nil)

func (s *StorePartitions) ref(p plan.PartitionID) storage.PartitionRef {
	return storage.PartitionRef{Run: s.Run, Edge: uint32(p.Edge), Producer: uint32(p.Producer)}
}

// Writer implements Partitions.
func (s *StorePartitions) Writer(p plan.PartitionID, attempt uint32, subpartitions int, part shuffle.Partitioner) shuffle.Writer {
	return shuffle.NewBlockingWriter(s.Store, s.ref(p), attempt, subpartitions, part, s.Opts)
}

// Reader implements Partitions.
func (s *StorePartitions) Reader(_ plan.SubtaskID, in Input, schema *arrow.Schema) (shuffle.Reader, error) {
	refs := make([]storage.PartitionRef, len(in.Partitions))
	for i, p := range in.Partitions {
		refs[i] = s.ref(p)
	}
	return shuffle.NewBlockingReader(s.Store, refs, in.Subpartition, schema, s.Opts), nil
}

// Lost implements Partitions: a missing commit record or batch, or a
// checksum mismatch, of a partition of this run.
func (s *StorePartitions) Lost(err error) (plan.PartitionID, bool) {
	var pe *storage.PartitionError
	if !errors.As(err, &pe) || pe.Ref.Run != s.Run {
		return plan.PartitionID{}, false
	}
	if !errors.Is(err, storage.ErrNotFound) && !storage.IsCorrupt(err) {
		return plan.PartitionID{}, false
	}
	return plan.PartitionID{Edge: plan.EdgeID(pe.Ref.Edge), Producer: int32(pe.Ref.Producer)}, true
}
