package executor

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/batchrun/batchrun/plan"
	"github.com/batchrun/batchrun/plan/plantest"
	"github.com/batchrun/batchrun/shuffle"
	"github.com/batchrun/batchrun/storage"
)

var schema = arrow.NewSchema([]arrow.Field{{Name: "k", Type: arrow.PrimitiveTypes.Int64, Nullable: true}}, nil)

// stageFunc is one stage's computation in a test program.
type stageFunc func(ctx context.Context, st plan.SubtaskID, inputs []shuffle.Reader, out Sink) (Stats, error)

// funcProgram runs a stageFunc per stage name; every edge carries schema.
type funcProgram struct {
	g      *plan.StageGraph
	stages map[string]stageFunc
}

func (p *funcProgram) NewTask(st plan.SubtaskID, _ int) (Computation, error) {
	f, ok := p.stages[p.g.Stage(st.Stage).Name]
	if !ok {
		return nil, errors.New("no computation for " + p.g.SubtaskName(st))
	}
	return computation(func(ctx context.Context, in []shuffle.Reader, out Sink) (Stats, error) { return f(ctx, st, in, out) }), nil
}

func (p *funcProgram) EdgeSchema(plan.EdgeID) *arrow.Schema { return schema }

type computation func(context.Context, []shuffle.Reader, Sink) (Stats, error)

func (c computation) Run(ctx context.Context, in []shuffle.Reader, out Sink) (Stats, error) {
	return c(ctx, in, out)
}

// emit writes n rows 0..n-1 in batches of 10 and finishes.
func emit(n int) stageFunc {
	return func(ctx context.Context, _ plan.SubtaskID, _ []shuffle.Reader, out Sink) (Stats, error) {
		b := array.NewInt64Builder(memory.DefaultAllocator)
		defer b.Release()
		for i := 0; i < n; i += 10 {
			for j := i; j < min(i+10, n); j++ {
				b.Append(int64(j))
			}
			arr := b.NewArray()
			rec := array.NewRecord(schema, []arrow.Array{arr}, int64(arr.Len()))
			arr.Release()
			err := out.Push(ctx, rec)
			rec.Release()
			if err != nil {
				return Stats{}, err
			}
		}
		return Stats{RowsOut: int64(n)}, out.Finish(ctx)
	}
}

// count reads every input to the end, adds the rows to *total and
// finishes.
func count(mu *sync.Mutex, total *int64) stageFunc {
	return func(ctx context.Context, _ plan.SubtaskID, inputs []shuffle.Reader, out Sink) (Stats, error) {
		var n int64
		for _, r := range inputs {
			for {
				rec, err := r.Next(ctx)
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					return Stats{}, err
				}
				n += rec.NumRows()
				rec.Release()
			}
		}
		mu.Lock()
		*total += n
		mu.Unlock()
		return Stats{RowsIn: n}, out.Finish(ctx)
	}
}

