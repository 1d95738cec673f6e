package jobs

import (
	"cmp"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/jobs/statedir"
	"github.com/batchrun/batchrun/plan"
	"github.com/batchrun/batchrun/scheduler"
)

// Report is the JSON run summary (--report).
type Report struct {
	Job      string        `json:"job"`
	Run      string        `json:"run"`
	Status   string        `json:"status"` // "succeeded" or "failed"
	Error    string        `json:"error,omitempty"`
	Mode     string        `json:"mode"`
	Slots    int           `json:"slots"`
	Codec    string        `json:"codec"`
	Memory   int64         `json:"memory"` // bytes; 0 is unbounded
	Start    time.Time     `json:"start"`
	Seconds  float64       `json:"seconds"`
	Stages   []StageReport `json:"stages"`
	Outputs  []string      `json:"outputs"`
	Subtasks int           `json:"subtasks_run"`
	// RowsWritten are the rows the job's writes wrote, RowsSkipped the
	// malformed input rows its reads dropped (each subtask's last
	// finished attempt: a re-run does not count twice).
	RowsWritten int64 `json:"rows_written"`
	RowsSkipped int64 `json:"rows_skipped"`
	// Resumed is true when this invocation continued an unfinished run;
	// Reused lists the subtasks whose committed partitions it kept.
	Resumed bool     `json:"resumed"`
	Reused  []string `json:"reused,omitempty"`
	// Failovers lists every failure recovered from.
	Failovers []FailoverReport `json:"failovers"`
	// Attempts lists every subtask attempt, in completion order.
	Attempts []AttemptReport `json:"attempts"`
	// Plan is the compiled job as `batchrun explain` prints it: stages,
	// exchanges, subtasks and regions.
	Plan string `json:"plan"`
	// Graph is the same plan as data (explain --format json), so that a
	// reader of the report (batchrun ui) draws the stage graph without
	// compiling the spec, which may have changed since. Reports written
	// before it existed lack it.
	Graph *plan.Description `json:"graph,omitempty"`
}

