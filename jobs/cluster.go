package jobs

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/batchrun/batchrun/cluster"
	"github.com/batchrun/batchrun/executor"
	"github.com/batchrun/batchrun/faults"
	"github.com/batchrun/batchrun/internal/lockfile"
	"github.com/batchrun/batchrun/jobs/statedir"
	"github.com/batchrun/batchrun/physical"
	"github.com/batchrun/batchrun/plan"
	"github.com/batchrun/batchrun/remote"
	"github.com/batchrun/batchrun/scheduler"
	"github.com/batchrun/batchrun/shuffle"
	"github.com/batchrun/batchrun/storage"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Running on workers. With RunOptions.Workers set, this process schedules
// and commits, and the workers (batchrun worker) run every subtask: each
// loads the same spec file (inputs and outputs are paths every process
// sees), checks that it compiles to the same work (the digest), and keeps
// the blocking partitions it writes in a store of its own.

// workerJob is what a worker needs to compile the job the way this process
// did, and to write where this run writes.
type workerJob struct {
	Spec        string            `json:"spec"`
	Params      map[string]string `json:"params,omitempty"`
	Parallelism int               `json:"parallelism,omitempty"`
	Mode        string            `json:"mode,omitempty"`
	Broadcast   int64             `json:"broadcast_below,omitempty"`
	Digest      string            `json:"digest"`
	RunID       string            `json:"run_id"`
	AttemptBase uint32            `json:"attempt_base"`
	Codec       shuffle.Codec     `json:"codec"`
	// Memory is each worker's share: the run's bound split by slots.
	MemoryPerSlot int64 `json:"memory_per_slot,omitempty"`
	// Faults are the run's task faults (error, panic), as --fault names
	// them: the worker running the attempt injects them.
	Faults []string `json:"faults,omitempty"`
}

// workers asks each worker for its slots; the run's slots are their sum.
func workers(ctx context.Context, addrs []string) ([]remote.WorkerInfo, int, error) {
	infos := make([]remote.WorkerInfo, len(addrs))
	total := 0
	for i, a := range addrs {
		info, err := remote.Info(ctx, a)
		if err != nil {
			return nil, 0, err
		}
		infos[i] = info
		total += info.Slots
	}
	return infos, total, nil
}

// etcdTimeout bounds how long a run waits for etcd to answer.
const etcdTimeout = 10 * time.Second

// joinCluster finds the run's workers (listed, or registered in etcd) and
// their slots, after refusing what a run on workers cannot do.
func (l *Loaded) joinCluster(ctx context.Context, opts *RunOptions) (func(), error) {
	if err := l.checkCluster(); err != nil {
		return nil, err
	}
	if len(opts.Workers) > 0 {
		var err error
		if opts.workerInfos, opts.Slots, err = workers(ctx, opts.Workers); err != nil {
			return nil, err
		}
		return func() {}, l.checkWorkerSlots(opts.workerInfos)
	}
	cli, err := cluster.Connect(ctx, opts.Cluster)
	if err != nil {
		return nil, err
	}
	// An etcd that does not answer fails the run, not hangs it (cron).
	lctx, cancel := context.WithTimeout(ctx, etcdTimeout)
	infos, rev, err := cluster.Workers(lctx, cli)
	cancel()
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("jobs: etcd at %v did not answer in %v: %w", opts.Cluster, etcdTimeout, err)
	}
	if err == nil && len(infos) == 0 {
		err = fmt.Errorf("jobs: no worker is registered in etcd at %v (start some with batchrun worker --etcd)", opts.Cluster)
	}
	if err != nil {
		cli.Close()
		return nil, err
	}
	opts.workerInfos, opts.etcd, opts.etcdRev, opts.Slots = infos, cli, rev, 0
	for _, w := range infos {
		opts.Slots += w.Slots
	}
	if err := l.checkWorkerSlots(infos); err != nil {
		cli.Close()
		return nil, err
	}
	return func() { cli.Close() }, nil
}

