package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/batchrun/batchrun/cluster/etcdtest"
	"github.com/batchrun/batchrun/jobs"
)

// runCLI runs the command line with args and returns its exit code,
// stdout and stderr.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	dir := t.TempDir()
	out, err := os.Create(filepath.Join(dir, "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	errf, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer errf.Close()
	code := run(context.Background(), append([]string{"batchrun"}, args...), out, errf, Hooks{})
	o, _ := os.ReadFile(out.Name())
	e, _ := os.ReadFile(errf.Name())
	return code, string(o), string(e)
}

// TestClusterStatus: cluster status lists the workers registered in etcd
// with their slots, and refuses to run without --etcd (exit 2).
func TestClusterStatus(t *testing.T) {
	srv := etcdtest.Start(t)
	ep := srv.Endpoints[0]
	if code, out, _ := runCLI(t, "cluster", "status", "--etcd", ep); code != ExitOK || !strings.Contains(out, "0 workers") {
		t.Fatalf("empty cluster: exit %d, %q", code, out)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan string, 1), make(chan error, 1)
	go func() {
		done <- jobs.ServeWorker(ctx, jobs.WorkerOptions{Listen: "127.0.0.1:0", StateDir: t.TempDir(), Slots: 3,
			Cluster: []string{ep}, Ready: func(a string) { ready <- a }})
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatal(err)
	}
	code, out, _ := runCLI(t, "cluster", "status", "--etcd", ep)
	if code != ExitOK || !strings.Contains(out, addr+"  3") || !strings.Contains(out, "1 workers") {
		t.Errorf("one worker: exit %d, %q, want %s with 3 slots", code, out, addr)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if code, out, _ := runCLI(t, "cluster", "status", "--etcd", ep); code != ExitOK || !strings.Contains(out, "0 workers") {
		t.Errorf("after the worker stopped: exit %d, %q, want it gone at once", code, out)
	}
	if code, _, errOut := runCLI(t, "cluster", "status"); code != ExitUsage || !strings.Contains(errOut, "--etcd") {
		t.Errorf("no --etcd: exit %d, %q, want %d", code, errOut, ExitUsage)
	}
}
