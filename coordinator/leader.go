package coordinator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/batchrun/batchrun/cluster"
	"github.com/batchrun/batchrun/jobs"
	"github.com/batchrun/batchrun/jobs/statedir"
)

// leader is one tenure as leader: it runs every pending submission, each
// on its own goroutine, until the tenure ends.
type leader struct {
	cli     *clientv3.Client
	lead    *cluster.Leadership
	addr    string
	opts    Options
	metrics *metrics

	// tenure is done when the tenure ends: every write to etcd uses it,
	// so that a deposed leader's writes fail at once, not after a timeout
	// (it must let go of its runs, and their locks, quickly).
	tenure context.Context

	mu      sync.Mutex
	running map[string]context.CancelCauseFunc
	// ended are the submissions this tenure ran to their end: a watch
	// event about one that arrives late (its own note of the run it
	// started, say) does not start it again.
	ended map[string]bool
	wg    sync.WaitGroup
}

// takeoverWait is how long a new leader waits for the locks of a run it
// takes over.
const takeoverWait = 30 * time.Second

// errWithdrawn cancels a run whose client withdrew its submission.
var errWithdrawn = errors.New("coordinator: the client withdrew the submission")

// run leads until the tenure ends or ctx is done, then stops its runs and
// waits for them: their partitions stay on the workers for the next
// leader.
func (l *leader) run(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	l.tenure = ctx
	go func() {
		select {
		case <-l.lead.Done():
			cancel()
		case <-ctx.Done():
		}
	}()
	defer l.wg.Wait()
	var subs []cluster.Submission
	var rev int64
	for {
		var err error
		lctx, lcancel := context.WithTimeout(ctx, etcdTimeout)
		subs, rev, err = cluster.Submissions(lctx, l.cli)
		lcancel()
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return
		}
		l.opts.Logger.Warn("list submissions", "err", err)
	}
	for _, s := range subs {
		l.start(ctx, s)
	}
	cluster.WatchSubmissions(ctx, l.cli, rev+1, func(s cluster.Submission) { l.start(ctx, s) }, l.withdraw)
}

// start runs submission s unless it runs already.
func (l *leader) start(ctx context.Context, s cluster.Submission) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.running[s.ID]; ok || l.ended[s.ID] {
		return
	}
	rctx, cancel := context.WithCancelCause(ctx)
	l.running[s.ID] = cancel
	l.metrics.running.Inc()
	l.wg.Go(func() {
		defer func() {
			l.mu.Lock()
			delete(l.running, s.ID)
			l.ended[s.ID] = true
			l.mu.Unlock()
			l.metrics.running.Dec()
			cancel(nil)
		}()
		l.runSubmission(rctx, s)
	})
}

func (l *leader) withdraw(sid string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if cancel, ok := l.running[sid]; ok {
		cancel(errWithdrawn)
	}
}

// runSubmission runs s and publishes how it ended, unless the tenure
// ended first: the next leader continues the run.
func (l *leader) runSubmission(ctx context.Context, s cluster.Submission) {
	logger := l.opts.Logger.With("submission", s.ID)
	var sub Submission
	report, err := func() (*jobs.Report, error) {
		if err := json.Unmarshal(s.Body, &sub); err != nil {
			return nil, &jobs.OptionError{Err: fmt.Errorf("coordinator: bad submission: %w", err)}
		}
		return l.runJob(ctx, s.ID, &sub, logger)
	}()
	if l.tenure.Err() != nil {
		logger.Info("the lead ended before the run did; the next leader continues it", "err", err)
		return
	}
	res := newResult(report, err, l.addr)
	status := "succeeded"
	if err != nil {
		status = "failed"
		logger.Warn("run failed", "err", err)
	}
	l.metrics.ended.WithLabelValues(status).Inc()
	body, merr := json.Marshal(res)
	if merr != nil {
		logger.Error("encode the result", "err", merr)
		return
	}
	fctx, cancel := context.WithTimeout(l.tenure, etcdTimeout)
	defer cancel()
	if err := l.lead.Finish(fctx, s.ID, body); err != nil {
		logger.Warn("publish the result", "err", err)
	}
}

// runJob loads and runs sub's job on the cluster's workers.
func (l *leader) runJob(ctx context.Context, sid string, sub *Submission, logger *slog.Logger) (*jobs.Report, error) {
	ld, err := jobs.LoadFile(sub.Spec, sub.Load)
	if err != nil {
		return nil, err
	}
	opts, err := sub.runOptions()
	if err != nil {
		return nil, err
	}
	recs := &records{cli: l.cli, lead: l.lead, ctx: l.tenure, sid: sid, sub: sub}
	if done, err := committedBefore(ctx, recs, ld, sub.Run); done != nil || err != nil {
		return done, err
	}
	lctx, cancel := context.WithTimeout(ctx, etcdTimeout)
	lease, err := l.lead.Grant(lctx, eventsTTL)
	cancel()
	if err != nil {
		return nil, err
	}
	pub := newPublisher(l.tenure, l.lead, sid, lease, l.opts.Logger)
	defer pub.Close()
	opts.StateDir, opts.Cluster, opts.Fence, opts.Leader = l.opts.StateDir, l.opts.Etcd, l.lead.Fence, l.addr
	opts.Records = recs
	opts.Observer, opts.Logger = pub, l.opts.Logger.With("submission", sid)
	if sub.Run != "" {
		// Taking over: the deposed leader may still be letting go of the
		// run's locks (its writes fail at once, its groups are stopped).
		opts.Wait = max(opts.Wait, takeoverWait)
	}
	logger.Info("running", "spec", sub.Spec, "resume", opts.Resume)
	return ld.Run(ctx, opts)
}

// committedBefore is the report of run, when a leader before this one
// committed it but died before publishing that: the run is not run again.
func committedBefore(ctx context.Context, recs *records, ld *jobs.Loaded, run string) (*jobs.Report, error) {
	if run == "" {
		return nil, nil
	}
	all, err := recs.Records(ctx, ld.Job.Name)
	if err != nil {
		return nil, err
	}
	for _, rec := range all {
		if statedir.IDString(rec.ID) == run && rec.State == statedir.Succeeded {
			return ld.CommittedReport(rec), nil
		}
	}
	return nil, nil
}
