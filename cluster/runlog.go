package cluster

import (
	"context"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// The run log: what a client submits, what the leader reports back, and
// the run records the leader keeps, so that a new leader rebuilds every
// run exactly. Values are opaque here (the coordinator's JSON).
//
//	batchrun/submissions/<sid>                     a submitted run, until it ends
//	batchrun/output/<sid>/events/<fence>-<seq>     progress, in order (leased)
//	batchrun/output/<sid>/result                   how it ended (leased)
//	batchrun/records/<job>/<run>                   run records (statedir.Record)
const (
	submissionsPrefix = Prefix + "submissions/"
	outputPrefix      = Prefix + "output/"
	recordsPrefix     = Prefix + "records/"
)

// Submit adds submission sid, which must be new; rev is the etcd revision
// it was added at (watch its output from there).
func Submit(ctx context.Context, cli *clientv3.Client, sid string, body []byte) (rev int64, err error) {
	key := submissionsPrefix + sid
	resp, err := cli.Txn(ctx).If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
		Then(clientv3.OpPut(key, string(body))).Commit()
	if err != nil {
		return 0, fmt.Errorf("cluster: submit %s: %w", sid, err)
	}
	if !resp.Succeeded {
		return 0, fmt.Errorf("cluster: submission %s exists already", sid)
	}
	return resp.Header.Revision, nil
}

// Withdraw removes submission sid: the leader cancels its run.
func Withdraw(ctx context.Context, cli *clientv3.Client, sid string) error {
	if _, err := cli.Delete(ctx, submissionsPrefix+sid); err != nil {
		return fmt.Errorf("cluster: withdraw %s: %w", sid, err)
	}
	return nil
}

// Submission is a submitted run not ended yet.
type Submission struct {
	ID   string
	Body []byte
}

// Submissions lists the pending submissions, oldest first, and the
// revision of that list.
func Submissions(ctx context.Context, cli *clientv3.Client) ([]Submission, int64, error) {
	resp, err := cli.Get(ctx, submissionsPrefix, clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByCreateRevision, clientv3.SortAscend))
	if err != nil {
		return nil, 0, fmt.Errorf("cluster: list submissions: %w", err)
	}
	subs := make([]Submission, len(resp.Kvs))
	for i, kv := range resp.Kvs {
		subs[i] = Submission{ID: keyName(kv.Key), Body: kv.Value}
	}
	return subs, resp.Header.Revision, nil
}

// WatchSubmissions calls put for each submission added or rewritten and
// gone for each removed, from revision rev until ctx is done.
func WatchSubmissions(ctx context.Context, cli *clientv3.Client, rev int64, put func(Submission), gone func(sid string)) {
	for resp := range cli.Watch(ctx, submissionsPrefix, clientv3.WithPrefix(), clientv3.WithRev(rev)) {
		for _, ev := range resp.Events {
			if ev.Type == clientv3.EventTypeDelete {
				gone(keyName(ev.Kv.Key))
			} else {
				put(Submission{ID: keyName(ev.Kv.Key), Body: ev.Kv.Value})
			}
		}
	}
}

// UpdateSubmission rewrites submission sid while it is pending (the
// leader notes the run it started for it); false when it is gone.
func (l *Leadership) UpdateSubmission(ctx context.Context, sid string, body []byte) (bool, error) {
	key := submissionsPrefix + sid
	return l.TxnIf(ctx, []clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(key), ">", 0)}, clientv3.OpPut(key, string(body)))
}

func eventKey(sid string, fence int64, seq int) string {
	return fmt.Sprintf("%s%s/events/%016x-%08x", outputPrefix, sid, fence, seq)
}

// PutEvents adds the seq-th batch of progress events of submission sid
// under lease.
func (l *Leadership) PutEvents(ctx context.Context, sid string, seq int, body []byte, lease clientv3.LeaseID) error {
	return l.Txn(ctx, clientv3.OpPut(eventKey(sid, l.Fence, seq), string(body), clientv3.WithLease(lease)))
}

// resultTTL is how long a result waits for its client to read it.
const resultTTL = time.Hour

// Finish ends submission sid: its result is published (for an hour) and
// the submission removed, in one fenced transaction.
func (l *Leadership) Finish(ctx context.Context, sid string, result []byte) error {
	lease, err := l.Grant(ctx, resultTTL)
	if err != nil {
		return err
	}
	return l.Txn(ctx, clientv3.OpPut(outputPrefix+sid+"/result", string(result), clientv3.WithLease(lease)),
		clientv3.OpDelete(submissionsPrefix+sid))
}

// Follow calls event with each batch of progress events of submission
// sid from revision rev on, in order, and returns its result once there.
func Follow(ctx context.Context, cli *clientv3.Client, sid string, rev int64, event func([]byte)) ([]byte, error) {
	prefix := outputPrefix + sid + "/"
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for resp := range cli.Watch(ctx, prefix, clientv3.WithPrefix(), clientv3.WithRev(rev)) {
		if err := resp.Err(); err != nil && resp.Canceled {
			return nil, fmt.Errorf("cluster: follow %s: %w", sid, err)
		}
		for _, ev := range resp.Events {
			if ev.Type != clientv3.EventTypePut {
				continue
			}
			name := strings.TrimPrefix(string(ev.Kv.Key), prefix)
			if name == "result" {
				return ev.Kv.Value, nil
			}
			event(ev.Kv.Value)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, context.Cause(ctx)
	}
	return nil, fmt.Errorf("cluster: follow %s: the watch ended", sid)
}

func recordKey(job string, run string) string {
	return recordsPrefix + hex.EncodeToString([]byte(job)) + "/" + run
}

// PutRecord writes run's record of job; a final one (the run succeeded
// or was superseded) goes under lease, so that it does not stay forever.
func (l *Leadership) PutRecord(ctx context.Context, job, run string, body []byte, lease clientv3.LeaseID) error {
	var opts []clientv3.OpOption
	if lease != 0 {
		opts = append(opts, clientv3.WithLease(lease))
	}
	return l.Txn(ctx, clientv3.OpPut(recordKey(job, run), string(body), opts...))
}

// Records returns the run records of job.
func Records(ctx context.Context, cli *clientv3.Client, job string) ([][]byte, error) {
	resp, err := cli.Get(ctx, recordsPrefix+hex.EncodeToString([]byte(job))+"/", clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("cluster: records of %s: %w", job, err)
	}
	out := make([][]byte, len(resp.Kvs))
	for i, kv := range resp.Kvs {
		out[i] = kv.Value
	}
	return out, nil
}
