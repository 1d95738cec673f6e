package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// Coordinators campaign for leadership with etcd's election
// (concurrency.Election) under leaderPrefix: every candidate has a key
// there under its session's lease, and the one with the oldest key leads.
// The leader key's creation revision is the leader's fence: every write a
// leader makes is a transaction that holds only while that key is still
// there with that revision, so a deposed leader (its lease expired while
// it was cut off from etcd) can change nothing.
const leaderPrefix = Prefix + "leader/"

// ErrNotLeader says a fenced write found that its leader was deposed.
var ErrNotLeader = errors.New("cluster: no longer the leader (fenced out)")

// Leadership is a coordinator's tenure as leader.
type Leadership struct {
	cli     *clientv3.Client
	session *concurrency.Session
	key     string
	// Fence is the election revision of this tenure: larger for every
	// later leader. Workers refuse assignments of a run under a smaller
	// fence than the largest they saw for it.
	Fence int64
}

// Candidate is a coordinator's place in the election.
type Candidate struct {
	cli      *clientv3.Client
	session  *concurrency.Session
	election *concurrency.Election
	addr     string
}

// NewCandidate enters the election as addr, under a session lease of ttl:
// it is listed as a coordinator from now on; Campaign waits to lead.
func NewCandidate(ctx context.Context, cli *clientv3.Client, addr string, ttl time.Duration) (*Candidate, error) {
	s, err := concurrency.NewSession(cli, concurrency.WithTTL(max(int(ttl/time.Second), 1)), concurrency.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("cluster: lease for coordinator %s: %w", addr, err)
	}
	return &Candidate{cli: cli, session: s, election: concurrency.NewElection(s, strings.TrimSuffix(leaderPrefix, "/")), addr: addr}, nil
}

// Listed waits until the candidate is in the election (its key, named
// by its lease as concurrency.Election names it, is there): from then on,
// clients find a coordinator up.
func (c *Candidate) Listed(ctx context.Context) error {
	key := fmt.Sprintf("%s%x", leaderPrefix, c.session.Lease())
	w := c.cli.Watch(ctx, key)
	for {
		resp, err := c.cli.Get(ctx, key)
		if err != nil {
			return fmt.Errorf("cluster: candidate %s: %w", c.addr, err)
		}
		if len(resp.Kvs) > 0 {
			return nil
		}
		if _, ok := <-w; !ok {
			return fmt.Errorf("cluster: candidate %s: %w", c.addr, context.Cause(ctx))
		}
	}
}

// Done is closed when the candidate's lease is gone (expired while etcd
// was out of reach, or revoked): it is then neither candidate nor leader.
func (c *Candidate) Done() <-chan struct{} { return c.session.Done() }

// Campaign waits until this candidate leads, ctx ends or its lease goes.
func (c *Candidate) Campaign(ctx context.Context) (*Leadership, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-c.session.Done():
			cancel()
		case <-ctx.Done():
		}
	}()
	if err := c.election.Campaign(ctx, c.addr); err != nil {
		return nil, fmt.Errorf("cluster: campaign as %s: %w", c.addr, err)
	}
	return &Leadership{cli: c.cli, session: c.session, key: c.election.Key(), Fence: c.election.Rev()}, nil
}

// Close leaves the election at once (resigning if leading), if etcd
// answers; else the lease expires on its own.
func (c *Candidate) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, _ = c.cli.Revoke(ctx, c.session.Lease())
	_ = c.session.Close()
}

// Done is closed when the tenure ends: its lease is gone.
func (l *Leadership) Done() <-chan struct{} { return l.session.Done() }

// Txn runs ops only while this tenure holds: ErrNotLeader if a later
// leader (or none) holds the election.
func (l *Leadership) Txn(ctx context.Context, ops ...clientv3.Op) error {
	_, err := l.TxnIf(ctx, nil, ops...)
	return err
}

// TxnIf runs ops only while this tenure holds and every cmp holds too;
// ok says whether the cmps held (ErrNotLeader when the tenure did not).
func (l *Leadership) TxnIf(ctx context.Context, cmps []clientv3.Cmp, ops ...clientv3.Op) (ok bool, err error) {
	fence := clientv3.Compare(clientv3.CreateRevision(l.key), "=", l.Fence)
	resp, err := l.cli.Txn(ctx).If(append([]clientv3.Cmp{fence}, cmps...)...).Then(ops...).Commit()
	if err != nil {
		return false, fmt.Errorf("cluster: fenced write: %w", err)
	}
	if resp.Succeeded {
		return true, nil
	}
	if len(cmps) == 0 {
		return false, ErrNotLeader
	}
	// Which failed? Ask again with the fence alone.
	resp, err = l.cli.Txn(ctx).If(fence).Commit()
	if err != nil {
		return false, fmt.Errorf("cluster: fenced write: %w", err)
	}
	if !resp.Succeeded {
		return false, ErrNotLeader
	}
	return false, nil
}

// Grant grants a lease of ttl (for records that should not outlive it).
func (l *Leadership) Grant(ctx context.Context, ttl time.Duration) (clientv3.LeaseID, error) {
	resp, err := l.cli.Grant(ctx, max(int64(ttl/time.Second), 1))
	if err != nil {
		return 0, fmt.Errorf("cluster: grant a lease: %w", err)
	}
	return resp.ID, nil
}

// Coordinator is one coordinator as the election lists it.
type Coordinator struct {
	Addr   string `json:"addr"`
	Leader bool   `json:"leader"`
	// Fence is its key's creation revision (the leader's is the fence).
	Fence int64 `json:"fence"`
}

// Coordinators lists the live coordinators, the leader first.
func Coordinators(ctx context.Context, cli *clientv3.Client) ([]Coordinator, error) {
	resp, err := cli.Get(ctx, leaderPrefix, clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByCreateRevision, clientv3.SortAscend))
	if err != nil {
		return nil, fmt.Errorf("cluster: list coordinators: %w", err)
	}
	cs := make([]Coordinator, len(resp.Kvs))
	for i, kv := range resp.Kvs {
		cs[i] = Coordinator{Addr: string(kv.Value), Leader: i == 0, Fence: kv.CreateRevision}
	}
	return cs, nil
}

// WatchLeader calls changed with the leader's address (empty: none) each
// time it changes, from now until ctx is done.
func WatchLeader(ctx context.Context, cli *clientv3.Client, changed func(addr string)) {
	last := "\x00"
	check := func() {
		cs, err := Coordinators(ctx, cli)
		if err != nil {
			return
		}
		addr := ""
		if len(cs) > 0 {
			addr = cs[0].Addr
		}
		if addr != last {
			last = addr
			changed(addr)
		}
	}
	check()
	for range cli.Watch(ctx, leaderPrefix, clientv3.WithPrefix()) {
		check()
	}
}

// keyName is the last element of an etcd key.
func keyName(key []byte) string {
	s := string(key)
	return s[strings.LastIndexByte(s, '/')+1:]
}
