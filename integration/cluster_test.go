package integration

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batchrun/batchrun/cluster/etcdtest"
	"github.com/batchrun/batchrun/jobs"
	"github.com/batchrun/batchrun/recovery"
	"github.com/batchrun/batchrun/remote"
	"github.com/batchrun/batchrun/shuffle"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// workerSet is batchrun workers on loopback, in this process, each with a
// directory of its own.
type workerSet struct {
	addrs     []string
	listeners []*remote.Listener
}

func startWorkers(t *testing.T, n, slots int) *workerSet {
	t.Helper()
	ws := &workerSet{}
	for range n {
		w := remote.NewWorker("", t.TempDir(), jobs.WorkerLoader(slots, nil), shuffle.Options{}, nil)
		w.Slots = slots
		lis, err := remote.Listen("127.0.0.1:0", w)
		if err != nil {
			t.Fatal(err)
		}
		w.Addr = lis.Addr().String()
		t.Cleanup(func() { lis.Stop(); w.Close() })
		ws.addrs = append(ws.addrs, w.Addr)
		ws.listeners = append(ws.listeners, lis)
	}
	return ws
}

// TestExamplesOnWorkers runs every example on three workers: the answer is
// the local run's, and the subtasks ran on more than one worker.
func TestExamplesOnWorkers(t *testing.T) {
	ws := startWorkers(t, 3, 2)
	for _, ex := range examples {
		t.Run(ex.name, func(t *testing.T) {
			want := ex.answer(t, filepath.Join(examplesDir(t), "data"))
			_, out := runExample(t, ex, runConfig{"all-blocking", 4}, jobs.RunOptions{Workers: ws.addrs, Restart: restartOf(t, noDelay)})
			checkOutput(t, ex, out, want)
		})
	}
}

// killAfter is an observer that stops a worker, the way a crash looks to
// the others, when the n-th subtask attempt ends.
type killAfter struct {
	mu   sync.Mutex
	n    int
	kill func()
	// now kills on the scheduler's loop, before it starts anything more
	// (kill must not wait on the run).
	now bool
}

func (k *killAfter) SubtaskFinished(int, int, int64, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.n--
	switch {
	case k.n == 0 && k.now:
		k.kill()
	case k.n == 0:
		go k.kill() // not on the scheduler's loop
	}
}

// TestWorkerKilled stops one of three workers after the n-th attempt ends,
// for several n: the answer is unchanged, and the loss of the worker counts
// as one failure (executor.WorkerLostError), never one per partition it
// held or per task that noticed.
func TestWorkerKilled(t *testing.T) {
	ex := exampleNamed(t, "revenue-by-segment")
	want := ex.answer(t, filepath.Join(examplesDir(t), "data"))
	sawLoss := false
	for n := 1; n <= 12; n += 3 {
		t.Run(fmt.Sprintf("after-%d", n), func(t *testing.T) {
			ws := startWorkers(t, 3, 2)
			obs := &killAfter{n: n, kill: ws.listeners[1].Stop}
			r, out := runExample(t, ex, runConfig{"all-blocking", 4}, jobs.RunOptions{Workers: ws.addrs,
				Observer: obs, Restart: restartOf(t, "fixed-delay:attempts=10,delay=0s")})
			checkOutput(t, ex, out, want)
			losses := 0
			for _, f := range r.Failovers {
				if strings.Contains(f.Cause, "worker "+ws.addrs[1]+" lost") && !f.Aftermath {
					losses++
				}
			}
			sawLoss = sawLoss || losses > 0
			lostAttempts := 0
			for _, a := range r.Attempts {
				if a.Outcome == "lost" {
					lostAttempts++
					if a.Worker != ws.addrs[1] {
						t.Errorf("attempt %s#%d lost on %s, but %s was stopped", a.Subtask, a.Attempt, a.Worker, ws.addrs[1])
					}
				}
				if a.Outcome == "succeeded" && !slices.Contains(ws.addrs, a.Worker) {
					t.Errorf("attempt %s#%d succeeded on %q, not a worker", a.Subtask, a.Attempt, a.Worker)
				}
			}
			if losses > 1 {
				t.Errorf("%d failovers count the lost worker, want one: %+v", losses, r.Failovers)
			}
		})
	}
	if !sawLoss {
		t.Error("no run noticed the worker's loss: the test killed nothing that mattered")
	}
}

