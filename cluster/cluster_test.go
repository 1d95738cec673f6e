package cluster

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/batchrun/batchrun/cluster/etcdtest"
	"github.com/batchrun/batchrun/remote"
)

// TestMembership: announced workers are listed; one that stops is gone at
// once and one whose process dies (its lease is not kept alive) is gone
// when the lease expires, and the watch hears both.
func TestMembership(t *testing.T) {
	srv := etcdtest.Start(t)
	ctx := context.Background()
	cli, err := Connect(ctx, srv.Endpoints)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	a, err := Announce(ctx, cli, remote.WorkerInfo{Addr: "a:1", Slots: 2}, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Announce(ctx, cli, remote.WorkerInfo{Addr: "b:1", Slots: 3}, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	ws, rev, err := Workers(ctx, cli)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ws, []remote.WorkerInfo{{Addr: "a:1", Slots: 2}, {Addr: "b:1", Slots: 3}}) {
		t.Fatalf("workers %v", ws)
	}
	gone := make(chan string, 2)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go WatchGone(wctx, cli, rev+1, func(addr string) { gone <- addr })
	a.Close() // stops: deregistered at once
	if got := <-gone; got != "a:1" {
		t.Fatalf("gone %q, want a:1", got)
	}
	b.Orphan() // dies: no more keep-alives, the lease runs out
	select {
	case got := <-gone:
		if got != "b:1" {
			t.Fatalf("gone %q, want b:1", got)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("b:1's lease did not expire")
	}
	if ws, _, _ := Workers(ctx, cli); len(ws) != 0 {
		t.Errorf("workers %v after both left", ws)
	}
}
