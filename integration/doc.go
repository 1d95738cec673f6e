// Package integration runs the example jobs end to end and checks their
// outputs against answers computed independently, in plain Go over the
// same input files, in every exchange mode and at several parallelisms.
//
// It owns: the end-to-end tests and their reference answers.
//
// It must not: be imported by the product, or check the engine against its
// own earlier output.
package integration
