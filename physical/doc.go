// Package physical builds what each stage of a compiled job computes: for
// one subtask attempt, the chain of operators its stage's ops become
// (scan, filter, project, join, aggregate, sort, window, write...), fed by the
// attempt's input readers and pushing into the executor's sink, with its
// share of the run's operator memory and a spiller into the run's store.
// A Job is the executor.Program of a run.
//
// It owns: op to operator translation, edge schemas (with projection
// pushdown: the pruned schemas of plan.Project, each read's scan told
// which columns to emit), the order a task reads its inputs in (a chained
// join's build side first), operator memory budgets and the spill key
// space use (spill.go), and quarantine files of malformed rows.
//
// It must not: decide what runs or where (scheduler, executor), know the
// state directory or the output commit (jobs), or parse specs.
package physical
