package scheduler

import (
	"context"
	"fmt"
	"time"

	"github.com/batchrun/batchrun/executor"
	"github.com/batchrun/batchrun/plan"
	"github.com/batchrun/batchrun/recovery"
)

// Result is what a run did: every subtask attempt, in completion order,
// and every failover.
type Result struct {
	Attempts  []Attempt
	Failovers []Failover
}

// regionState is a region's place in the schedule.
type regionState uint8

const (
	regionPending regionState = iota
	regionRunning
	regionFinished
)

// Scheduler runs one job's regions. It is used for a single Run. All its
// state belongs to Run's loop goroutine.
type Scheduler struct {
	g       *plan.StageGraph
	regions *plan.Regions
	exec    executor.Executor
	opts    Options
	clock   Clock
	view    *recoveryView
	restart recovery.RestartStrategy

	state     []regionState
	cancels   []context.CancelCauseFunc // of running regions
	doomed    []bool                    // running regions cancelled by a failover
	free      int                       // slots not taken by running regions
	committed map[plan.PartitionID]bool
	// lossCounted holds the workers whose loss a counted failover handled:
	// a later report of the same loss is its aftermath.
	lossCounted map[string]bool
	progress    []recovery.Progress // by recovery subtask id
	attempts    map[plan.SubtaskID]int
	groupErrs   [][]error // task errors of each running region, in arrival order
	result      Result
	reused      []plan.RegionID
}

// Reused lists the regions a resumed run did not run again because their
// committed partitions were found intact.
func (s *Scheduler) Reused() []plan.RegionID { return s.reused }

// New returns a scheduler that runs g's regions on exec.
func New(g *plan.StageGraph, regions *plan.Regions, exec executor.Executor, opts Options) (*Scheduler, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	view, err := newRecoveryView(g, regions)
	if err != nil {
		return nil, err
	}
	if err := opts.Failover.Check(view.topo); err != nil {
		return nil, fmt.Errorf("scheduler: %w", err)
	}
	restart, err := opts.Restart.New(opts.Rand)
	if err != nil {
		return nil, fmt.Errorf("scheduler: %w", err)
	}
	if err := CheckSlots(g, regions, opts.Slots); err != nil {
		return nil, err
	}
	n := len(regions.List)
	s := &Scheduler{
		g: g, regions: regions, exec: exec, opts: opts, clock: opts.Clock,
		view: view, restart: restart,
		state:     make([]regionState, n),
		cancels:   make([]context.CancelCauseFunc, n),
		doomed:    make([]bool, n),
		groupErrs: make([][]error, n),
		free:      opts.Slots,
		committed: make(map[plan.PartitionID]bool),
		progress:  make([]recovery.Progress, view.topo.NumSubtasks()),
		attempts:  make(map[plan.SubtaskID]int),
	}
	s.reused = s.resume(opts.Committed, opts.Finished)
	return s, nil
}

// SlotError says a region needs more slots than the run has.
type SlotError struct {
	Region   plan.RegionID
	Subtasks []string
	Slots    int
}

func (e *SlotError) Error() string {
	return fmt.Sprintf("scheduler: region %s runs %d subtasks together (%s) but the run has %d slot(s): raise --slots or make an exchange blocking",
		e.Region, len(e.Subtasks), summarize(e.Subtasks, 6), e.Slots)
}

// CheckSlots returns a *SlotError when a region of g needs more than
// slots subtasks at once; callers check it before touching any state.
func CheckSlots(g *plan.StageGraph, regions *plan.Regions, slots int) error {
	for _, r := range regions.List {
		if len(r.Subtasks) > slots {
			names := make([]string, len(r.Subtasks))
			for i, st := range r.Subtasks {
				names[i] = g.SubtaskName(st)
			}
			return &SlotError{Region: r.ID, Subtasks: names, Slots: slots}
		}
	}
	return nil
}

func summarize(names []string, n int) string {
	if len(names) <= n {
		return fmt.Sprint(names)
	}
	return fmt.Sprintf("%v and %d more", names[:n], len(names)-n)
}

// event is what Run's loop hears from the executor: a task ended (task
// set), or a whole group did (task nil, err its root cause).
type event struct {
	region plan.RegionID
	task   *executor.Task
	res    executor.Result
	err    error
}

// Run runs every region to completion, failing over as Options say. When
// the restart strategy gives up it cancels what runs and returns the
// failure's root cause.
func (s *Scheduler) Run(ctx context.Context) (*Result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	events := make(chan event)
	var hold <-chan time.Time // set while a restart delay runs
	holding, running := false, 0
	var fatal error
	for {
		if fatal == nil && ctx.Err() != nil {
			fatal = context.Cause(ctx) // interrupted: start nothing more
		}
		if fatal == nil && !holding {
			for _, g := range s.startReady() {
				running++
				s.launch(ctx, g, events)
			}
		}
		var interrupt <-chan struct{}
		if running == 0 {
			if fatal != nil || s.allFinished() {
				break
			}
			if !holding {
				return s.snapshot(), fmt.Errorf("scheduler: no region can start: regions wait on partitions nobody produces")
			}
			// Nothing runs until the restart delay ends; an interrupt
			// ends the wait (and the run) at once.
			interrupt = ctx.Done()
		}
		select {
		case ev := <-events:
			if ev.task != nil {
				s.taskEnded(ev.task, ev.res, ev.err)
				continue
			}
			running--
			delay, err := s.regionEnded(ev.region, ev.err, context.Cause(ctx))
			if err != nil && fatal == nil {
				fatal = err
				cancel()
			}
			if delay > 0 {
				hold, holding = s.clock.After(delay), true
			}
		case <-hold:
			hold, holding = nil, false
		case <-interrupt:
			return s.snapshot(), fmt.Errorf("scheduler: waiting to restart: %w", context.Cause(ctx))
		}
	}
	return s.snapshot(), fatal
}

// launch runs group g on the executor; its events come back on events.
func (s *Scheduler) launch(ctx context.Context, g *executor.Group, events chan<- event) {
	rctx, cancel := context.WithCancelCause(ctx)
	s.cancels[g.Region] = cancel
	go func() {
		err := s.exec.Run(rctx, g, func(t *executor.Task, res executor.Result, err error) {
			events <- event{region: g.Region, task: t, res: res, err: err}
		})
		events <- event{region: g.Region, err: err}
	}()
}

func (s *Scheduler) snapshot() *Result {
	return &Result{
		Attempts:  append([]Attempt(nil), s.result.Attempts...),
		Failovers: append([]Failover(nil), s.result.Failovers...),
	}
}
