package scheduler

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime/debug"
	"time"

	"github.com/batchrun/batchrun/operators"
	"github.com/batchrun/batchrun/plan"
	"github.com/batchrun/batchrun/shuffle"
	"github.com/batchrun/batchrun/storage"
)

// regionWiring holds the in-memory pipes of a region's pipelined edges. A
// forward edge has one pipe per lane (producer i to consumer i); any other
// edge one pipe from all producers to all consumers.
type regionWiring struct {
	pipes map[plan.EdgeID][]*shuffle.Pipe
}

func (s *Scheduler) wireRegion(r *plan.Region) *regionWiring {
	w := &regionWiring{pipes: make(map[plan.EdgeID][]*shuffle.Pipe)}
	for _, st := range r.Subtasks {
		for _, eid := range s.g.Stage(st.Stage).Outputs {
			e := s.g.Edge(eid)
			if e.Mode != plan.Pipelined || w.pipes[eid] != nil {
				continue
			}
			np, nc := s.g.Stage(e.From).Parallelism, s.g.Stage(e.To).Parallelism
			if e.Partitioner == plan.Forward {
				lanes := make([]*shuffle.Pipe, np)
				for i := range lanes {
					lanes[i] = shuffle.NewPipe(1, 1, s.opts.PipeCapacity)
				}
				w.pipes[eid] = lanes
				continue
			}
			w.pipes[eid] = []*shuffle.Pipe{shuffle.NewPipe(np, nc, s.opts.PipeCapacity)}
		}
	}
	return w
}

// pipeReader is consumer c's end of pipelined edge e.
func (w *regionWiring) reader(e *plan.Edge, c int) shuffle.Reader {
	if e.Partitioner == plan.Forward {
		return w.pipes[e.ID][c].Reader(0)
	}
	return w.pipes[e.ID][0].Reader(c)
}

// writer is producer p's end of pipelined edge e.
func (w *regionWiring) writer(e *plan.Edge, p int, part shuffle.Partitioner, opts shuffle.Options) shuffle.Writer {
	if e.Partitioner == plan.Forward {
		return w.pipes[e.ID][p].Writer(0, part, opts)
	}
	return w.pipes[e.ID][0].Writer(p, part, opts)
}

// runSubtask runs one attempt of st and records it.
func (s *Scheduler) runSubtask(ctx context.Context, region plan.RegionID, st plan.SubtaskID, w *regionWiring) (err error) {
	a := Attempt{Subtask: st, Region: region, Attempt: s.nextAttempt(st), State: Running, Start: time.Now()}
	name := s.g.SubtaskName(st)
	log := s.opts.Logger.With("subtask", name, "attempt", a.Attempt)
	log.Debug("subtask started")
	outs := s.openOutputs(st, a.Attempt, w)
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
			log.Error("subtask panicked", "panic", p, "stack", string(debug.Stack()))
		}
		a.End = time.Now()
		var commits []plan.PartitionID
		if err == nil {
			commits, err = s.collectOutputs(st, outs, &a)
		}
		if err != nil {
			outs.abort()
			err = &SubtaskError{Subtask: st, Name: name, Attempt: a.Attempt, Err: s.lostInput(st, err)}
			a.State, a.Err = Failed, err
			log.Debug("subtask failed", "err", err)
		} else {
			a.State = Finished
			log.Debug("subtask finished", "rows_in", a.Stats.RowsIn, "rows_out", a.Stats.RowsOut)
		}
		s.record(a, commits)
		if s.opts.Observer != nil {
			s.opts.Observer.SubtaskFinished(int(st.Stage), int(st.Index), a.Stats.RowsOut, err)
		}
	}()
	inputs, err := s.openInputs(ctx, st, w)
	if err != nil {
		return err
	}
	defer closeReaders(inputs)
	task, err := s.prog.NewTask(st, a.Attempt)
	if err != nil {
		return err
	}
	trip := s.tripwire(st, a.Attempt, name)
	var out operators.Operator = outs
	if trip != nil && len(inputs) == 0 {
		out = &trippedOutput{Operator: outs, t: trip}
	}
	if trip != nil && len(inputs) > 0 {
		for i, r := range inputs {
			inputs[i] = &trippedReader{Reader: r, t: trip}
		}
	}
	a.Stats, err = task.Run(ctx, inputs, out)
	if err == nil {
		err = trip.fire() // the input ended before the fault's batch count
	}
	return err
}

