package cluster

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/batchrun/batchrun/cluster/etcdtest"
)

// TestElectionAndFencing: the first candidate leads; a standby waits.
// When the leader's lease goes (as when it is cut off from etcd past its
// TTL), the standby leads with a larger fence, and every write of the
// deposed leader fails with ErrNotLeader and changes nothing.
func TestElectionAndFencing(t *testing.T) {
	srv := etcdtest.Start(t)
	ctx := context.Background()
	cli, err := Connect(ctx, srv.Endpoints)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	a, err := NewCandidate(ctx, cli, "a:1", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	la, err := a.Campaign(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewCandidate(ctx, cli, "b:1", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	won := make(chan *Leadership, 1)
	go func() {
		lb, err := b.Campaign(ctx)
		if err != nil {
			t.Error(err)
		}
		won <- lb
	}()
	if err := b.Listed(ctx); err != nil {
		t.Fatal(err)
	}
	cs, err := Coordinators(ctx, cli)
	if err != nil || len(cs) != 2 || cs[0].Addr != "a:1" || !cs[0].Leader || cs[1].Leader {
		t.Fatalf("coordinators %+v (%v), want a:1 leading, b:1 standing by", cs, err)
	}
	if err := la.PutRecord(ctx, "job", "r1", []byte("from a"), 0); err != nil {
		t.Fatal(err)
	}
	// a's lease goes the way an expiry does: no resignation.
	if _, err := cli.Revoke(ctx, a.session.Lease()); err != nil {
		t.Fatal(err)
	}
	lb := <-won
	if lb == nil || lb.Fence <= la.Fence {
		t.Fatalf("standby's fence %v, want it to lead with more than %d", lb, la.Fence)
	}
	if err := la.PutRecord(ctx, "job", "r1", []byte("from deposed a"), 0); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("deposed leader's write: %v, want ErrNotLeader", err)
	}
	if err := la.Finish(ctx, "s1", []byte("x")); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("deposed leader's result: %v, want ErrNotLeader", err)
	}
	recs, err := Records(ctx, cli, "job")
	if err != nil || len(recs) != 1 || string(recs[0]) != "from a" {
		t.Fatalf("records %q (%v), want only the write made while a led", recs, err)
	}
	if err := lb.PutRecord(ctx, "job", "r1", []byte("from b"), 0); err != nil {
		t.Fatalf("new leader's write: %v", err)
	}
	<-a.Done()
}

// TestSubmissionLifecycle: a submission is listed until the leader
// finishes it; Follow hears its events in order, then its result; a
// submission id is used once; an update of a withdrawn one is refused.
func TestSubmissionLifecycle(t *testing.T) {
	srv := etcdtest.Start(t)
	ctx := context.Background()
	cli, err := Connect(ctx, srv.Endpoints)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	c, err := NewCandidate(ctx, cli, "a:1", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	lead, err := c.Campaign(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rev, err := Submit(ctx, cli, "s1", []byte("job"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Submit(ctx, cli, "s1", []byte("again")); err == nil {
		t.Fatal("a submission id was accepted twice")
	}
	subs, _, err := Submissions(ctx, cli)
	if err != nil || len(subs) != 1 || subs[0].ID != "s1" || string(subs[0].Body) != "job" {
		t.Fatalf("submissions %+v (%v)", subs, err)
	}
	lease, err := lead.Grant(ctx, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range []string{"e0", "e1", "e2"} {
		if err := lead.PutEvents(ctx, "s1", i, []byte(e), lease); err != nil {
			t.Fatal(err)
		}
	}
	if err := lead.Finish(ctx, "s1", []byte("done")); err != nil {
		t.Fatal(err)
	}
	var events []string
	res, err := Follow(ctx, cli, "s1", rev, func(b []byte) { events = append(events, string(b)) })
	if err != nil || string(res) != "done" || len(events) != 3 || events[0] != "e0" || events[2] != "e2" {
		t.Fatalf("Follow = %q, %v; events %q", res, err, events)
	}
	if subs, _, _ := Submissions(ctx, cli); len(subs) != 0 {
		t.Errorf("finished submission still listed: %+v", subs)
	}
	if ok, err := lead.UpdateSubmission(ctx, "s1", []byte("late")); ok || err != nil {
		t.Errorf("update of a finished submission: %v, %v; want refused", ok, err)
	}
}
