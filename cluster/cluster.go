// Package cluster keeps batchrun's cluster membership in etcd: a worker
// announces itself under a lease (the lease is its liveness: when the
// worker dies, the lease expires and its key goes), and whoever schedules
// lists the live workers and hears when one goes.
//
// It owns: the key layout under Prefix and the announcement's format.
//
// It must not: build its own consensus, membership or failure detector:
// etcd's leases, watches and sessions are the mechanism.
package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"go.uber.org/zap"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"

	"github.com/batchrun/batchrun/remote"
)

// Prefix is where batchrun keeps its keys in etcd.
const Prefix = "batchrun/"

const workersPrefix = Prefix + "workers/"

// DefaultTTL is a worker lease's time to live: how long a dead worker
// stays listed.
const DefaultTTL = 10 * time.Second

// Connect opens an etcd client on endpoints ("host:port" or URLs). It
// lives until Close, whatever happens to ctx.
func Connect(ctx context.Context, endpoints []string) (*clientv3.Client, error) {
	// The client's own logger would print its retries on stderr; errors
	// reach the caller instead.
	cli, err := clientv3.New(clientv3.Config{Endpoints: endpoints, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		return nil, fmt.Errorf("cluster: connect to etcd %v: %w", endpoints, err)
	}
	return cli, nil
}

// Announce registers a worker under a lease of ttl, kept alive while ctx
// lasts: until the returned session is closed (which deregisters it at
// once, if ctx is not done yet), ctx ends, or the process dies (the lease
// then expires). With etcd away it waits for it, until ctx ends.
func Announce(ctx context.Context, cli *clientv3.Client, w remote.WorkerInfo, ttl time.Duration) (*concurrency.Session, error) {
	secs := max(int(ttl/time.Second), 1)
	s, err := concurrency.NewSession(cli, concurrency.WithTTL(secs), concurrency.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("cluster: lease for worker %s: %w", w.Addr, err)
	}
	data, err := json.Marshal(w)
	if err != nil {
		s.Close()
		return nil, err
	}
	if _, err := cli.Put(ctx, workersPrefix+w.Addr, string(data), clientv3.WithLease(s.Lease())); err != nil {
		s.Close()
		return nil, fmt.Errorf("cluster: announce worker %s: %w", w.Addr, err)
	}
	return s, nil
}

// Workers lists the live workers, and the etcd revision of that list
// (watch from the next one to hear of changes).
func Workers(ctx context.Context, cli *clientv3.Client) ([]remote.WorkerInfo, int64, error) {
	resp, err := cli.Get(ctx, workersPrefix, clientv3.WithPrefix())
	if err != nil {
		return nil, 0, fmt.Errorf("cluster: list workers: %w", err)
	}
	var ws []remote.WorkerInfo
	for _, kv := range resp.Kvs {
		var w remote.WorkerInfo
		if err := json.Unmarshal(kv.Value, &w); err != nil {
			return nil, 0, fmt.Errorf("cluster: worker %s: %w", kv.Key, err)
		}
		ws = append(ws, w)
	}
	return ws, resp.Header.Revision, nil
}

// WatchGone calls gone with a worker's address when its key goes (its
// lease expired, or it stopped), from etcd revision rev on, until ctx is
// done.
func WatchGone(ctx context.Context, cli *clientv3.Client, rev int64, gone func(addr string)) {
	for resp := range cli.Watch(ctx, workersPrefix, clientv3.WithPrefix(), clientv3.WithRev(rev)) {
		for _, ev := range resp.Events {
			if ev.Type == clientv3.EventTypeDelete {
				gone(strings.TrimPrefix(string(ev.Kv.Key), workersPrefix))
			}
		}
	}
}

const runsPrefix = Prefix + "runs/"

// RunInfo is a run in progress on the cluster, as the process scheduling
// it announces it.
type RunInfo struct {
	ID     string    `json:"id"`
	Job    string    `json:"job"`
	Leader string    `json:"leader"` // the scheduling process, host/pid
	Start  time.Time `json:"start"`
}

// AnnounceRun lists run r as running, under a lease of ttl, until the
// returned session is closed or its process dies.
func AnnounceRun(ctx context.Context, cli *clientv3.Client, r RunInfo, ttl time.Duration) (*concurrency.Session, error) {
	s, err := concurrency.NewSession(cli, concurrency.WithTTL(max(int(ttl/time.Second), 1)))
	if err != nil {
		return nil, fmt.Errorf("cluster: lease for run %s: %w", r.ID, err)
	}
	data, err := json.Marshal(r)
	if err != nil {
		s.Close()
		return nil, err
	}
	if _, err := cli.Put(ctx, runsPrefix+r.ID, string(data), clientv3.WithLease(s.Lease())); err != nil {
		s.Close()
		return nil, fmt.Errorf("cluster: announce run %s: %w", r.ID, err)
	}
	return s, nil
}

// Runs lists the runs in progress.
func Runs(ctx context.Context, cli *clientv3.Client) ([]RunInfo, error) {
	resp, err := cli.Get(ctx, runsPrefix, clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("cluster: list runs: %w", err)
	}
	var rs []RunInfo
	for _, kv := range resp.Kvs {
		var r RunInfo
		if err := json.Unmarshal(kv.Value, &r); err != nil {
			return nil, fmt.Errorf("cluster: run %s: %w", kv.Key, err)
		}
		rs = append(rs, r)
	}
	return rs, nil
}
