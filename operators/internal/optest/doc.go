// Package optest holds the test helpers of the operators packages: a sink
// that keeps what it is pushed, records built from Go values, schemas
// parsed from text, checked allocators, the sliced-batch input, and (on
// unix) the benchmark events data and clock.
//
// It is imported by tests only. It does not own any operator, and it must
// not import operators or its other subpackages except arrowx, so that the
// tests of every package below operators can use it.
package optest
