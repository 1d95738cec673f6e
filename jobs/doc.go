// Package jobs is batchrun's job layer: what a user writes and what runs.
//
// It owns: the YAML job spec format (parameters, strict decoding, errors
// with file:line and step), loading and validating a spec into a
// spec.Job (Load, Parse), the Go Builder that produces the same spec.Job,
// the validation entry points (spec.Resolve is called by both), and running
// a job end to end: compiling it with plan, handing it to the scheduler, and
// publishing its outputs atomically.
//
// It must not: know Pebble key layouts or operator internals; the logical
// job types live in the leaf package jobs/spec.
//
// The format is documented in docs/spec.md.
//
// Glossary:
//   - spec: a YAML file describing one job; its directory is the base of
//     relative read and write paths.
//   - parameter: a ${name} in the spec text, substituted before parsing from
//     the caller's values or the spec's params: defaults.
//   - inferrer: the SchemaInferrer that fills in the schema of a read that
//     has none, from the CSV header and a sample of rows.
//   - step handle: a *StepRef returned by a Builder method, used as the
//     input of later steps.
package jobs
