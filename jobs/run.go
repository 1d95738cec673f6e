package jobs

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/batchrun/batchrun/executor"
	"github.com/batchrun/batchrun/faults"
	"github.com/batchrun/batchrun/internal/lockfile"
	"github.com/batchrun/batchrun/internal/osfs"
	"github.com/batchrun/batchrun/jobs/commit"
	"github.com/batchrun/batchrun/jobs/statedir"
	"github.com/batchrun/batchrun/physical"
	"github.com/batchrun/batchrun/plan"
	"github.com/batchrun/batchrun/recovery"
	"github.com/batchrun/batchrun/remote"
	"github.com/batchrun/batchrun/scheduler"
	"github.com/batchrun/batchrun/shuffle"
	"github.com/batchrun/batchrun/storage"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Observer hears about subtask attempts as they end (progress displays).
type Observer = scheduler.Observer

// RunOptions are the runtime settings of one run. Zero values are defaults.
type RunOptions struct {
	// StateDir holds run records and each run's store of blocking
	// partitions (package statedir); required.
	StateDir string
	// Slots bounds concurrently running subtasks; default the number of CPUs.
	Slots int
	// Codec compresses blocking partitions (default shuffle.S2).
	Codec shuffle.Codec
	// Seed seeds nondeterministic partitioners; default random per run.
	Seed uint64
	// Failover decides what a failure restarts (default
	// recovery.FailoverRegion).
	Failover recovery.Strategy
	// Restart says whether and when to restart (default
	// recovery.DefaultRestartConfig()).
	Restart *recovery.RestartConfig
	// Faults are injected faults (faults.Parse); Run resolves
	// them against the job's stages before anything runs.
	Faults []faults.Spec
	// Chaos, when set, draws random faults from its seed.
	Chaos *Chaos
	// Fresh starts a new run even when an unfinished run of the same work
	// could be resumed; that run is abandoned and its partitions removed.
	Fresh bool
	// Resume names the run to resume (its id, as `batchrun runs` prints it);
	// empty means the newest unfinished run of the same work, if any.
	Resume string
	// Wait is how long to wait for another run's lock on the state
	// directory or an output before giving up.
	Wait time.Duration
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
	// Stdout receives an output whose path is "-" (default os.Stdout).
	Stdout io.Writer
	// FS carries the run record and the output commit's file operations
	// (default the OS); tests inject faults at each step through it.
	FS       osfs.FS
	Logger   *slog.Logger
	Observer Observer
	// Workers, when set, are the addresses of batchrun workers that run
	// the job's subtasks (cluster.go); Slots is then the sum of theirs.
	Workers []string
	// Cluster, when set, are etcd endpoints: the job runs on the workers
	// registered there, and a worker whose lease expires is lost.
	Cluster []string
	// Input, when set, counts the bytes each stage reads of its input
	// files, for a progress display (runs in this process only).
	Input *InputProgress

	// Fence is the election revision of the coordinator that schedules
	// the run on workers (0: none); workers refuse a deposed leader's.
	Fence int64
	// Records, when set, keeps the run records of the job's runs outside
	// the state directory (a coordinator's etcd), authoritative over its
	// copies there: a new leader continues the runs of the one before.
	Records RecordLog
	// Leader names the scheduling process in the report's attempts
	// (default host/pid).
	Leader string

	workerInfos []remote.WorkerInfo
	etcd        *clientv3.Client
	etcdRev     int64
}

// OptionError is a run option that cannot work (a bad slot count, codec,
// fault, restart strategy); nothing was written. The command line reports
// it as a usage error.
type OptionError struct{ Err error }

func (e *OptionError) Error() string { return e.Err.Error() }

func (e *OptionError) Unwrap() error { return e.Err }

func (o *RunOptions) fs() osfs.FS {
	if o.FS == nil {
		return osfs.Default
	}
	return o.FS
}

// DefaultParallelism is the parallelism of jobs that set none.
func DefaultParallelism() int { return runtime.NumCPU() }

