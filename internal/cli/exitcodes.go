package cli

import (
	"errors"

	"github.com/batchrun/batchrun/jobs"
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
	if errors.As(err, &ue) {
		return ExitUsage
	}
	switch jobs.Classify(err) {
	case jobs.ClassUsage:
		return ExitUsage
	case jobs.ClassSpec:
		return ExitSpecError
	case jobs.ClassData:
		return ExitDataError
	case jobs.ClassLocked:
		return ExitLocked
	case jobs.ClassInterrupted:
		return ExitInterrupted
	}
	return ExitJobFailed
}
