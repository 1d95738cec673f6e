// Package ui is the web UI over a state directory's run history: a page
// (embedded, plain HTML, CSS and JavaScript, so it works offline and
// needs no build step) that lists the runs and draws one run's stage
// graph, its attempts as a timeline and its failovers, and the JSON API
// the page reads (/api/runs, /api/runs/{id}).
//
// It reads what `batchrun runs` reads (the run records and each run's
// report, through package jobs), without a lock, so it serves beside
// running jobs. It must not: write to the state directory or import the
// scheduler's internals.
package ui

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/batchrun/batchrun/jobs"
)

// Options configure Serve.
type Options struct {
	// StateDir is the state directory whose runs are shown; it must exist.
	StateDir string
	// Listen is the HOST:PORT to serve on (port 0 picks one).
	Listen string
	// Ready, if set, hears the page's URL once the server listens.
	Ready func(url string)
}

// shutdownGrace bounds how long Serve waits for requests in flight after
// ctx is done: they are small reads of local files.
const shutdownGrace = 5 * time.Second

// Serve serves the UI until ctx is done, then returns nil. A state
// directory that is not one, or a --listen that is not HOST:PORT, is a
// *jobs.OptionError (the command line's usage error); failing to listen
// on a good address is another error.
func Serve(ctx context.Context, o Options) error {
	if err := checkStateDir(o.StateDir); err != nil {
		return &jobs.OptionError{Err: err}
	}
	if _, _, err := net.SplitHostPort(o.Listen); err != nil {
		return &jobs.OptionError{Err: fmt.Errorf("ui: --listen %q: want HOST:PORT: %w", o.Listen, err)}
	}
	lis, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return fmt.Errorf("ui: listen on %s: %w", o.Listen, err)
	}
	srv := &http.Server{Handler: Handler(o.StateDir), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	if o.Ready != nil {
		o.Ready("http://" + lis.Addr().String() + "/")
	}
	select {
	case err := <-served:
		return fmt.Errorf("ui: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("ui: shut down: %w", err)
	}
	return nil
}

// checkStateDir refuses a state directory that does not exist or is not
// a directory: listing it would show no runs, and a mistyped path would
// look like an empty history.
func checkStateDir(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("ui: state directory %s does not exist (give --state-dir, where batchrun run keeps its runs)", dir)
	case err != nil:
		return fmt.Errorf("ui: state directory: %w", err)
	case !fi.IsDir():
		return fmt.Errorf("ui: state directory %s is not a directory", dir)
	}
	return nil
}
