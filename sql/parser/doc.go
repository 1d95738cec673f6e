// Package parser is the first layer of the SQL front end: SQL text -> AST.
// The layers follow DuckDB's and DataFusion's: parse -> bind -> logical plan
// -> optimize -> physical plan; this package is only "parse".
//
// It owns: the lexer (tokens, comments, literals), the expression parser
// (precedence climbing, PostgreSQL's operator precedence), the statement
// parser (queries, set operations, joins, CTEs, windows), the AST with a
// position on every node, the canonical printer, and the typed *Error with
// its caret rendering.
//
// It must not: resolve names, check types, know tables, schemas, functions
// or any batchrun package, or import anything outside the standard library.
// It is the product's core and is hand-written, so the AST is ours to shape
// for the binder. internal/lint checks the imports.
//
// What the AST keeps and what it normalizes:
//   - Numbers keep their exact text (NumberLit.Text): "0.0001000000" stays
//     that, so the binder can type it as an exact decimal.
//   - Identifiers keep the case they were written in, with Quoted set for
//     "x"; matching (case-insensitive for unquoted names, as in DuckDB) is
//     the binder's.
//   - Parentheses are not nodes: the tree is the grouping. A parenthesized
//     query without its own WITH, ORDER BY, LIMIT or OFFSET is its body.
//   - x::t and CAST(x AS t) are both a Cast; substring(x FROM a FOR b) is
//     the call substring(x, a, b); NOT EXISTS is NOT over an Exists.
//   - Comma-separated FROM items stay a list (Select.From), not cross joins:
//     the binder decides how to join them.
//
// Not done yet: VALUES, GROUPING SETS, ROLLUP, CUBE, GROUP BY ALL,
// DISTINCT ON, named windows (WINDOW w AS), QUALIFY, FETCH FIRST, LIMIT
// ALL, LATERAL, NATURAL and SEMI/ANTI joins, table functions in FROM,
// x op ANY|ALL (subquery), IS UNKNOWN, the special call syntaxes of
// POSITION, TRIM and OVERLAY, ORDER BY inside an aggregate call, E'...'
// strings, arrays, multi-word types other than DOUBLE PRECISION, and
// statements other than queries.
//
// Glossary:
//   - Pos: where a node starts in the source: byte offset, 1-based line and
//     1-based column counted in characters (runes). An operator expression's
//     Pos is its operator's, which is where a type error should point.
//   - query: WITH, a body (a SELECT or a set operation), ORDER BY, LIMIT,
//     OFFSET (Query).
//   - table expression: a FROM item: a named table, a derived table (a
//     parenthesized query with an alias) or a join (TableExpr).
//   - canonical form: what String prints: one clause per line, every
//     operator expression in parentheses, so that precedence is visible and
//     parsing the printout gives the same AST back.
package parser