// checkWorkerSlots refuses a job with a region larger than every worker:
// a region runs on one worker (its pipelined edges stay in one process).
func (l *Loaded) checkWorkerSlots(infos []remote.WorkerInfo) error {
	most := 0
	for _, w := range infos {
		most = max(most, w.Slots)
	}
	if err := scheduler.CheckSlots(l.Graph, l.Regions, most); err != nil {
		return &OptionError{Err: fmt.Errorf("%w (on workers: the largest has %d slots)", err, most)}
	}
	return nil
}

// remoteExecutor is the executor of a run on workers. Its release asks
// the workers to drop the run's partitions when it succeeded; when not,
// they keep them for its resume.
func (inv *invocation) remoteExecutor(attemptBase uint32) (executor.Executor, error) {
	l, opts := inv.l, inv.opts
	if l.Spec == "" {
		return nil, fmt.Errorf("jobs: a job built in Go cannot run on workers: they load it from its spec file")
	}
	spec, err := filepath.Abs(l.Spec) // the workers' working directories are theirs
	if err != nil {
		return nil, err
	}
	job := workerJob{Spec: spec, Params: l.Params, Parallelism: l.fileOpts.Parallelism, Mode: l.fileOpts.Mode,
		Broadcast: l.fileOpts.BroadcastBelow, Digest: l.Digest, RunID: statedir.IDString(inv.run.Rec.ID),
		AttemptBase: attemptBase, Codec: opts.Codec}
	if opts.Memory > 0 {
		job.MemoryPerSlot = max(opts.Memory/int64(opts.Slots), 1)
	}
	var partitionFaults []faults.Fault
	for _, f := range inv.faults {
		if f.Kind == faults.Lose || f.Kind == faults.Corrupt {
			partitionFaults = append(partitionFaults, f)
		} else {
			job.Faults = append(job.Faults, f.Describe(l.Graph)) // the worker running the attempt fires it
		}
	}
	data, err := json.Marshal(job)
	if err != nil {
		return nil, err
	}
	e := remote.NewExecutor(inv.run.Rec.ID, data, opts.workerInfos)
	e.Fence = opts.Fence
	if len(partitionFaults) > 0 {
		// A partition fault fires here, once, at the holder of the
		// partition, before its first reader is sent.
		set := faults.NewSet(l.Graph, partitionFaults, inv.logger)
		e.Damage = func(p plan.PartitionID, consumer int32) (bool, bool) {
			f, ok := set.TakePartitionFault(p, consumer)
			if ok {
				inv.logger.Info("injecting fault", "fault", f.Describe(l.Graph), "partition", l.Graph.PartitionName(p))
			}
			return f.Kind == faults.Corrupt, ok
		}
	}
	stop := func() {}
	if opts.etcd != nil {
		// A worker whose lease expires is lost, with what it held.
		ctx, cancel := context.WithCancel(context.Background())
		go cluster.WatchGone(ctx, opts.etcd, opts.etcdRev+1, e.Lose)
		stop = cancel
		// cluster status lists the run while it runs.
		s, err := cluster.AnnounceRun(ctx, opts.etcd, cluster.RunInfo{ID: job.RunID, Job: l.Job.Name,
			Leader: cmp.Or(opts.Leader, leader), Start: inv.start}, cluster.DefaultTTL)
		if err != nil {
			inv.logger.Warn("announce the run in etcd", "err", err)
		} else {
			stop = func() { s.Close(); cancel() }
		}
	}
	inv.release = func(succeeded bool) {
		stop()
		if err := e.Close(context.Background(), succeeded); err != nil {
			inv.logger.Warn("release the workers", "err", err)
		}
	}
	return e, nil
}

