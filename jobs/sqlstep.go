package jobs

import (
	"errors"
	"slices"
	"strings"

	"go.yaml.in/yaml/v4"

	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/sql"
)

// decodeSQL decodes `sql: <query>`. A block scalar (sql: |) starts on the
// line after its key, which is where errors inside the query count from.
func (d *decoder) decodeSQL(s *spec.Step, n *yaml.Node) error {
	if len(s.Inputs) > 0 {
		return d.errf(n, "input: a sql step reads the tables its FROM names")
	}
	q, err := d.str(n, "sql")
	if err != nil {
		return err
	}
	n = deref(n)
	line := n.Line
	if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		line++
	}
	s.SQL = &spec.SQLStep{Query: q, QueryLine: line}
	return nil
}

// SQL adds a step that runs query, whose FROM names steps added before
// (their ids are its tables).
func (b *Builder) SQL(id, query string) *StepRef {
	r := b.add(id, spec.KindSQL)
	r.s.SQL = &spec.SQLStep{Query: query}
	return r
}

// ExpandSQL replaces every sql step of job with the steps its query
// compiles to; the last of them keeps the sql step's id, so the steps that
// read it are unchanged. A sql step may read other sql steps; they are
// expanded first. Each plan is kept in job.SQLPlans for explain.
func ExpandSQL(job *spec.Job) error {
	for {
		i := slices.IndexFunc(job.Steps, func(s *spec.Step) bool { return s.Kind == spec.KindSQL })
		if i < 0 {
			return nil
		}
		s := readySQL(job)
		if s == nil {
			return spec.StepErrorf(job, job.Steps[i], "sql: its tables include a sql step that reads it back (a cycle)")
		}
		if err := expandOne(job, s); err != nil {
			return err
		}
	}
}

// readySQL returns a sql step whose tables are none of them sql steps.
func readySQL(job *spec.Job) *spec.Step {
	for _, s := range job.Steps {
		if s.Kind != spec.KindSQL {
			continue
		}
		ready := true
		for _, name := range sql.Tables(s.SQL.Query) {
			if t := tableStep(job, name); t != nil && t.Kind == spec.KindSQL {
				ready = false
			}
		}
		if ready {
			return s
		}
	}
	return nil
}

// tableStep is the step a query's table name names: its id exactly, else
// the only id equal to it ignoring case.
func tableStep(job *spec.Job, name string) *spec.Step {
	if s := job.Step(name); s != nil {
		return s
	}
	var found *spec.Step
	for _, s := range job.Steps {
		if strings.EqualFold(s.ID, name) {
			if found != nil {
				return nil
			}
			found = s
		}
	}
	return found
}

// expandOne compiles sql step s against the steps it reads and splices
// the result into job in its place.
func expandOne(job *spec.Job, s *spec.Step) error {
	tables, err := sqlTables(job, s)
	if err != nil {
		return err
	}
	c, err := sql.Compile(s.SQL.Query, sql.Catalog{Tables: tables, Others: otherSteps(job, s, tables)}, s.ID)
	if err != nil {
		return sqlError(job, s, err)
	}
	for _, st := range c.Steps {
		st.Line, st.Exchange, st.Parallelism = s.Line, s.Exchange, s.Parallelism
	}
	i := slices.Index(job.Steps, s)
	job.Steps = slices.Replace(job.Steps, i, i+1, c.Steps...)
	if job.SQLPlans == nil {
		job.SQLPlans = map[string]string{}
	}
	job.SQLPlans[s.ID] = c.Plan
	return nil
}

// otherSteps names the steps a query could read but s does not: what an
// unknown table's error suggests.
func otherSteps(job *spec.Job, s *spec.Step, tables []sql.Table) []string {
	var out []string
	for _, st := range job.Steps {
		if st != s && st.Kind != spec.KindWrite && !slices.ContainsFunc(tables, func(t sql.Table) bool { return t.ID == st.ID }) {
			out = append(out, st.ID)
		}
	}
	return out
}

// sqlTables resolves the steps a query reads (and their inputs) and
// returns them as tables with their schemas and estimated sizes.
func sqlTables(job *spec.Job, s *spec.Step) ([]sql.Table, error) {
	var ids []string
	for _, name := range sql.Tables(s.SQL.Query) {
		if t := tableStep(job, name); t != nil && t.Kind != spec.KindWrite && t != s {
			ids = append(ids, t.ID)
		}
	}
	sub := &spec.Job{Name: job.Name, Parallelism: job.Parallelism, Mode: job.Mode, File: job.File}
	need := ancestors(job, ids)
	for _, st := range job.Steps {
		if need[st.ID] {
			sub.Steps = append(sub.Steps, st)
		}
	}
	if len(sub.Steps) == 0 {
		return nil, nil // Compile names the unknown table
	}
	res, err := spec.Resolve(sub)
	if err != nil {
		return nil, err
	}
	tables := make([]sql.Table, len(ids))
	for i, id := range ids {
		tables[i] = sql.Table{ID: id, Schema: res.Schemas[id], Bytes: inputBytes(job, id)}
		if st := job.Step(id); st.Read != nil {
			tables[i].Unique = sampleUnique(st.Read)
		}
	}
	return tables, nil
}

// ancestors is ids and every step they read, directly or not.
func ancestors(job *spec.Job, ids []string) map[string]bool {
	need := map[string]bool{}
	var visit func(id string)
	visit = func(id string) {
		if need[id] {
			return
		}
		need[id] = true
		if st := job.Step(id); st != nil {
			for _, in := range st.Inputs {
				visit(in)
			}
		}
	}
	for _, id := range ids {
		visit(id)
	}
	return need
}

// inputBytes estimates a step's output size by the bytes of the files its
// reads read; 0 when they cannot be listed yet.
func inputBytes(job *spec.Job, id string) float64 {
	var total float64
	for a := range ancestors(job, []string{id}) {
		st := job.Step(a)
		if st == nil || st.Read == nil {
			continue
		}
		in, err := expandInput(st.Read)
		if err != nil {
			continue
		}
		for _, n := range in.Sizes {
			total += float64(n)
		}
	}
	return total
}

// sqlError turns a query's error into a spec error at its line in the
// spec file.
func sqlError(job *spec.Job, s *spec.Step, err error) error {
	var qe *sql.Error
	if !errors.As(err, &qe) {
		return spec.StepErrorf(job, s, "sql: %v", err)
	}
	e := spec.StepErrorf(job, s, "%s", strings.TrimSuffix(qe.Error(), "\n"))
	if s.SQL.QueryLine > 0 {
		e.Line = s.SQL.QueryLine + qe.Err.Pos.Line - 1
	}
	return e
}
