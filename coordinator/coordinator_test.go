package coordinator

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/batchrun/batchrun/cluster"
	"github.com/batchrun/batchrun/cluster/etcdtest"
	"github.com/batchrun/batchrun/jobs/commit"
	"github.com/batchrun/batchrun/jobs/statedir"
)

const spec = `name: copy
steps:
  - id: words
    read: {path: words.txt, schema: ["word string"]}
  - id: out
    write: {path: out.csv}
    input: words
`

// TestCommittedBeforeLeaderDied: a leader committed a submission's run
// and died before publishing the result. The next leader finds the run
// succeeded in etcd's record and publishes that, without running anything
// (no worker is even up) or touching the output.
func TestCommittedBeforeLeaderDied(t *testing.T) {
	srv := etcdtest.Start(t)
	ctx := context.Background()
	dir := t.TempDir()
	specPath := filepath.Join(dir, "copy.yaml")
	for name, data := range map[string]string{"copy.yaml": spec, "words.txt": "word\na\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cli, err := cluster.Connect(ctx, srv.Endpoints)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	// The dead leader's doings: the run's record (succeeded) and the
	// submission noting the run.
	old, err := cluster.NewCandidate(ctx, cli, "old:1", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	lead, err := old.Campaign(ctx)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(-time.Minute)
	rec := statedir.Record{ID: 42, Job: "copy", Spec: specPath, State: statedir.Succeeded, Start: start, End: start.Add(time.Second),
		Invocations: 1, Commit: &commit.Plan{Committed: true, Entries: []commit.Entry{{Name: "out", Target: filepath.Join(dir, "out.csv")}}}}
	body, _ := json.Marshal(rec)
	if err := lead.PutRecord(ctx, "copy", statedir.IDString(42), body, 0); err != nil {
		t.Fatal(err)
	}
	sub, _ := json.Marshal(Submission{Spec: specPath, Run: statedir.IDString(42)})
	rev, err := cluster.Submit(ctx, cli, "s1", sub)
	if err != nil {
		t.Fatal(err)
	}
	old.Close()

	sctx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() {
		served <- Serve(sctx, Options{Etcd: srv.Endpoints, Listen: "127.0.0.1:0", StateDir: t.TempDir(), TTL: time.Second})
	}()
	defer func() { stop(); <-served }()
	data, err := cluster.Follow(ctx, cli, "s1", rev, func([]byte) { t.Error("progress from a run that should not run") })
	if err != nil {
		t.Fatal(err)
	}
	var res Result
	if err := json.Unmarshal(data, &res); err != nil {
		t.Fatal(err)
	}
	if res.Error != "" || res.Report == nil || res.Report.Status != "succeeded" || res.Report.Run != statedir.IDString(42) ||
		len(res.Report.Outputs) != 1 || len(res.Report.Attempts) != 0 {
		t.Fatalf("result %+v, want run 42 succeeded as recorded, with nothing run", res)
	}
	if _, err := os.Stat(filepath.Join(dir, "out.csv")); !os.IsNotExist(err) {
		t.Errorf("the output was written again: %v", err)
	}
}

// TestEtcdAwayAtStartup: a coordinator whose etcd does not answer fails
// (after the timeout) instead of waiting silently.
func TestEtcdAwayAtStartup(t *testing.T) {
	defer func(d time.Duration) { etcdTimeout = d }(etcdTimeout)
	etcdTimeout = 300 * time.Millisecond
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close() // accepts, never answers
	err = Serve(context.Background(), Options{Etcd: []string{lis.Addr().String()}, Listen: "127.0.0.1:0", StateDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "did not answer") {
		t.Fatalf("Serve = %v, want etcd did not answer", err)
	}
}
