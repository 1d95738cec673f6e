package jobs

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/batchrun/batchrun/internal/lockfile"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators"
	"github.com/batchrun/batchrun/operators/expr"
	"github.com/batchrun/batchrun/operators/formats"
	"github.com/batchrun/batchrun/plan"
	"github.com/batchrun/batchrun/recovery"
	"github.com/batchrun/batchrun/scheduler"
)

// FileOptions are what the command line may change about a spec file.
type FileOptions struct {
	Params map[string]string
	// Parallelism, when > 0, replaces the spec's job-level parallelism.
	Parallelism int
	// Mode, when set, replaces the spec's exchange mode: "all-blocking" or
	// "all-pipelined".
	Mode string
	// BroadcastBelow is the file size under which a join broadcasts the
	// read of its right input: 0 means BroadcastBelow, < 0 never.
	BroadcastBelow int64
}

// Loaded is a validated, compiled job, ready to explain or run.
type Loaded struct {
	// Spec and Params are the file and parameters it was loaded with; Digest
	// identifies the work (see digest). All three are empty for a job
	// compiled from a builder.
	Spec, Digest string
	Params       map[string]string
	// fileOpts are the options it was loaded with, which a worker loads it
	// with again (cluster.go).
	fileOpts FileOptions

	Job      *spec.Job
	Resolved *spec.Resolved
	Graph    *plan.StageGraph
	Regions  *plan.Regions

	// targets are the job's outputs, resolved (outputs.go).
	targets []target
}

// LoadFile loads, validates and compiles the spec at path.
func LoadFile(path string, opts FileOptions) (*Loaded, error) {
	job, err := Load(path, LoadOptions{Params: opts.Params, Infer: InferCSV})
	if err != nil {
		return nil, err
	}
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, &spec.Error{File: path, Msg: fmt.Sprintf("cannot read spec: %v", err)}
	}
	if opts.Parallelism > 0 {
		job.Parallelism = opts.Parallelism
	}
	if opts.Mode != "" {
		m, err := parseGlobalMode(opts.Mode)
		if err != nil {
			return nil, &spec.Error{File: job.File, Msg: err.Error()}
		}
		job.Mode = m
	}
	below := opts.BroadcastBelow
	if below == 0 {
		below = BroadcastBelow
	}
	l, err := compile(job, below)
	if err != nil {
		return nil, err
	}
	l.Spec, l.Params, l.fileOpts = path, opts.Params, opts
	l.Digest = digest(l, text)
	return l, nil
}

// engineVersion names what a resumed run relies on being the same as when
// its partitions were written: how rows are hashed to consumers, how
// batches are encoded and stored, which columns they hold. Bump it when
// any of that changes, so that a newer batchrun starts a new run instead
// of mixing its partitions with an older one's.
//
// 2: projection pushdown (plan.Project): a blocking partition behind a
// pruned read holds only the columns later steps use.
// 3: CSV inference types a column of YYYY-MM-DD values date (int64 days),
// where it was string.
const engineVersion = 3

