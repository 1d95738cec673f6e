package scheduler

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/batchrun/batchrun/plan"
	"github.com/batchrun/batchrun/shuffle"
	"github.com/batchrun/batchrun/storage"
)

// Result is what a run did: every subtask attempt, in completion order.
type Result struct {
	Attempts []Attempt
}

// Scheduler runs one job's regions. It is used for a single Run.
type Scheduler struct {
	g       *plan.StageGraph
	regions *plan.Regions
	prog    Program
	store   *storage.Store
	opts    Options
	// shuffleOpts configure every writer and reader of the run.
	shuffleOpts shuffle.Options

	mu        sync.Mutex
	committed map[plan.PartitionID]bool
	waiters   map[plan.PartitionID]chan struct{}
	attempts  map[plan.SubtaskID]int // next attempt number
	result    Result
}

// New returns a scheduler for g. store holds blocking partitions; it may be
// nil only when g has no blocking edges.
func New(g *plan.StageGraph, regions *plan.Regions, prog Program, store *storage.Store, opts Options) (*Scheduler, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	s := &Scheduler{
		g: g, regions: regions, prog: prog, store: store, opts: opts,
		shuffleOpts: shuffle.Options{Codec: opts.Codec},
		committed: make(map[plan.PartitionID]bool),
		attempts:  make(map[plan.SubtaskID]int),
	}
	if err := s.checkSlots(); err != nil {
		return nil, err
	}
	return s, nil
}

// SlotError says a region needs more slots than the run has.
type SlotError struct {
	Region   plan.RegionID
	Subtasks []string
	Slots    int
}

func (e *SlotError) Error() string {
	return fmt.Sprintf("scheduler: region %s runs %d subtasks together (%s) but only %d slots are available: raise --slots or make an exchange blocking",
		e.Region, len(e.Subtasks), summarize(e.Subtasks, 6), e.Slots)
}

func (s *Scheduler) checkSlots() error {
	for _, r := range s.regions.List {
		if len(r.Subtasks) > s.opts.Slots {
			names := make([]string, len(r.Subtasks))
			for i, st := range r.Subtasks {
				names[i] = s.g.SubtaskName(st)
			}
			return &SlotError{Region: r.ID, Subtasks: names, Slots: s.opts.Slots}
		}
	}
	return nil
}

type regionDone struct {
	region plan.RegionID
	err    error
}

// Run runs every region to completion. On the first failure it cancels the
// running regions and returns the failure's root cause.
func (s *Scheduler) Run(ctx context.Context) (*Result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pending := make(map[plan.RegionID]bool, len(s.regions.List))
	for _, r := range s.regions.List {
		pending[r.ID] = true
	}
	done := make(chan regionDone)
	free, running := s.opts.Slots, 0
	var firstErr error
	for len(pending) > 0 || running > 0 {
		if firstErr == nil {
			for _, r := range s.regions.List {
				if !pending[r.ID] || len(r.Subtasks) > free || !s.ready(r) {
					continue
				}
				delete(pending, r.ID)
				free -= len(r.Subtasks)
				running++
				go func(r *plan.Region) { done <- regionDone{r.ID, s.runRegion(ctx, r)} }(r)
			}
		}
		if running == 0 {
			if firstErr != nil {
				break
			}
			return nil, fmt.Errorf("scheduler: no region can start: %d regions wait on partitions nobody produces", len(pending))
		}
		d := <-done
		running--
		free += len(s.regions.List[d.region].Subtasks)
		if d.err != nil && firstErr == nil {
			firstErr = d.err
			cancel()
		}
	}
	res := s.snapshot()
	if firstErr != nil {
		return res, firstErr
	}
	return res, nil
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
	return &Result{Attempts: append([]Attempt(nil), s.result.Attempts...)}
}

// runRegion runs all subtasks of r together and returns the root cause of
// the first failure, if any.
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

// rootCause picks the error that caused a region to fail: the first one
// that is not a consequence of the cancellation it triggered.
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

func (s *Scheduler) nextAttempt(st plan.SubtaskID) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.attempts[st]
	s.attempts[st] = a + 1
	return a
}

func (s *Scheduler) record(a Attempt, commits []plan.PartitionID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.result.Attempts = append(s.result.Attempts, a)
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