// etcdWorkers starts n workers that register in etcd (ServeWorker, as
// `batchrun worker --etcd` does); stop[i] stops worker i, which leaves the
// cluster at once.
func etcdWorkers(t *testing.T, endpoints []string, n, slots int) (addrs []string, stop []func()) {
	return etcdWorkersTTL(t, endpoints, n, slots, time.Second)
}

// etcdWorkersTTL is etcdWorkers with leases of ttl.
func etcdWorkersTTL(t *testing.T, endpoints []string, n, slots int, ttl time.Duration) (addrs []string, stop []func()) {
	t.Helper()
	for range n {
		ctx, cancel := context.WithCancel(context.Background())
		ready := make(chan string, 1)
		done := make(chan error, 1)
		go func() {
			done <- jobs.ServeWorker(ctx, jobs.WorkerOptions{Listen: "127.0.0.1:0", StateDir: t.TempDir(), Slots: slots,
				Cluster: endpoints, TTL: ttl, Ready: func(a string) { ready <- a }})
		}()
		select {
		case a := <-ready:
			addrs = append(addrs, a)
		case err := <-done:
			t.Fatalf("worker: %v", err)
		}
		var once sync.Once
		stopOne := func() {
			once.Do(func() {
				cancel()
				if err := <-done; err != nil {
					t.Errorf("worker %s: %v", addrs[len(addrs)-1], err)
				}
			})
		}
		stop = append(stop, stopOne)
		t.Cleanup(stopOne)
	}
	return addrs, stop
}

// TestClusterFromEtcd: workers register in etcd; a run with Cluster finds
// them there, and a worker that leaves mid-run (its key goes) is lost with
// what it held: the answer is unchanged and its loss counts once.
func TestClusterFromEtcd(t *testing.T) {
	srv := etcdtest.Start(t)
	ex := exampleNamed(t, "revenue-by-segment")
	want := ex.answer(t, filepath.Join(examplesDir(t), "data"))
	sawLoss := false
	for _, n := range []int{0, 3, 8, 5} {
		t.Run(fmt.Sprintf("leave-after-%d", n), func(t *testing.T) {
			addrs, stop := etcdWorkers(t, srv.Endpoints, 3, 2)
			opts := jobs.RunOptions{Cluster: srv.Endpoints, Restart: restartOf(t, "fixed-delay:attempts=10,delay=0s")}
			if n > 0 {
				opts.Observer = &killAfter{n: n, kill: stop[1]}
			}
			r, out := runExample(t, ex, runConfig{"all-blocking", 4}, opts)
			checkOutput(t, ex, out, want)
			counted := 0
			for _, f := range r.Failovers {
				if strings.Contains(f.Cause, "worker "+addrs[1]+" lost") && !f.Aftermath {
					counted++
				}
			}
			if counted > 1 {
				t.Errorf("the loss of %s counted %d times: %+v", addrs[1], counted, r.Failovers)
			}
			sawLoss = sawLoss || counted > 0
			if r.Slots != 6 {
				t.Errorf("run slots %d, want the workers' 6", r.Slots)
			}
		})
	}
	if !sawLoss {
		t.Error("no run counted the worker's departure: the test stopped nothing that mattered")
	}
}

