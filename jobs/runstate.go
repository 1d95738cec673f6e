package jobs

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/batchrun/batchrun/plan"
	"github.com/batchrun/batchrun/storage"
)

// openRun finds the run this invocation works on and records that it
// started: the run named by Resume, else the newest resumable run with the
// same digest (unless Fresh), else a new run. The record is synced before
// any partition of the run is written.
func (l *Loaded) openRun(store *storage.Store, opts *RunOptions) (storage.RunRecord, error) {
	runs, err := store.Runs()
	if err != nil {
		return storage.RunRecord{}, err
	}
	rec, found, err := l.findResumable(store, runs, opts)
	if err != nil {
		return storage.RunRecord{}, err
	}
	if !found {
		rec = storage.RunRecord{ID: uint64(time.Now().UnixNano()), Job: l.Job.Name, Spec: l.Spec,
			Digest: l.Digest, Params: l.Params, Start: time.Now()}
	}
	rec.Invocations++
	if rec.State != storage.RunCommitting {
		rec.State = storage.RunRunning
	}
	rec.Error = ""
	return rec, store.PutRun(rec)
}

func (l *Loaded) findResumable(store *storage.Store, runs []storage.RunRecord, opts *RunOptions) (storage.RunRecord, bool, error) {
	if opts.Resume != "" {
		for _, r := range runs {
			if storage.RunIDString(r.ID) != opts.Resume {
				continue
			}
			switch {
			case !r.State.Resumable():
				return r, false, fmt.Errorf("jobs: run %s is %s, not resumable", opts.Resume, r.State)
			case r.Digest != l.Digest:
				return r, false, fmt.Errorf("jobs: run %s ran other work (spec, parameters or inputs changed): use --fresh", opts.Resume)
			}
			return r, true, nil
		}
		return storage.RunRecord{}, false, fmt.Errorf("jobs: no run %s in the state directory", opts.Resume)
	}
	for i := len(runs) - 1; i >= 0; i-- {
		r := runs[i]
		if l.Digest == "" || r.Digest != l.Digest || !r.State.Resumable() {
			continue
		}
		if !opts.Fresh {
			return r, true, nil
		}
		r.State, r.End = storage.RunAbandoned, time.Now()
		if err := store.PutRun(r); err != nil {
			return r, false, err
		}
		if err := store.DeleteRunData(r.ID); err != nil {
			return r, false, err
		}
	}
	return storage.RunRecord{}, false, nil
}

// committedPartitions lists the run's blocking partitions that a previous
// invocation committed and that still verify (every batch present, every
// checksum right). A bad one is left out: the scheduler regenerates it.
func (inv *invocation) committedPartitions() ([]plan.PartitionID, error) {
	if inv.rec.Invocations <= 1 {
		return nil, nil
	}
	var ok []plan.PartitionID
	for _, e := range inv.l.Graph.Edges {
		if e.Mode != plan.Blocking {
			continue
		}
		for p := 0; p < inv.l.Graph.Stage(e.From).Parallelism; p++ {
			ref := storage.PartitionRef{Run: inv.rec.ID, Edge: uint32(e.ID), Producer: uint32(p)}
			err := inv.store.Verify(ref)
			switch {
			case err == nil:
				ok = append(ok, plan.PartitionID{Edge: e.ID, Producer: int32(p)})
			case errors.Is(err, storage.ErrNotFound):
			case storage.IsCorrupt(err):
				inv.logger.Warn("committed partition is corrupt; regenerating it", "partition", ref, "err", err)
			default:
				return nil, err
			}
		}
	}
	return ok, nil
}

func outputRecords(outs []*output) []storage.OutputRecord {
	recs := make([]storage.OutputRecord, len(outs))
	for i, o := range outs {
		recs[i] = storage.OutputRecord{Staging: o.staging, Target: o.target, Single: o.single, Ext: o.ext}
	}
	return recs
}

// outputsOf rebuilds the outputs a run recorded when it began committing.
func outputsOf(recs []storage.OutputRecord) []*output {
	outs := make([]*output, len(recs))
	for i, r := range recs {
		outs[i] = &output{target: r.Target, staging: r.Staging, single: r.Single, ext: r.Ext}
	}
	return outs
}

// crash kills the process when CrashAt names point (crash tests). At
// "hold" it instead says "holding" on stderr and waits for stdin to close,
// so a test can run a second invocation while this one holds the locks.
func (o *RunOptions) crash(point string) {
	if o.CrashAt == "hold" && point == "started" {
		fmt.Fprintln(os.Stderr, "holding")
		_, _ = io.Copy(io.Discard, os.Stdin)
		return
	}
	if o.CrashAt == point {
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal is on its way
	}
}

// crashObserver wraps next to kill the process after CrashAt's
// "commits=N" subtask attempts have finished.
func (o *RunOptions) crashObserver(next Observer) Observer {
	n, ok := strings.CutPrefix(o.CrashAt, "commits=")
	if !ok {
		return next
	}
	limit, _ := strconv.Atoi(n)
	return &crashCounter{next: next, limit: int64(limit), opts: o}
}

type crashCounter struct {
	next  Observer
	limit int64
	done  atomic.Int64
	opts  *RunOptions
}

func (c *crashCounter) SubtaskFinished(stage, index int, rowsOut int64, err error) {
	if c.next != nil {
		c.next.SubtaskFinished(stage, index, rowsOut, err)
	}
	if err == nil && c.done.Add(1) == c.limit {
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}
}