// AttemptReport is one subtask attempt: which, where (worker, and the
// leader that scheduled it), when, and how it ended (outcome: succeeded,
// failed, canceled or lost; cause: the error, unless it succeeded).
type AttemptReport struct {
	Subtask string    `json:"subtask"`
	Attempt int       `json:"attempt"`
	Worker  string    `json:"worker"`
	Leader  string    `json:"leader"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	Outcome string    `json:"outcome"`
	Cause   string    `json:"cause,omitempty"`
	State   string    `json:"state"`
	RowsIn  int64     `json:"rows_in"`
	RowsOut int64     `json:"rows_out"`
	// RowsSkipped counts the malformed input rows the attempt dropped.
	RowsSkipped int64   `json:"rows_skipped"`
	Seconds     float64 `json:"seconds"`
	Error       string  `json:"error,omitempty"`
}

// FailoverReport is one failover: what failed and why, the restart set,
// and what re-running it cost.
type FailoverReport struct {
	scheduler.Failover
	// Rerun counts the subtask attempts started because of this failover.
	Rerun int `json:"subtasks_rerun"`
	// RowsRecomputed are the rows those attempts produced.
	RowsRecomputed int64 `json:"rows_recomputed"`
	// Seconds is the time those attempts ran, summed.
	Seconds float64 `json:"seconds"`
}

// StageReport sums a stage's subtask attempts.
type StageReport struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Ops      string `json:"ops"`
	Subtasks int    `json:"subtasks"`
	Attempts int    `json:"attempts"`
	RowsIn   int64  `json:"rows_in"`
	RowsOut  int64  `json:"rows_out"`
	// RowsSkipped counts the malformed input rows the stage's reads
	// dropped (on_error skip or quarantine).
	RowsSkipped int64 `json:"rows_skipped"`
	Spilled     int64 `json:"bytes_spilled"`
	Stored      int64 `json:"bytes_stored"`
	// OperatorSpilled are the Arrow bytes operators spilled to the store
	// under the memory budget (RunOptions.Memory), in SpillRuns runs.
	OperatorSpilled int64   `json:"bytes_spilled_operators"`
	SpillRuns       int64   `json:"spill_runs"`
	Seconds         float64 `json:"seconds"`
}

func newReport(l *Loaded, opts *RunOptions, run uint64, start time.Time, res *scheduler.Result) *Report {
	r := &Report{
		Job: l.Job.Name, Run: statedir.IDString(run), Status: "succeeded",
		Mode: l.Job.Mode.String(), Slots: opts.Slots, Codec: opts.Codec.String(), Memory: opts.Memory,
		Start: start, Seconds: time.Since(start).Seconds(),
	}
	r.Plan, _ = l.Explain("text") // a compiled job always explains
	r.Graph = plan.Describe(l.Graph, l.Regions)
	r.Stages = make([]StageReport, len(l.Graph.Stages))
	for i, st := range l.Graph.Stages {
		r.Stages[i] = StageReport{ID: st.ID.String(), Name: st.Name, Ops: opsString(st.Ops), Subtasks: st.Parallelism}
	}
	if res == nil {
		return r
	}
	first := make(map[plan.StageID]time.Time)
	last := make(map[plan.StageID]time.Time)
	for _, a := range res.Attempts {
		r.Attempts = append(r.Attempts, attemptReport(l, a, cmp.Or(opts.Leader, leader)))
		s := &r.Stages[a.Subtask.Stage]
		s.Attempts++
		r.Subtasks++
		if a.State != scheduler.Finished {
			continue
		}
		s.RowsIn += a.Stats.RowsIn
		s.RowsOut += a.Stats.RowsOut
		s.RowsSkipped += a.Stats.RowsSkipped
		s.Spilled += a.Spilled
		s.Stored += a.Stored
		s.OperatorSpilled += a.Stats.OperatorSpilled
		s.SpillRuns += a.Stats.SpillRuns
		if t, ok := first[a.Subtask.Stage]; !ok || a.Start.Before(t) {
			first[a.Subtask.Stage] = a.Start
		}
		if a.End.After(last[a.Subtask.Stage]) {
			last[a.Subtask.Stage] = a.End
		}
	}
	for id, t := range first {
		r.Stages[id].Seconds = last[id].Sub(t).Seconds()
	}
	r.RowsWritten, r.RowsSkipped = rowTotals(l, res)
	r.Failovers = failoverReports(res)
	return r
}

// rowTotals sums, over each subtask's last finished attempt, the rows
// written by write ops and the malformed rows skipped by reads.
func rowTotals(l *Loaded, res *scheduler.Result) (written, skipped int64) {
	last := make(map[plan.SubtaskID]scheduler.Attempt)
	for _, a := range res.Attempts {
		if a.State == scheduler.Finished {
			last[a.Subtask] = a
		}
	}
	for st, a := range last {
		skipped += a.Stats.RowsSkipped
		for _, op := range l.Graph.Stage(st.Stage).Ops {
			if l.Job.Step(op.Step).Kind == spec.KindWrite {
				written += a.Stats.RowsOut
				break
			}
		}
	}
	return written, skipped
}

// failoverReports charges each re-run attempt to the last failover before
// it started.
func failoverReports(res *scheduler.Result) []FailoverReport {
	out := make([]FailoverReport, len(res.Failovers))
	for i, f := range res.Failovers {
		out[i].Failover = f
	}
	for _, a := range res.Attempts {
		if a.Attempt == 0 {
			continue
		}
		i := len(res.Failovers) - 1
		for i > 0 && res.Failovers[i].Time.After(a.Start) {
			i--
		}
		if i < 0 {
			continue
		}
		out[i].Rerun++
		out[i].RowsRecomputed += a.Stats.RowsOut
		out[i].Seconds += a.End.Sub(a.Start).Seconds()
	}
	return out
}

func attemptReport(l *Loaded, a scheduler.Attempt, leader string) AttemptReport {
	ar := AttemptReport{Subtask: l.Graph.SubtaskName(a.Subtask), Attempt: a.Attempt, Worker: a.Worker,
		Leader: leader, Start: a.Start, End: a.End, Outcome: a.Outcome(), State: a.State.String(),
		RowsIn: a.Stats.RowsIn, RowsOut: a.Stats.RowsOut, RowsSkipped: a.Stats.RowsSkipped,
		Seconds: a.End.Sub(a.Start).Seconds()}
	if a.Err != nil {
		ar.Error = a.Err.Error()
		ar.Cause = ar.Error
	}
	return ar
}

func opsString(ops []plan.Op) string {
	parts := make([]string, len(ops))
	for i, op := range ops {
		parts[i] = op.Step
		if op.Role != plan.Whole {
			parts[i] += "(" + op.Role.String() + ")"
		}
	}
	return strings.Join(parts, " -> ")
}

// Summary is the few lines `batchrun run` prints on success.
func (r *Report) Summary() string {
	var b strings.Builder
	var spilled, stored int64
	for _, s := range r.Stages {
		spilled += s.Spilled
		stored += s.Stored
	}
	fmt.Fprintf(&b, "job %s run %s %s in %.2fs: %d rows written, %d malformed rows skipped, %d failovers; %d stages, %d subtask attempts, %s spilled (%s stored)\n",
		r.Job, r.Run, r.Status, r.Seconds, r.RowsWritten, r.RowsSkipped, len(r.Failovers),
		len(r.Stages), r.Subtasks, byteSize(spilled), byteSize(stored))
	for _, o := range r.Outputs {
		fmt.Fprintf(&b, "wrote %s\n", o)
	}
	return b.String()
}

func byteSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// leader names the process that schedules this run, as host/pid.
var leader = func() string {
	host, err := os.Hostname()
	if err != nil {
		host = "localhost"
	}
	return fmt.Sprintf("%s/%d", host, os.Getpid())
}()

// CommittedReport is the report of run rec, which an earlier process
// committed (a coordinator that died before saying so): the job's plan
// and stages, the outputs, and the rows its writers wrote; no attempt ran.
func (l *Loaded) CommittedReport(rec statedir.Record) *Report {
	r := newReport(l, &RunOptions{}, rec.ID, rec.Start, nil)
	r.Resumed, r.Seconds = true, rec.End.Sub(rec.Start).Seconds()
	for _, f := range rec.Finished {
		r.RowsWritten += f.Rows
	}
	if rec.Commit != nil {
		for _, e := range rec.Commit.Entries {
			r.Outputs = append(r.Outputs, e.Target)
		}
	}
	return r
}
