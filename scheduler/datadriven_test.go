package scheduler

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/batchrun/batchrun/executor"
	"github.com/batchrun/batchrun/plan"
	"github.com/batchrun/batchrun/plan/plantest"
	"github.com/batchrun/batchrun/recovery"
)

// TestDataDriven drives the scheduler's decisions step by step, playing
// the executor by hand: the test says which task ends and how, and sees
// what the scheduler starts, commits, cancels and restarts. No goroutine,
// no sleep, no real clock. Commands:
//
//	build [parallelism=N] [mode=M] [slots=N] [failover=region|all|individual]
//	      [restart=STRATEGY] [committed=e0.0,e1.1,...] [finished=w[0],...]
//	<one step per line, see plantest.ParseStep>
//	----
//	the regions, and those a resume reuses
//
//	start                         the regions startReady starts, with their tasks
//	finish T... [hold]            tasks T end well, committing their blocking outputs;
//	                              hold: the region's own end is not reported yet
//	release R                     report held region R's end
//	fail T [lost=P] [worker-lost=(P,...) [known]] [permanent] [msg=M]
//	                              task T fails (reading lost partition P; or its
//	                              worker is gone with partitions P...); the rest of
//	                              its region is cancelled at once
//	advance D                     the clock moves on by D
//	state                         regions, committed partitions, attempts
//
// A task is named as users see it ("agg[1]"); a partition as e<edge>.<producer>.
func TestDataDriven(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		h := &harness{}
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			out, err := h.handle(t, d)
			if err != nil {
				return "error: " + err.Error() + "\n"
			}
			return out
		})
	})
}

// harness is a scheduler whose executor is the test script.
type harness struct {
	s       *Scheduler
	clock   *manualClock
	running map[plan.RegionID][]*executor.Task // tasks that have not ended
	hold    bool                               // the current command holds region ends
	held    map[plan.RegionID]bool             // ended regions whose end is not reported
	out     *strings.Builder
}

// manualClock is a clock the test moves; After is never waited on here.
type manualClock struct{ now time.Time }

func (c *manualClock) Now() time.Time { return c.now }
func (c *manualClock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	c.now = c.now.Add(d)
	ch <- c.now
	return ch
}

func (h *harness) handle(t *testing.T, d *datadriven.TestData) (string, error) {
	if d.Cmd != "build" && h.s == nil {
		d.Fatalf(t, "%s: build first", d.Cmd)
	}
	h.out = &strings.Builder{}
	var err error
	switch d.Cmd {
	case "build":
		err = h.build(t, d)
	case "start":
		h.start()
	case "finish":
		h.hold = d.HasArg("hold")
		for _, arg := range d.CmdArgs {
			if arg.Key == "hold" {
				continue
			}
			if err = h.end(arg.Key, nil); err != nil {
				break
			}
		}
		h.hold = false
	case "release":
		var r plan.RegionID
		if _, err = fmt.Sscanf(d.CmdArgs[0].Key, "r%d", &r); err == nil {
			if !h.held[r] {
				return "", fmt.Errorf("%s is not held", r)
			}
			delete(h.held, r)
			h.regionEnded(r, groupCause(h.s.groupErrs[r]))
		}
	case "fail":
		err = h.fail(t, d)
	case "advance":
		var dur time.Duration
		if dur, err = time.ParseDuration(d.CmdArgs[0].Key); err == nil {
			h.clock.now = h.clock.now.Add(dur)
		}
	case "state":
		h.state()
	default:
		d.Fatalf(t, "unknown command %q", d.Cmd)
	}
	return h.out.String(), err
}

