package operators

// EvalError is a value an expression cannot be evaluated on, such as a
// CAST of "abc" to int64. Like a DataError it fails every attempt the same
// way; unlike one it cannot name the file and line of the row.
type EvalError struct{ Msg string }

func (e *EvalError) Error() string { return "operators: " + e.Msg }

// Permanent: see DataError.Permanent.
func (e *EvalError) Permanent() bool { return true }
