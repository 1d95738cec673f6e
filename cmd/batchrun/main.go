// Command batchrun runs batch jobs over files: `batchrun run SPEC`.
//
// It only parses flags, maps them onto jobs.RunOptions and calls package
// jobs; exit codes are documented in exitcodes.go and the README.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	os.Exit(Main())
}

// Main is the whole command except os.Exit: it runs os.Args with the
// process's stdout and stderr, cancels on SIGINT/SIGTERM and returns the exit
// code. The transcript tests (main_test.go) register it with testscript.
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx, os.Args, os.Stdout, os.Stderr)
}

// run is main without the process: it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr *os.File) int {
	app := newApp(stdout, stderr)
	err := app.RunContext(ctx, flagsFirst(app, args))
	if err == nil {
		return ExitOK
	}
	code := exitCode(err)
	fmt.Fprintf(stderr, "batchrun: %v\n", err)
	return code
}
