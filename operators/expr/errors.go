package expr

// EvalError is a value an expression cannot be evaluated on, such as a
// CAST of "abc" to int64. Like an operators.DataError it fails every
// attempt the same way; unlike one it cannot name the file and line of the
// row.
type EvalError struct{ Msg string }

func (e *EvalError) Error() string { return "operators: " + e.Msg }

// Permanent: see operators.DataError.Permanent.
func (e *EvalError) Permanent() bool { return true }
