package integration

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/batchrun/batchrun/cluster"
	"github.com/batchrun/batchrun/cluster/etcdtest"
	"github.com/batchrun/batchrun/coordinator"
	"github.com/batchrun/batchrun/jobs"
)

var discard = slog.New(slog.DiscardHandler)

var leaderSeeds = flag.Int("leader.seeds", 20, "seeds for TestLeaderKilled (the issue's bar is 20)")

// coordinatorProcess is a `batchrun coordinator` child process.
type coordinatorProcess struct {
	cmd  *exec.Cmd
	addr string
}

func startCoordinatorProcess(t *testing.T, bin string, endpoints []string) *coordinatorProcess {
	t.Helper()
	logs, err := os.Create(filepath.Join(t.TempDir(), "coordinator.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		logs.Close()
		if t.Failed() || os.Getenv("BATCHRUN_TEST_LOGS") != "" {
			data, _ := os.ReadFile(logs.Name())
			t.Logf("coordinator log:\n%s", data)
		}
	})
	cmd, addr := startChild(t, bin, logs, "batchrun coordinator serving at ", "coordinator", "--listen", "127.0.0.1:0",
		"--state-dir", t.TempDir(), "--etcd", strings.Join(endpoints, ","), "--lease", "1s", "--log-level", "info")
	return &coordinatorProcess{cmd: cmd, addr: addr}
}

// kill is kill -9: its lease runs out on its own.
func (c *coordinatorProcess) kill() {
	if c.cmd.ProcessState == nil {
		_ = c.cmd.Process.Signal(syscall.SIGKILL)
		_ = c.cmd.Wait()
	}
}

// submission is the Submission of an example staged for a test.
func submission(t *testing.T, ex example, cfg runConfig, restart string) (coordinator.Submission, string) {
	t.Helper()
	specPath, dir := stageExample(t, ex.name)
	return coordinator.Submission{Spec: specPath, Load: jobs.FileOptions{Parallelism: cfg.parallelism, Mode: cfg.mode},
		Restart: restart}, filepath.Join(dir, ex.output)
}

// leaderOf is the address of the coordinator leading in etcd.
func leaderOf(t *testing.T, endpoints []string) string {
	t.Helper()
	cli, err := cluster.Connect(context.Background(), endpoints)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	cs, err := cluster.Coordinators(context.Background(), cli)
	if err != nil || len(cs) == 0 {
		t.Fatalf("no leader: %v", err)
	}
	return cs[0].Addr
}

// TestSubmitToCoordinators: with coordinators up, a submitted run is
// scheduled by the leader on the workers; its answer is the local run's,
// and every attempt names the leader.
func TestSubmitToCoordinators(t *testing.T) {
	bin := buildBinary(t)
	srv := etcdtest.Start(t)
	etcdWorkers(t, srv.Endpoints, 3, 2)
	for range 2 {
		startCoordinatorProcess(t, bin, srv.Endpoints)
	}
	ex := exampleNamed(t, "revenue-by-segment")
	want := ex.answer(t, filepath.Join(examplesDir(t), "data"))
	sub, out := submission(t, ex, runConfig{"all-blocking", 4}, "")
	var seen counter
	r, err := coordinator.Submit(context.Background(), srv.Endpoints, sub, &seen, discard)
	if err != nil {
		t.Fatal(err)
	}
	checkOutput(t, ex, out, want)
	lead := leaderOf(t, srv.Endpoints)
	if len(r.Attempts) == 0 || seen.n != len(r.Attempts) {
		t.Errorf("the client heard of %d attempt ends, the report lists %d", seen.n, len(r.Attempts))
	}
	for _, a := range r.Attempts {
		if a.Leader != lead {
			t.Fatalf("attempt %s scheduled by %q, want the leader %s", a.Subtask, a.Leader, lead)
		}
	}
}

// counter counts subtask ends.
type counter struct {
	mu sync.Mutex
	n  int
}

func (c *counter) SubtaskFinished(int, int, int64, error) {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
}

