// Package executortest has what tests of executors share: a program of
// stage functions over one int64 column, graphs from one-step-per-line
// jobs, and a recorder of task ends. Test code only.
package executortest

import (
	"context"
	"errors"
	"io"
	"sync"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/executor"
	"github.com/batchrun/batchrun/plan"
	"github.com/batchrun/batchrun/plan/plantest"
	"github.com/batchrun/batchrun/shuffle"
	"github.com/batchrun/batchrun/storage"
)

// Schema is the one column every test edge carries.
var Schema = arrow.NewSchema([]arrow.Field{{Name: "k", Type: arrow.PrimitiveTypes.Int64, Nullable: true}}, nil)

// StageFunc is one stage's computation in a test program.
type StageFunc func(ctx context.Context, st plan.SubtaskID, inputs []shuffle.Reader, out executor.Sink) (executor.Stats, error)

// Program runs a StageFunc per stage name; every edge carries Schema.
type Program struct {
	G      *plan.StageGraph
	Stages map[string]StageFunc
}

// NewTask implements executor.Program.
func (p *Program) NewTask(st plan.SubtaskID, _ int) (executor.Computation, error) {
	f, ok := p.Stages[p.G.Stage(st.Stage).Name]
	if !ok {
		return nil, errors.New("no computation for " + p.G.SubtaskName(st))
	}
	return computation(func(ctx context.Context, in []shuffle.Reader, out executor.Sink) (executor.Stats, error) {
		return f(ctx, st, in, out)
	}), nil
}

// EdgeSchema implements executor.Program.
func (p *Program) EdgeSchema(plan.EdgeID) *arrow.Schema { return Schema }

type computation func(context.Context, []shuffle.Reader, executor.Sink) (executor.Stats, error)

func (c computation) Run(ctx context.Context, in []shuffle.Reader, out executor.Sink) (executor.Stats, error) {
	return c(ctx, in, out)
}

// Emit writes n rows 0..n-1 in batches of 10 and finishes.
func Emit(n int) StageFunc {
	return func(ctx context.Context, _ plan.SubtaskID, _ []shuffle.Reader, out executor.Sink) (executor.Stats, error) {
		b := array.NewInt64Builder(memory.DefaultAllocator)
		defer b.Release()
		for i := 0; i < n; i += 10 {
			for j := i; j < min(i+10, n); j++ {
				b.Append(int64(j))
			}
			arr := b.NewArray()
			rec := array.NewRecord(Schema, []arrow.Array{arr}, int64(arr.Len()))
			arr.Release()
			err := out.Push(ctx, rec)
			rec.Release()
			if err != nil {
				return executor.Stats{}, err
			}
		}
		return executor.Stats{RowsOut: int64(n)}, out.Finish(ctx)
	}
}

// Count reads every input to the end, adds the rows to *total and
// finishes.
func Count(mu *sync.Mutex, total *int64) StageFunc {
	return func(ctx context.Context, _ plan.SubtaskID, inputs []shuffle.Reader, out executor.Sink) (executor.Stats, error) {
		var n int64
		for _, r := range inputs {
			for {
				rec, err := r.Next(ctx)
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					return executor.Stats{}, err
				}
				n += rec.NumRows()
				rec.Release()
			}
		}
		mu.Lock()
		*total += n
		mu.Unlock()
		return executor.Stats{RowsIn: n}, out.Finish(ctx)
	}
}

// Compile compiles a job given one step per line (plantest.ParseJob).
func Compile(t *testing.T, args map[string]string, steps string) *plan.StageGraph {
	t.Helper()
	job, err := plantest.ParseJob(args, steps)
	if err != nil {
		t.Fatal(err)
	}
	g, err := plan.Compile(job)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// NewLocal returns a Local executor of g running stages, over a store
// of its own (run 1).
func NewLocal(t *testing.T, g *plan.StageGraph, stages map[string]StageFunc) (*executor.Local, *storage.Store) {
	t.Helper()
	store, err := storage.Open(t.TempDir(), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return &executor.Local{Graph: g, Program: &Program{G: g, Stages: stages},
		Partitions: &executor.StorePartitions{Store: store, Run: 1}}, store
}

// Group describes attempt 0 of the named subtasks.
func Group(t *testing.T, g *plan.StageGraph, names ...string) *executor.Group {
	t.Helper()
	grp := &executor.Group{}
	for _, n := range names {
		st, err := g.ParseSubtask(n)
		if err != nil {
			t.Fatal(err)
		}
		grp.Tasks = append(grp.Tasks, executor.Describe(g, st, 0, 0, 1))
	}
	return grp
}

// Ended records each task's end, by name; its Done is an executor's done
// callback.
type Ended struct {
	mu      sync.Mutex
	Results map[string]executor.Result
	Errs    map[string]error
}

// Done records t's end.
func (e *Ended) Done(t *executor.Task, res executor.Result, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.Results == nil {
		e.Results, e.Errs = map[string]executor.Result{}, map[string]error{}
	}
	e.Results[t.Name], e.Errs[t.Name] = res, err
}

// PassThrough copies its one input to its output.
func PassThrough(ctx context.Context, _ plan.SubtaskID, inputs []shuffle.Reader, out executor.Sink) (executor.Stats, error) {
	var st executor.Stats
	for {
		rec, err := inputs[0].Next(ctx)
		if errors.Is(err, io.EOF) {
			return st, out.Finish(ctx)
		}
		if err != nil {
			return st, err
		}
		st.RowsIn += rec.NumRows()
		err = out.Push(ctx, rec)
		rec.Release()
		if err != nil {
			return st, err
		}
	}
}
