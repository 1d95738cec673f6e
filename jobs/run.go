package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/recovery"
	"github.com/batchrun/batchrun/scheduler"
	"github.com/batchrun/batchrun/shuffle"
	"github.com/batchrun/batchrun/storage"
)

// Observer hears about subtask attempts as they end (progress displays).
type Observer = scheduler.Observer

// RunOptions are the runtime settings of one run. Zero values are defaults.
type RunOptions struct {
	// StateDir holds the store of blocking partitions; required.
	StateDir string
	// Slots bounds concurrently running subtasks; default the number of CPUs.
	Slots int
	// Codec compresses blocking partitions: "zstd" (default), "lz4", "none".
	Codec string
	// Seed seeds nondeterministic partitioners; default random per run.
	Seed uint64
	// Failover is "region" (default), "all" or "individual".
	Failover string
	// Restart is the restart strategy, e.g. "fixed-delay:attempts=3,delay=1s"
	// (default: recovery.DefaultRestartConfig).
	Restart string
	// Faults are injected faults, e.g. "error:agg[2]#0@3", "lose:events[0]".
	Faults []string
	// Chaos draws random faults: "seed=N,rate=R".
	Chaos string
	// TestOnlyIgnoreChanged disables the "consumed a changed partition"
	// part of the region restart rule; tests use it to show the rule is
	// needed. Never set it otherwise.
	TestOnlyIgnoreChanged bool
	// KeepPartitions keeps the run's partitions in the store after success.
	KeepPartitions bool
	Logger         *slog.Logger
	Observer       Observer
}

// DefaultParallelism is the parallelism of jobs that set none.
func DefaultParallelism() int { return runtime.NumCPU() }

