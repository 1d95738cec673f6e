package remote

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/apache/arrow/go/v17/arrow/flight"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/batchrun/batchrun/executor"
	"github.com/batchrun/batchrun/plan"
	"github.com/batchrun/batchrun/shuffle"
	"github.com/batchrun/batchrun/storage"
)

// Loader compiles a job a coordinator sent (opaque bytes) into what the
// worker runs: the stage graph and the program, whose operators may spill
// to store. It must compile exactly the graph the coordinator schedules.
type Loader func(job []byte, run uint64, store *storage.Store) (*plan.StageGraph, executor.Program, error)

// Worker runs the groups a coordinator assigns, in goroutines of its own
// process (executor.Local), keeping the blocking partitions they write in
// one store per run under Dir and serving them to other workers (DoGet).
type Worker struct {
	*Server
	// Addr is the address other processes reach this worker at.
	Addr string
	// Dir holds one store per run: Dir/<run>/store.
	Dir    string
	Load   Loader
	Logger *slog.Logger
	// Slots is how many tasks the worker runs at once (coordinators
	// place groups within it).
	Slots int
	// Classify, when set, names the class of a task's error (a
	// malformed row, say) for the coordinator's exit code.
	Classify func(error) string

	mu     sync.Mutex
	runs   map[uint64]*workerRun
	active sync.WaitGroup // groups running
}

type workerRun struct {
	store *storage.Store
	local *executor.Local
	parts *Partitions
	// job and fence are what the run was opened with last; groups
	// cancels the groups running, by a number of their own.
	job    []byte
	fence  int64
	groups map[int]context.CancelFunc
	next   int
}

// NewWorker returns a worker reached at addr that keeps its runs under dir.
func NewWorker(addr, dir string, load Loader, opts shuffle.Options, logger *slog.Logger) *Worker {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Worker{Server: NewServer(opts), Addr: addr, Dir: dir, Load: load, Logger: logger,
		runs: make(map[uint64]*workerRun)}
}

// DoAction implements the worker's actions (wire.go).
func (w *Worker) DoAction(a *flight.Action, stream flight.FlightService_DoActionServer) error {
	switch a.Type {
	case actionOpen:
		var req openRequest
		if err := json.Unmarshal(a.Body, &req); err != nil {
			return status.Errorf(codes.InvalidArgument, "remote: open: %v", err)
		}
		return w.open(req)
	case actionRun:
		var req runRequest
		if err := json.Unmarshal(a.Body, &req); err != nil || req.Group == nil {
			return status.Errorf(codes.InvalidArgument, "remote: run: bad request: %v", err)
		}
		return w.run(stream.Context(), req, stream)
	case actionInfo:
		data, err := json.Marshal(infoResult{Slots: w.Slots})
		if err != nil {
			return status.Error(codes.Internal, err.Error())
		}
		return stream.Send(&flight.Result{Body: data})
	case actionHeld:
		var req heldRequest
		if err := json.Unmarshal(a.Body, &req); err != nil {
			return status.Errorf(codes.InvalidArgument, "remote: held: %v", err)
		}
		return w.held(req, stream)
	case actionDamage:
		var req damageRequest
		if err := json.Unmarshal(a.Body, &req); err != nil {
			return status.Errorf(codes.InvalidArgument, "remote: damage: %v", err)
		}
		return w.damage(req)
	case actionClose:
		var req closeRequest
		if err := json.Unmarshal(a.Body, &req); err != nil {
			return status.Errorf(codes.InvalidArgument, "remote: close: %v", err)
		}
		return w.closeRun(req.Run)
	}
	return status.Errorf(codes.Unimplemented, "remote: unknown action %q", a.Type)
}

func (w *Worker) storeDir(run uint64) string {
	return filepath.Join(w.Dir, strconv.FormatUint(run, 16), "store")
}

// open prepares run: its store (kept if the worker already has one) and
// its compiled job. Opening an open run again with the same job and fence
// is a no-op; with a larger fence (a new leader) or another job (a resumed
// run: its attempts are numbered anew) the groups running stop and the
// job is compiled again. A smaller fence than the run's is refused: that
// leader was deposed.
func (w *Worker) open(req openRequest) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if r := w.runs[req.Run]; r != nil {
		switch {
		case req.Fence < r.fence:
			return fenced(req.Run, req.Fence, r.fence)
		case req.Fence == r.fence && bytes.Equal(req.Job, r.job):
			return nil
		}
		for _, cancel := range r.groups {
			cancel()
		}
		local, err := w.load(req, r.store, r.parts)
		if err != nil {
			return err
		}
		r.local, r.job, r.fence = local, req.Job, req.Fence
		return nil
	}
	store, err := storage.Open(w.storeDir(req.Run), storage.Options{})
	if err != nil {
		return status.Errorf(codes.Internal, "remote: open run %x: %v", req.Run, err)
	}
	parts := &Partitions{Local: &executor.StorePartitions{Store: store, Run: req.Run, Opts: w.Server.opts},
		Self: w.Addr, Run: req.Run}
	local, err := w.load(req, store, parts)
	if err != nil {
		store.Close()
		return err
	}
	w.runs[req.Run] = &workerRun{store: store, parts: parts, local: local, job: req.Job, fence: req.Fence,
		groups: make(map[int]context.CancelFunc)}
	w.Server.Add(req.Run, store)
	return nil
}

