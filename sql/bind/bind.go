// Package bind is the SQL front end's second layer: it resolves the names
// of a parsed query (sql/parser) against the job's tables, types its
// expressions with the steps' own rules (spec.TypeOf), and builds the
// logical plan (sql/logical). Planning decisions that need the query's
// structure are made here as it binds: WHERE conjuncts are pushed to the
// table they read, equalities between tables become join keys, the join
// order comes from the join graph and the tables' sizes, and subqueries
// are decorrelated into semi, anti and aggregate joins.
//
// Every column of the plan gets a name unique in the query (its own name
// when free, else name_2, name_3...), so that joins never meet two columns
// of one name and the plan's expressions are plain spec expressions.
//
// It must not: know how plans become steps (logical.Lower) or read files.
package bind

import (
	"fmt"
	"strings"

	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/sql/logical"
	"github.com/batchrun/batchrun/sql/parser"
)

// Table is what the binder knows of a table: a step of the job.
type Table struct {
	ID     string // the step id
	Schema spec.Schema
	// Bytes estimates the table's size (its input files' bytes for a read);
	// 0 means unknown.
	Bytes float64
	// Unique lists the columns believed to hold no value twice (a sample
	// of the table found none), which orders joins.
	Unique []string
}

// Catalog is the tables a query can read: the job's steps before it.
type Catalog struct {
	Tables []Table
	// Others names the job's other steps, which the query does not read:
	// an unknown table's error suggests the closest of them too.
	Others []string
}

// lookup finds the table name names: exactly when quoted, else ignoring
// case (an exact match first).
func (c Catalog) lookup(name *parser.Ident) (Table, bool) {
	var found []Table
	for _, t := range c.Tables {
		if t.ID == name.Name {
			return t, true
		}
		if nameEq(name, t.ID) {
			found = append(found, t)
		}
	}
	if len(found) == 1 {
		return found[0], true
	}
	return Table{}, false
}

func (c Catalog) names() []string {
	out := make([]string, len(c.Tables), len(c.Tables)+len(c.Others))
	for i, t := range c.Tables {
		out[i] = t.ID
	}
	return append(out, c.Others...)
}

// Result is a bound query.
type Result struct {
	Root *logical.Rel
	// Columns are the output column names, in order (Root's schema).
	Columns []string
}

// BroadcastBelow is the estimated size under which the build side of a
// join is broadcast to every probe subtask instead of hash-partitioned with
// it (jobs.BroadcastBelow applies to raw files; this to any subplan).
const BroadcastBelow = 8 << 20

// Bind binds q. Errors are *parser.Error, at the position of the name or
// expression they are about.
func Bind(q *parser.Query, cat Catalog) (*Result, error) {
	b := &binder{cat: cat, used: map[string]int{}}
	out, err := b.query(q, nil)
	if err != nil {
		return nil, err
	}
	return b.finish(out)
}

// binder holds what one query's binding shares: the catalog, the names
// given out, the CTEs in scope.
type binder struct {
	cat  Catalog
	used map[string]int // internal column name -> times handed out
	ctes []map[string]*cte
}

// cte is a WITH entry: bound once, read by every reference.
type cte struct {
	rel   *relation
	reads int
}

// fresh returns an internal column name based on name that no column of
// the query has yet.
func (b *binder) fresh(name string) string {
	base := identifier(name)
	for {
		n := b.used[base]
		b.used[base] = n + 1
		if n == 0 {
			return base
		}
		cand := fmt.Sprintf("%s_%d", base, n+1)
		if b.used[cand] == 0 {
			b.used[cand] = 1
			return cand
		}
	}
}

// finish renames the root's columns to the query's output names.
func (b *binder) finish(out *relation) (*Result, error) {
	names := make([]string, len(out.cols))
	cols := make([]spec.NamedExpr, len(out.cols))
	seen := map[string]int{}
	rename := false
	for i, c := range out.cols {
		name := c.name
		if n := seen[strings.ToLower(name)]; n > 0 {
			name = fmt.Sprintf("%s_%d", name, n+1)
		}
		seen[strings.ToLower(c.name)]++
		names[i] = name
		cols[i] = spec.NamedExpr{Expr: &spec.Column{Name: c.internal}, Alias: name}
		rename = rename || name != c.internal
	}
	root := out.rel
	if !rename && len(out.rel.Schema) == len(cols) {
		return &Result{Root: root, Columns: names}, nil
	}
	var err error
	if sel := root.Step.Select; sel != nil && len(sel.Columns) == len(cols) {
		// Rename in the select that computes the columns rather than
		// adding one that only renames.
		merged := make([]spec.NamedExpr, len(cols))
		for i, c := range sel.Columns {
			if c.Alias != out.cols[i].internal {
				merged = nil
				break
			}
			merged[i] = spec.NamedExpr{Expr: c.Expr, Alias: names[i]}
		}
		if merged != nil {
			root, err = logical.Project(root.Inputs[0], merged)
			return &Result{Root: root, Columns: names}, err
		}
	}
	if root, err = logical.Project(root, cols); err != nil {
		return nil, err
	}
	return &Result{Root: root, Columns: names}, nil
}

// errorf is a binding error at the position of n.
func errorf(n parser.Node, format string, args ...any) *parser.Error {
	return &parser.Error{Pos: n.Position(), Msg: fmt.Sprintf(format, args...)}
}

// planError places an error from a logical constructor (a type rule of a
// step) at n.
func planError(n parser.Node, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(*parser.Error); ok {
		return err
	}
	msg := err.Error()
	if se, ok := err.(*spec.Error); ok {
		msg = se.Msg
	}
	return &parser.Error{Pos: n.Position(), Msg: strings.TrimPrefix(msg, "spec: ")}
}

// identifier makes a plan column name out of a SQL name or expression
// text: lower-case letters, digits and underscores, at most 40 bytes.
func identifier(s string) string {
	var sb strings.Builder
	under := false
	for _, r := range strings.ToLower(s) {
		ok := r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9'
		switch {
		case ok:
			sb.WriteRune(r)
			under = r == '_'
		case !under && sb.Len() > 0:
			sb.WriteByte('_')
			under = true
		}
		if sb.Len() >= 40 {
			break // the for loop: the switch is over
		}
	}
	out := strings.TrimRight(sb.String(), "_")
	if out == "" || out[0] >= '0' && out[0] <= '9' {
		out = "c_" + out
	}
	return out
}
