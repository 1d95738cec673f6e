// Package cli is the batchrun command line: flags, exit codes, progress and
// output formatting. It parses flags and maps them onto jobs.RunOptions;
// what runs is package jobs. cmd/batchrun is its main; the integration
// tests' crash harness (integration/internal/crashbin) is another, which
// passes Hooks.
//
// It must not: hold logic a test needs below the command line.
package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/batchrun/batchrun/jobs"
)

// Hooks let a harness change what the command runs; the product passes
// none.
type Hooks struct {
	// RunOptions is called with the options of `batchrun run`, after the
	// flags are parsed and before the run starts.
	RunOptions func(*jobs.RunOptions)
}

// Main is the whole command except os.Exit: it runs args (as os.Args)
// with stdout and stderr, cancels on SIGINT/SIGTERM and returns the exit
// code (exitcodes.go).
func Main(args []string, stdout, stderr *os.File, h Hooks) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx, args, stdout, stderr, h)
}

// run is Main without the signals.
func run(ctx context.Context, args []string, stdout, stderr *os.File, h Hooks) int {
	app := newApp(stdout, stderr, h)
	err := app.RunContext(ctx, flagsFirst(app, args))
	if err == nil {
		return ExitOK
	}
	code := exitCode(err)
	var le *loggedError
	if errors.As(err, &le) {
		le.log(code) // one JSON object, as every log line before it
		return code
	}
	fmt.Fprintf(stderr, "batchrun: %v\n", err)
	return code
}

// loggedError is a command's final error when its logs are JSON: it is
// written as one more log record, not as plain text.
type loggedError struct {
	err    error
	logger *slog.Logger
}

func (e *loggedError) Error() string { return e.err.Error() }

func (e *loggedError) Unwrap() error { return e.err }

func (e *loggedError) log(code int) {
	e.logger.Error("batchrun failed", "err", e.err.Error(), "exit_code", code)
}