// WorkerLoader is the remote.Loader of a batchrun worker: it loads the
// spec a coordinator names, refuses it unless it compiles to the same work,
// and builds its physical job writing where the run writes.
func WorkerLoader(slots int, logger *slog.Logger) remote.Loader {
	return func(data []byte, run uint64, store *storage.Store) (*plan.StageGraph, executor.Program, error) {
		var job workerJob
		if err := json.Unmarshal(data, &job); err != nil {
			return nil, nil, fmt.Errorf("jobs: bad job from the coordinator: %w", err)
		}
		l, err := LoadFile(job.Spec, FileOptions{Params: job.Params, Parallelism: job.Parallelism,
			Mode: job.Mode, BroadcastBelow: job.Broadcast})
		if err != nil {
			return nil, nil, err
		}
		if l.Digest != job.Digest {
			return nil, nil, fmt.Errorf("jobs: %s compiles to other work here than on the coordinator (the spec, a parameter or an input differs)", job.Spec)
		}
		outs := l.outputs(job.RunID, "")
		prog, err := l.physical(outs, physical.Config{Store: store, Run: run, AttemptBase: job.AttemptBase,
			Codec: job.Codec, Memory: job.MemoryPerSlot * int64(slots), Slots: slots, Logger: logger}, nil)
		if err != nil {
			return nil, nil, err
		}
		wrapped, err := withTaskFaults(l, prog, job.Faults, logger)
		return l.Graph, wrapped, err
	}
}

// withTaskFaults wraps prog with the task faults a coordinator sent.
func withTaskFaults(l *Loaded, prog executor.Program, texts []string, logger *slog.Logger) (executor.Program, error) {
	if len(texts) == 0 {
		return prog, nil
	}
	var specs []faults.Spec
	for _, t := range texts {
		s, err := faults.Parse(t)
		if err != nil {
			return nil, fmt.Errorf("jobs: fault from the coordinator: %w", err)
		}
		specs = append(specs, s)
	}
	fs, err := l.resolveFaults(specs, nil)
	if err != nil {
		return nil, err
	}
	return faults.NewSet(l.Graph, fs, logger).Program(prog), nil
}

// checkCluster refuses what a run on workers cannot do yet.
func (l *Loaded) checkCluster() error {
	if l.WritesStdout() {
		return &OptionError{Err: fmt.Errorf("jobs: a job that writes a stream (-, a pipe, a device) runs in this process only, not on workers")}
	}
	return nil
}

// WorkerOptions configure a batchrun worker process.
type WorkerOptions struct {
	// Listen is the address to serve on ("host:port"); Advertise the one
	// coordinators reach it at (default: what it listens on).
	Listen, Advertise string
	// StateDir holds the worker's run stores (StateDir/worker/<run>/store)
	// and its lock: one worker per state directory.
	StateDir string
	Slots    int
	Codec    shuffle.Codec
	Logger   *slog.Logger
	// Ready, when set, hears the address the worker serves at once it
	// does.
	Ready func(addr string)
	// Cluster, when set, are etcd endpoints to register with, under a
	// lease of TTL (default cluster.DefaultTTL).
	Cluster []string
	TTL     time.Duration
	// MetricsListen, when set, serves Prometheus metrics at /metrics on
	// that address; MetricsReady hears the address it serves at.
	MetricsListen string
	MetricsReady  func(addr string)
}

// ServeWorker runs a worker until ctx is done: it runs the subtasks
// coordinators assign and serves its partitions to other workers.
func ServeWorker(ctx context.Context, o WorkerOptions) error {
	if o.Slots < 1 {
		return &OptionError{Err: fmt.Errorf("jobs: worker slots must be at least 1, got %d", o.Slots)}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	dir := filepath.Join(o.StateDir, "worker")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("jobs: worker: %w", err)
	}
	unlock, err := lockfile.Lock(ctx, filepath.Join(dir, "LOCK"), "worker state directory", dir, 0, "worker")
	if err != nil {
		return err
	}
	defer unlock()
	w := remote.NewWorker("", dir, WorkerLoader(o.Slots, o.Logger), shuffle.Options{Codec: o.Codec}, o.Logger)
	w.Classify = func(err error) string {
		// Only a malformed row's class matters across: the rest are
		// failures as the coordinator sees them.
		if c := Classify(err); c == ClassData {
			return string(c)
		}
		return ""
	}
	w.Slots = o.Slots
	if o.MetricsListen != "" {
		stop, err := serveMetrics(o, w)
		if err != nil {
			return err
		}
		defer stop()
	}
	lis, err := remote.Listen(o.Listen, w)
	if err != nil {
		return err
	}
	w.Addr = cmp.Or(o.Advertise, lis.Addr().String())
	defer func() {
		lis.Shutdown()
		_ = w.Close()
	}()
	if len(o.Cluster) > 0 {
		leave, err := announce(ctx, o, remote.WorkerInfo{Addr: w.Addr, Slots: o.Slots})
		if err != nil {
			return err
		}
		defer leave()
	}
	o.Logger.Info("worker serving", "addr", w.Addr, "slots", o.Slots, "dir", dir)
	if o.Ready != nil {
		o.Ready(w.Addr)
	}
	<-ctx.Done()
	return nil
}

