package main

import (
	"context"
	"errors"

	"github.com/batchrun/batchrun/jobs"
	"github.com/batchrun/batchrun/jobs/spec"
)

// Exit codes. Scripts and cron wrappers branch on them; keep them stable.
const (
	ExitOK          = 0 // the job ran and its output is committed
	ExitJobFailed   = 1 // a task failed and recovery gave up, or an I/O error
	ExitUsage       = 2 // bad command line: unknown flag, missing argument
	ExitSpecError   = 3 // the spec is invalid (names file, line and step); nothing ran
	ExitDataError   = 4 // an input row is malformed (names file, line and column)
	ExitLocked      = 5 // another run holds the state directory or output lock
	ExitInterrupted = 130
)

// usageError marks command-line mistakes.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func exitCode(err error) int {
	var ue *usageError
	var se *spec.Error
	switch {
	case errors.As(err, &ue):
		return ExitUsage
	case errors.As(err, &se):
		return ExitSpecError
	case jobs.IsDataError(err):
		return ExitDataError
	case jobs.IsLocked(err):
		return ExitLocked
	case errors.Is(err, context.Canceled):
		return ExitInterrupted
	}
	return ExitJobFailed
}
