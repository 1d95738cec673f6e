package scheduler

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/batchrun/batchrun/plan"
	"github.com/batchrun/batchrun/recovery"
	"github.com/batchrun/batchrun/shuffle"
	"github.com/batchrun/batchrun/storage"
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

// Scheduler runs one job's regions. It is used for a single Run.
type Scheduler struct {
	g       *plan.StageGraph
	regions *plan.Regions
	prog    Program
	store   *storage.Store
	opts    Options
	// shuffleOpts configure every writer and reader of the run.
	shuffleOpts shuffle.Options
	view        *recoveryView
	restart     recovery.RestartStrategy
	faults      *faultSet

	// Owned by the Run loop's goroutine.
	state   []regionState
	cancels []context.CancelCauseFunc // of running regions

	mu        sync.Mutex
	committed map[plan.PartitionID]bool
	waiters   map[plan.PartitionID]chan struct{}
	doomed    []bool              // running regions cancelled by a failover
	progress  []recovery.Progress // by recovery subtask id
	attempts  map[plan.SubtaskID]int
	result    Result
	reused    []plan.RegionID
}

// Reused lists the regions a resumed run did not run again because their
// committed partitions were found intact.
func (s *Scheduler) Reused() []plan.RegionID { return s.reused }

// New returns a scheduler for g. store holds blocking partitions; it may be
// nil only when g has no blocking edges.
func New(g *plan.StageGraph, regions *plan.Regions, prog Program, store *storage.Store, opts Options) (*Scheduler, error) {
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
	s := &Scheduler{
		g: g, regions: regions, prog: prog, store: store, opts: opts,
		shuffleOpts: shuffle.Options{Codec: opts.Codec},
		view:        view, restart: restart, faults: newFaultSet(opts.Faults),
		state:     make([]regionState, len(regions.List)),
		cancels:   make([]context.CancelCauseFunc, len(regions.List)),
		doomed:    make([]bool, len(regions.List)),
		committed: make(map[plan.PartitionID]bool),
		progress:  make([]recovery.Progress, view.topo.NumSubtasks()),
		attempts:  make(map[plan.SubtaskID]int),
	}
	if err := CheckSlots(g, regions, opts.Slots); err != nil {
		return nil, err
	}
	s.reused = s.resume(opts.Committed)
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

type regionDone struct {
	region plan.RegionID
	err    error
}

// Run runs every region to completion, failing over as Options say. When
// the restart strategy gives up it cancels what runs and returns the
// failure's root cause.
func (s *Scheduler) Run(ctx context.Context) (*Result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan regionDone)
	wake := make(chan struct{}, 1)
	free, running := s.opts.Slots, 0
	var holdUntil time.Time
	var fatal error
	for {
		if fatal == nil && !time.Now().Before(holdUntil) {
			running, free = s.startReady(ctx, done, running, free)
		}
		if running == 0 {
			if fatal != nil || s.allFinished() {
				break
			}
			if wait := time.Until(holdUntil); wait > 0 {
				// Nothing runs until the restart delay ends; an interrupt
				// ends the wait (and the run) at once.
				t := time.NewTimer(wait)
				select {
				case <-t.C:
					continue
				case <-ctx.Done():
					t.Stop()
					return s.snapshot(), fmt.Errorf("scheduler: waiting to restart: %w", context.Cause(ctx))
				}
			}
			return s.snapshot(), fmt.Errorf("scheduler: no region can start: regions wait on partitions nobody produces")
		}
		var d regionDone
		select {
		case d = <-done:
		case <-wake:
			continue
		}
		running--
		free += len(s.regions.List[d.region].Subtasks)
		delay, err := s.regionEnded(ctx, d)
		if err != nil && fatal == nil {
			fatal = err
			cancel()
		}
		if delay > 0 {
			holdUntil = time.Now().Add(delay)
			time.AfterFunc(delay, func() {
				select {
				case wake <- struct{}{}:
				default:
				}
			})
		}
	}
	return s.snapshot(), fatal
}

// startReady starts, in region order, every pending region whose inputs
// are committed and that fits in the free slots.
func (s *Scheduler) startReady(ctx context.Context, done chan<- regionDone, running, free int) (int, int) {
	for _, r := range s.regions.List {
		if s.state[r.ID] != regionPending || len(r.Subtasks) > free || !s.ready(r) {
			continue
		}
		s.state[r.ID] = regionRunning
		rctx, cancel := context.WithCancelCause(ctx)
		s.cancels[r.ID] = cancel
		free -= len(r.Subtasks)
		running++
		go func(r *plan.Region) { done <- regionDone{r.ID, s.runRegion(rctx, r)} }(r)
	}
	return running, free
}

