package jobs

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/batchrun/batchrun/executor"
	"github.com/batchrun/batchrun/jobs/commit"
	"github.com/batchrun/batchrun/jobs/statedir"
	"github.com/batchrun/batchrun/plan"
	"github.com/batchrun/batchrun/remote"
)

// openRun finds the run this invocation works on and records that it
// started: the run named by Resume, else the newest resumable run of the
// job with the same digest (unless Fresh), else a new run. The record is
// synced before any partition of the run is written. The caller holds the
// job's lock, so no live process owns a run it finds.
func (l *Loaded) openRun(sd *statedir.Dir, opts *RunOptions) (*statedir.Run, error) {
	if err := sd.RemoveLeftovers(); err != nil {
		opts.Logger.Warn("remove leftovers of removed runs", "err", err)
	}
	ents, err := sd.List()
	if err != nil {
		return nil, err
	}
	l.finishCleanups(sd, ents, opts)
	rec, found, err := l.findResumable(sd, ents, opts)
	if err != nil {
		return nil, err
	}
	if !found {
		now := time.Now()
		rec = statedir.Record{ID: uint64(now.UnixNano()), Job: l.Job.Name, Spec: l.Spec,
			Digest: l.Digest, Params: l.Params, Start: now, Invocations: 1, State: statedir.Running}
		return sd.NewRun(rec)
	}
	rec.Invocations++
	if rec.State != statedir.Committing {
		rec.State = statedir.Running
	}
	rec.Error, rec.End = "", time.Time{}
	return sd.Resume(rec)
}

func (l *Loaded) findResumable(sd *statedir.Dir, ents []statedir.Entry, opts *RunOptions) (statedir.Record, bool, error) {
	if opts.Resume != "" {
		return l.namedRun(ents, opts.Resume)
	}
	for _, e := range ents { // newest first
		r := e.Rec
		if e.Damaged != "" || r.Job != l.Job.Name || l.Digest == "" || r.Digest != l.Digest || !r.State.Resumable() {
			continue
		}
		if !opts.Fresh {
			return r, true, nil
		}
		if err := supersede(sd, r); err != nil {
			return r, false, err
		}
	}
	return statedir.Record{}, false, nil
}

// finishCleanups removes what committed runs of the job left behind when
// they stopped between their commit point and the removal of the old
// outputs (hidden backups next to the targets). Failures are logged: the
// outputs are committed either way.
func (l *Loaded) finishCleanups(sd *statedir.Dir, ents []statedir.Entry, opts *RunOptions) {
	for _, e := range ents {
		if e.Rec.Job != l.Job.Name {
			continue
		}
		if err := finishCleanup(sd, e); err != nil {
			opts.Logger.Warn("finish the cleanup of a committed run", "run", statedir.IDString(e.ID), "err", err)
		}
	}
}

// finishCleanup removes the old outputs a committed run e left, if any.
// The caller holds e's job lock.
func finishCleanup(sd *statedir.Dir, e statedir.Entry) error {
	p := e.Rec.Commit
	if e.Damaged != "" || e.Rec.State != statedir.Succeeded || p == nil || p.Cleaned {
		return nil
	}
	run, err := sd.Resume(e.Rec)
	if err != nil {
		return err
	}
	err = commit.Cleanup(sd.FS, p, func(p *commit.Plan) error { run.Rec.Commit = p; return run.Put() })
	_ = run.Close()
	if err == nil {
		removePlanStaging(p)
	}
	return err
}

// namedRun is the run --resume names, if it may be resumed by this job.
func (l *Loaded) namedRun(ents []statedir.Entry, id string) (statedir.Record, bool, error) {
	for _, e := range ents {
		r := e.Rec
		if statedir.IDString(e.ID) != id {
			continue
		}
		switch {
		case e.Damaged != "":
			return r, false, &OptionError{Err: fmt.Errorf("jobs: run %s cannot be resumed: %s", id, e.Damaged)}
		case r.Job != l.Job.Name:
			return r, false, &OptionError{Err: fmt.Errorf("jobs: run %s is a run of job %s, not %s", id, r.Job, l.Job.Name)}
		case !r.State.Resumable():
			return r, false, &OptionError{Err: fmt.Errorf("jobs: run %s is %s, not resumable", id, r.State)}
		case r.Digest != l.Digest:
			return r, false, &OptionError{Err: fmt.Errorf("jobs: run %s ran other work (spec, parameters or inputs changed): use --fresh", id)}
		}
		return r, true, nil
	}
	return statedir.Record{}, false, &OptionError{Err: fmt.Errorf("jobs: no run %s in the state directory", id)}
}

// supersede marks r, a resumable run that --fresh replaces, superseded
// and deletes its store. A run caught while committing is rolled back
// first, so that no output is left half swapped.
func supersede(sd *statedir.Dir, r statedir.Record) error {
	run, err := sd.Resume(r)
	if err != nil {
		return err
	}
	defer run.Close()
	if r.State == statedir.Committing && r.Commit != nil && !r.Commit.Committed {
		if err := commit.Rollback(sd.FS, r.Commit); err != nil {
			return fmt.Errorf("jobs: undo the commit of run %s: %w", statedir.IDString(r.ID), err)
		}
		removePlanStaging(r.Commit)
	}
	run.Rec.State, run.Rec.End, run.Rec.Commit = statedir.Superseded, time.Now(), nil
	if err := run.Put(); err != nil {
		return err
	}
	return os.RemoveAll(run.StoreDir())
}

// committedPartitions lists the run's blocking partitions that a previous
// invocation committed and that still verify (every batch present, every
// checksum right). A bad one is left out: the scheduler regenerates it.
func (inv *invocation) committedPartitions(ctx context.Context, exec executor.Executor) ([]plan.PartitionID, error) {
	if inv.run.Rec.Invocations <= 1 {
		return nil, nil
	}
	var candidates []plan.PartitionID
	for _, e := range inv.l.Graph.Edges {
		if e.Mode != plan.Blocking {
			continue
		}
		for p := 0; p < inv.l.Graph.Stage(e.From).Parallelism; p++ {
			candidates = append(candidates, plan.PartitionID{Edge: e.ID, Producer: int32(p)})
		}
	}
	if re, ok := exec.(*remote.Executor); ok {
		// On workers: what the live ones still hold, checked by them.
		return re.Recover(ctx, candidates)
	}
	local := &executor.StorePartitions{Store: inv.store, Run: inv.run.Rec.ID}
	return local.Intact(candidates, func(p plan.PartitionID, err error) {
		inv.logger.Warn("committed partition is corrupt; regenerating it", "partition", p, "err", err)
	})
}

// RecordLog keeps run records outside the state directory: a
// coordinator's etcd, where the next leader finds them.
type RecordLog interface {
	// Put writes rec (fenced: it fails once the writer is deposed).
	Put(rec statedir.Record) error
	// Records returns the records kept of job's runs.
	Records(ctx context.Context, job string) ([]statedir.Record, error)
}

// importRecords writes the records log keeps of the job's runs into the
// state directory over what it has of them: a run another coordinator
// scheduled is then resumed here as if it had been scheduled here.
func (l *Loaded) importRecords(ctx context.Context, sd *statedir.Dir, log RecordLog) error {
	recs, err := log.Records(ctx, l.Job.Name)
	if err != nil {
		return fmt.Errorf("jobs: read the job's run records: %w", err)
	}
	for _, rec := range recs {
		if err := sd.Import(rec); err != nil {
			return err
		}
	}
	return nil
}
