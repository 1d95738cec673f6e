package faults

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/batchrun/batchrun/executor"
	"github.com/batchrun/batchrun/executor/executortest"
	"github.com/batchrun/batchrun/plan"
	"github.com/batchrun/batchrun/shuffle"
	"github.com/batchrun/batchrun/storage"
)

func compile(t *testing.T) *plan.StageGraph {
	return executortest.Compile(t, map[string]string{"parallelism": "2", "mode": "all-blocking"}, "read id=a\nagg id=b input=a keys=k")
}

// TestParseAndResolve: the command line's fault syntax, and the errors
// that name what is wrong.
func TestParseAndResolve(t *testing.T) {
	g := compile(t)
	for _, tc := range []struct{ in, want string }{
		{"error:a[1]", "error:a[1]#0@0"},
		{"panic:b[0]#2@3", "panic:b[0]#2@3"},
		{"lose:a[0]", "lose:a[0]"},
		{"corrupt:a[1]->b", "corrupt:a[1]->b"},
		{"lose:a[0]->b[1]", "lose:a[0]->b[1]"},
		{"error:nope[0]", `fault "error:nope[0]": no stage or step "nope"`},
		{"error:a[5]", `fault "error:a[5]": a has 2 subtasks, no [5]`},
		{"lose:b[0]", `fault "lose:b[0]": b[0] writes no blocking partition to ""`},
		{"error:a[0]->b", `fault "error:a[0]->b": ->STAGE applies to lose and corrupt only`},
		{"lose:a[0]#1", `fault "lose:a[0]#1": #attempt and @batches apply to error and panic only`},
		{"oops", `fault "oops": want KIND:STAGE[i][#attempt][@batches] or lose|corrupt:STAGE[i][->STAGE]`},
	} {
		got := ""
		spec, err := Parse(tc.in)
		var f Fault
		if err == nil {
			f, err = spec.Resolve(g)
		}
		if err != nil {
			got = err.Error()
		} else {
			got = f.Describe(g)
		}
		if got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestChaosIsSeeded: the same seed draws the same faults, another seed
// others, and rate 0 none.
func TestChaosIsSeeded(t *testing.T) {
	g := compile(t)
	describe := func(seed uint64, rate float64) string {
		var out []string
		for _, f := range Chaos(g, seed, rate) {
			out = append(out, f.Describe(g))
		}
		return strings.Join(out, " ")
	}
	if a, b := describe(7, 0.5), describe(7, 0.5); a != b || a == "" {
		t.Errorf("seed 7 drew %q then %q, want the same non-empty set", a, b)
	}
	differs := false
	for seed := uint64(8); seed < 20 && !differs; seed++ {
		differs = describe(seed, 0.5) != describe(7, 0.5)
	}
	if !differs {
		t.Error("twelve other seeds all drew seed 7's faults")
	}
	if got := describe(7, 0); got != "" {
		t.Errorf("rate 0 drew %q", got)
	}
}

// batches is a reader of n empty batches.
type batches struct{ n int }

func (b *batches) Next(context.Context) (arrow.Record, error) {
	if b.n == 0 {
		return nil, io.EOF
	}
	b.n--
	return nil, nil
}
func (b *batches) Close() {}

// reading is a computation that reads its input to the end.
type reading struct{}

func (reading) Run(ctx context.Context, in []shuffle.Reader, out executor.Sink) (executor.Stats, error) {
	for {
		if _, err := in[0].Next(ctx); errors.Is(err, io.EOF) {
			return executor.Stats{}, nil
		} else if err != nil {
			return executor.Stats{}, err
		}
	}
}

type readingProgram struct{}

func (readingProgram) NewTask(plan.SubtaskID, int) (executor.Computation, error) {
	return reading{}, nil
}
func (readingProgram) EdgeSchema(plan.EdgeID) *arrow.Schema { return nil }

// TestTaskFaultTrips: a task fault fails its attempt after its batch
// count, or at the end of a shorter input; other attempts run clean.
func TestTaskFaultTrips(t *testing.T) {
	g := compile(t)
	b0, _ := g.ParseSubtask("b[0]")
	run := func(faults []Fault, attempt, input int) error {
		c, err := NewSet(g, faults, nil).Program(readingProgram{}).NewTask(b0, attempt)
		if err != nil {
			return err
		}
		_, err = c.Run(context.Background(), []shuffle.Reader{&batches{n: input}}, nil)
		return err
	}
	fault := []Fault{{Kind: Error, Subtask: b0, Attempt: 1, After: 3}}
	if err := run(fault, 0, 10); err != nil {
		t.Errorf("attempt 0: %v, want no fault (it is attempt 1's)", err)
	}
	if err := run(fault, 1, 10); !errors.Is(err, ErrInjected) || !strings.Contains(err.Error(), "after 3 batches") {
		t.Errorf("attempt 1 of 10 batches: %v, want the injected fault after 3", err)
	}
	if err := run(fault, 1, 2); !errors.Is(err, ErrInjected) {
		t.Errorf("attempt 1 of 2 batches: %v, want the fault at the end of the input", err)
	}
	func() {
		defer func() {
			if p := recover(); p == nil || !strings.Contains(fmt.Sprint(p), "injected panic") {
				t.Errorf("panic fault: recovered %v, want an injected panic", p)
			}
		}()
		_ = run([]Fault{{Kind: Panic, Subtask: b0}}, 0, 1)
	}()
}

// TestPartitionFaultFiresOnce: a lose fault deletes the partition from
// the store just before its consumer opens it, once: the regenerated
// partition is left alone.
func TestPartitionFaultFiresOnce(t *testing.T) {
	g := compile(t)
	store, err := storage.Open(t.TempDir(), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	a0, _ := g.ParseSubtask("a[0]")
	b1, _ := g.ParseSubtask("b[1]")
	p := plan.PartitionID{Edge: 0, Producer: 0}
	ref := storage.PartitionRef{Run: 5, Edge: 0, Producer: 0}
	commit := func() {
		w := store.NewPartitionWriter(ref, 0, 2)
		if err := w.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	commit()
	base := &executor.StorePartitions{Store: store, Run: 5}
	ps := NewSet(g, []Fault{{Kind: Lose, Subtask: a0, Edge: 0, Consumer: 1}}, nil).Partitions(base, store, 5)
	check := func(when string, want bool) {
		t.Helper()
		_, err := store.Commit(ref, 1)
		if got := err == nil; got != want {
			t.Errorf("%s: committed=%v (%v), want %v", when, got, err, want)
		}
	}
	if _, err := ps.Reader(plan.SubtaskID{Stage: b1.Stage, Index: 0}, executor.Input{Partitions: []plan.PartitionID{p}, Subpartition: 0}, nil); err != nil {
		t.Fatal(err)
	}
	check("opened by b[0], not the fault's consumer", true)
	if _, err := ps.Reader(b1, executor.Input{Partitions: []plan.PartitionID{p}, Subpartition: 1}, nil); err != nil {
		t.Fatal(err)
	}
	check("opened by b[1]", false)
	commit()
	if _, err := ps.Reader(b1, executor.Input{Partitions: []plan.PartitionID{p}, Subpartition: 1}, nil); err != nil {
		t.Fatal(err)
	}
	check("regenerated and opened again", true)
}

// splitBatches is an input readable producer by producer.
type splitBatches struct {
	batches
	each []int
}

func (s *splitBatches) Producers() []shuffle.Reader {
	var rs []shuffle.Reader
	for _, n := range s.each {
		rs = append(rs, &batches{n: n})
	}
	return rs
}

// splitReading reads its input producer by producer, side by side, as a
// final sort's merge does.
type splitReading struct{}

func (splitReading) Run(ctx context.Context, in []shuffle.Reader, out executor.Sink) (executor.Stats, error) {
	sp, ok := in[0].(shuffle.ProducerSplitter)
	if !ok {
		return executor.Stats{}, errors.New("input does not split by producer")
	}
	parts := sp.Producers()
	for live := len(parts); live > 0; {
		live = 0
		for _, p := range parts {
			_, err := p.Next(ctx)
			if errors.Is(err, io.EOF) {
				continue
			}
			if err != nil {
				return executor.Stats{}, err
			}
			live++
		}
	}
	return executor.Stats{}, nil
}

type splitProgram struct{ readingProgram }

func (splitProgram) NewTask(plan.SubtaskID, int) (executor.Computation, error) {
	return splitReading{}, nil
}

// TestTaskFaultTripsSplitInput: a task fault counts the batches of every
// producer's reader of a split input against one count.
func TestTaskFaultTripsSplitInput(t *testing.T) {
	g := compile(t)
	b0, _ := g.ParseSubtask("b[0]")
	c, err := NewSet(g, []Fault{{Kind: Error, Subtask: b0, After: 3}}, nil).Program(splitProgram{}).NewTask(b0, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Run(context.Background(), []shuffle.Reader{&splitBatches{each: []int{2, 2, 2}}}, nil)
	if !errors.Is(err, ErrInjected) || !strings.Contains(err.Error(), "after 3 batches") {
		t.Errorf("fault after 3 of 3x2 split batches: %v, want the injected fault after 3", err)
	}
}