func (h *harness) build(t *testing.T, d *datadriven.TestData) error {
	jobArgs := map[string]string{}
	opts := Options{Slots: 4}
	var finished []string
	for _, arg := range d.CmdArgs {
		if arg.Key == "committed" {
			var err error
			if opts.Committed, err = parsePartitions(arg.Vals); err != nil {
				return err
			}
			continue
		}
		if arg.Key == "finished" {
			finished = arg.Vals
			continue
		}
		v := arg.SingleVal(t)
		var err error
		switch arg.Key {
		case "slots":
			_, err = fmt.Sscan(v, &opts.Slots)
		case "failover":
			opts.Failover, err = recovery.ParseFailover(v)
		case "restart":
			opts.Restart, err = recovery.ParseRestartStrategy(v)
		default:
			jobArgs[arg.Key] = v
		}
		if err != nil {
			return err
		}
	}
	job, err := plantest.ParseJob(jobArgs, d.Input)
	if err != nil {
		d.Fatalf(t, "%v", err)
	}
	g, err := plan.Compile(job)
	if err != nil {
		return err
	}
	for _, st := range g.Stages {
		for i := range st.Parallelism {
			id := plan.SubtaskID{Stage: st.ID, Index: int32(i)}
			if slices.Contains(finished, g.SubtaskName(id)) {
				opts.Finished = append(opts.Finished, id)
			}
		}
	}
	h.clock = &manualClock{now: time.Date(2026, 1, 1, 2, 0, 0, 0, time.UTC)}
	opts.Clock = h.clock
	h.s, err = New(g, plan.ComputeRegions(g), nil, opts)
	if err != nil {
		return err
	}
	h.running = map[plan.RegionID][]*executor.Task{}
	h.held = map[plan.RegionID]bool{}
	for _, r := range h.s.regions.List {
		fmt.Fprintln(h.out, g.DescribeRegion(r))
	}
	if reused := h.s.Reused(); len(reused) > 0 {
		fmt.Fprintf(h.out, "reused: %v\n", reused)
	}
	return nil
}