// announce registers the worker in etcd until the returned func, which
// deregisters it. When its lease is lost (etcd was away longer than the
// lease), it registers again as soon as etcd answers.
func announce(ctx context.Context, o WorkerOptions, info remote.WorkerInfo) (func(), error) {
	cli, err := cluster.Connect(ctx, o.Cluster)
	if err != nil {
		return nil, err
	}
	// Fail at once (a service manager restarts us) rather than hang when
	// etcd does not answer.
	tctx, cancel := context.WithTimeout(ctx, etcdTimeout)
	_, _, err = cluster.Workers(tctx, cli)
	cancel()
	if err != nil {
		cli.Close()
		return nil, fmt.Errorf("jobs: worker: etcd at %v: %w", o.Cluster, err)
	}
	ttl := cmp.Or(o.TTL, cluster.DefaultTTL)
	life, endLife := context.WithCancel(context.Background())
	s, err := cluster.Announce(life, cli, info, ttl)
	if err != nil {
		endLife()
		cli.Close()
		return nil, err
	}
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				// Deregister at once; with etcd away, the lease expires.
				rctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				_, _ = cli.Revoke(rctx, s.Lease())
				cancel()
				return
			case <-s.Done():
			}
			o.Logger.Warn("lost the etcd lease; registering again", "addr", info.Addr)
			for s, err = cluster.Announce(life, cli, info, ttl); err != nil; s, err = cluster.Announce(life, cli, info, ttl) {
				select {
				case <-stop:
					return
				case <-time.After(time.Second): // etcd is away: try again
				}
			}
		}
	}()
	return func() {
		close(stop)
		select {
		case <-done:
		case <-time.After(3 * time.Second): // stuck waiting for etcd
		}
		endLife()
		<-done
		cli.Close()
	}, nil
}

// ClusterStatus is what `batchrun cluster status` shows.
type ClusterStatus struct {
	// Coordinators are the live coordinators, the leader first.
	Coordinators []cluster.Coordinator `json:"coordinators"`
	Workers      []remote.WorkerInfo   `json:"workers"`
	Slots        int                   `json:"slots"`
	Runs         []cluster.RunInfo     `json:"runs"`
}

// Status lists the workers registered in the etcd at endpoints.
func Status(ctx context.Context, endpoints []string) (*ClusterStatus, error) {
	cli, err := cluster.Connect(ctx, endpoints)
	if err != nil {
		return nil, err
	}
	defer cli.Close()
	ws, _, err := cluster.Workers(ctx, cli)
	if err != nil {
		return nil, err
	}
	st := &ClusterStatus{Workers: ws}
	if st.Coordinators, err = cluster.Coordinators(ctx, cli); err != nil {
		return nil, err
	}
	for _, w := range ws {
		st.Slots += w.Slots
	}
	if st.Runs, err = cluster.Runs(ctx, cli); err != nil {
		return nil, err
	}
	return st, nil
}

// serveMetrics serves the worker's metrics (and the Go runtime's) over
// HTTP at /metrics until the returned func.
func serveMetrics(o WorkerOptions, w *remote.Worker) (func(), error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	w.Metrics = remote.NewWorkerMetrics(reg, o.Slots)
	lis, err := net.Listen("tcp", o.MetricsListen)
	if err != nil {
		return nil, fmt.Errorf("jobs: worker metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(lis) }()
	if o.MetricsReady != nil {
		o.MetricsReady(lis.Addr().String())
	}
	return func() { _ = srv.Close() }, nil
}
