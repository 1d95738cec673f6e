package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/apache/arrow/go/v17/arrow/flight"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/batchrun/batchrun/executor"
	"github.com/batchrun/batchrun/plan"
)

// WorkerInfo is a worker a coordinator may assign groups to.
type WorkerInfo struct {
	Addr  string `json:"addr"`
	Slots int    `json:"slots"`
}

// Executor runs each group on one worker (a group's pipelined edges stay
// in one process), chosen by free slots, and tells every task where its
// blocking inputs are: the worker that committed each. A group that a
// worker cannot take before it starts goes to another worker; a worker
// that fails mid-group, or that a task cannot fetch from, is lost, with
// every partition it held (executor.WorkerLostError).
type Executor struct {
	run uint64
	// job is what each worker's Loader compiles.
	job []byte
	// Fence is the scheduling leader's election revision (0: no
	// coordinator); set it before the first Run.
	Fence int64
	// Damage, when set, says which blocking inputs an injected fault
	// deletes (or corrupts) just before their first reader runs: the
	// executor asks their holder to, before it sends the reader's group,
	// so that the fault fires once however many workers there are.
	Damage func(p plan.PartitionID, consumer int32) (corrupt, ok bool)
	// damaging orders a fault before the groups sent after it.
	damaging sync.Mutex

	clients pool

	mu      sync.Mutex
	changed *sync.Cond
	workers []*assigned
	where   map[plan.PartitionID]string
	// Of each lost worker: what it held (lostAt: by partition, until the
	// partition is committed again elsewhere), and whether its loss was
	// reported to the scheduler yet.
	lostAt   map[plan.PartitionID]string
	reported map[string]bool
}

type assigned struct {
	WorkerInfo
	busy   int
	opened bool
	lost   bool
}

var _ executor.Executor = (*Executor)(nil)

// NewExecutor returns an executor of run over workers.
func NewExecutor(run uint64, job []byte, workers []WorkerInfo) *Executor {
	e := &Executor{run: run, job: job, where: make(map[plan.PartitionID]string),
		lostAt: make(map[plan.PartitionID]string), reported: make(map[string]bool)}
	e.changed = sync.NewCond(&e.mu)
	for _, w := range workers {
		e.workers = append(e.workers, &assigned{WorkerInfo: w})
	}
	return e
}

// FencedError is a worker's refusal of an assignment: a newer leader
// schedules the run. Running again cannot help this process.
type FencedError struct {
	Worker string
	Err    error
}

func (e *FencedError) Error() string {
	return fmt.Sprintf("remote: worker %s: %v", e.Worker, status.Convert(e.Err).Message())
}

func (e *FencedError) Unwrap() error { return e.Err }

// Permanent implements the scheduler's test for failures not worth a retry.
func (e *FencedError) Permanent() bool { return true }

// ErrNoWorkers says every worker is lost.
var ErrNoWorkers = errors.New("remote: no worker left")

// Run implements executor.Executor.
func (e *Executor) Run(ctx context.Context, g *executor.Group, done func(*executor.Task, executor.Result, error)) error {
	if lost := e.lostInput(g); lost != nil {
		// An input went with a worker the membership says is gone: the
		// loss of all it held is this group's failure.
		return e.failAll(g, done, lost)
	}
	for {
		w, err := e.acquire(ctx, len(g.Tasks))
		if err != nil {
			return e.failAll(g, done, err)
		}
		located := e.locate(g)
		e.injectFaults(ctx, located)
		started, cause, err := e.runOn(ctx, w, located, done)
		e.release(w, len(g.Tasks))
		if err == nil || started {
			return cause
		}
		if status.Code(err) == codes.Aborted {
			return e.failAll(g, done, &FencedError{Worker: w.Addr, Err: err})
		}
		if ctx.Err() != nil {
			return e.failAll(g, done, context.Cause(ctx))
		}
		// The worker could not take the group: it is lost. If it held
		// nothing, the group just goes to another worker; else the loss
		// of its partitions is this group's failure, reported at once.
		if lost := e.lose(w.Addr, err); len(lost.Lost) > 0 {
			return e.failAll(g, done, lost)
		}
	}
}

// failAll ends every task of g with err, which it returns.
func (e *Executor) failAll(g *executor.Group, done func(*executor.Task, executor.Result, error), err error) error {
	var first error
	for i := range g.Tasks {
		t := &g.Tasks[i]
		terr := &executor.SubtaskError{Subtask: t.Subtask, Name: t.Name, Attempt: t.Attempt, Err: err}
		done(t, executor.Result{Canceled: errors.Is(err, context.Canceled)}, terr)
		if first == nil {
			first = terr
		}
	}
	return first
}

