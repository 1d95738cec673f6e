// Package sql compiles a SQL query into job steps: parse (sql/parser),
// bind and plan (sql/bind, sql/logical), lower to steps. The steps run
// like any others, so a query gets the stages, exchanges, regions,
// failover and resume of a job written as steps.
//
// It must not: read files or run anything; the caller (jobs) gives it the
// tables (the steps a query may read, with their schemas and sizes).
package sql

import (
	"errors"
	"fmt"

	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/sql/bind"
	"github.com/batchrun/batchrun/sql/logical"
	"github.com/batchrun/batchrun/sql/parser"
)

// Table is a table a query can read (a step of the job).
type Table = bind.Table

// Catalog is the tables a query can read, and the names of other steps
// (see bind.Catalog).
type Catalog = bind.Catalog

// Compiled is a query compiled to steps.
type Compiled struct {
	// Steps, inputs first; the last is named by the id Compile was given.
	Steps []*spec.Step
	// Columns are the result's column names.
	Columns []string
	// Plan is the logical plan, one operator a line, each with the step it
	// became (what explain shows).
	Plan string
}

// Error is an error in a query: its position and message, and the query,
// to show the line with a caret.
type Error struct {
	Query string
	Err   *parser.Error
}

func (e *Error) Error() string { return e.Err.Render(e.Query) }

// Compile compiles query, reading the tables of cat, into steps whose last
// is id. Errors are *Error.
func Compile(query string, cat Catalog, id string) (*Compiled, error) {
	q, err := parser.Parse(query)
	if err != nil {
		return nil, wrap(query, err)
	}
	res, err := bind.Bind(q, cat)
	if err != nil {
		return nil, wrap(query, err)
	}
	low := logical.Lower(res.Root, id)
	return &Compiled{Steps: low.Steps, Columns: res.Columns, Plan: logical.Explain(res.Root, low.IDs)}, nil
}

func wrap(query string, err error) error {
	var pe *parser.Error
	if errors.As(err, &pe) {
		return &Error{Query: query, Err: pe}
	}
	return fmt.Errorf("sql: %w", err)
}

// Tables lists the names of the tables query reads (not its CTEs), in
// the order they first appear. A query that does not parse has none; its
// error comes from Compile.
func Tables(query string) []string {
	q, err := parser.Parse(query)
	if err != nil {
		return nil
	}
	ctes := map[string]bool{}
	var names []string
	seen := map[string]bool{}
	parser.Inspect(q, func(n parser.Node) bool {
		switch n := n.(type) {
		case *parser.CTE:
			ctes[n.Name.Name] = true
		case *parser.TableName:
			name := n.Name[len(n.Name)-1].Name
			if !seen[name] {
				seen[name] = true
				names = append(names, name)
			}
		}
		return true
	})
	out := names[:0]
	for _, n := range names {
		if !ctes[n] {
			out = append(out, n)
		}
	}
	return out
}
