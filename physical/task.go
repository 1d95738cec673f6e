package physical

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/batchrun/batchrun/executor"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators"
	"github.com/batchrun/batchrun/operators/formats"
	"github.com/batchrun/batchrun/plan"
	"github.com/batchrun/batchrun/shuffle"
)

// task is one subtask attempt: its stage's op chain over its inputs.
type task struct {
	p      *Job
	stage  *plan.Stage
	index  int
	budget operators.Budget // what its operators may hold (spill.go)
}

// counter counts the rows that leave a subtask.
type counter struct {
	out  operators.Operator
	rows int64
}

func (c *counter) Push(ctx context.Context, rec arrow.Record) error {
	c.rows += rec.NumRows()
	return c.out.Push(ctx, rec)
}

func (c *counter) Finish(ctx context.Context) error { return c.out.Finish(ctx) }

// Run implements executor.Computation.
func (t *task) Run(ctx context.Context, inputs []shuffle.Reader, out executor.Sink) (stats executor.Stats, err error) {
	sink := &counter{out: out}
	chain, err := t.buildChain(sink)
	if err != nil {
		return stats, err
	}
	if chain.write != nil {
		// After a failure or a panic this abandons the part file and stops
		// its writer's goroutine (a failed attempt's partial file is never
		// published); after Finish it does nothing.
		defer chain.write.Close()
	}
	side, inputs := t.sideInputs(inputs)
	if stats.RowsIn, err = t.build(ctx, chain, side); err != nil {
		return stats, err
	}
	head := t.p.cfg.Job.Step(t.stage.Ops[0].Step)
	var rows int64
	switch {
	case head.Kind == spec.KindRead:
		rows, stats.RowsSkipped, err = t.scan(ctx, head, chain.head)
	case head.Kind == spec.KindJoin:
		rows, err = t.join(ctx, chain, inputs)
	default:
		rows, err = drainHead(ctx, chain.head, inputs)
	}
	stats.RowsIn += rows
	stats.RowsOut = sink.rows
	if chain.write != nil {
		if err != nil {
			_ = chain.write.Close() // its goroutine stops before its counts are read
		}
		stats.RowsOut = chain.write.RowsWritten()
	}
	return stats, err
}

func (t *task) scan(ctx context.Context, step *spec.Step, out operators.Operator) (rows, skipped int64, err error) {
	o := formats.ScanOptions{Read: step.Read, Input: t.p.cfg.Inputs[step.ID], Columns: t.p.readColumns[step.ID],
		Split: t.index, NumSplits: t.stage.Parallelism, Mem: t.p.mem}
	if t.p.cfg.ReadProgress != nil {
		o.Progress = t.p.cfg.ReadProgress(step.ID)
	}
	o.Skipped = func(file string, n int64) {
		t.p.cfg.Logger.Warn("skipped malformed rows", "step", step.ID, "subtask", t.index, "file", file, "rows", n)
	}
	var q *quarantineFile
	if step.Read.OnError == spec.OnErrorQuarantine {
		if q, err = openQuarantine(t.p.cfg.PartPath(QuarantineOutput(step.ID), t.index)); err != nil {
			return 0, 0, err
		}
		defer q.close()
		o.Quarantine = q
	}
	scan, err := formats.NewScan(o)
	if err != nil {
		return 0, 0, err
	}
	c := &counter{out: out}
	err = scan.Run(ctx, c)
	if err == nil && q != nil {
		err = q.finish()
	}
	return c.rows, scan.Stats().RowsSkipped, err
}

// sideInputs splits the stage's inputs into side inputs (the build side of
// a broadcast join chained into this stage: an edge that feeds an op
// other than the head) and the main inputs, both in port order.
func (t *task) sideInputs(inputs []shuffle.Reader) (side, main []shuffle.Reader) {
	for p, eid := range t.stage.Inputs {
		if t.p.cfg.Graph.Edge(eid).Op > 0 {
			side = append(side, inputs[p])
		} else {
			main = append(main, inputs[p])
		}
	}
	return side, main
}

// build reads a chained join's build side to the end before anything
// flows through the chain.
func (t *task) build(ctx context.Context, c *chain, side []shuffle.Reader) (int64, error) {
	if len(side) == 0 {
		return 0, nil
	}
	rows, err := drainAll(ctx, side, c.join.Build())
	if err != nil {
		return rows, err
	}
	return rows, c.join.Build().Finish(ctx)
}

// join reads the build side (port 1) to the end, then streams the probe
// side (port 0) through the hash table.
func (t *task) join(ctx context.Context, c *chain, inputs []shuffle.Reader) (int64, error) {
	build, err := drain(ctx, inputs[1], c.join.Build())
	if err != nil {
		return build, err
	}
	if err := c.join.Build().Finish(ctx); err != nil {
		return build, err
	}
	probe, err := drain(ctx, inputs[0], c.head)
	if err != nil {
		return build + probe, err
	}
	return build + probe, c.head.Finish(ctx)
}

// drainHead pushes every input port into head and finishes it. A final
// sort over one exchange whose reader splits by producer merges the
// producers' sorted partitions as it reads them instead: it holds a batch
// of each, where pushing would buffer (and spill) all of them first.
func drainHead(ctx context.Context, head operators.Operator, inputs []shuffle.Reader) (int64, error) {
	if s, ok := head.(*operators.Sort); ok && s.Mode() == operators.SortFinal && len(inputs) == 1 {
		if sp, ok := inputs[0].(shuffle.ProducerSplitter); ok {
			if parts := sp.Producers(); parts != nil {
				streams := make([]operators.BatchReader, len(parts))
				for i, p := range parts {
					streams[i] = p
				}
				err := s.MergeSorted(ctx, streams)
				return s.Stats().RowsIn, err
			}
		}
	}
	rows, err := drainAll(ctx, inputs, head)
	if err != nil {
		return rows, err
	}
	return rows, head.Finish(ctx)
}

// drainAll pushes every input port, in port order, into op.
func drainAll(ctx context.Context, inputs []shuffle.Reader, op operators.Operator) (int64, error) {
	var rows int64
	for _, r := range inputs {
		n, err := drain(ctx, r, op)
		rows += n
		if err != nil {
			return rows, err
		}
	}
	return rows, nil
}

func drain(ctx context.Context, r shuffle.Reader, op operators.Operator) (int64, error) {
	var rows int64
	for {
		rec, err := r.Next(ctx)
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return rows, err
		}
		rows += rec.NumRows()
		err = op.Push(ctx, rec)
		rec.Release()
		if err != nil {
			return rows, err
		}
	}
}

// chain is a subtask's built operators.
type chain struct {
	head  operators.Operator // receives the stage's input (nil for a read head)
	join  *operators.HashJoin
	write formats.FileWrite
}

// buildChain builds the stage's ops back to front, each pushing into the
// next; the last pushes into out.
func (t *task) buildChain(out operators.Operator) (*chain, error) {
	c := &chain{}
	var holders []memoryHolder
	next := out
	for i := len(t.stage.Ops) - 1; i >= 0; i-- {
		op := t.stage.Ops[i]
		built, err := t.buildOp(op, next, c)
		if err != nil {
			if c.write != nil {
				_ = c.write.Close()
			}
			return nil, fmt.Errorf("build %s: %w", op, err)
		}
		holders = budgetHolders(holders, built)
		next = built
	}
	c.head = next
	t.shareBudget(holders)
	return c, nil
}
