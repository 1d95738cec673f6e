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
	"github.com/batchrun/batchrun/plan"
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
	// Fresh starts a new run even when an unfinished run of the same work
	// could be resumed; that run is abandoned and its partitions removed.
	Fresh bool
	// Resume names the run to resume (its id, as `batchrun runs` prints it);
	// empty means the newest unfinished run of the same work, if any.
	Resume string
	// Wait is how long to wait for another run's lock on the state
	// directory or an output before giving up.
	Wait time.Duration
	// CrashAt kills the process (SIGKILL) at a point, for crash tests:
	// "started" once the run is recorded, "commits=N" after N subtask
	// attempts finished, "output-commit" after the first output moved into
	// place; "hold" pauses after "started" until stdin closes.
	CrashAt string
	// Store configures the store (its filesystem, write path); zero
	// values are defaults. Tests inject I/O errors through Store.FS.
	Store storage.Options
	// Memory bounds, in bytes, what operators hold (sort buffers, hash
	// tables, join build sides), split evenly between the Slots subtasks
	// that may run at once; past it they spill to the store. 0 is
	// unbounded.
	Memory int64
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
	if o.Memory > 0 {
		// The store's own memory (block cache, memtables) sits outside the
		// operators' budget; a bounded run keeps it small. Partition data
		// is ingested as sstables, so memtables hold little but commit
		// records.
		if o.Store.CacheSize == 0 {
			o.Store.CacheSize = 8 << 20
		}
		if o.Store.MemTableSize == 0 {
			o.Store.MemTableSize = 8 << 20
		}
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
	if o.Memory < 0 {
		return fmt.Errorf("jobs: memory must be at least 0, got %d", o.Memory)
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
// It resumes an unfinished run of the same work (same Digest) found in the
// state directory unless Fresh is set. The report is returned even when
// the run fails.
func (l *Loaded) Run(ctx context.Context, opts RunOptions) (*Report, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if err := scheduler.CheckSlots(l.Graph, l.Regions, opts.Slots); err != nil {
		return nil, err
	}
	unlock, err := l.lock(ctx, &opts)
	if err != nil {
		return nil, err
	}
	defer unlock()
	store, err := storage.Open(filepath.Join(opts.StateDir, "store"), opts.Store)
	if err != nil {
		return nil, fmt.Errorf("jobs: open store: %w", err)
	}
	defer store.Close()
	rec, err := l.openRun(store, &opts)
	if err != nil {
		return nil, err
	}
	opts.crash("started")
	inv := &invocation{l: l, opts: &opts, store: store, rec: rec, start: time.Now()}
	inv.logger = opts.Logger.With("job", l.Job.Name, "run", storage.RunIDString(rec.ID))
	inv.events = newEventLog(store, rec.ID, l.Graph, inv.logger)
	kind := "started"
	if rec.Invocations > 1 {
		kind = "resumed"
	}
	inv.events.add(Event{Kind: kind, Detail: fmt.Sprintf("invocation %d, pid %d", rec.Invocations, os.Getpid())}, false)
	return inv.run(ctx)
}

// lock takes the state directory's lock, then every output's.
func (l *Loaded) lock(ctx context.Context, opts *RunOptions) (func(), error) {
	var unlocks []func() error
	release := func() {
		for i := len(unlocks) - 1; i >= 0; i-- {
			_ = unlocks[i]()
		}
	}
	u, err := LockStateDir(ctx, opts.StateDir, opts.Wait, l.Job.Name)
	if err != nil {
		return nil, err
	}
	unlocks = append(unlocks, u)
	for _, o := range l.outputs(0) {
		u, err := LockOutput(ctx, o.target, opts.Wait, l.Job.Name)
		if err != nil {
			release()
			return nil, err
		}
		unlocks = append(unlocks, u)
	}
	return release, nil
}

// invocation is one process's work on a run: a fresh run or a resume.
type invocation struct {
	l      *Loaded
	opts   *RunOptions
	store  *storage.Store
	rec    storage.RunRecord
	start  time.Time
	logger *slog.Logger
	events *eventLog
}

func (inv *invocation) run(ctx context.Context) (*Report, error) {
	l, rec := inv.l, &inv.rec
	outs := l.outputs(rec.ID)
	if rec.State == storage.RunCommitting {
		defer cleanupStaging(outs)
		report := newReport(l, inv.opts, rec.ID, inv.start, nil)
		report.Resumed = true
		return report, inv.commitOutputs(report, outs)
	}
	if err := l.checkTargets(); err != nil {
		inv.finish(storage.RunFailed, err)
		return nil, err
	}
	cleanupStaging(outs) // a killed invocation's partial part files
	defer cleanupStaging(outs)
	for _, o := range outs {
		if err := o.prepare(); err != nil {
			return nil, err
		}
	}
	committed, err := inv.committedPartitions()
	if err != nil {
		return nil, err
	}
	res, reused, err := inv.schedule(ctx, outs, committed)
	report := newReport(l, inv.opts, rec.ID, inv.start, res)
	report.Resumed, report.Reused = rec.Invocations > 1, reused
	if res != nil {
		rec.Failovers += len(res.Failovers)
		for _, f := range res.Failovers {
			inv.events.add(Event{Kind: "failover", Subtask: f.Failed, Detail: f.Cause}, false)
		}
	}
	if err != nil {
		report.Status, report.Error = "failed", err.Error()
		inv.finish(storage.RunFailed, err)
		inv.logger.Info("run failed", "err", err)
		return report, fmt.Errorf("jobs: run %s: %w", l.Job.Name, err)
	}
	return report, inv.commitOutputs(report, outs)
}

// commitOutputs records that the run is committing (with its outputs, so
// a killed invocation can finish the moves), moves every output into place
// and records success.
func (inv *invocation) commitOutputs(report *Report, outs []*output) error {
	rec := &inv.rec
	if rec.State != storage.RunCommitting {
		rec.State, rec.Outputs = storage.RunCommitting, outputRecords(outs)
		if err := inv.store.PutRun(*rec); err != nil {
			return err
		}
		inv.events.add(Event{Kind: "committing"}, false)
	}
	for i, o := range outputsOf(rec.Outputs) {
		if err := o.commit(); err != nil {
			report.Status, report.Error = "failed", err.Error()
			return err
		}
		report.Outputs = append(report.Outputs, o.target)
		if i == 0 {
			inv.opts.crash("output-commit")
		}
	}
	inv.finish(storage.RunSucceeded, nil)
	if !inv.opts.KeepPartitions {
		if err := inv.store.DeleteRunData(rec.ID); err != nil {
			inv.logger.Warn("cleanup partitions", "err", err)
		}
	}
	report.Seconds = time.Since(inv.start).Seconds()
	inv.logger.Info("run succeeded", "seconds", report.Seconds)
	return nil
}

// finish records the run's final state of this invocation.
func (inv *invocation) finish(state storage.RunState, err error) {
	inv.rec.State, inv.rec.End, inv.rec.Error = state, time.Now(), ""
	ev := Event{Kind: "committed"}
	if err != nil {
		inv.rec.Error = err.Error()
		ev = Event{Kind: "failed", Detail: err.Error()}
	}
	inv.events.add(ev, true)
	if perr := inv.store.PutRun(inv.rec); perr != nil {
		inv.logger.Warn("record run state", "state", state, "err", perr)
	}
}

func (inv *invocation) schedule(ctx context.Context, outs []*output, committed []plan.PartitionID) (*scheduler.Result, []string, error) {
	sopts, err := inv.l.schedulerOptions(inv.opts, inv.rec.ID, inv.logger)
	if err != nil {
		return nil, nil, err
	}
	sopts.Committed = committed
	sopts.AttemptBase = uint32(inv.rec.Invocations-1) << 16
	inv.events.next = sopts.Observer
	sopts.Observer = inv.opts.crashObserver(inv.events)
	prog, err := newProgram(inv.l, outs)
	if err != nil {
		return nil, nil, err
	}
	prog.logger = inv.logger
	prog.store, prog.run, prog.attemptBase = inv.store, inv.rec.ID, sopts.AttemptBase
	prog.codec, prog.memory, prog.slots = sopts.Codec, inv.opts.Memory, inv.opts.Slots
	s, err := scheduler.New(inv.l.Graph, inv.l.Regions, prog, inv.store, sopts)
	if err != nil {
		return nil, nil, err
	}
	var reused []string
	for _, r := range s.Reused() {
		for _, st := range inv.l.Regions.List[r].Subtasks {
			reused = append(reused, inv.l.Graph.SubtaskName(st))
		}
	}
	res, err := s.Run(ctx)
	return res, reused, err
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
			switch {
			case step.Kind == spec.KindWrite:
				ext := spec.FormatOf(step.Write.Path, step.Write.Format).Ext()
				outs = append(outs, newOutput(step.ID, step.Write.Path, st.Parallelism, run, ext))
			case step.Kind == spec.KindRead && step.Read.Quarantine != "":
				outs = append(outs, newOutput(quarantineOutput(step.ID), step.Read.Quarantine, st.Parallelism, run, ".txt"))
			}
		}
	}
	return outs
}
