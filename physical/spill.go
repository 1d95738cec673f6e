package physical

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/batchrun/batchrun/executor"
	"github.com/batchrun/batchrun/operators"
	"github.com/batchrun/batchrun/plan"
	"github.com/batchrun/batchrun/shuffle"
	"github.com/batchrun/batchrun/storage"
)

// Operators spill to the run's store, in its spill key space
// (storage.SpaceSpill): a spill run is a partition there with one
// subpartition, numbered n per physical job (so no two runs of one invocation
// share a ref, whatever the subtask or attempt), Producer the subtask's
// global index (for legibility). Spill runs never pass for shuffle
// partitions (resume's committedPartitions looks at the graph's edges,
// in the shuffle space). A run's store attempt is the subtask attempt plus
// the invocation's AttemptBase. Runs are committed at Finish, read with
// OpenSubpartition and deleted at Discard; what a killed invocation left
// is deleted when the next one opens the store (DeleteSpills), and
// everything goes with the run's store.

// storeSpiller is the operators.Spiller of one subtask attempt.
type storeSpiller struct {
	store    *storage.Store
	run      uint64
	producer uint32
	attempt  uint32
	seq      *atomic.Uint32 // the job's spill run counter
	opts     shuffle.Options
	// encs holds one encoder per schema (schemas[i]), reused across runs.
	encs    []*shuffle.Encoder
	schemas []*arrow.Schema
}

// NewRun implements operators.Spiller.
func (s *storeSpiller) NewRun(schema *arrow.Schema) (operators.SpillRun, error) {
	n := s.seq.Add(1)
	if n == 0 {
		return nil, fmt.Errorf("spill: more than %d spill runs in one invocation", uint32(1<<32-1))
	}
	ref := storage.PartitionRef{Run: s.run, Edge: n, Producer: s.producer, Space: storage.SpaceSpill}
	enc, err := s.encoder(schema)
	if err != nil {
		return nil, err
	}
	return &storeSpillRun{s: s, ref: ref, schema: schema, enc: enc,
		w: s.store.NewPartitionWriter(ref, s.attempt, 1)}, nil
}

func (s *storeSpiller) encoder(schema *arrow.Schema) (*shuffle.Encoder, error) {
	for i, sc := range s.schemas {
		if sc.Equal(schema) {
			return s.encs[i], nil
		}
	}
	enc, err := shuffle.NewEncoder(schema, s.opts)
	if err != nil {
		return nil, fmt.Errorf("spill: %w", err)
	}
	s.encs, s.schemas = append(s.encs, enc), append(s.schemas, schema)
	return enc, nil
}

// close releases the encoders; the runs themselves are the operators'.
func (s *storeSpiller) close() {
	for _, e := range s.encs {
		e.Close()
	}
	s.encs, s.schemas = nil, nil
}

// storeSpillRun is one spill run: written, committed, read, deleted.
type storeSpillRun struct {
	s         *storeSpiller
	ref       storage.PartitionRef
	schema    *arrow.Schema
	enc       *shuffle.Encoder
	w         *storage.PartitionWriter
	committed bool
	gone      bool
}

func (r *storeSpillRun) errorf(op string, err error) error {
	return fmt.Errorf("jobs: spill %s %s: %w", op, r.ref, err)
}

// Write implements operators.SpillRun.
func (r *storeSpillRun) Write(ctx context.Context, rec arrow.Record) error {
	if r.committed || r.gone {
		return r.errorf("write", fmt.Errorf("run is finished or discarded"))
	}
	v, err := r.enc.Encode(rec)
	if err != nil {
		return r.errorf("write", err)
	}
	return r.w.Append(0, rec.NumRows(), v)
}

// Finish implements operators.SpillRun: it commits the run.
func (r *storeSpillRun) Finish(ctx context.Context) error {
	if err := r.w.Commit(); err != nil {
		return err
	}
	r.committed = true
	return nil
}

// Open implements operators.SpillRun.
func (r *storeSpillRun) Open(ctx context.Context) (operators.BatchReader, error) {
	if !r.committed || r.gone {
		return nil, r.errorf("open", fmt.Errorf("run is not finished or is discarded"))
	}
	sub, err := r.s.store.OpenSubpartition(r.ref, 0)
	if err != nil {
		return nil, err
	}
	dec, err := shuffle.NewDecoder(r.schema, r.s.opts.Allocator)
	if err != nil {
		sub.Close()
		return nil, r.errorf("open", err)
	}
	return &storeSpillReader{run: r, sub: sub, dec: dec}, nil
}