// TestSubmissionErrors: a run the leader refuses or that fails comes back
// to the client with its class, so that exit codes match a local run's.
func TestSubmissionErrors(t *testing.T) {
	bin := buildBinary(t)
	srv := etcdtest.Start(t)
	etcdWorkers(t, srv.Endpoints, 1, 2)
	startCoordinatorProcess(t, bin, srv.Endpoints)
	ex := exampleNamed(t, "revenue-by-segment")
	cases := []struct {
		name  string
		edit  func(*coordinator.Submission)
		class jobs.ErrorClass
	}{
		{"missing spec", func(s *coordinator.Submission) { s.Spec += ".gone" }, jobs.ClassSpec},
		{"bad restart", func(s *coordinator.Submission) { s.Restart = "sometimes" }, jobs.ClassUsage},
		{"task fails for good", func(s *coordinator.Submission) {
			s.Faults, s.Restart = []string{"error:users[0]"}, "none"
		}, jobs.ClassFailed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sub, _ := submission(t, ex, runConfig{"all-blocking", 2}, "")
			c.edit(&sub)
			_, err := coordinator.Submit(context.Background(), srv.Endpoints, sub, nil, discard)
			if err == nil || jobs.Classify(err) != c.class {
				t.Fatalf("Submit = %v (class %q), want class %q", err, jobs.Classify(err), c.class)
			}
		})
	}
}

// killLeaderAfter is a client's observer that kill -9s the leading
// coordinator when the n-th attempt end arrives, and keeps which
// subtasks it heard succeed before that.
type killLeaderAfter struct {
	mu        sync.Mutex
	n         int
	kill      func() string
	killed    string
	succeeded map[[2]int]bool
}

func (k *killLeaderAfter) SubtaskFinished(stage, index int, _ int64, err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.killed != "" {
		return
	}
	if err == nil {
		k.succeeded[[2]int{stage, index}] = true
	}
	if k.n--; k.n == 0 {
		k.killed = k.kill()
	}
}

// TestLeaderKilled kill -9s the leading coordinator after a seeded number
// of attempt ends (every fourth seed a worker too, at the same moment):
// the standby takes over within the lease, continues the run from etcd's
// record and the workers' partitions, and the answer is the local run's.
// No subtask that the client heard succeed under the old leader runs again
// under the new one, unless a killed worker held its output.
func TestLeaderKilled(t *testing.T) {
	bin := buildBinary(t)
	srv := etcdtest.Start(t)
	var ws []*workerProcess
	for range 3 {
		ws = append(ws, startWorkerProcess(t, bin, srv.Endpoints, 2))
	}
	ex := exampleNamed(t, "revenue-by-segment")
	want := ex.answer(t, filepath.Join(examplesDir(t), "data"))
	coords := map[string]*coordinatorProcess{}
	takeovers := 0
	parent := t // coordinators and workers outlive a seed's subtest
	for seed := uint64(1); seed <= uint64(*leaderSeeds); seed++ {
		t.Run(fmt.Sprintf("seed-%d", seed), func(t *testing.T) {
			for len(coords) < 2 {
				c := startCoordinatorProcess(parent, bin, srv.Endpoints)
				coords[c.addr] = c
			}
			rng := rand.New(rand.NewPCG(seed, 20))
			alsoWorker := seed%4 == 0
			victim := rng.IntN(len(ws))
			k := &killLeaderAfter{n: 1 + rng.IntN(13), succeeded: map[[2]int]bool{}, kill: func() string {
				lead := leaderOf(t, srv.Endpoints)
				coords[lead].kill()
				delete(coords, lead)
				if alsoWorker {
					ws[victim].kill()
				}
				return lead
			}}
			sub, out := submission(t, ex, runConfig{"all-blocking", 4}, "fixed-delay:attempts=10,delay=0s")
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			r, err := coordinator.Submit(ctx, srv.Endpoints, sub, k, discard)
			if alsoWorker {
				ws[victim] = startWorkerProcess(parent, bin, srv.Endpoints, 2)
			}
			if err != nil {
				t.Fatalf("after killing the leader: %v", err)
			}
			checkOutput(t, ex, out, want)
			k.mu.Lock()
			defer k.mu.Unlock()
			if k.killed == "" || !r.Resumed {
				return // the run ended before the kill landed
			}
			takeovers++
			ran := 0
			for _, a := range r.Attempts {
				if a.Leader != k.killed {
					ran++
				}
			}
			t.Logf("killed %s (and a worker: %v) after %d succeeded; the next leader reused %d subtasks and ran %d attempts",
				k.killed, alsoWorker, len(k.succeeded), len(r.Reused), ran)
			if !alsoWorker {
				assertNotRunAgain(t, r, k)
			}
			// The report keeps what the dead leader ran, under its name.
			if n := len(k.succeeded); n > 0 && !slices.ContainsFunc(r.Attempts, func(a jobs.AttemptReport) bool { return a.Leader == k.killed }) {
				t.Errorf("the client heard %d attempts succeed under %s, the report lists none of its attempts", n, k.killed)
			}
		})
	}
	if takeovers == 0 {
		t.Error("no run was taken over: the kills hit nothing that mattered")
	}
}

