package jobs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/batchrun/batchrun/internal/osfs"
	"github.com/batchrun/batchrun/jobs/commit"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators/formats"
	"github.com/batchrun/batchrun/physical"
)

// target is one output of a job as loading finds it: a write step's path,
// or a read's quarantine path, resolved.
type target struct {
	step   *spec.Step // the write (or the quarantining read), for errors
	name   string     // the output's name: the write's id, or physical.QuarantineOutput
	path   string     // as the spec names it (absolute), or "-"
	real   string     // path with symlinks resolved
	kind   commit.Kind
	mode   commit.Mode
	ext    string // part files' extension: ".csv", ".jsonl", ".parquet", ".txt"
	stream bool
}

// findTargets lists the job's outputs, in stage order, with their kinds.
func (l *Loaded) findTargets() ([]target, error) {
	var ts []target
	for _, st := range l.Graph.Stages {
		for _, op := range st.Ops {
			step := l.Job.Step(op.Step)
			var t target
			switch {
			case step.Kind == spec.KindWrite:
				t = target{step: step, name: step.ID, path: step.Write.Path, mode: commitMode(step.Write.Mode),
					ext: spec.FormatOf(step.Write.Path, step.Write.Format).Ext()}
			case step.Kind == spec.KindRead && step.Read.Quarantine != "":
				t = target{step: step, name: physical.QuarantineOutput(step.ID), path: step.Read.Quarantine, ext: ".txt"}
			default:
				continue
			}
			if err := t.classify(l.Job, st.Parallelism); err != nil {
				return nil, err
			}
			ts = append(ts, t)
		}
	}
	return ts, nil
}

func (t *target) classify(job *spec.Job, parallelism int) error {
	// A stream is opened by the name given (/dev/stdout resolves to magic
	// links, not paths); anything else is committed where it really is.
	t.real, t.stream = t.path, commit.IsStream(t.path)
	if !t.stream {
		real, err := commit.Resolve(t.path)
		if err != nil {
			return spec.StepErrorf(job, t.step, "output %s: %v", t.path, err)
		}
		t.real = real
	}
	switch {
	case t.stream && parallelism > 1:
		return spec.StepErrorf(job, t.step, "output %s is a stream (standard output, a FIFO or a device), "+
			"written by one subtask: set parallelism: 1 on the step", t.path)
	case t.stream:
		t.kind = commit.Stream
	case parallelism == 1:
		t.kind = commit.File
	default:
		t.kind = commit.Dir
	}
	return nil
}

func commitMode(m spec.WriteMode) commit.Mode {
	switch m {
	case spec.WriteErrorIfExists:
		return commit.ErrorIfExists
	case spec.WriteOverwriteDeletingOtherFiles:
		return commit.OverwriteDeletingOtherFiles
	}
	return commit.Overwrite
}

// WritesStdout reports whether an output of the job is this process's
// standard output: "-", or a stream that is the same file (/dev/stdout).
// The command line then prints everything else to stderr.
func (l *Loaded) WritesStdout() bool {
	out, err := os.Stdout.Stat()
	for _, t := range l.targets {
		if t.path == commit.StdoutTarget {
			return true
		}
		if fi, serr := os.Stat(t.path); t.stream && err == nil && serr == nil && os.SameFile(fi, out) {
			return true
		}
	}
	return false
}

// checkOverlaps refuses outputs over inputs or over each other (a spec
// error naming the step): replacing them would delete what the job reads
// or writes.
func (l *Loaded) checkOverlaps() error {
	var ins []commit.Input
	for _, s := range l.Job.Steps {
		if s.Read == nil {
			continue
		}
		in, _ := expandInput(s.Read) // a missing input is reported when the run starts
		ins = append(ins, commit.Input{Name: s.ID, Path: s.Read.Path, Files: in.Files})
	}
	outs := make([]commit.Output, len(l.targets))
	for i, t := range l.targets {
		outs[i] = commit.Output{Name: t.name, Target: t.path, Kind: t.kind}
	}
	return l.conflictError(commit.CheckOverlaps(outs, ins))
}

// CheckTargets refuses outputs whose targets their write mode may not
// replace as the filesystem is now: a directory batchrun did not write,
// an existing target with mode error-if-exists. It only reads; `validate`
// and every run call it before anything is written.
func (l *Loaded) CheckTargets() error {
	outs := make([]commit.Output, len(l.targets))
	for i, t := range l.targets {
		outs[i] = commit.Output{Name: t.name, Target: t.real, Kind: t.kind, Mode: t.mode}
	}
	return l.conflictError(commit.Check(osfs.Default, outs))
}