// Discard implements operators.SpillRun.
func (r *storeSpillRun) Discard() {
	if r.gone {
		return
	}
	r.gone = true
	if !r.committed {
		_ = r.w.Discard() // best effort: an uncommitted run is invisible
		return
	}
	_ = r.s.store.DeletePartition(r.ref) // else DeleteRunData removes it
}

// storeSpillReader decodes one spill run's batches.
type storeSpillReader struct {
	run *storeSpillRun
	sub *storage.SubpartitionReader
	dec *shuffle.Decoder
}

// Next implements operators.BatchReader.
func (r *storeSpillReader) Next(ctx context.Context) (arrow.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	v, err := r.sub.Next()
	if err == io.EOF {
		return nil, io.EOF
	} else if err != nil {
		return nil, err
	}
	rec, err := r.dec.Decode(v)
	if err != nil {
		return nil, r.run.errorf("read", err)
	}
	return rec, nil
}

// Close implements operators.BatchReader.
func (r *storeSpillReader) Close() {
	r.sub.Close()
	r.dec.Close()
}

// budgetFor returns the memory budget of one subtask attempt and the
// spiller behind it (nil when memory is unbounded).
func (p *Job) budgetFor(global int, attempt int, stats *operators.SpillStats) (operators.Budget, *storeSpiller) {
	if p.cfg.Memory <= 0 || p.cfg.Store == nil {
		return operators.Budget{Stats: stats}, nil
	}
	opts := shuffle.Options{Codec: p.cfg.Codec, Allocator: p.mem}
	opts.EnsureDefaults()
	sp := &storeSpiller{store: p.cfg.Store, run: p.cfg.Run, producer: uint32(global),
		attempt: p.cfg.AttemptBase + uint32(attempt), seq: &p.spillSeq, opts: opts}
	return operators.Budget{Bytes: max(p.cfg.Memory/int64(p.cfg.Slots), 1), Spill: sp, Stats: stats}, sp
}

// memoryHolder is an operator that holds memory under a budget (Sort,
// HashAggregate, HashJoin, Distinct).
type memoryHolder interface{ SetBudget(operators.Budget) }

// budgetHolders appends op to hs if it holds memory and is not there yet
// (a read op returns the op after it).
func budgetHolders(hs []memoryHolder, op operators.Operator) []memoryHolder {
	h, ok := op.(memoryHolder)
	if !ok {
		return hs
	}
	for _, x := range hs {
		if x == h {
			return hs
		}
	}
	return append(hs, h)
}

// shareBudget splits the subtask's budget evenly between the chain's
// memory holders (they share one SpillStats).
func (t *task) shareBudget(hs []memoryHolder) {
	for _, h := range hs {
		b := t.budget
		if b.Bytes > 0 {
			b.Bytes = max(b.Bytes/int64(len(hs)), 1)
		}
		h.SetBudget(b)
	}
}

// spillTask is a task run under its budget: it reports what the task's
// operators spilled.
type spillTask struct {
	*task
	stats *operators.SpillStats
	sp    *storeSpiller
}

// Run implements executor.Computation.
func (t *spillTask) Run(ctx context.Context, inputs []shuffle.Reader, out executor.Sink) (executor.Stats, error) {
	st, err := t.task.Run(ctx, inputs, out)
	if t.sp != nil {
		t.sp.close()
	}
	st.OperatorSpilled, st.SpillRuns = t.stats.Bytes, t.stats.Runs
	return st, err
}

// newSpillTask builds attempt of subtask index of stage with its budget.
func (p *Job) newSpillTask(stage *plan.Stage, index, attempt int) *spillTask {
	global := index
	for _, s := range p.cfg.Graph.Stages[:stage.ID] {
		global += s.Parallelism
	}
	t := &task{p: p, stage: stage, index: index}
	stats := new(operators.SpillStats)
	var sp *storeSpiller
	t.budget, sp = p.budgetFor(global, attempt, stats)
	return &spillTask{task: t, stats: stats, sp: sp}
}