// TestWorkerMetrics: a worker serving --metrics-listen counts the tasks it
// ran by outcome and the rows it served to others, in the Prometheus text
// format at /metrics.
func TestWorkerMetrics(t *testing.T) {
	var addrs, metrics []string
	for range 2 {
		ctx, cancel := context.WithCancel(context.Background())
		ready, mready, done := make(chan string, 1), make(chan string, 1), make(chan error, 1)
		go func() {
			done <- jobs.ServeWorker(ctx, jobs.WorkerOptions{Listen: "127.0.0.1:0", StateDir: t.TempDir(), Slots: 2,
				MetricsListen: "127.0.0.1:0", MetricsReady: func(a string) { mready <- a }, Ready: func(a string) { ready <- a }})
		}()
		metrics, addrs = append(metrics, <-mready), append(addrs, <-ready)
		t.Cleanup(func() { cancel(); <-done })
	}
	ex := exampleNamed(t, "revenue-by-segment")
	r, _ := runExample(t, ex, runConfig{"all-blocking", 4}, jobs.RunOptions{Workers: addrs})
	var tasks, served, bytes float64
	for _, m := range metrics {
		resp, err := http.Get("http://" + m + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		parser := expfmt.NewTextParser(model.UTF8Validation)
		fams, err := parser.TextToMetricFamilies(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, mm := range fams["batchrun_worker_tasks_total"].GetMetric() {
			if mm.GetLabel()[0].GetValue() == "succeeded" {
				tasks += mm.GetCounter().GetValue()
			}
		}
		served += fams["batchrun_worker_rows_served_total"].GetMetric()[0].GetCounter().GetValue()
		bytes += fams["batchrun_worker_bytes_served_total"].GetMetric()[0].GetCounter().GetValue()
		if s := fams["batchrun_worker_slots"].GetMetric()[0].GetGauge().GetValue(); s != 2 {
			t.Errorf("worker slots gauge %v, want 2", s)
		}
	}
	if int(tasks) != len(r.Attempts) {
		t.Errorf("workers counted %v succeeded tasks, the run %d attempts", tasks, len(r.Attempts))
	}
	if served == 0 || bytes < 8*served {
		t.Errorf("%v rows, %v bytes served between the two workers: want some, of at least 8 bytes a row", served, bytes)
	}
}

// TestEtcdRestart: etcd stops and comes back (same data) between runs and
// during one: workers keep their registration (their leases survive a
// short outage), a run started after it finds them, and a run on them is
// not disturbed by etcd going away meanwhile (membership is only read).
func TestEtcdRestart(t *testing.T) {
	srv := etcdtest.Start(t)
	ex := exampleNamed(t, "revenue-by-segment")
	want := ex.answer(t, filepath.Join(examplesDir(t), "data"))
	etcdWorkersTTL(t, srv.Endpoints, 2, 2, 10*time.Second)
	srv.Restart(t)
	st, err := jobs.Status(context.Background(), srv.Endpoints)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Workers) == 0 {
		t.Fatal("no worker registered after etcd restarted")
	}
	r, out := runExample(t, ex, runConfig{"all-blocking", 4}, jobs.RunOptions{Cluster: srv.Endpoints,
		Observer: &killAfter{n: 3, kill: srv.Stop}})
	checkOutput(t, ex, out, want)
	if len(r.Failovers) != 0 {
		t.Errorf("etcd going away caused failovers: %+v", r.Failovers)
	}
}

// TestRegionLargerThanAnyWorker: a region runs on one worker, so a job
// whose region is larger than every worker's slots is refused before
// anything runs (an option error: exit 2), though the slots of all the
// workers together would be enough.
func TestRegionLargerThanAnyWorker(t *testing.T) {
	ws := startWorkers(t, 3, 2)
	ex := exampleNamed(t, "revenue-by-segment")
	specPath, _ := stageExample(t, ex.name)
	l, err := jobs.LoadFile(specPath, jobs.FileOptions{Parallelism: 2, Mode: "all-pipelined"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.Run(context.Background(), jobs.RunOptions{StateDir: t.TempDir(), Workers: ws.addrs})
	var oe *jobs.OptionError
	if !errors.As(err, &oe) || !strings.Contains(err.Error(), "the largest has 2 slots") {
		t.Fatalf("Run = %v, want an option error naming the largest worker's slots", err)
	}
}

// TestTaskFaultsOnWorkers: error and panic faults are injected by the
// worker that runs the attempt; the answer is the local run's, and the
// failed attempt shows on a worker.
func TestTaskFaultsOnWorkers(t *testing.T) {
	ws := startWorkers(t, 3, 2)
	ex := exampleNamed(t, "revenue-by-segment")
	want := ex.answer(t, filepath.Join(examplesDir(t), "data"))
	for _, fault := range []string{"error:bysegment[1]@0", "panic:events[2]#0@1"} {
		r, out := runExample(t, ex, runConfig{"all-blocking", 4}, jobs.RunOptions{Workers: ws.addrs,
			Faults: faultsOf(t, fault), Restart: restartOf(t, noDelay)})
		checkOutput(t, ex, out, want)
		failed := 0
		for _, a := range r.Attempts {
			if a.Outcome == "failed" {
				failed++
				if !slices.Contains(ws.addrs, a.Worker) || !strings.Contains(a.Cause, "injected") {
					t.Errorf("%s: attempt %s#%d failed on %q: %s", fault, a.Subtask, a.Attempt, a.Worker, a.Cause)
				}
			}
		}
		if failed != 1 || len(r.Failovers) != 1 {
			t.Errorf("%s: %d failed attempts, %d failovers; want 1 and 1", fault, failed, len(r.Failovers))
		}
	}
}

// TestLoseOnWorkersMatchesExplain is TestLoseMatchesExplain on workers: a
// partition lost at its holder (the fault fires once, at the first
// reader's assignment) costs one failover, which restarts exactly what
// explain --lose predicts, and the answer is the local run's.
func TestLoseOnWorkersMatchesExplain(t *testing.T) {
	ws := startWorkers(t, 3, 32) // a slot for every ready region, as explain assumes
	for _, ex := range examples {
		cfg := runConfig{"all-blocking", 4}
		l := loadExample(t, ex, cfg)
		want := ex.answer(t, filepath.Join(examplesDir(t), "data"))
		for _, st := range l.Graph.Stages {
			if blockingOutputs(l.Graph, st) != 1 {
				continue
			}
			name := st.Name + "[0]"
			t.Run(ex.name+"/"+name, func(t *testing.T) {
				text, err := l.ExplainFailure(recovery.FailoverRegion, "", name)
				if err != nil {
					t.Fatal(err)
				}
				r, out := runExample(t, ex, cfg, jobs.RunOptions{Workers: ws.addrs, Faults: faultsOf(t, "lose:"+name), Restart: restartOf(t, noDelay)})
				checkOutput(t, ex, out, want)
				if len(r.Failovers) != 1 {
					t.Fatalf("%d failovers, want 1: %+v", len(r.Failovers), r.Failovers)
				}
				got := slices.Clone(r.Failovers[0].Subtasks)
				slices.Sort(got)
				if exp := explainedSubtasks(t, text); !slices.Equal(got, exp) {
					t.Errorf("run restarted %v, explain --lose %s said %v\n%s", got, name, exp, text)
				}
			})
		}
	}
}

// TestChaosOnWorkers: seeded chaos (task errors and panics fired by the
// worker running the attempt, lost and corrupt partitions at their
// holders) never changes the answer on workers.
func TestChaosOnWorkers(t *testing.T) {
	ws := startWorkers(t, 3, 4)
	failovers, lost := 0, 0
	for _, ex := range examples {
		want := ex.answer(t, filepath.Join(examplesDir(t), "data"))
		for seed := uint64(1); seed <= 3; seed++ {
			t.Run(fmt.Sprintf("%s/seed-%d", ex.name, seed), func(t *testing.T) {
				r, out := runExample(t, ex, runConfig{"all-blocking", 4}, jobs.RunOptions{Workers: ws.addrs,
					Chaos: &jobs.Chaos{Seed: seed, Rate: 0.2}, Restart: restartOf(t, noDelay), Seed: seed})
				checkOutput(t, ex, out, want)
				failovers += len(r.Failovers)
				for _, f := range r.Failovers {
					lost += len(f.Lost)
				}
			})
		}
	}
	if failovers == 0 || lost == 0 {
		t.Errorf("%d failovers, %d of them losing partitions: the chaos hit nothing", failovers, lost)
	}
}

// statusDuring records the cluster status when the first attempt ends.
type statusDuring struct {
	endpoints []string
	once      sync.Once
	st        *jobs.ClusterStatus
	err       error
}

func (s *statusDuring) SubtaskFinished(int, int, int64, error) {
	s.once.Do(func() { s.st, s.err = jobs.Status(context.Background(), s.endpoints) })
}

// TestClusterStatusListsRuns: while a run on the cluster runs, cluster
// status lists it (job, scheduling process); once it ended, it does not.
func TestClusterStatusListsRuns(t *testing.T) {
	srv := etcdtest.Start(t)
	etcdWorkers(t, srv.Endpoints, 2, 2)
	ex := exampleNamed(t, "revenue-by-segment")
	obs := &statusDuring{endpoints: srv.Endpoints}
	r, _ := runExample(t, ex, runConfig{"all-blocking", 4}, jobs.RunOptions{Cluster: srv.Endpoints, Observer: obs})
	if obs.err != nil {
		t.Fatal(obs.err)
	}
	if len(obs.st.Runs) != 1 || obs.st.Runs[0].ID != r.Run || obs.st.Runs[0].Job != r.Job || obs.st.Runs[0].Leader == "" {
		t.Errorf("status during the run: %+v, want run %s of job %s", obs.st.Runs, r.Run, r.Job)
	}
	after, err := jobs.Status(context.Background(), srv.Endpoints)
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Runs) != 0 {
		t.Errorf("status after the run: %+v, want no run", after.Runs)
	}
}