// conflictError turns the commit package's conflicts into spec errors
// naming the step and its line (the first one; errors.Join keeps all).
func (l *Loaded) conflictError(err error) error {
	if err == nil {
		return nil
	}
	var ce *commit.ConflictError
	if !errors.As(err, &ce) {
		return err
	}
	for _, t := range l.targets {
		if t.name == ce.Output {
			return spec.StepErrorf(l.Job, t.step, "output %s: %s", t.path, ce.Reason)
		}
	}
	return err
}

// output is one output of a run: its target and its staging area.
// Subtasks write part files into staging; only the commit (package commit)
// moves them into place, so a failed or killed run leaves the previous
// output untouched.
type output struct {
	target
	staging string // directory holding this run's part files
}

const stagingPrefix = ".batchrun-staging-"

// outputs lists the run's outputs. Files and directories are staged next
// to their targets (same filesystem, so the commit is a rename); streams
// in the run's own staging directory.
func (l *Loaded) outputs(runID, runStaging string) []*output {
	outs := make([]*output, len(l.targets))
	for i, t := range l.targets {
		root := filepath.Join(filepath.Dir(t.real), stagingPrefix+runID)
		if t.kind == commit.Stream {
			root = runStaging
		}
		outs[i] = &output{target: t, staging: filepath.Join(root, t.name)}
	}
	return outs
}

// partPath is where subtask index writes: part-NNNNN with the output's
// extension.
func (o *output) partPath(index int) string {
	return filepath.Join(o.staging, fmt.Sprintf("part-%05d%s", index, o.ext))
}

// commitOutput describes o to the commit protocol.
func (o *output) commitOutput() commit.Output {
	staged := o.staging
	if o.kind != commit.Dir {
		staged = o.partPath(0)
	}
	return commit.Output{Name: o.name, Target: o.real, Kind: o.kind, Mode: o.mode, Staged: staged}
}

func (o *output) prepare() error {
	if err := os.MkdirAll(o.staging, 0o755); err != nil {
		return fmt.Errorf("jobs: prepare output %s: %w", o.name, err)
	}
	return nil
}

// stagingRoot is the per-run directory that holds o's staging directory.
func (o *output) stagingRoot() string { return filepath.Dir(o.staging) }

// cleanupStaging removes every output's staging area (after a commit or a
// failure); errors are ignored because nothing reads staging again.
func cleanupStaging(outs []*output) {
	done := map[string]bool{}
	for _, o := range outs {
		if d := o.stagingRoot(); !done[d] {
			done[d] = true
			_ = os.RemoveAll(d)
		}
	}
}

// removePlanStaging removes the staging directories of a rolled-back
// commit plan: a directory output is staged as <root>/<name>, any other as
// <root>/<name>/part-00000 (partPath), root being what stagingRoot is for
// the output.
func removePlanStaging(p *commit.Plan) {
	for _, e := range p.Entries {
		root := filepath.Dir(e.Staged)
		if e.Kind != commit.Dir {
			root = filepath.Dir(root)
		}
		_ = os.RemoveAll(root)
	}
}

// physical builds the run's physical job: cfg, with the job, its read
// steps' files and its outputs' part files filled in (and the reads'
// progress counted in progress, when set).
func (l *Loaded) physical(outs []*output, cfg physical.Config, progress *InputProgress) (*physical.Job, error) {
	cfg.Job, cfg.Resolved, cfg.Graph = l.Job, l.Resolved, l.Graph
	cfg.Inputs = map[string]formats.ScanInput{}
	for _, s := range l.Job.Steps {
		if s.Read == nil {
			continue
		}
		in, err := expandInput(s.Read)
		if err != nil {
			return nil, fmt.Errorf("jobs: step %q: %w", s.ID, err)
		}
		cfg.Inputs[s.ID] = in
	}
	if progress != nil {
		cfg.ReadProgress = progress.track(l.Graph, cfg.Inputs)
	}
	byName := make(map[string]*output, len(outs))
	for _, o := range outs {
		byName[o.name] = o
	}
	cfg.PartPath = func(name string, index int) string { return byName[name].partPath(index) }
	return physical.New(cfg)
}