// acquire waits for a live worker with n free slots, the freest first.
func (e *Executor) acquire(ctx context.Context, n int) (*assigned, error) {
	stop := context.AfterFunc(ctx, func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.changed.Broadcast()
	})
	defer stop()
	e.mu.Lock()
	defer e.mu.Unlock()
	for {
		if err := ctx.Err(); err != nil {
			return nil, context.Cause(ctx)
		}
		var best *assigned
		alive, fits := false, false
		for _, w := range e.workers {
			alive = alive || !w.lost
			fits = fits || !w.lost && w.Slots >= n
			if !w.lost && w.Slots-w.busy >= n && (best == nil || w.Slots-w.busy > best.Slots-best.busy) {
				best = w
			}
		}
		if !alive {
			return nil, ErrNoWorkers
		}
		if !fits {
			return nil, fmt.Errorf("remote: a group of %d subtasks fits no live worker (a group runs on one worker)", n)
		}
		if best != nil {
			best.busy += n
			return best, nil
		}
		e.changed.Wait()
	}
}

func (e *Executor) release(w *assigned, n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	w.busy -= n
	e.changed.Broadcast()
}

// locate returns g with every blocking input's location filled in.
func (e *Executor) locate(g *executor.Group) *executor.Group {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := &executor.Group{Region: g.Region, Tasks: slices.Clone(g.Tasks)}
	for i := range out.Tasks {
		t := &out.Tasks[i]
		t.Inputs = slices.Clone(t.Inputs)
		for j := range t.Inputs {
			in := &t.Inputs[j]
			if in.Mode != plan.Blocking {
				continue
			}
			in.Locations = make([]string, len(in.Partitions))
			for k, p := range in.Partitions {
				in.Locations[k] = e.where[p]
			}
		}
	}
	return out
}

// runOn runs g on w. started says whether any task may have run; err is
// a transport failure (the worker, or reaching it), cause the group's.
func (e *Executor) runOn(ctx context.Context, w *assigned, g *executor.Group, done func(*executor.Task, executor.Result, error)) (started bool, cause, err error) {
	c, err := e.clients.get(w.Addr)
	if err != nil {
		return false, nil, err
	}
	if err := e.open(ctx, c, w); err != nil {
		return false, nil, err
	}
	body, err := json.Marshal(runRequest{Run: e.run, Group: g, Fence: e.Fence})
	if err != nil {
		return false, nil, err
	}
	stream, err := c.DoAction(ctx, &flight.Action{Type: actionRun, Body: body})
	if err != nil {
		return false, nil, err
	}
	ended := make([]bool, len(g.Tasks))
	errs := make([]error, len(g.Tasks))
	for {
		msg, err := stream.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = errors.New("stream ended without the group's end")
			}
			return e.abandon(ctx, g, ended, done, w, err)
		}
		var m taskEnd
		if err := json.Unmarshal(msg.Body, &m); err != nil {
			return e.abandon(ctx, g, ended, done, w, err)
		}
		if m.Done {
			return true, groupCause(errs, m), nil
		}
		if m.Task < 0 || m.Task >= len(g.Tasks) || ended[m.Task] {
			return e.abandon(ctx, g, ended, done, w, fmt.Errorf("bad task index %d", m.Task))
		}
		ended[m.Task] = true
		t := &g.Tasks[m.Task]
		terr := e.taskError(fromWire(m.Err, t), m.Err)
		errs[m.Task] = terr
		if terr == nil {
			e.committed(w.Addr, m.Result.Written)
		}
		done(t, m.Result, terr)
	}
}

// abandon handles w failing during g: unless no task ended yet and w was
// unreachable (the group then goes to another worker), w is lost, and
// the tasks that had not ended fail with that loss, the group's cause.
func (e *Executor) abandon(ctx context.Context, g *executor.Group, ended []bool, done func(*executor.Task, executor.Result, error), w *assigned, err error) (bool, error, error) {
	var lost error
	switch {
	case ctx.Err() != nil:
		lost = context.Cause(ctx) // cancelled here: the worker is fine
	case !slices.Contains(ended, true) && (status.Code(err) == codes.Unavailable || status.Code(err) == codes.Aborted):
		// Unreachable before anything ran, or refused (fenced): nothing
		// of the group ran there.
		return false, nil, err
	default:
		lost = e.lose(w.Addr, err)
	}
	var cause error
	for i, ok := range ended {
		if !ok {
			t := &g.Tasks[i]
			terr := &executor.SubtaskError{Subtask: t.Subtask, Name: t.Name, Attempt: t.Attempt, Err: lost}
			done(t, executor.Result{Worker: w.Addr, Canceled: ctx.Err() != nil}, terr)
			if cause == nil {
				cause = terr
			}
		}
	}
	return true, cause, err
}

// taskError upgrades a task's lost input whose holder was unreachable to
// the loss of that holder, with everything it held.
func (e *Executor) taskError(err error, w *wireError) error {
	if err == nil || w == nil || w.Unreachable == "" {
		return err
	}
	var se *executor.SubtaskError
	errors.As(err, &se)
	lost := e.lose(w.Unreachable, err)
	return &executor.SubtaskError{Subtask: se.Subtask, Name: se.Name, Attempt: se.Attempt, Err: lost}
}

