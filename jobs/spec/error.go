package spec

import "fmt"

// Error is a spec error: it names the file, the line and the step it is
// about. Callers branch on it (errors.As) to choose the spec-error exit code.
type Error struct {
	File string
	Line int    // 0 when unknown (Go builder)
	Step string // "" for job-level errors
	Msg  string
}

func (e *Error) Error() string {
	loc := e.File
	if e.Line > 0 {
		if loc == "" {
			loc = "line"
		}
		loc = fmt.Sprintf("%s:%d", loc, e.Line)
	}
	switch {
	case loc != "" && e.Step != "":
		return fmt.Sprintf("%s: step %q: %s", loc, e.Step, e.Msg)
	case loc != "":
		return fmt.Sprintf("%s: %s", loc, e.Msg)
	case e.Step != "":
		return fmt.Sprintf("step %q: %s", e.Step, e.Msg)
	}
	return e.Msg
}

// StepErrorf returns an *Error about step s of job j.
func StepErrorf(j *Job, s *Step, format string, args ...any) *Error {
	e := &Error{Msg: fmt.Sprintf(format, args...)}
	if j != nil {
		e.File = j.File
	}
	if s != nil {
		e.Step, e.Line = s.ID, s.Line
	}
	return e
}