// EnsureDefaults fills zero fields with their defaults.
func (o *RunOptions) EnsureDefaults() {
	if o.Slots == 0 {
		o.Slots = runtime.NumCPU()
	}
	if o.Codec == "" {
		o.Codec = "zstd"
	}
	if o.Seed == 0 {
		o.Seed = rand.Uint64()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Validate reports settings that cannot work.
func (o *RunOptions) Validate() error {
	if o.StateDir == "" {
		return fmt.Errorf("jobs: no state directory")
	}
	if o.Slots < 1 {
		return fmt.Errorf("jobs: slots must be at least 1, got %d", o.Slots)
	}
	if _, err := shuffle.ParseCodec(o.Codec); err != nil {
		return fmt.Errorf("jobs: %w", err)
	}
	if _, err := recovery.ParseFailover(o.Failover); err != nil {
		return fmt.Errorf("jobs: %w", err)
	}
	if o.Restart != "" {
		if _, err := recovery.ParseRestartStrategy(o.Restart); err != nil {
			return fmt.Errorf("jobs: %w", err)
		}
	}
	return nil
}

// Run runs the job and, when every subtask succeeded, commits its outputs.
// The report is returned even when the run fails.
func (l *Loaded) Run(ctx context.Context, opts RunOptions) (*Report, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if err := scheduler.CheckSlots(l.Graph, l.Regions, opts.Slots); err != nil {
		return nil, err
	}
	start := time.Now()
	run := uint64(start.UnixNano())
	logger := opts.Logger.With("job", l.Job.Name, "run", fmt.Sprintf("%016x", run))
	if err := os.MkdirAll(opts.StateDir, 0o755); err != nil {
		return nil, fmt.Errorf("jobs: state directory: %w", err)
	}
	store, err := storage.Open(filepath.Join(opts.StateDir, "store"), storage.Options{})
	if err != nil {
		return nil, fmt.Errorf("jobs: open store: %w", err)
	}
	defer store.Close()
	outs := l.outputs(run)
	defer cleanupStaging(outs)
	for _, o := range outs {
		if err := o.prepare(); err != nil {
			return nil, err
		}
	}
	res, err := l.schedule(ctx, store, outs, run, &opts, logger)
	report := newReport(l, &opts, run, start, res)
	if err != nil {
		report.Status, report.Error = "failed", err.Error()
		logger.Info("run failed", "err", err)
		return report, fmt.Errorf("jobs: run %s: %w", l.Job.Name, err)
	}
	for _, o := range outs {
		if err := o.commit(); err != nil {
			report.Status, report.Error = "failed", err.Error()
			return report, err
		}
		report.Outputs = append(report.Outputs, o.target)
	}
	if !opts.KeepPartitions {
		if err := store.DeleteRun(run); err != nil {
			logger.Warn("cleanup partitions", "err", err)
		}
	}
	report.Seconds = time.Since(start).Seconds()
	logger.Info("run succeeded", "seconds", report.Seconds)
	return report, nil
}

func (l *Loaded) schedule(ctx context.Context, store *storage.Store, outs []*output, run uint64, opts *RunOptions, logger *slog.Logger) (*scheduler.Result, error) {
	sopts, err := l.schedulerOptions(opts, run, logger)
	if err != nil {
		return nil, err
	}
	prog, err := newProgram(l, outs)
	if err != nil {
		return nil, err
	}
	s, err := scheduler.New(l.Graph, l.Regions, prog, store, sopts)
	if err != nil {
		return nil, err
	}
	return s.Run(ctx)
}

func (l *Loaded) schedulerOptions(opts *RunOptions, run uint64, logger *slog.Logger) (scheduler.Options, error) {
	codec, _ := shuffle.ParseCodec(opts.Codec)
	failover, _ := recovery.ParseFailover(opts.Failover)
	restart := recovery.DefaultRestartConfig()
	if opts.Restart != "" {
		restart, _ = recovery.ParseRestartStrategy(opts.Restart)
	}
	faults, err := l.Faults(opts.Faults, opts.Chaos)
	if err != nil {
		return scheduler.Options{}, err
	}
	return scheduler.Options{
		Slots: opts.Slots, Run: run, Seed: opts.Seed, Codec: codec,
		Failover: failover, Restart: restart, Faults: faults,
		TestOnlyIgnoreChanged: opts.TestOnlyIgnoreChanged,
		Rand:                  rand.New(rand.NewPCG(opts.Seed, run)),
		Logger:                logger, Observer: opts.Observer,
	}, nil
}

// Faults parses fault specs and a chaos spec ("seed=N,rate=R") against the
// compiled job.
func (l *Loaded) Faults(specs []string, chaos string) ([]scheduler.Fault, error) {
	var faults []scheduler.Fault
	for _, s := range specs {
		f, err := scheduler.ParseFault(l.Graph, s)
		if err != nil {
			return nil, fmt.Errorf("jobs: %w", err)
		}
		faults = append(faults, f)
	}
	if chaos == "" {
		return faults, nil
	}
	seed, rate, err := parseChaos(chaos)
	if err != nil {
		return nil, err
	}
	return append(faults, scheduler.Chaos(l.Graph, seed, rate)...), nil
}

func parseChaos(s string) (seed uint64, rate float64, err error) {
	rate = 0.1
	for _, kv := range strings.Split(s, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		switch k {
		case "seed":
			seed, err = strconv.ParseUint(v, 10, 64)
		case "rate":
			rate, err = strconv.ParseFloat(v, 64)
			if err == nil && (rate < 0 || rate > 1) {
				err = fmt.Errorf("rate %v not in [0, 1]", rate)
			}
		default:
			err = fmt.Errorf("unknown key %q (want seed, rate)", k)
		}
		if err != nil {
			return 0, 0, fmt.Errorf("jobs: chaos %q: %w", s, err)
		}
	}
	return seed, rate, nil
}

// outputs lists the job's write steps with their staging areas.
func (l *Loaded) outputs(run uint64) []*output {
	var outs []*output
	for _, st := range l.Graph.Stages {
		for _, op := range st.Ops {
			step := l.Job.Step(op.Step)
			if step.Kind == spec.KindWrite {
				outs = append(outs, newOutput(step.ID, step.Write.Path, st.Parallelism, run))
			}
		}
	}
	return outs
}
