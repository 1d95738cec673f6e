package spec

// OutputSchema checks step s against its input schemas, in the order of
// s.Inputs, and returns its output schema: the rules Resolve applies to a
// job, for callers that build steps one at a time (the SQL front end). s's
// Inputs need not name steps of any job; they appear only in messages.
func OutputSchema(s *Step, ins []Schema) (Schema, error) {
	return stepSchema(nil, s, ins)
}
