package jobs

import "github.com/batchrun/batchrun/jobs/spec"

// Format sets the file format of a read or write step (default: from the
// path's extension).
func (r *StepRef) Format(f spec.Format) *StepRef {
	switch {
	case r.s.Read != nil:
		r.s.Read.Format = f
	case r.s.Write != nil:
		r.s.Write.Format = f
	default:
		r.b.fail(r.s, "Format applies to read and write steps only")
	}
	return r
}

// OnError sets what a read does with malformed rows; quarantine is the
// output path for spec.OnErrorQuarantine (empty otherwise).
func (r *StepRef) OnError(mode spec.OnError, quarantine string) *StepRef {
	if r.s.Read == nil {
		r.b.fail(r.s, "OnError applies to read steps only")
		return r
	}
	r.s.Read.OnError, r.s.Read.Quarantine = mode, quarantine
	return r
}

// WriteMode sets a write's mode and Parquet compression.
func (r *StepRef) WriteMode(m spec.WriteMode, c spec.Compression) *StepRef {
	if r.s.Write == nil {
		r.b.fail(r.s, "WriteMode applies to write steps only")
		return r
	}
	r.s.Write.Mode, r.s.Write.Compression = m, c
	return r
}
