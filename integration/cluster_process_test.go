package integration

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/batchrun/batchrun/cluster/etcdtest"
	"github.com/batchrun/batchrun/jobs"
)

var clusterSeeds = flag.Int("cluster.seeds", 8, "seeds for TestWorkerProcessKilled (the issue's bar is 50)")

// workerProcess is a `batchrun worker --etcd` child process.
type workerProcess struct {
	cmd  *exec.Cmd
	addr string
}

func startWorkerProcess(t *testing.T, bin string, endpoints []string, slots int) *workerProcess {
	t.Helper()
	return startWorkerProcessIn(t, bin, endpoints, slots, t.TempDir())
}

// startWorkerProcessIn starts a worker on state directory dir.
func startWorkerProcessIn(t *testing.T, bin string, endpoints []string, slots int, dir string) *workerProcess {
	t.Helper()
	cmd, addr := startChild(t, bin, nil, "batchrun worker serving at ", "worker", "--listen", "127.0.0.1:0", "--state-dir", dir,
		"--slots", fmt.Sprint(slots), "--etcd", strings.Join(endpoints, ","), "--lease", "2s", "--log-level", "error")
	w := &workerProcess{cmd: cmd, addr: addr}
	t.Cleanup(w.kill)
	return w
}

// startChild starts bin with args, its stderr to stderr (nil: dropped),
// and returns it with the address its first line of output gives after
// prefix; it is killed -9 when the test ends.
func startChild(t *testing.T, bin string, stderr io.Writer, prefix string, args ...string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Signal(syscall.SIGKILL)
			_ = cmd.Wait()
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), prefix)
	if err != nil || !ok {
		t.Fatalf("%s said %q (%v), want its address", args[0], line, err)
	}
	return cmd, addr
}

// kill is kill -9: no goodbye, the lease runs out on its own.
func (w *workerProcess) kill() {
	if w.cmd.ProcessState == nil {
		_ = w.cmd.Process.Signal(syscall.SIGKILL)
		_ = w.cmd.Wait()
	}
}

// TestWorkerProcessKilled runs an example on three worker processes
// registered in etcd and kill -9s one of them after a seeded number of
// attempts ended: the answer is the local run's, and the loss counts once.
func TestWorkerProcessKilled(t *testing.T) {
	bin := buildBinary(t)
	srv := etcdtest.Start(t)
	ex := exampleNamed(t, "revenue-by-segment")
	want := ex.answer(t, filepath.Join(examplesDir(t), "data"))
	losses := 0
	for seed := uint64(1); seed <= uint64(*clusterSeeds); seed++ {
		t.Run(fmt.Sprintf("seed-%d", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 13))
			var ws []*workerProcess
			for range 3 {
				ws = append(ws, startWorkerProcess(t, bin, srv.Endpoints, 2))
			}
			victim := ws[rng.IntN(3)]
			after := 1 + rng.IntN(14)
			r, out := runExample(t, ex, runConfig{"all-blocking", 4}, jobs.RunOptions{Cluster: srv.Endpoints,
				Observer: &killAfter{n: after, kill: victim.kill}, Restart: restartOf(t, "fixed-delay:attempts=10,delay=0s")})
			checkOutput(t, ex, out, want)
			counted := 0
			for _, f := range r.Failovers {
				if strings.Contains(f.Cause, "worker "+victim.addr+" lost") && !f.Aftermath {
					counted++
				}
			}
			if counted > 1 {
				t.Errorf("kill -9 of %s after %d attempts counted %d times: %+v", victim.addr, after, counted, r.Failovers)
			}
			losses += counted
		})
	}
	if losses == 0 {
		t.Error("no run counted a killed worker: the kills hit nothing that mattered")
	}
}

// TestResumeOnRestartedWorkers: every worker process is killed -9 once the
// first stages have committed, so the run fails; the workers restart on
// their state directories, and the run again resumes: the live workers
// say which of its partitions they still hold (each verified), those
// regions are reused, not run again, and the answer is the local run's.
func TestResumeOnRestartedWorkers(t *testing.T) {
	bin := buildBinary(t)
	srv := etcdtest.Start(t)
	ex := exampleNamed(t, "revenue-by-segment")
	want := ex.answer(t, filepath.Join(examplesDir(t), "data"))
	dirs := []string{t.TempDir(), t.TempDir(), t.TempDir()}
	start := func() []*workerProcess {
		var ws []*workerProcess
		for _, d := range dirs {
			ws = append(ws, startWorkerProcessIn(t, bin, srv.Endpoints, 2, d))
		}
		return ws
	}
	ws := start()
	state := t.TempDir()
	// users and events (4 subtasks each at p4) commit before bysegment runs.
	killAll := func() {
		for _, w := range ws {
			w.kill()
		}
	}
	opts := jobs.RunOptions{Cluster: srv.Endpoints, StateDir: state, Observer: &killAfter{n: 8, kill: killAll, now: true},
		Restart: restartOf(t, "fixed-delay:attempts=2,delay=0s")}
	specPath, _ := stageExample(t, ex.name)
	l, err := jobs.LoadFile(specPath, jobs.FileOptions{Parallelism: 4, Mode: "all-blocking"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Run(context.Background(), opts); err == nil {
		t.Fatal("the run succeeded though every worker was killed")
	}
	ws = start()
	opts.Observer = nil
	r, err := l.Run(context.Background(), opts)
	if err != nil {
		t.Fatalf("resume: %v", err)
	}
	if !r.Resumed || len(r.Reused) == 0 {
		t.Errorf("resumed %v, reused %v: want the committed partitions the workers kept reused", r.Resumed, r.Reused)
	}
	for _, a := range r.Attempts {
		if slices.Contains(r.Reused, a.Subtask) {
			t.Errorf("%s ran again though its partitions were held", a.Subtask)
		}
	}
	checkOutput(t, ex, filepath.Join(filepath.Dir(specPath), ex.output), want)
}