func (s *Scheduler) tripwire(st plan.SubtaskID, attempt int, name string) *tripwire {
	f, ok := s.faults.taskFault(st, attempt)
	if !ok {
		return nil
	}
	return &tripwire{fault: f, name: fmt.Sprintf("%s#%d", name, attempt)}
}

// openInputs opens one reader per input port of st's stage: the region's
// pipe for a pipelined edge, the committed partitions of every producer,
// in producer order, for a blocking one.
func (s *Scheduler) openInputs(ctx context.Context, st plan.SubtaskID, w *regionWiring) ([]shuffle.Reader, error) {
	stage := s.g.Stage(st.Stage)
	readers := make([]shuffle.Reader, 0, len(stage.Inputs))
	for _, eid := range stage.Inputs {
		e := s.g.Edge(eid)
		if e.Mode == plan.Pipelined {
			readers = append(readers, w.reader(e, int(st.Index)))
			continue
		}
		producers := s.g.Producers(e, int(st.Index))
		refs := make([]storage.PartitionRef, len(producers))
		for i, p := range producers {
			refs[i] = s.partitionRef(eid, p)
			pid := plan.PartitionID{Edge: eid, Producer: p}
			if err := s.waitCommitted(ctx, pid); err != nil {
				closeReaders(readers)
				return nil, err
			}
			if err := s.injectPartitionFault(pid, st.Index, subpartition(e, int(st.Index))); err != nil {
				closeReaders(readers)
				return nil, err
			}
		}
		readers = append(readers, shuffle.NewBlockingReader(s.store, refs, subpartition(e, int(st.Index)), s.prog.EdgeSchema(eid), s.shuffleOpts))
	}
	return readers, nil
}

// injectPartitionFault loses or corrupts partition p (for its consumer's
// subpartition sub) when a fault says so, just before it is first read.
func (s *Scheduler) injectPartitionFault(p plan.PartitionID, consumer int32, sub int) error {
	f, ok := s.faults.takePartitionFault(p, consumer, s.g)
	if !ok {
		return nil
	}
	ref := s.partitionRef(p.Edge, p.Producer)
	s.opts.Logger.Info("injecting fault", "fault", f.describe(s.g), "partition", partitionName(s.g, p))
	if f.Kind == FaultLose {
		return s.store.DeletePartition(ref)
	}
	return s.store.CorruptPartition(ref, sub)
}

func (s *Scheduler) partitionRef(e plan.EdgeID, producer int32) storage.PartitionRef {
	return storage.PartitionRef{Run: s.opts.Run, Edge: uint32(e), Producer: uint32(producer)}
}

func closeReaders(rs []shuffle.Reader) {
	for _, r := range rs {
		r.Close()
	}
}

// subpartitions is the number of subpartitions of each of e's result
// partitions: one for a forward edge (producer i's, read by consumer i),
// else one per consumer.
func (s *Scheduler) subpartitions(e *plan.Edge) int {
	if e.Partitioner == plan.Forward {
		return 1
	}
	return s.g.Stage(e.To).Parallelism
}

// subpartition is the subpartition consumer c reads of e's partitions.
func subpartition(e *plan.Edge, c int) int {
	if e.Partitioner == plan.Forward {
		return 0
	}
	return c
}

// partitionerFor builds edge e's partitioner for one producer attempt. The
// nondeterministic ones draw from a stream seeded by (run seed, edge,
// subtask, attempt), so a given seed replays the same choices.
func (s *Scheduler) partitionerFor(e *plan.Edge, st plan.SubtaskID, attempt int) shuffle.Partitioner {
	seed := s.opts.Seed ^ uint64(e.ID)<<48 ^ uint64(st.Index)<<24 ^ uint64(attempt)
	switch e.Partitioner {
	case plan.Forward:
		return shuffle.Forward()
	case plan.Global:
		return shuffle.Global()
	case plan.Hash:
		return shuffle.Hash(e.Keys...)
	case plan.Broadcast:
		return shuffle.Broadcast()
	case plan.Rebalance:
		return shuffle.Rebalance(seed)
	default:
		return shuffle.Random(rand.New(rand.NewPCG(seed, 0x72616e64)))
	}
}