// groupCause is the group's root cause: the error of the task the worker
// names (as this side decoded it), else the first task error.
func groupCause(errs []error, m taskEnd) error {
	if m.Cause >= 0 && m.Cause < len(errs) && errs[m.Cause] != nil {
		return errs[m.Cause]
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	if m.Err != nil {
		return &remoteError{msg: m.Err.Msg, permanent: m.Err.Permanent}
	}
	return nil
}

func (e *Executor) open(ctx context.Context, c flight.Client, w *assigned) error {
	e.mu.Lock()
	opened := w.opened
	e.mu.Unlock()
	if opened {
		return nil
	}
	body, err := json.Marshal(openRequest{Run: e.run, Job: e.job, Fence: e.Fence})
	if err != nil {
		return err
	}
	stream, err := c.DoAction(ctx, &flight.Action{Type: actionOpen, Body: body})
	if err != nil {
		return err
	}
	if err := flight.ReadUntilEOF(stream); err != nil {
		return err
	}
	e.mu.Lock()
	w.opened = true
	e.mu.Unlock()
	return nil
}

// Close closes the executor's clients after asking every live worker to
// drop the run (when drop is set: the run is over).
func (e *Executor) Close(ctx context.Context, drop bool) error {
	var errs []error
	if drop {
		body, _ := json.Marshal(closeRequest{Run: e.run})
		for _, w := range e.workers {
			if w.lost || !w.opened {
				continue
			}
			c, err := e.clients.get(w.Addr)
			if err == nil {
				var stream flight.FlightService_DoActionClient
				if stream, err = c.DoAction(ctx, &flight.Action{Type: actionClose, Body: body}); err == nil {
					err = flight.ReadUntilEOF(stream)
				}
			}
			errs = append(errs, err)
		}
	}
	errs = append(errs, e.clients.Close())
	return errors.Join(errs...)
}

// Recover asks every live worker which of candidates it holds, committed
// and intact (a resumed run: the workers kept what the run wrote before),
// records where each is, and returns them all. A worker it cannot reach is
// lost; what it held is simply not found.
func (e *Executor) Recover(ctx context.Context, candidates []plan.PartitionID) ([]plan.PartitionID, error) {
	body, err := json.Marshal(heldRequest{Run: e.run, Partitions: candidates})
	if err != nil {
		return nil, err
	}
	var all []plan.PartitionID
	for _, w := range e.workers {
		held, err := e.held(ctx, w, body)
		if err != nil {
			if ctx.Err() != nil {
				return nil, context.Cause(ctx)
			}
			e.Lose(w.Addr) // nothing it held is known yet: nothing to report
			continue
		}
		e.mu.Lock()
		for _, p := range held {
			if _, ok := e.where[p]; !ok {
				e.where[p] = w.Addr
				all = append(all, p)
			}
		}
		e.mu.Unlock()
	}
	return all, nil
}

// held asks worker w which partitions of body's list it holds.
func (e *Executor) held(ctx context.Context, w *assigned, body []byte) ([]plan.PartitionID, error) {
	c, err := e.clients.get(w.Addr)
	if err != nil {
		return nil, err
	}
	if err := e.open(ctx, c, w); err != nil {
		return nil, err
	}
	stream, err := c.DoAction(ctx, &flight.Action{Type: actionHeld, Body: body})
	if err != nil {
		return nil, err
	}
	msg, err := stream.Recv()
	if err != nil {
		return nil, err
	}
	var res heldResult
	if err := json.Unmarshal(msg.Body, &res); err != nil {
		return nil, err
	}
	return res.Held, nil
}

// Info asks the worker at addr for its slots.
func Info(ctx context.Context, addr string) (WorkerInfo, error) {
	var p pool
	defer p.Close()
	c, err := p.get(addr)
	if err != nil {
		return WorkerInfo{}, fmt.Errorf("remote: worker %s: %w", addr, err)
	}
	stream, err := c.DoAction(ctx, &flight.Action{Type: actionInfo})
	if err != nil {
		return WorkerInfo{}, fmt.Errorf("remote: worker %s: %w", addr, err)
	}
	msg, err := stream.Recv()
	if err != nil {
		return WorkerInfo{}, fmt.Errorf("remote: worker %s: %w", addr, err)
	}
	var info infoResult
	if err := json.Unmarshal(msg.Body, &info); err != nil {
		return WorkerInfo{}, fmt.Errorf("remote: worker %s: %w", addr, err)
	}
	if info.Slots < 1 {
		return WorkerInfo{}, fmt.Errorf("remote: worker %s has no slots", addr)
	}
	return WorkerInfo{Addr: addr, Slots: info.Slots}, nil
}