// load compiles the job req names into the executor of its groups.
func (w *Worker) load(req openRequest, store *storage.Store, parts *Partitions) (*executor.Local, error) {
	g, prog, err := w.Load(req.Job, req.Run, store)
	if err != nil {
		return nil, status.Errorf(codes.FailedPrecondition, "remote: run %x: %v", req.Run, err)
	}
	return &executor.Local{Graph: g, Program: prog, Partitions: parts, Shuffle: w.Server.opts, Logger: w.Logger, Name: w.Addr}, nil
}

// fenced refuses an assignment of a deposed leader.
func fenced(run uint64, got, have int64) error {
	return status.Errorf(codes.Aborted, "remote: run %x: fenced: a newer leader (election revision %d) schedules it, not this one (%d)", run, have, got)
}

// run runs one group and streams each task's end, then the group's.
func (w *Worker) run(ctx context.Context, req runRequest, stream flight.FlightService_DoActionServer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w.mu.Lock()
	r := w.runs[req.Run]
	var local *executor.Local
	var id int
	if r != nil && req.Fence == r.fence {
		w.active.Add(1)
		local, id = r.local, r.next
		r.next++
		r.groups[id] = cancel
	}
	w.mu.Unlock()
	switch {
	case r == nil:
		return status.Errorf(codes.FailedPrecondition, "remote: run %x is not open here", req.Run)
	case local == nil:
		return fenced(req.Run, req.Fence, r.fence)
	}
	defer func() {
		w.mu.Lock()
		delete(r.groups, id)
		w.mu.Unlock()
		w.active.Done()
	}()
	w.Metrics.groupStarted()
	defer w.Metrics.groupEnded()
	var mu sync.Mutex
	var sendErr error
	send := func(m taskEnd) {
		data, err := json.Marshal(m)
		mu.Lock()
		defer mu.Unlock()
		if err == nil && sendErr == nil {
			err = stream.Send(&flight.Result{Body: data})
		}
		if err != nil && sendErr == nil {
			sendErr = err
		}
	}
	g := req.Group
	errs := make([]error, len(g.Tasks))
	cause := local.Run(ctx, g, func(t *executor.Task, res executor.Result, err error) {
		i := indexOf(g, t)
		mu.Lock()
		errs[i] = err
		mu.Unlock()
		w.Metrics.taskEnded(res.Canceled, err)
		send(taskEnd{Task: i, Result: res, Err: toWire(err, w.Classify)})
	})
	end := taskEnd{Done: true, Err: toWire(cause, w.Classify), Cause: -1}
	for i, err := range errs {
		if err != nil && err == cause {
			end.Cause = i
		}
	}
	send(end)
	return sendErr
}

func indexOf(g *executor.Group, t *executor.Task) int {
	for i := range g.Tasks {
		if &g.Tasks[i] == t {
			return i
		}
	}
	return -1
}

// held answers which of req's partitions the worker holds committed and
// intact in run's store (each is verified: every batch against its
// checksum), after a restart of the worker or of the coordinator.
func (w *Worker) held(req heldRequest, stream flight.FlightService_DoActionServer) error {
	w.mu.Lock()
	r := w.runs[req.Run]
	w.mu.Unlock()
	if r == nil {
		return status.Errorf(codes.FailedPrecondition, "remote: run %x is not open here", req.Run)
	}
	local := &executor.StorePartitions{Store: r.store, Run: req.Run}
	held, err := local.Intact(req.Partitions, func(p plan.PartitionID, err error) {
		w.Logger.Warn("a committed partition is corrupt; it will be regenerated", "partition", p, "err", err)
	})
	if err != nil {
		return status.Error(codes.Internal, err.Error())
	}
	data, err := json.Marshal(heldResult{Held: held})
	if err != nil {
		return status.Error(codes.Internal, err.Error())
	}
	return stream.Send(&flight.Result{Body: data})
}

// damage deletes or corrupts a partition the worker holds, as an
// injected fault asks.
func (w *Worker) damage(req damageRequest) error {
	w.mu.Lock()
	r := w.runs[req.Run]
	w.mu.Unlock()
	if r == nil {
		return status.Errorf(codes.FailedPrecondition, "remote: run %x is not open here", req.Run)
	}
	ref := storage.PartitionRef{Run: req.Run, Edge: uint32(req.Partition.Edge), Producer: uint32(req.Partition.Producer)}
	var err error
	if req.Corrupt {
		err = r.store.CorruptPartition(ref, req.Sub)
	} else {
		err = r.store.DeletePartition(ref)
	}
	if err != nil {
		return status.Errorf(codes.Internal, "remote: damage %v: %v", req.Partition, err)
	}
	return nil
}

// closeRun drops run: it stops serving its partitions and deletes its
// store.
func (w *Worker) closeRun(run uint64) error {
	w.mu.Lock()
	r := w.runs[run]
	delete(w.runs, run)
	w.mu.Unlock()
	w.Server.Remove(run)
	var errs []error
	if r != nil {
		errs = append(errs, r.parts.Close(), r.store.Close())
	}
	errs = append(errs, os.RemoveAll(filepath.Dir(w.storeDir(run))))
	if err := errors.Join(errs...); err != nil {
		return status.Errorf(codes.Internal, "remote: close run %x: %v", run, err)
	}
	return nil
}

// Close waits for the groups running (stop serving first, which cancels
// them) and closes every open run's store, keeping them on disk.
func (w *Worker) Close() error {
	w.active.Wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	var errs []error
	for run, r := range w.runs {
		w.Server.Remove(run)
		errs = append(errs, r.parts.Close(), r.store.Close())
	}
	w.runs = map[uint64]*workerRun{}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("remote: close worker: %w", err)
	}
	return nil
}
