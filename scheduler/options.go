package scheduler

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime"

	"github.com/batchrun/batchrun/plan"
	"github.com/batchrun/batchrun/recovery"
)

// Options are the scheduler's runtime settings. Zero values are defaults.
type Options struct {
	// Slots bounds concurrently running subtasks; default runtime.NumCPU().
	Slots int
	// Seed seeds the nondeterministic partitioners (rebalance, random); each
	// subtask attempt derives its own stream from it.
	Seed uint64
	// Committed lists partitions a previous invocation of this run
	// committed and that were found intact; the regions that wrote them are
	// reused instead of run (see resume).
	Committed []plan.PartitionID
	// Finished lists the subtasks without blocking outputs (the writers
	// of outputs) that a previous invocation finished: their part files
	// are in place. Their regions are reused when every subtask in them
	// finished and nothing upstream is nondeterministic (see resume).
	Finished []plan.SubtaskID
	// AttemptBase is added to attempt numbers in the store, so that a
	// resumed run never reuses the number of an attempt a killed
	// invocation may have left half written.
	AttemptBase uint32
	// Failover says what to restart when a subtask fails (default
	// recovery.FailoverRegion).
	Failover recovery.Strategy
	// Restart says whether and when to restart (default fixed-delay, see
	// recovery.DefaultRestartConfig).
	Restart recovery.RestartConfig
	// Rand draws the restart strategy's jitter; nil means no jitter.
	Rand *rand.Rand
	// Clock is the scheduler's time; default the system's.
	Clock Clock
	// Observer, when set, hears about every finished or failed attempt.
	Observer Observer
	// Logger receives scheduling events; default discards.
	Logger *slog.Logger
}

// EnsureDefaults fills zero fields with their defaults.
func (o *Options) EnsureDefaults() {
	if o.Slots == 0 {
		o.Slots = runtime.NumCPU()
	}
	if o.Failover == nil {
		o.Failover = recovery.FailoverRegion
	}
	if o.Clock == nil {
		o.Clock = realClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Validate reports settings that cannot work.
func (o *Options) Validate() error {
	if o.Slots < 1 {
		return fmt.Errorf("scheduler: slots must be at least 1, got %d", o.Slots)
	}
	return nil
}