// digest identifies a run's work: the engine, the spec text, its
// parameters, the compiled parallelism and mode, and each input file's
// size and modification time. A killed run is resumed only by an
// invocation with the same digest.
func digest(l *Loaded, specText []byte) string {
	h := sha256.New()
	fmt.Fprintf(h, "engine %d\x00", engineVersion)
	h.Write(specText)
	keys := make([]string, 0, len(l.Params))
	for k := range l.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(h, "\x00param %s=%s", k, l.Params[k])
	}
	fmt.Fprintf(h, "\x00parallelism %d mode %s", l.Job.Parallelism, l.Job.Mode)
	for _, st := range l.Graph.Stages {
		fmt.Fprintf(h, "\x00stage %s x%d", st.Name, st.Parallelism)
	}
	for _, step := range l.Job.Steps {
		if step.Read == nil {
			continue
		}
		in, _ := expandInput(step.Read) // every file of a glob or directory
		for _, f := range in.Files {
			if fi, err := os.Stat(f); err == nil {
				fmt.Fprintf(h, "\x00input %s %d %d", f, fi.Size(), fi.ModTime().UnixNano())
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// Compile validates job and compiles it into stages and regions. A job
// parallelism of 0 defaults to DefaultParallelism. A distinct with no keys
// gets every column, and a join whose right input reads a file smaller
// than BroadcastBelow broadcasts it (see prepare).
func Compile(job *spec.Job) (*Loaded, error) { return compile(job, BroadcastBelow) }

func compile(job *spec.Job, broadcastBelow int64) (*Loaded, error) {
	res, err := spec.Resolve(job)
	if err != nil {
		return nil, err
	}
	if err := compileExprs(job, res); err != nil {
		return nil, err
	}
	prepare(job, res, broadcastBelow)
	if job.Parallelism <= 0 {
		job.Parallelism = DefaultParallelism()
	}
	g, err := plan.Compile(job)
	if err != nil {
		return nil, fmt.Errorf("jobs: compile %s: %w", job.Name, err)
	}
	l := &Loaded{Job: job, Resolved: res, Graph: g, Regions: plan.ComputeRegions(g)}
	if l.targets, err = l.findTargets(); err != nil {
		return nil, err
	}
	if err := l.checkOverlaps(); err != nil {
		return nil, err
	}
	return l, nil
}

// Explain renders the compiled job: "text", "json" or "dot".
// The text form starts with the logical plan of each sql step.
func (l *Loaded) Explain(format string) (string, error) {
	out, err := plan.Explain(l.Graph, l.Regions, format)
	if err != nil || format != "text" {
		return out, err
	}
	var sb strings.Builder
	if len(l.Job.Unread) > 0 {
		fmt.Fprintf(&sb, "read steps no step reads, not run: %s\n", strings.Join(l.Job.Unread, ", "))
	}
	for _, s := range l.Job.Steps {
		if p, ok := l.Job.SQLPlans[s.ID]; ok {
			fmt.Fprintf(&sb, "sql step %q, logical plan (each operator -> the step it became):\n%s\n", s.ID, indent(p))
		}
	}
	return sb.String() + out, nil
}

func indent(text string) string {
	lines := strings.SplitAfter(strings.TrimSuffix(text, "\n"), "\n")
	return "  " + strings.Join(lines, "  ") + "\n"
}

// ExplainFailure prints the restart set failover would use if subtask
// fail ("agg[2]") failed, or if subtask lose's blocking outputs were lost.
// It runs nothing.
func (l *Loaded) ExplainFailure(failover recovery.Failover, fail, lose string) (string, error) {
	return scheduler.WhatIf(l.Graph, l.Regions, failover, fail, lose)
}

// Stages returns the number of subtasks of each stage, by stage id.
func (l *Loaded) Stages() []int {
	n := make([]int, len(l.Graph.Stages))
	for i, st := range l.Graph.Stages {
		n[i] = st.Parallelism
	}
	return n
}

// InferCSV infers a CSV file's schema from its header and a sample.
func InferCSV(path string, delim byte) (spec.Schema, error) {
	return formats.InferCSVSchema(path, delim, 1000)
}

// IsDataError reports whether err is a malformed-input error.
func IsDataError(err error) bool { return operators.IsDataError(err) }

func parseGlobalMode(s string) (spec.GlobalMode, error) {
	switch s {
	case "all-blocking":
		return spec.AllBlocking, nil
	case "all-pipelined":
		return spec.AllPipelined, nil
	}
	return 0, fmt.Errorf("mode %q: want all-blocking or all-pipelined", s)
}

// IsLocked reports whether err says a job or an output is in use by
// another process (a *lockfile.LockedError).
func IsLocked(err error) bool { return lockfile.IsLocked(err) }

// compileExprs compiles every expression of the job once, as its subtasks
// will, so that what the evaluator rejects (a CAST of a literal that does
// not convert) is a spec error naming the step before anything runs, not
// a failure of every attempt.
func compileExprs(job *spec.Job, res *spec.Resolved) error {
	for _, s := range job.Steps {
		var exprs []spec.Expr
		switch {
		case s.Filter != nil:
			exprs = append(exprs, s.Filter.Predicate)
		case s.Select != nil:
			for _, c := range s.Select.Columns {
				exprs = append(exprs, c.Expr)
			}
		}
		for _, e := range exprs {
			if _, err := expr.CompileExpr(e, res.Schemas[s.Inputs[0]]); err != nil {
				return spec.StepErrorf(job, s, "%s: %v", e, strings.TrimPrefix(err.Error(), "operators: "))
			}
		}
	}
	return nil
}

// FileOptions are the options the job was loaded with: another process
// loads the same spec file with them to compile the same work.
func (l *Loaded) FileOptions() FileOptions { return l.fileOpts }
