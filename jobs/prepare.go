package jobs

import (
	"github.com/batchrun/batchrun/jobs/commit"
	"github.com/batchrun/batchrun/jobs/spec"
)

// BroadcastBelow is the default size under which a join's right input, when
// it is a read, is broadcast to every join subtask instead of
// hash-partitioning both sides (the left side then stays where it is).
const BroadcastBelow = 8 << 20

// A right input up to broadcastScale times BroadcastBelow (64 MiB by
// default) is broadcast too when the join's left input is a read at least
// broadcastRatio times its size: shipping the small side to each of a few
// subtasks, and building its table in each, costs less than storing and
// reading the large side through a shuffle. W3 (20M events joined with 1M
// users, 606 MB against 13 MB of CSV) keeps its events where they are
// read.
const (
	broadcastScale = 8
	broadcastRatio = 16
)

// prepare completes a resolved job before planning, since plan does no I/O
// and sees no schemas: a distinct (or union distinct) with no keys gets
// every input column, joins whose right input is a small file (see
// broadcastRight) get Broadcast when broadcastBelow > 0 and the spec does
// not say broadcast: true or false (right and full joins never do: each
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
			if !s.Join.BroadcastSet && !s.Join.Type.KeepsUnmatchedRight() && broadcastRight(job, s, broadcastBelow) {
				s.Join.Broadcast = true
			}
		}
	}
}

// broadcastRight reports whether join s should broadcast its right input:
// a read smaller than below, or smaller than broadcastScale times below
// while its left input is a read broadcastRatio times larger.
func broadcastRight(job *spec.Job, s *spec.Step, below int64) bool {
	right, ok := readBytes(job.Step(s.Inputs[1]))
	if !ok {
		return false
	}
	if right < below {
		return true
	}
	left, ok := readBytes(job.Step(s.Inputs[0]))
	return ok && right < broadcastScale*below && left >= broadcastRatio*right
}

// readBytes returns the size of the files read step s reads; false when s
// is not a read or its files cannot be listed.
func readBytes(s *spec.Step) (int64, bool) {
	if s == nil || s.Kind != spec.KindRead {
		return 0, false
	}
	in, err := expandInput(s.Read)
	if err != nil || len(in.Files) == 0 {
		return 0, false
	}
	var n int64
	for _, size := range in.Sizes {
		n += size
	}
	return n, true
}
