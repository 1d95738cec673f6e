package cli

import (
	"context"
	"errors"

	"github.com/batchrun/batchrun/jobs"
	"github.com/batchrun/batchrun/jobs/spec"
)

// Exit codes. Scripts and cron wrappers branch on them; keep them stable.
const (
	ExitOK          = 0 // the job ran and its outputs are committed
	ExitJobFailed   = 1 // a task failed and recovery gave up, or an I/O error; previous outputs untouched
	ExitUsage       = 2 // bad command line: unknown flag, missing argument, bad option value; nothing ran
	ExitSpecError   = 3 // the spec is invalid or conflicts with the filesystem (names file, line and step); nothing ran
	ExitDataError   = 4 // an input row or value is malformed (names file, line and column where known)
	ExitLocked      = 5 // another process runs the same job or writes the same output; nothing ran
	ExitInterrupted = 130
)

// usageError marks command-line mistakes.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func exitCode(err error) int {
	var ue *usageError
	var oe *jobs.OptionError
	var nf *jobs.RunNotFoundError
	var se *spec.Error
	switch {
	case errors.As(err, &ue), errors.As(err, &oe), errors.As(err, &nf):
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
