package scheduler

import (
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"runtime"

	"github.com/batchrun/batchrun/plan"
	"github.com/batchrun/batchrun/recovery"
	"github.com/batchrun/batchrun/shuffle"
)

// Options are the scheduler's runtime settings. Zero values are defaults.
type Options struct {
	// Slots bounds concurrently running subtasks; default runtime.NumCPU().
	Slots int
	// PipeCapacity is the number of batches buffered per pipelined channel
	// (producer, consumer) before the producer blocks; default 4.
	PipeCapacity int
	// Run identifies this run's partitions in the store.
	Run uint64
	// Seed seeds the nondeterministic partitioners (rebalance, random); each
	// subtask attempt derives its own stream from it.
	Seed uint64
	// Codec compresses blocking partitions (default zstd).
	Codec shuffle.Codec
	// Committed lists partitions a previous invocation of this run
	// committed and that were found intact; the regions that wrote them are
	// reused instead of run (see resume).
	Committed []plan.PartitionID
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
	// Faults are injected, deterministically, for tests and drills.
	Faults []Fault
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
	if o.PipeCapacity == 0 {
		o.PipeCapacity = 4
	}
	if o.Failover == nil {
		o.Failover = recovery.FailoverRegion
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
}

// Validate reports settings that cannot work.
func (o *Options) Validate() error {
	if o.Slots < 1 {
		return fmt.Errorf("scheduler: slots must be at least 1, got %d", o.Slots)
	}
	if o.PipeCapacity < 1 {
		return fmt.Errorf("scheduler: pipe capacity must be at least 1, got %d", o.PipeCapacity)
	}
	return nil
}