// EnsureDefaults fills zero fields with their defaults.
func (o *RunOptions) EnsureDefaults() {
	if o.Slots == 0 {
		o.Slots = runtime.NumCPU()
	}
	if o.Seed == 0 {
		o.Seed = rand.Uint64()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Failover == nil {
		o.Failover = recovery.FailoverRegion
	}
	if o.Restart == nil {
		r := recovery.DefaultRestartConfig()
		o.Restart = &r
	}
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	if o.Memory > 0 {
		// The store's own memory (block cache, memtables) sits outside the
		// operators' budget; a bounded run keeps its cache to a sixteenth
		// of the bound, between 8 and 64 MiB (the unbounded default), and
		// its memtables to 8 MiB. Partition data is ingested as sstables,
		// so memtables hold little but commit records.
		if o.Store.CacheSize == 0 {
			o.Store.CacheSize = min(max(o.Memory/16, 8<<20), 64<<20)
		}
		if o.Store.MemTableSize == 0 {
			o.Store.MemTableSize = 8 << 20
		}
	}
}

// Validate reports settings that cannot work, as an *OptionError.
func (o *RunOptions) Validate() error {
	if err := o.validate(); err != nil {
		return &OptionError{Err: err}
	}
	return nil
}

func (o *RunOptions) validate() error {
	if o.StateDir == "" {
		return fmt.Errorf("jobs: no state directory")
	}
	if o.Slots < 1 {
		return fmt.Errorf("jobs: slots must be at least 1, got %d", o.Slots)
	}
	if o.Memory < 0 {
		return fmt.Errorf("jobs: memory must be at least 0, got %d", o.Memory)
	}
	if o.Restart != nil {
		if err := o.Restart.Validate(); err != nil {
			return fmt.Errorf("jobs: %w", err)
		}
	}
	if c := o.Chaos; c != nil && !(c.Rate >= 0 && c.Rate <= 1) {
		return fmt.Errorf("jobs: chaos rate %v not in [0, 1]", c.Rate)
	}
	return nil
}

// Run runs the job and, when every subtask succeeded, commits its outputs.
// It resumes an unfinished run of the same work (same Digest) found in the
// state directory unless Fresh is set. Nothing is written (no record, no
// lock file) until every option and every output target has been checked.
// The report is returned even when the run fails.
func (l *Loaded) Run(ctx context.Context, opts RunOptions) (*Report, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	injected, err := l.resolveFaults(opts.Faults, opts.Chaos)
	if err != nil {
		return nil, &OptionError{Err: err}
	}
	if len(opts.Workers) > 0 || len(opts.Cluster) > 0 {
		closeCluster, err := l.joinCluster(ctx, &opts)
		if err != nil {
			return nil, err
		}
		defer closeCluster()
	}
	if err := scheduler.CheckSlots(l.Graph, l.Regions, opts.Slots); err != nil {
		return nil, &OptionError{Err: err}
	}
	if err := l.CheckTargets(); err != nil {
		return nil, err
	}
	sd, err := statedir.Open(opts.StateDir, opts.FS)
	if err != nil {
		return nil, err
	}
	unlock, err := l.lock(ctx, sd, &opts)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if opts.Records != nil {
		if err := l.importRecords(ctx, sd, opts.Records); err != nil {
			return nil, err
		}
		sd.Mirror = opts.Records.Put
	}
	run, err := l.openRun(sd, &opts)
	if err != nil {
		return nil, err
	}
	defer run.Close()
	inv := &invocation{l: l, opts: &opts, run: run, start: time.Now(), faults: injected}
	inv.logger = opts.Logger.With("job", l.Job.Name, "run", statedir.IDString(run.Rec.ID))
	inv.events = newEventLog(run, l, cmp.Or(opts.Leader, leader), inv.logger)
	kind := "started"
	if run.Rec.Invocations > 1 {
		kind = "resumed"
	}
	inv.events.add(Event{Kind: kind, Detail: fmt.Sprintf("invocation %d, pid %d", run.Rec.Invocations, os.Getpid())}, false)
	report, err := inv.execute(ctx)
	inv.keepReport(report)
	return report, err
}

// keepReport keeps the invocation's report with the run, for `batchrun
// runs show`; failing that is only worth a warning.
func (inv *invocation) keepReport(r *Report) {
	if r == nil {
		return
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err == nil {
		err = inv.run.PutReport(append(data, '\n'))
	}
	if err != nil {
		inv.logger.Warn("keep the run's report", "err", err)
	}
}

// lock takes the job's lock, then every output's (streams have none).
func (l *Loaded) lock(ctx context.Context, sd *statedir.Dir, opts *RunOptions) (func(), error) {
	var unlocks []func() error
	release := func() {
		for i := len(unlocks) - 1; i >= 0; i-- {
			_ = unlocks[i]()
		}
	}
	u, err := sd.LockJob(ctx, l.Job.Name, opts.Wait)
	if err != nil {
		return nil, err
	}
	unlocks = append(unlocks, u)
	for _, t := range l.targets {
		if t.kind == commit.Stream {
			continue
		}
		u, err := lockfile.LockOutput(ctx, t.real, opts.Wait, l.Job.Name)
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
	run    *statedir.Run
	store  *storage.Store
	start  time.Time
	logger *slog.Logger
	events *eventLog
	faults []faults.Fault
	// release lets go of the executor (releaseExecutor); nil for a local
	// one.
	release func(succeeded bool)
}

func (inv *invocation) execute(ctx context.Context) (*Report, error) {
	l, rec := inv.l, &inv.run.Rec
	outs := l.outputs(statedir.IDString(rec.ID), inv.run.StagingDir())
	if rec.State == statedir.Committing && rec.Commit != nil {
		// Stopped while committing: finish the commit or undo it and do
		// it again; the staged outputs are complete if they are there.
		report := newReport(l, inv.opts, rec.ID, inv.start, nil)
		report.Resumed = true
		if done, err := inv.recoverCommit(report, outs); done || err != nil {
			return report, err
		}
	}
	defer func() { inv.releaseExecutor(false) }() // unless released already
	report, err := inv.compute(ctx, outs)
	if err != nil {
		return report, err
	}
	err = inv.commitOutputs(report, outs, nil)
	inv.releaseExecutor(err == nil)
	return report, err
}

// releaseExecutor lets go of the invocation's executor: a run on workers
// asks them to drop its partitions once it succeeded, and keeps them for
// its resume when it did not.
func (inv *invocation) releaseExecutor(succeeded bool) {
	if inv.release != nil {
		inv.release(succeeded)
		inv.release = nil
	}
}

// compute runs the job's subtasks (those whose partitions a previous
// invocation did not commit) into the run's store and the staging areas.
func (inv *invocation) compute(ctx context.Context, outs []*output) (*Report, error) {
	l, rec := inv.l, &inv.run.Rec
	fail := func(report *Report, err error) (*Report, error) {
		cleanupStaging(outs)
		inv.finish(statedir.Failed, err)
		return report, err
	}
	if err := inv.openStore(); err != nil {
		return fail(nil, err)
	}
	defer inv.closeStore()
	if rec.Invocations <= 1 {
		cleanupStaging(outs)
	} // else the reused writers' part files stay (schedule removes partial files)
	for _, o := range outs {
		if err := o.prepare(); err != nil {
			return fail(nil, err)
		}
	}
	attemptBase := uint32(rec.Invocations-1) << 16
	exec, err := inv.executor(outs, attemptBase)
	if err != nil {
		return fail(nil, err)
	}
	committed, err := inv.committedPartitions(ctx, exec)
	if err != nil {
		return fail(nil, err)
	}
	res, reused, err := inv.schedule(ctx, exec, attemptBase, committed, outs)
	report := newReport(l, inv.opts, rec.ID, inv.start, res)
	report.Resumed, report.Reused = rec.Invocations > 1, reused
	report.RowsWritten += inv.reusedWriterRows(reused)
	if res != nil {
		rec.Failovers += len(res.Failovers)
		for _, f := range res.Failovers {
			inv.events.add(Event{Kind: "failover", Subtask: f.Failed, Detail: f.Cause}, false)
		}
	}
	if err != nil {
		report.Status, report.Error = "failed", err.Error()
		inv.logger.Info("run failed", "err", err) // the final error says it; failovers are at WARN
		return fail(report, fmt.Errorf("jobs: run %s: %w", l.Job.Name, err))
	}
	return report, nil
}

// openStore opens the run's store. A resumed run whose store is unusable
// (damaged on disk) moves it aside and starts an empty one: its
// partitions are lost, and the scheduler regenerates them.
func (inv *invocation) openStore() error {
	dir := inv.run.StoreDir()
	sopts := inv.opts.Store
	// A resumed run's store must be there if an earlier invocation made
	// one: Pebble would otherwise start an empty store over the remains
	// of a damaged one.
	_, serr := os.Stat(dir)
	sopts.MustExist = inv.run.Rec.Invocations > 1 && serr == nil
	store, err := storage.Open(dir, sopts)
	if errors.Is(err, storage.ErrUnusable) && sopts.MustExist {
		aside, merr := inv.run.MoveStoreAside()
		if merr != nil {
			return fmt.Errorf("jobs: open store: %w (%v)", err, merr)
		}
		inv.logger.Warn("the run's store is unusable; moved it aside and recomputing its partitions", "err", err, "moved_to", aside)
		inv.events.add(Event{Kind: "store-lost", Detail: err.Error()}, false)
		sopts.MustExist = false
		store, err = storage.Open(dir, sopts)
	}
	if err != nil {
		return fmt.Errorf("jobs: open store: %w", err)
	}
	inv.store = store
	if sopts.MustExist {
		// What a killed invocation's operators spilled is garbage: its
		// readers are gone.
		if err := store.DeleteSpills(inv.run.Rec.ID); err != nil {
			inv.logger.Warn("drop the spill runs of an earlier invocation", "err", err)
		}
	}
	return nil
}

func (inv *invocation) closeStore() {
	if inv.store == nil {
		return
	}
	if err := inv.store.Close(); err != nil {
		inv.logger.Warn("close store", "err", err)
	}
	inv.store = nil
}

// recoverCommit resolves a commit a killed invocation left: rolled
// forward when its commit point is durable, else undone and done again.
// It returns false, with the record back to running, when the staged
// outputs are gone: the run then computes them again from its store.
func (inv *invocation) recoverCommit(report *Report, outs []*output) (done bool, err error) {
	rec := &inv.run.Rec
	prev := rec.Commit
	committed, err := commit.Recover(inv.fs(), prev, inv.logCommit)
	if err != nil {
		report.Status, report.Error = "failed", err.Error()
		return true, fmt.Errorf("jobs: run %s: %w", inv.l.Job.Name, err)
	}
	if committed {
		return true, inv.succeeded(report, outs)
	}
	for _, e := range prev.Entries {
		if ok, _ := osfs.Exists(inv.fs(), e.Staged); !ok {
			inv.logger.Warn("staged output gone after an interrupted commit; computing it again", "output", e.Name)
			rec.Commit, rec.State = nil, statedir.Running
			return false, inv.run.Put()
		}
	}
	return true, inv.commitOutputs(report, outs, prev)
}

// commitOutputs publishes the staged outputs (package commit): it records
// the plan (state committing), applies it, and the commit point in the log
// makes the run succeeded. On a failure the old outputs are back in place
// and the run is failed (resumable: its partitions stay), unless the
// commit could not be undone, which the next invocation finishes.
func (inv *invocation) commitOutputs(report *Report, outs []*output, prev *commit.Plan) error {
	rec := &inv.run.Rec
	fail := func(err error) error {
		report.Status, report.Error = "failed", err.Error()
		if !errors.Is(err, commit.ErrIncomplete) {
			// The old outputs are in place. Only once the record durably
			// says failed (no plan) may the staging go; otherwise the next
			// run finds it as its record says (committing: finish; running:
			// stage again).
			rec.Commit = nil
			if inv.finish(statedir.Failed, err) == nil {
				cleanupStaging(outs)
			}
		}
		return fmt.Errorf("jobs: run %s: %w", inv.l.Job.Name, err)
	}
	couts := make([]commit.Output, len(outs))
	for i, o := range outs {
		couts[i] = o.commitOutput()
	}
	p, err := commit.Prepare(inv.fs(), couts, inv.l.Job.Name, statedir.IDString(rec.ID), prev)
	if err != nil {
		return fail(inv.l.conflictError(err))
	}
	rec.State = statedir.Committing
	if err := inv.logCommit(p); err != nil {
		return fail(err)
	}
	inv.events.add(Event{Kind: "committing"}, false)
	if err := commit.Apply(inv.fs(), p, inv.logCommit, inv.opts.Stdout); err != nil {
		return fail(err)
	}
	return inv.succeeded(report, outs)
}

// logCommit is the commit's LogFunc: the plan goes in the run's record;
// the plan's commit point is the run's success.
func (inv *invocation) logCommit(p *commit.Plan) error {
	rec := &inv.run.Rec
	rec.Commit = p
	if p.Committed && rec.State != statedir.Succeeded {
		rec.State, rec.End, rec.Error = statedir.Succeeded, time.Now(), ""
	} else if !p.Committed {
		rec.State = statedir.Committing
	}
	return inv.run.Put()
}

// succeeded finishes a committed run: old outputs and staging removed,
// the store deleted (unless kept), the summary reported.
func (inv *invocation) succeeded(report *Report, outs []*output) error {
	rec := &inv.run.Rec
	if err := commit.Cleanup(inv.fs(), rec.Commit, inv.logCommit); err != nil {
		inv.logger.Warn("remove the old outputs", "err", err)
	}
	cleanupStaging(outs)
	for _, o := range outs {
		report.Outputs = append(report.Outputs, o.path)
	}
	inv.events.add(Event{Kind: "committed"}, true)
	inv.closeStore()
	if !inv.opts.KeepPartitions {
		if err := os.RemoveAll(inv.run.StoreDir()); err != nil {
			inv.logger.Warn("remove the run's store", "err", err)
		}
	}
	report.Seconds = time.Since(inv.start).Seconds()
	inv.logger.Info("run succeeded", "seconds", report.Seconds)
	return nil
}

func (inv *invocation) fs() osfs.FS { return inv.opts.fs() }

// finish records that this invocation ends in state (failed), with err;
// it returns the error of writing the record.
func (inv *invocation) finish(state statedir.State, err error) error {
	rec := &inv.run.Rec
	rec.State, rec.End, rec.Error = state, time.Now(), ""
	if err != nil {
		rec.Error = err.Error()
		inv.events.add(Event{Kind: "failed", Detail: err.Error()}, true)
	}
	perr := inv.run.Put()
	if perr != nil {
		inv.logger.Warn("record run state", "state", state, "err", perr)
	}
	return perr
}

func (inv *invocation) schedule(ctx context.Context, exec executor.Executor, attemptBase uint32, committed []plan.PartitionID, outs []*output) (*scheduler.Result, []string, error) {
	sopts := inv.l.schedulerOptions(inv.opts, inv.run.Rec.ID, inv.logger)
	sopts.Committed = committed
	if inv.run.Rec.Invocations > 1 {
		sopts.Finished = inv.finishedWriters(outs)
	}
	sopts.AttemptBase = attemptBase
	inv.events.next = sopts.Observer
	inv.events.finished = inv.writerFinished
	sopts.Observer = inv.events
	s, err := scheduler.New(inv.l.Graph, inv.l.Regions, exec, sopts)
	if err != nil {
		return nil, nil, err
	}
	var reused []string
	for _, r := range s.Reused() {
		for _, st := range inv.l.Regions.List[r].Subtasks {
			reused = append(reused, inv.l.Graph.SubtaskName(st))
		}
	}
	if inv.run.Rec.Invocations > 1 {
		if err := inv.removePartials(outs); err != nil {
			return nil, nil, err
		}
	}
	res, err := s.Run(ctx)
	return res, reused, err
}

// executor is where this invocation's subtasks run: goroutines of this
// process over the run's store, with the run's faults (if any) injected
// around the program and the partitions.
func (inv *invocation) executor(outs []*output, attemptBase uint32) (executor.Executor, error) {
	if len(inv.opts.workerInfos) > 0 {
		return inv.remoteExecutor(attemptBase)
	}
	run := inv.run.Rec.ID
	prog, err := inv.l.physical(outs, physical.Config{Store: inv.store, Run: run, AttemptBase: attemptBase,
		Codec: inv.opts.Codec, Memory: inv.opts.Memory, Slots: inv.opts.Slots, Logger: inv.logger}, inv.opts.Input)
	if err != nil {
		return nil, err
	}
	shuffleOpts := shuffle.Options{Codec: inv.opts.Codec}
	local := &executor.Local{Graph: inv.l.Graph, Program: prog, Logger: inv.logger, Shuffle: shuffleOpts,
		Partitions: &executor.StorePartitions{Store: inv.store, Run: run, Opts: shuffleOpts}}
	if len(inv.faults) > 0 {
		set := faults.NewSet(inv.l.Graph, inv.faults, inv.logger)
		local.Program = set.Program(local.Program)
		local.Partitions = set.Partitions(local.Partitions, inv.store, run)
	}
	return local, nil
}

func (l *Loaded) schedulerOptions(opts *RunOptions, run uint64, logger *slog.Logger) scheduler.Options {
	return scheduler.Options{
		Slots: opts.Slots, Seed: opts.Seed,
		Failover: opts.Failover, Restart: *opts.Restart,
		Rand:   rand.New(rand.NewPCG(opts.Seed, run)),
		Logger: logger, Observer: opts.Observer,
	}
}

// Chaos is a seed and a rate of random faults (faults.Chaos).
type Chaos struct {
	Seed uint64
	Rate float64
}

// ParseChaos parses "seed=N,rate=R" (rate 0.1 when not given).
func ParseChaos(s string) (*Chaos, error) {
	c := &Chaos{Rate: 0.1}
	for _, kv := range strings.Split(s, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		var err error
		switch k {
		case "seed":
			c.Seed, err = strconv.ParseUint(v, 10, 64)
		case "rate":
			c.Rate, err = strconv.ParseFloat(v, 64)
			if err == nil && !(c.Rate >= 0 && c.Rate <= 1) {
				err = fmt.Errorf("rate %v not in [0, 1]", c.Rate)
			}
		default:
			err = fmt.Errorf("unknown key %q (want seed, rate)", k)
		}
		if err != nil {
			return nil, fmt.Errorf("chaos %q: %w", s, err)
		}
	}
	return c, nil
}

// resolveFaults resolves fault specs against the compiled job and adds
// chaos's faults.
func (l *Loaded) resolveFaults(specs []faults.Spec, chaos *Chaos) ([]faults.Fault, error) {
	var fs []faults.Fault
	for _, s := range specs {
		f, err := s.Resolve(l.Graph)
		if err != nil {
			return nil, fmt.Errorf("jobs: %w", err)
		}
		fs = append(fs, f)
	}
	if chaos != nil {
		fs = append(fs, faults.Chaos(l.Graph, chaos.Seed, chaos.Rate)...)
	}
	return fs, nil
}
