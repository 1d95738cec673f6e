package bind

import (
	"fmt"
	"strings"

	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/sql/logical"
	"github.com/batchrun/batchrun/sql/parser"
)

// column is one column a query can name.
type column struct {
	table    string // the qualifier: the table's alias or name ("" for none)
	name     string // the column's name in SQL
	internal string // its name in the plan, unique in the query
	typ      spec.Type
	// qualifiedOnly is a USING column of one side of its join: t.k finds
	// it, but k and * find the join's merged column instead.
	qualifiedOnly bool
}

// relation is a bound FROM item or query: its plan and its columns, in the
// order SELECT * lists them.
type relation struct {
	rel  *logical.Rel
	cols []column
}

// withTable returns r's columns qualified by alias.
func (r *relation) withTable(alias string) *relation {
	out := &relation{rel: r.rel, cols: make([]column, len(r.cols))}
	for i, c := range r.cols {
		c.table = alias
		out.cols[i] = c
	}
	return out
}

// scope is the columns an expression can name: its FROM items', then, for
// a subquery, the enclosing queries' (correlation).
type scope struct {
	cols  []column
	outer *scope
	// rows is the relation the columns are read from while a correlated
	// subquery of the scope is bound: the outer rows it will be joined
	// to, whose keys can narrow what the subquery aggregates.
	rows *logical.Rel
}

// nameEq matches a name as written against a name: unquoted names match
// case-insensitively, quoted ones exactly.
func nameEq(id *parser.Ident, name string) bool {
	if id.Quoted {
		return id.Name == name
	}
	return strings.EqualFold(id.Name, name)
}

// lookup resolves a column reference; depth is 0 for the innermost scope,
// 1 for the query enclosing it, and so on.
func (s *scope) lookup(ref *parser.ColumnRef) (column, int, error) {
	parts := ref.Parts
	if len(parts) > 2 {
		parts = parts[len(parts)-2:] // schema.table.column: no schemas here
	}
	name := parts[len(parts)-1]
	var table *parser.Ident
	if len(parts) == 2 {
		table = parts[0]
	}
	for depth, sc := 0, s; sc != nil; depth, sc = depth+1, sc.outer {
		var found []column
		for _, c := range sc.cols {
			if nameEq(name, c.name) && (table == nil && !c.qualifiedOnly || table != nil && nameEq(table, c.table)) {
				found = append(found, c)
			}
		}
		switch {
		case len(found) == 1:
			return found[0], depth, nil
		case len(found) > 1:
			return column{}, 0, errorf(ref, "column reference %q is ambiguous (it is in %s)", name.Name, tablesOf(found))
		}
	}
	if table != nil && !s.hasTable(table) {
		return column{}, 0, errorf(ref, "unknown table %q%s", table.Name, suggest(table.Name, s.tables()))
	}
	return column{}, 0, errorf(ref, "unknown column %q%s", refText(ref), suggest(name.Name, s.names()))
}

func tablesOf(cols []column) string {
	var ts []string
	for _, c := range cols {
		ts = append(ts, fmt.Sprintf("%q", c.table))
	}
	return strings.Join(ts, " and ")
}

func refText(ref *parser.ColumnRef) string {
	parts := make([]string, len(ref.Parts))
	for i, p := range ref.Parts {
		parts[i] = p.Name
	}
	return strings.Join(parts, ".")
}

func (s *scope) hasTable(t *parser.Ident) bool {
	for sc := s; sc != nil; sc = sc.outer {
		for _, c := range sc.cols {
			if nameEq(t, c.table) {
				return true
			}
		}
	}
	return false
}

func (s *scope) tables() []string {
	var out []string
	for sc := s; sc != nil; sc = sc.outer {
		for _, c := range sc.cols {
			out = append(out, c.table)
		}
	}
	return out
}

func (s *scope) names() []string {
	var out []string
	for sc := s; sc != nil; sc = sc.outer {
		for _, c := range sc.cols {
			out = append(out, c.name)
		}
	}
	return out
}

// suggest returns ` (did you mean "x"?)` for the candidate closest to
// name, when one is close enough to be a likely typo.
func suggest(name string, candidates []string) string {
	best, bestD := "", 3
	lname := strings.ToLower(name)
	for _, c := range candidates {
		if c == "" {
			continue
		}
		d := editDistance(lname, strings.ToLower(c))
		if d < bestD || (d == bestD && best != "" && c < best) {
			best, bestD = c, d
		}
	}
	limit := 1 // a short name is too easily "close" to anything
	if len(name) >= 4 {
		limit = max(2, len(name)/3)
	}
	if best == "" || bestD > limit {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
