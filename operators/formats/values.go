package formats

import (
	"fmt"
	"strconv"

	"github.com/batchrun/batchrun/jobs/spec"
)

// Dates, timestamps and decimals in text formats: their values are int64s
// (spec.Type.Physical), parsed from and written as the text forms of
// package spec (YYYY-MM-DD, YYYY-MM-DD HH:MM:SS[.ffffff], 123.40), straight
// from and into the line's bytes.

// isIntText reports whether t is a date, a timestamp or a decimal: a type
// whose int64 values have a text form of their own.
func isIntText(t spec.Type) bool { return t.Physical() == spec.Int64 && t != spec.Int64 }

// parseIntText parses a date, a timestamp or a decimal of type t.
func parseIntText(b []byte, t spec.Type) (int64, error) {
	switch t {
	case spec.Date:
		return spec.ParseDate(b)
	case spec.Timestamp:
		return spec.ParseTimestamp(b)
	}
	return spec.ParseDecimal(b, t)
}

// appendIntText appends the text form of v, a date, a timestamp or a
// decimal of type t.
func appendIntText(b []byte, v int64, t spec.Type) []byte {
	switch t {
	case spec.Date:
		return spec.AppendDate(b, v)
	case spec.Timestamp:
		return spec.AppendTimestamp(b, v)
	}
	return spec.AppendDecimal(b, v, t.Scale())
}

// intTextFailure explains why b does not parse as t.
func intTextFailure(b []byte, t spec.Type, err error) string {
	reason := "invalid syntax"
	if err == strconv.ErrRange {
		reason = "value out of range"
	}
	return fmt.Sprintf("parse %q as %s: %s", b, t, reason)
}