func parsePartitions(names []string) ([]plan.PartitionID, error) {
	var ps []plan.PartitionID
	for _, n := range names {
		var p plan.PartitionID
		if _, err := fmt.Sscanf(n, "e%d.%d", &p.Edge, &p.Producer); err != nil {
			return nil, fmt.Errorf("partition %q: want e<edge>.<producer>", n)
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// start starts what the scheduler says is ready.
func (h *harness) start() {
	gs := h.s.startReady()
	if len(gs) == 0 {
		fmt.Fprintln(h.out, "nothing to start")
	}
	for _, g := range gs {
		names := make([]string, len(g.Tasks))
		for i := range g.Tasks {
			t := &g.Tasks[i]
			names[i] = fmt.Sprintf("%s#%d", t.Name, t.Attempt)
			h.running[g.Region] = append(h.running[g.Region], t)
		}
		region := g.Region
		h.s.cancels[region] = func(cause error) {
			if cause != nil {
				fmt.Fprintf(h.out, "cancel %s: %v\n", region, cause)
			}
		}
		fmt.Fprintf(h.out, "start %s: %s\n", g.Region, strings.Join(names, " "))
	}
	fmt.Fprintf(h.out, "free slots: %d\n", h.s.free)
}

// task finds the running task called name.
func (h *harness) task(name string) (*executor.Task, error) {
	st, err := h.s.g.ParseSubtask(name)
	if err != nil {
		return nil, err
	}
	for _, t := range h.running[h.s.regions.Of[st]] {
		if t.Subtask == st {
			return t, nil
		}
	}
	return nil, fmt.Errorf("%s is not running", name)
}

// end ends running task name with err (nil: it committed its blocking
// outputs), and its region when it was the last one running.
func (h *harness) end(name string, err error) error {
	t, terr := h.task(name)
	if terr != nil {
		return terr
	}
	var res executor.Result
	if err == nil {
		for _, o := range t.Outputs {
			if o.Mode == plan.Blocking {
				res.Written = append(res.Written, executor.Written{Partition: plan.PartitionID{Edge: o.Edge, Producer: t.Subtask.Index}})
			}
		}
	} else {
		err = &executor.SubtaskError{Subtask: t.Subtask, Name: t.Name, Attempt: t.Attempt, Err: err}
	}
	h.s.taskEnded(t, res, err)
	desc := "finished"
	if err != nil {
		desc = "failed: " + err.Error()
	}
	fmt.Fprintf(h.out, "%s#%d %s", t.Name, t.Attempt, desc)
	if len(res.Written) > 0 && !h.s.doomed[h.s.regions.Of[t.Subtask]] {
		fmt.Fprintf(h.out, "; committed %v", partitionNames(res.Written))
	}
	fmt.Fprintln(h.out)
	r := h.s.regions.Of[t.Subtask]
	h.running[r] = slices.DeleteFunc(h.running[r], func(x *executor.Task) bool { return x == t })
	if len(h.running[r]) == 0 {
		if h.hold {
			h.held[r] = true
			fmt.Fprintf(h.out, "%s ended (held)\n", r)
			return nil
		}
		h.regionEnded(r, groupCause(h.s.groupErrs[r]))
	}
	return nil
}

// groupCause is the root cause of a group's task errors, as an executor
// reports it: the first that is not a cancellation.
func groupCause(errs []error) error {
	for _, err := range errs {
		if !errors.Is(err, context.Canceled) {
			return err
		}
	}
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
}

func partitionNames(ws []executor.Written) []string {
	names := make([]string, len(ws))
	for i, w := range ws {
		names[i] = w.Partition.String()
	}
	return names
}

// regionEnded reports region r's end to the scheduler, then ends the
// tasks of every region a failover cancelled, as an executor honouring the
// cancellation at once would.
func (h *harness) regionEnded(r plan.RegionID, cause error) {
	nfail := len(h.s.result.Failovers)
	delay, err := h.s.regionEnded(r, cause, nil)
	switch {
	case err != nil:
		fmt.Fprintf(h.out, "%s failed the job: %v\n", r, err)
	case cause == nil && h.s.state[r] == regionFinished:
		fmt.Fprintf(h.out, "%s finished\n", r)
	case len(h.s.result.Failovers) > nfail:
		f := h.s.result.Failovers[nfail]
		after := ""
		if f.Aftermath {
			after = " (aftermath, not counted)"
		}
		fmt.Fprintf(h.out, "failover of %s (%s)%s: restart %v, delay %v\n", f.Failed, f.Strategy, after, f.Subtasks, delay)
		for _, why := range f.Reasons {
			fmt.Fprintf(h.out, "  because %s\n", why)
		}
	default:
		fmt.Fprintf(h.out, "%s pending again\n", r)
	}
	for _, reg := range h.s.regions.List {
		if h.s.doomed[reg.ID] && len(h.running[reg.ID]) > 0 {
			h.cancelAll(reg.ID, errRestarted)
		}
	}
}

// cancelAll ends every running task of r with cause.
func (h *harness) cancelAll(r plan.RegionID, cause error) {
	for len(h.running[r]) > 0 {
		t := h.running[r][0]
		if err := h.end(t.Name, cause); err != nil {
			panic(err)
		}
	}
}

func (h *harness) fail(t *testing.T, d *datadriven.TestData) error {
	name := d.CmdArgs[0].Key
	var err error = errors.New("task failed")
	for _, arg := range d.CmdArgs[1:] {
		switch arg.Key {
		case "msg":
			err = errors.New(arg.SingleVal(t))
		case "permanent":
			err = permanentError{err}
		case "known":
			var wl *executor.WorkerLostError
			if !errors.As(err, &wl) {
				d.Fatalf(t, "fail: known needs worker-lost before it")
			}
			wl.Known = true
		case "lost":
			ps, perr := parsePartitions(arg.Vals)
			if perr != nil {
				return perr
			}
			err = &executor.LostPartitionError{Partition: ps[0], Name: h.s.g.PartitionName(ps[0]), Err: errors.New("not found")}
		case "worker-lost":
			ps, perr := parsePartitions(arg.Vals)
			if perr != nil {
				return perr
			}
			err = &executor.WorkerLostError{Worker: "w1", Lost: ps, Err: errors.New("lease expired")}
		default:
			d.Fatalf(t, "fail: unknown argument %q", arg.Key)
		}
	}
	st, perr := h.s.g.ParseSubtask(name)
	if perr != nil {
		return perr
	}
	r := h.s.regions.Of[st]
	if err := h.end(name, err); err != nil {
		return err
	}
	// The executor cancels the rest of the group.
	for len(h.running[r]) > 0 {
		if err := h.end(h.running[r][0].Name, context.Canceled); err != nil {
			return err
		}
	}
	return nil
}

type permanentError struct{ error }

func (permanentError) Permanent() bool { return true }

// state prints each region's state, the committed partitions and the
// attempts of each subtask.
func (h *harness) state() {
	names := [...]string{"pending", "running", "finished"}
	for _, r := range h.s.regions.List {
		fmt.Fprintf(h.out, "%s %s", h.s.g.DescribeRegion(r), names[h.s.state[r.ID]])
		if h.s.doomed[r.ID] {
			fmt.Fprint(h.out, " (cancelled)")
		}
		fmt.Fprintln(h.out)
	}
	var committed []string
	for p := range h.s.committed {
		committed = append(committed, p.String())
	}
	slices.Sort(committed)
	fmt.Fprintf(h.out, "committed: %v\n", committed)
	var attempts []string
	for st, n := range h.s.attempts {
		attempts = append(attempts, fmt.Sprintf("%s=%d", h.s.g.SubtaskName(st), n))
	}
	slices.Sort(attempts)
	fmt.Fprintf(h.out, "attempts: %v\n", attempts)
}