// assertNotRunAgain: no subtask the client heard succeed before the kill
// ran under the next leader: not those with blocking outputs (the workers
// hold them), nor the writers of the output (their part files are in
// place and the run's record lists them).
func assertNotRunAgain(t *testing.T, r *jobs.Report, k *killLeaderAfter) {
	t.Helper()
	for st := range k.succeeded {
		name := fmt.Sprintf("%s[%d]", r.Stages[st[0]].Name, st[1])
		if slices.ContainsFunc(r.Attempts, func(a jobs.AttemptReport) bool { return a.Subtask == name && a.Leader != k.killed }) {
			t.Errorf("%s succeeded under %s and ran again under the next leader", name, k.killed)
		}
	}
}

// TestEtcdOutageUnderCoordinators stops etcd mid-run for longer than the
// coordinators' leases, then starts it again: the leader stops scheduling
// when its lease goes (no split brain), a leader is elected once etcd is
// back, and the run ends with the local run's answer.
func TestEtcdOutageUnderCoordinators(t *testing.T) {
	bin := buildBinary(t)
	srv := etcdtest.Start(t)
	for range 3 {
		startWorkerProcess(t, bin, srv.Endpoints, 2)
	}
	for range 2 {
		startCoordinatorProcess(t, bin, srv.Endpoints)
	}
	ex := exampleNamed(t, "revenue-by-segment")
	want := ex.answer(t, filepath.Join(examplesDir(t), "data"))
	sub, out := submission(t, ex, runConfig{"all-blocking", 4}, "fixed-delay:attempts=10,delay=0s")
	restarted := make(chan struct{})
	// now: the client stops following while etcd is away.
	outage := &killAfter{n: 4, now: true, kill: func() {
		defer close(restarted)
		srv.Stop()
		// The outage must outlast the coordinators' 1s leases; this is
		// the fault's length, not a wait for anything.
		time.Sleep(3 * time.Second)
		srv.Restart(t)
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r, err := coordinator.Submit(ctx, srv.Endpoints, sub, outage, discard)
	if err != nil {
		t.Fatalf("after an etcd outage: %v", err)
	}
	checkOutput(t, ex, out, want)
	select {
	case <-restarted:
	default:
		t.Fatal("the run ended before the outage")
	}
	if r.Status != "succeeded" {
		t.Errorf("status %s", r.Status)
	}
}

// TestWithdrawnSubmission: a client interrupted mid-run withdraws its
// submission and returns once the leader stopped the run, so that the
// next submission of the job, at once, is not refused for the job's lock;
// it resumes the run to the local run's answer.
func TestWithdrawnSubmission(t *testing.T) {
	bin := buildBinary(t)
	srv := etcdtest.Start(t)
	etcdWorkers(t, srv.Endpoints, 2, 4)
	startCoordinatorProcess(t, bin, srv.Endpoints)
	ex := exampleNamed(t, "revenue-by-segment")
	want := ex.answer(t, filepath.Join(examplesDir(t), "data"))
	sub, out := submission(t, ex, runConfig{"all-blocking", 4}, "")
	ctx, cancel := context.WithCancel(context.Background())
	_, err := coordinator.Submit(ctx, srv.Endpoints, sub, &killAfter{n: 3, kill: cancel, now: true}, discard)
	if err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted client: %v, want context.Canceled (or nil: the run ended first)", err)
	}
	r, err := coordinator.Submit(context.Background(), srv.Endpoints, sub, nil, discard)
	if err != nil {
		t.Fatalf("the next submission: %v", err)
	}
	checkOutput(t, ex, out, want)
	// Resumed unless the withdrawn run ended before its withdrawal landed.
	t.Logf("the next submission resumed: %v (reused %d)", r.Resumed, len(r.Reused))
}