// regionEnded updates the schedule for a region that stopped. It returns a
// delay before regions may start again, or a fatal error.
func (s *Scheduler) regionEnded(ctx context.Context, d regionDone) (time.Duration, error) {
	s.cancels[d.region](nil)
	s.cancels[d.region] = nil
	switch {
	case s.isDoomed(d.region):
		// Cancelled by a failover that restarts it: it runs again once its
		// inputs are committed, whatever it ended with.
		s.setRegion(d.region, regionPending)
		return 0, nil
	case d.err == nil:
		s.setRegion(d.region, regionFinished)
		return 0, nil
	case ctx.Err() != nil:
		return 0, context.Cause(ctx)
	}
	return s.failover(d.region, d.err)
}

// setRegion moves region r to st. A pending region has no committed
// outputs: whatever it committed before is void until it runs again.
func (s *Scheduler) setRegion(r plan.RegionID, st regionState) {
	s.state[r] = st
	if st != regionPending {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.doomed[r] = false
	for _, sub := range s.regions.List[r].Subtasks {
		s.progress[s.view.subtask(sub)] = recovery.Pending
	}
	for _, p := range s.regions.Outputs(s.g, r) {
		delete(s.committed, p)
	}
}

// markDoomed marks running region r as cancelled by a failover: it
// commits nothing more and becomes pending when it stops.
func (s *Scheduler) markDoomed(r plan.RegionID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.doomed[r] = true
}

func (s *Scheduler) isDoomed(r plan.RegionID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.doomed[r]
}

func (s *Scheduler) allFinished() bool {
	for _, st := range s.state {
		if st != regionFinished {
			return false
		}
	}
	return true
}

// ready reports whether every blocking partition r reads is committed.
func (s *Scheduler) ready(r *plan.Region) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range r.Inputs {
		if !s.committed[p] {
			return false
		}
	}
	return true
}

func (s *Scheduler) snapshot() *Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	return &Result{
		Attempts:  append([]Attempt(nil), s.result.Attempts...),
		Failovers: append([]Failover(nil), s.result.Failovers...),
	}
}

// runRegion runs all subtasks of r together and returns the first
// failure's root cause, if any.
func (s *Scheduler) runRegion(ctx context.Context, r *plan.Region) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	w := s.wireRegion(r)
	var wg sync.WaitGroup
	errs := make([]error, len(r.Subtasks))
	for i, st := range r.Subtasks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.runSubtask(ctx, r.ID, st, w)
			if errs[i] != nil {
				cancel(errs[i])
			}
		}()
	}
	wg.Wait()
	return rootCause(errs, context.Cause(ctx))
}

func (s *Scheduler) nextAttempt(st plan.SubtaskID) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.attempts[st]
	s.attempts[st] = a + 1
	s.progress[s.view.subtask(st)] = recovery.Running
	return a
}

func (s *Scheduler) record(a Attempt, commits []plan.PartitionID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.result.Attempts = append(s.result.Attempts, a)
	if a.State == Finished {
		s.progress[s.view.subtask(a.Subtask)] = recovery.Finished
	}
	if s.doomed[a.Region] {
		return // its outputs are being regenerated
	}
	for _, p := range commits {
		s.committed[p] = true
		if ch, ok := s.waiters[p]; ok {
			close(ch)
			delete(s.waiters, p)
		}
	}
}

func summarize(names []string, n int) string {
	if len(names) <= n {
		return fmt.Sprint(names)
	}
	return fmt.Sprintf("%v and %d more", names[:n], len(names)-n)
}

// waitCommitted blocks until partition p is committed. Only a region merged
// by the cycle rule reads a blocking partition produced inside itself;
// every other input is committed before its region starts.
func (s *Scheduler) waitCommitted(ctx context.Context, p plan.PartitionID) error {
	s.mu.Lock()
	if s.committed[p] {
		s.mu.Unlock()
		return nil
	}
	ch := s.commitWaiter(p)
	s.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// commitWaiter returns the channel closed when p commits; s.mu is held.
func (s *Scheduler) commitWaiter(p plan.PartitionID) chan struct{} {
	if s.waiters == nil {
		s.waiters = make(map[plan.PartitionID]chan struct{})
	}
	ch, ok := s.waiters[p]
	if !ok {
		ch = make(chan struct{})
		s.waiters[p] = ch
	}
	return ch
}

// rootCause picks the error that made a region fail: the first one that is
// not a consequence of the cancellation it triggered.
func rootCause(errs []error, cause error) error {
	if cause != nil && !errors.Is(cause, context.Canceled) {
		return cause
	}
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
