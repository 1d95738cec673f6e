// Package coordinator runs batchrun's coordinators: processes that
// campaign for leadership in etcd, the leader scheduling every run
// clients submit on the cluster's workers, and the client side of a
// submission (batchrun run --cluster with coordinators up).
//
// The run log lives in etcd (package cluster): a submission stays until
// its run ends; the leader notes the run it started for it and keeps the
// run's record there at every change, fenced by its election revision.
// When the leader dies, a standby wins the election once the old lease
// expires, imports the records, and resumes each pending submission's
// run: the live workers say which of its partitions they hold, and those
// regions are not run again (jobs' resume on workers).
//
// It owns: the submission and result formats, the leader's loop over
// submissions, progress events, and the client's follow of a run.
//
// It must not: schedule (package scheduler), run tasks (remote workers),
// or hold run state only in memory: what a new leader needs is in etcd.
package coordinator
