package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
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

// TestRunSubmitsToCoordinator: with a coordinator up, run --cluster
// submits the run to it; the exit codes are a local run's (0 with the
// summary, 4 for a malformed row, naming file, line and column), and
// cluster status names the leader. Without --etcd the coordinator refuses
// to start (exit 2).
func TestRunSubmitsToCoordinator(t *testing.T) {
	srv := etcdtest.Start(t)
	ep := srv.Endpoints[0]
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wready, wdone := make(chan string, 1), make(chan error, 1)
	go func() {
		wdone <- jobs.ServeWorker(ctx, jobs.WorkerOptions{Listen: "127.0.0.1:0", StateDir: t.TempDir(), Slots: 2,
			Cluster: []string{ep}, Ready: func(a string) { wready <- a }})
	}()
	select {
	case <-wready:
	case err := <-wdone:
		t.Fatal(err)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cdone := make(chan int, 1)
	go func() {
		cdone <- run(ctx, []string{"batchrun", "coordinator", "--etcd", ep, "--listen", "127.0.0.1:0", "--state-dir", t.TempDir(),
			"--lease", "1s", "--log-level", "error"}, pw, os.Stderr, Hooks{})
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "batchrun coordinator serving at ") {
		t.Fatalf("coordinator said %q (%v)", line, err)
	}
	addr := strings.TrimSpace(strings.TrimPrefix(line, "batchrun coordinator serving at "))
	if code, out, _ := runCLI(t, "cluster", "status", "--etcd", ep); code != ExitOK || !strings.Contains(out, addr+"  leader") {
		t.Errorf("status: exit %d, %q, want %s leading", code, out, addr)
	}
	dir := t.TempDir()
	spec := filepath.Join(dir, "copy.yaml")
	writeTestFile(t, spec, "name: copy\nsteps:\n  - id: in\n    read: {path: in.csv, schema: [\"k int64\"]}\n  - id: out\n    write: {path: out.csv}\n    input: in\n")
	writeTestFile(t, filepath.Join(dir, "in.csv"), "k\n1\n2\n")
	code, out, errOut := runCLI(t, "run", "--cluster", ep, "--progress=false", spec)
	if code != ExitOK || !strings.Contains(out, "2 rows written") {
		t.Fatalf("run --cluster: exit %d, %q, %q", code, out, errOut)
	}
	resp, err := http.Get("http://" + addr + "/api/runs")
	if err != nil {
		t.Fatal(err)
	}
	var runs []jobs.RunInfo
	err = json.NewDecoder(resp.Body).Decode(&runs)
	resp.Body.Close()
	if err != nil || len(runs) != 1 || runs[0].Job != "copy" || runs[0].State != "succeeded" {
		t.Errorf("the coordinator's UI lists %+v (%v), want the run it led", runs, err)
	}
	writeTestFile(t, filepath.Join(dir, "in.csv"), "k\n1\nx\n")
	code, _, errOut = runCLI(t, "run", "--cluster", ep, "--progress=false", spec)
	if code != ExitDataError || !strings.Contains(errOut, "in.csv:3") {
		t.Errorf("a malformed row on the cluster: exit %d, %q, want %d naming in.csv:3", code, errOut, ExitDataError)
	}
	cancel()
	if code := <-cdone; code != ExitOK {
		t.Errorf("coordinator exit %d after cancel", code)
	}
	if code, _, errOut := runCLI(t, "coordinator", "--state-dir", dir); code != ExitUsage || !strings.Contains(errOut, "--etcd") {
		t.Errorf("no --etcd: exit %d, %q, want %d", code, errOut, ExitUsage)
	}
}

func writeTestFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestWorkerMetricsFlag: batchrun worker --metrics-listen serves its
// metrics at /metrics (the flag once went nowhere).
func TestWorkerMetricsFlag(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	maddr := lis.Addr().String()
	lis.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"batchrun", "worker", "--listen", "127.0.0.1:0", "--state-dir", t.TempDir(),
			"--slots", "3", "--metrics-listen", maddr, "--log-level", "error"}, pw, os.Stderr, Hooks{})
	}()
	if line, err := bufio.NewReader(pr).ReadString('\n'); err != nil || !strings.HasPrefix(line, "batchrun worker serving at ") {
		t.Fatalf("worker said %q (%v)", line, err)
	}
	resp, err := http.Get("http://" + maddr + "/metrics")
	if err != nil {
		t.Fatalf("--metrics-listen %s: %v", maddr, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "batchrun_worker_slots 3") {
		t.Errorf("/metrics lacks the worker's slots:\n%s", body)
	}
	cancel()
	if code := <-done; code != ExitOK {
		t.Errorf("worker exit %d", code)
	}
}
