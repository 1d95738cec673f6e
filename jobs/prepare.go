package jobs

import (
	"os"

	"github.com/batchrun/batchrun/jobs/commit"
	"github.com/batchrun/batchrun/jobs/spec"
)

// BroadcastBelow is the default size under which a join's right input, when
// it is a read of one file, is broadcast to every join subtask instead of
// hash-partitioning both sides (the left side then stays where it is).
const BroadcastBelow = 8 << 20

// prepare completes a resolved job before planning, since plan does no I/O
// and sees no schemas: a distinct (or union distinct) with no keys gets
// every input column, joins whose right input is a small file get
// Broadcast when broadcastBelow > 0 (right and full joins never do: each
// subtask would emit the unmatched right rows), and a write to a stream
// (standard output, a FIFO, a device) that sets no parallelism gets 1: a
// stream is one file.
func prepare(job *spec.Job, res *spec.Resolved, broadcastBelow int64) {
	for _, s := range job.Steps {
		switch {
		case s.Kind == spec.KindWrite && s.Parallelism == 0 && commit.IsStream(s.Write.Path):
			s.Parallelism = 1
		case s.Kind == spec.KindDistinct && len(s.Distinct.Keys) == 0:
			s.Distinct.Keys = res.Schemas[s.Inputs[0]].Names()
		case s.Kind == spec.KindUnion && s.Union.Distinct != nil && len(s.Union.Distinct.Keys) == 0:
			s.Union.Distinct.Keys = res.Schemas[s.ID].Names()
		case s.Kind == spec.KindJoin && broadcastBelow > 0:
			if !s.Join.Broadcast && !s.Join.Type.KeepsUnmatchedRight() && smallRead(job.Step(s.Inputs[1]), broadcastBelow) {
				s.Join.Broadcast = true
			}
		}
	}
}

// smallRead reports whether s reads one regular file smaller than limit.
func smallRead(s *spec.Step, limit int64) bool {
	if s == nil || s.Kind != spec.KindRead {
		return false
	}
	fi, err := os.Stat(s.Read.Path)
	return err == nil && fi.Mode().IsRegular() && fi.Size() < limit
}
