package jobs

import (
	"context"
	"errors"

	"github.com/batchrun/batchrun/jobs/spec"
)

// ErrorClass is the kind of a run's failure, as exit codes tell it apart;
// a coordinator sends it to the client with the error's text.
type ErrorClass string

const (
	ClassFailed      ErrorClass = "failed"      // a task failed and recovery gave up, or an I/O error
	ClassUsage       ErrorClass = "usage"       // an option that cannot work, an unknown run
	ClassSpec        ErrorClass = "spec"        // the spec is invalid or conflicts with the filesystem
	ClassData        ErrorClass = "data"        // an input row or value is malformed
	ClassLocked      ErrorClass = "locked"      // another run holds the job or an output
	ClassInterrupted ErrorClass = "interrupted" // cancelled
)

// Classify says which class err is of. An error that knows its class
// (one that crossed from a worker or a coordinator) says so itself.
func Classify(err error) ErrorClass {
	var c interface{ ErrorClass() string }
	var oe *OptionError
	var nf *RunNotFoundError
	var se *spec.Error
	switch {
	case errors.As(err, &c) && c.ErrorClass() != "":
		return ErrorClass(c.ErrorClass())
	case errors.As(err, &oe), errors.As(err, &nf):
		return ClassUsage
	case errors.As(err, &se):
		return ClassSpec
	case IsDataError(err):
		return ClassData
	case IsLocked(err):
		return ClassLocked
	case errors.Is(err, context.Canceled):
		return ClassInterrupted
	}
	return ClassFailed
}
