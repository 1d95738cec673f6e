//go:build unix

// Command crashbin is batchrun's command line with the crash points the
// integration tests kill it at (BATCHRUN_TEST_CRASH), built by the tests
// only. The product has no such code: the points are made of the run's
// public seams, its Observer and its filesystem (jobs.RunOptions):
//
//	started        SIGKILL once the run's record is first durable
//	hold           at that point, print "holding" on stderr and wait for
//	               stdin to close (a run that keeps its locks)
//	commits=N      SIGKILL after N subtask attempts succeeded
//	output-commit  SIGKILL right after the first output is swapped in
package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/batchrun/batchrun/internal/cli"
	"github.com/batchrun/batchrun/internal/osfs"
	"github.com/batchrun/batchrun/jobs"
)

func main() {
	point := os.Getenv("BATCHRUN_TEST_CRASH")
	h := cli.Hooks{RunOptions: func(o *jobs.RunOptions) { install(point, o) }}
	os.Exit(cli.Main(os.Args, os.Stdout, os.Stderr, h))
}

func install(point string, o *jobs.RunOptions) {
	fs := o.FS
	if fs == nil {
		fs = osfs.Default
	}
	switch {
	case point == "started" || point == "hold":
		o.FS = &afterRecord{FS: fs, hold: point == "hold"}
	case point == "output-commit":
		o.FS = afterSwap{fs}
	case strings.HasPrefix(point, "commits="):
		n, err := strconv.Atoi(strings.TrimPrefix(point, "commits="))
		if err != nil {
			fmt.Fprintf(os.Stderr, "crashbin: bad point %q\n", point)
			os.Exit(2)
		}
		o.Observer = &afterCommits{next: o.Observer, limit: int64(n)}
	case point != "":
		fmt.Fprintf(os.Stderr, "crashbin: unknown point %q\n", point)
		os.Exit(2)
	}
}

func kill() {
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {} // the signal is on its way
}

// afterRecord acts after the first directory sync of the run's folder:
// the last step of the first write of its record.
type afterRecord struct {
	osfs.FS
	hold bool
	once sync.Once
}

func (a *afterRecord) SyncDir(dir string) error {
	if err := a.FS.SyncDir(dir); err != nil {
		return err
	}
	if !strings.Contains(dir, string(os.PathSeparator)+"runs"+string(os.PathSeparator)) {
		return nil
	}
	a.once.Do(func() {
		if !a.hold {
			kill()
		}
		fmt.Fprintln(os.Stderr, "holding")
		_, _ = io.Copy(io.Discard, os.Stdin)
	})
	return nil
}

// afterSwap kills right after the first swap of an output into place.
type afterSwap struct{ osfs.FS }

func (a afterSwap) Exchange(x, y string) error {
	if err := a.FS.Exchange(x, y); err != nil {
		return err
	}
	kill()
	return nil
}

func (a afterSwap) Rename(oldpath, newpath string) error {
	if err := a.FS.Rename(oldpath, newpath); err != nil || !strings.Contains(oldpath, ".batchrun-staging-") {
		return err
	}
	kill()
	return nil
}

// afterCommits kills after limit subtask attempts succeeded.
type afterCommits struct {
	next  jobs.Observer
	limit int64
	done  atomic.Int64
}

func (c *afterCommits) SubtaskFinished(stage, index int, rowsOut int64, err error) {
	if c.next != nil {
		c.next.SubtaskFinished(stage, index, rowsOut, err)
	}
	if err == nil && c.done.Add(1) == c.limit {
		kill()
	}
}
