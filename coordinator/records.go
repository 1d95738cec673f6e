package coordinator

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/batchrun/batchrun/cluster"
	"github.com/batchrun/batchrun/jobs"
	"github.com/batchrun/batchrun/jobs/statedir"
)

// finalRecordTTL is how long etcd keeps the record of a run that ended
// for good (succeeded, superseded): the coordinators' state directories
// keep the history; etcd needs it only while a resume could find a stale
// copy of it there.
const finalRecordTTL = 7 * 24 * time.Hour

// records is a leader's jobs.RecordLog in etcd, for one submission: it
// also notes, in the submission, the run the leader started for it.
type records struct {
	cli  *clientv3.Client
	lead *cluster.Leadership
	// ctx is the tenure's: a deposed leader's writes fail at once.
	ctx context.Context
	sid string
	sub *Submission
}

var _ jobs.RecordLog = (*records)(nil)

// Put implements jobs.RecordLog: a fenced write, so a deposed leader
// records nothing.
func (r *records) Put(rec statedir.Record) error {
	ctx, cancel := context.WithTimeout(r.ctx, etcdTimeout)
	defer cancel()
	if rec.State.Unfinished() && r.sub.Run == "" {
		// The run this submission started: a later leader resumes it.
		r.sub.Run = statedir.IDString(rec.ID)
		body, err := json.Marshal(r.sub)
		if err != nil {
			return err
		}
		if _, err := r.lead.UpdateSubmission(ctx, r.sid, body); err != nil {
			return fmt.Errorf("coordinator: note run %s of submission %s: %w", r.sub.Run, r.sid, err)
		}
	}
	body, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	var lease clientv3.LeaseID
	if rec.State == statedir.Succeeded || rec.State == statedir.Superseded {
		if lease, err = r.lead.Grant(ctx, finalRecordTTL); err != nil {
			return err
		}
	}
	return r.lead.PutRecord(ctx, rec.Job, statedir.IDString(rec.ID), body, lease)
}

// Records implements jobs.RecordLog.
func (r *records) Records(ctx context.Context, job string) ([]statedir.Record, error) {
	ctx, cancel := context.WithTimeout(ctx, etcdTimeout)
	defer cancel()
	bodies, err := cluster.Records(ctx, r.cli, job)
	if err != nil {
		return nil, err
	}
	recs := make([]statedir.Record, 0, len(bodies))
	for _, b := range bodies {
		var rec statedir.Record
		if err := json.Unmarshal(b, &rec); err != nil {
			return nil, fmt.Errorf("coordinator: a run record of %s in etcd: %w", job, err)
		}
		recs = append(recs, rec)
	}
	return recs, nil
}