func compile(t *testing.T, args map[string]string, steps string) *plan.StageGraph {
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

func newLocal(t *testing.T, g *plan.StageGraph, stages map[string]stageFunc) (*Local, *storage.Store) {
	t.Helper()
	store, err := storage.Open(t.TempDir(), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return &Local{Graph: g, Program: &funcProgram{g: g, stages: stages},
		Partitions: &StorePartitions{Store: store, Run: 1}}, store
}

// group describes attempt 0 of the named subtasks.
func group(t *testing.T, g *plan.StageGraph, names ...string) *Group {
	t.Helper()
	grp := &Group{}
	for _, n := range names {
		st, err := g.ParseSubtask(n)
		if err != nil {
			t.Fatal(err)
		}
		grp.Tasks = append(grp.Tasks, Describe(g, st, 0, 0, 1))
	}
	return grp
}

type ended struct {
	mu      sync.Mutex
	results map[string]Result
	errs    map[string]error
}

func (e *ended) done(t *Task, res Result, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.results == nil {
		e.results, e.errs = map[string]Result{}, map[string]error{}
	}
	e.results[t.Name], e.errs[t.Name] = res, err
}

// TestLocalBlockingThenPipelined: a group of producers commits blocking
// partitions (reported with their sizes); the next group's pipelined
// region reads them all, hash-partitioned through in-memory pipes.
func TestLocalBlockingThenPipelined(t *testing.T) {
	g := compile(t, map[string]string{"parallelism": "2"},
		"read id=a\nrepartition id=f input=a by=rebalance exchange=blocking\nrepartition id=b input=f by=hash keys=k exchange=pipelined")
	var mu sync.Mutex
	var total int64
	local, _ := newLocal(t, g, map[string]stageFunc{"a": emit(25), "f": passThrough, "b": count(&mu, &total)})
	var e ended
	if err := local.Run(context.Background(), group(t, g, "a[0]", "a[1]"), e.done); err != nil {
		t.Fatalf("producers: %v", err)
	}
	for _, name := range []string{"a[0]", "a[1]"} {
		w := e.results[name].Written
		if len(w) != 1 || w[0].RawBytes <= 0 || w[0].StoredBytes <= 0 {
			t.Errorf("%s wrote %+v, want one partition with its sizes", name, w)
		}
	}
	if err := local.Run(context.Background(), group(t, g, "f[0]", "f[1]", "b[0]", "b[1]"), e.done); err != nil {
		t.Fatalf("region: %v", err)
	}
	if total != 50 {
		t.Errorf("b read %d rows, want the 50 both producers wrote", total)
	}
}

// passThrough copies its one input to its output.
func passThrough(ctx context.Context, _ plan.SubtaskID, inputs []shuffle.Reader, out Sink) (Stats, error) {
	var st Stats
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

// TestLocalLostInput: a blocking input that was never committed fails the
// reader with a LostPartitionError naming the partition, which recovery
// regenerates.
func TestLocalLostInput(t *testing.T) {
	g := compile(t, map[string]string{"parallelism": "1"}, "read id=a\nrepartition id=f input=a by=hash keys=k exchange=blocking")
	var mu sync.Mutex
	var total int64
	local, _ := newLocal(t, g, map[string]stageFunc{"f": count(&mu, &total)})
	var e ended
	err := local.Run(context.Background(), group(t, g, "f[0]"), e.done)
	var le *LostPartitionError
	var se *SubtaskError
	if !errors.As(err, &se) || se.Name != "f[0]" || !errors.As(err, &le) || le.Partition != (plan.PartitionID{Edge: 0, Producer: 0}) {
		t.Fatalf("Run = %v, want f[0]'s SubtaskError wrapping a LostPartitionError of e0.0", err)
	}
	if le.Name != "a[0]->f" {
		t.Errorf("lost partition named %q, want a[0]->f", le.Name)
	}
}

// TestLocalPanicCancelsTheGroup: a panic is the task's error, the group's
// root cause, and cancels its pipelined partner, which ends without
// committing.
func TestLocalPanicCancelsTheGroup(t *testing.T) {
	g := compile(t, map[string]string{"parallelism": "1"}, "read id=a\nrepartition id=f input=a by=hash keys=k exchange=pipelined")
	local, _ := newLocal(t, g, map[string]stageFunc{
		"a": func(context.Context, plan.SubtaskID, []shuffle.Reader, Sink) (Stats, error) { panic("boom") },
		"f": passThrough,
	})
	var e ended
	err := local.Run(context.Background(), group(t, g, "a[0]", "f[0]"), e.done)
	if err == nil || !strings.Contains(err.Error(), "a[0]#0: panic: boom") {
		t.Fatalf("Run = %v, want a[0]'s panic as the root cause", err)
	}
	if e.errs["f[0]"] == nil {
		t.Errorf("f[0] ended well after its producer panicked")
	}
}

// TestLocalUnfinishedOutput: a computation that returns without finishing
// its output has failed, whatever it says.
func TestLocalUnfinishedOutput(t *testing.T) {
	g := compile(t, map[string]string{"parallelism": "1"}, "read id=a\nrepartition id=f input=a by=hash keys=k exchange=blocking")
	local, _ := newLocal(t, g, map[string]stageFunc{
		"a": func(context.Context, plan.SubtaskID, []shuffle.Reader, Sink) (Stats, error) { return Stats{}, nil },
	})
	var e ended
	err := local.Run(context.Background(), group(t, g, "a[0]"), e.done)
	if err == nil || !strings.Contains(err.Error(), "without finishing its output") || len(e.results["a[0]"].Written) != 0 {
		t.Fatalf("Run = %v (wrote %v), want the unfinished output refused", err, e.results["a[0]"].Written)
	}
}

// TestLocalWaitsForPartitionsOfItsOwnGroup: a group that both writes and
// reads a blocking partition (a region merged by the cycle rule) opens it
// only once its producer committed.
func TestLocalWaitsForPartitionsOfItsOwnGroup(t *testing.T) {
	g := compile(t, map[string]string{"parallelism": "1"}, "read id=a\nrepartition id=f input=a by=hash keys=k exchange=blocking")
	var mu sync.Mutex
	var total int64
	local, _ := newLocal(t, g, map[string]stageFunc{"a": emit(1000), "f": count(&mu, &total)})
	var e ended
	// The reader first, so that it would open the partition before it
	// exists if it did not wait.
	if err := local.Run(context.Background(), group(t, g, "f[0]", "a[0]"), e.done); err != nil {
		t.Fatal(err)
	}
	if total != 1000 {
		t.Errorf("f read %d rows, want 1000", total)
	}
}
