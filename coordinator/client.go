package coordinator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/batchrun/batchrun/cluster"
	"github.com/batchrun/batchrun/jobs"
)

// Available reports whether any coordinator is up in the etcd at
// endpoints: `batchrun run --cluster` then submits to the leader rather
// than scheduling in its own process.
func Available(ctx context.Context, endpoints []string) (bool, error) {
	cli, err := cluster.Connect(ctx, endpoints)
	if err != nil {
		return false, err
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(ctx, etcdTimeout)
	defer cancel()
	cs, err := cluster.Coordinators(ctx, cli)
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("coordinator: etcd at %v did not answer in %v: %w", endpoints, etcdTimeout, err)
	}
	return len(cs) > 0, err
}

// Submit submits sub to the coordinators at endpoints and follows its run
// to the end, wherever the lead goes meanwhile: each subtask's end goes
// to obs (progress), and the run's report and error are the leader's.
// Cancelling ctx withdraws the submission (the leader stops the run).
func Submit(ctx context.Context, endpoints []string, sub Submission, obs jobs.Observer, logger *slog.Logger) (*jobs.Report, error) {
	cli, err := cluster.Connect(ctx, endpoints)
	if err != nil {
		return nil, err
	}
	defer cli.Close()
	host, _ := os.Hostname()
	sub.Client, sub.Submitted = fmt.Sprintf("%s/%d", host, os.Getpid()), time.Now()
	body, err := json.Marshal(sub)
	if err != nil {
		return nil, err
	}
	sid := fmt.Sprintf("%016x-%08x", sub.Submitted.UnixNano(), rand.Uint32())
	sctx, cancel := context.WithTimeout(ctx, etcdTimeout)
	rev, err := cluster.Submit(sctx, cli, sid, body)
	cancel()
	if err != nil {
		return nil, err
	}
	logger.Info("submitted", "submission", sid)
	wctx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go cluster.WatchLeader(wctx, cli, func(addr string) {
		if addr == "" {
			logger.Warn("no coordinator leads now; the run waits for one", "submission", sid)
		} else {
			logger.Info("leader", "addr", addr, "submission", sid)
		}
	})
	var heard []jobs.AttemptReport
	data, err := cluster.Follow(ctx, cli, sid, rev, func(b []byte) {
		attempts, err := decodeEvents(b, obs)
		if err != nil {
			logger.Warn("progress", "err", err)
		}
		heard = append(heard, attempts...)
	})
	if err != nil {
		if ctx.Err() != nil {
			withdraw(cli, sid, rev, logger)
		}
		return nil, err
	}
	var res Result
	if err := json.Unmarshal(data, &res); err != nil {
		return nil, fmt.Errorf("coordinator: bad result of submission %s: %w", sid, err)
	}
	if res.Report != nil {
		mergeAttempts(res.Report, heard)
	}
	return res.Report, res.err()
}

// withdrawWait bounds how long an interrupted client waits for the
// leader to stop its run.
const withdrawWait = 30 * time.Second

// withdraw removes the submission of a client that stops following it,
// and waits (a while) for the leader to say the run stopped: as a local
// run interrupted, the client returns once the run let go of its locks,
// so that running the job again at once is not refused.
func withdraw(cli *clientv3.Client, sid string, rev int64, logger *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), withdrawWait)
	defer cancel()
	if err := cluster.Withdraw(ctx, cli, sid); err != nil {
		logger.Warn("withdraw the submission; the run may go on", "submission", sid, "err", err)
		return
	}
	if _, err := cluster.Follow(ctx, cli, sid, rev, func([]byte) {}); err != nil {
		logger.Warn("the leader did not say the run stopped", "submission", sid, "err", err)
	}
}
