// Package querygen writes random SQL queries, one per seed, over three
// small tables made to exercise SQL's corners: NULL in every column,
// duplicate and NULL join keys, negative and zero decimals, the empty
// string, strings holding ',' and '"'. The queries stay within the subset
// the SQL front end is meant to run (see Generate), and every output column
// is an ORDER BY item, so their answers are determinate.
package querygen

// Type is a column's or an expression's SQL type, as far as the generator
// cares.
type Type int

const (
	Int  Type = iota // INTEGER, BIGINT
	Dec              // DECIMAL(10,2)
	Str              // VARCHAR
	Date             // DATE
	Dbl              // DOUBLE
)

// Column is a column of a table (or of a CTE).
type Column struct {
	Name string
	Type Type
}

// Table is a relation a FROM clause may name.
type Table struct {
	Name    string
	Columns []Column
}

// Tables are the tables SetupSQL creates.
var Tables = []Table{
	{"t1", []Column{{"id", Int}, {"k", Int}, {"g", Str}, {"n", Dec}, {"d", Date}, {"f", Dbl}}},
	{"t2", []Column{{"id", Int}, {"k", Int}, {"v", Int}, {"s", Str}, {"n", Dec}}},
	{"t3", []Column{{"k", Int}, {"name", Str}, {"w", Dbl}}},
}

// SetupSQL creates Tables in DuckDB, deterministically. Join keys k repeat
// and are sometimes NULL; t2.k also takes -1 and 5 and t3.k 6, which t1.k
// (0..4) never does, so that outer joins and NOT EXISTS have rows to keep.
const SetupSQL = `
CREATE TABLE t1 AS SELECT
  i::INTEGER AS id,
  CASE WHEN i % 7 = 3 THEN NULL ELSE i % 5 END::INTEGER AS k,
  CASE WHEN i % 9 = 4 THEN NULL ELSE ['red', 'green', 'blue', '', 'x,y', 'q"t', 'Grün'][i % 7 + 1] END AS g,
  CASE WHEN i % 11 = 5 THEN NULL ELSE ((i * 37) % 101 - 20) / 4 END::DECIMAL(10,2) AS n,
  CASE WHEN i % 13 = 6 THEN NULL ELSE DATE '1995-01-01' + ((i * 17) % 90)::INTEGER END AS d,
  CASE WHEN i % 8 = 2 THEN NULL ELSE i * 0.25 END::DOUBLE AS f
FROM range(40) r(i);
CREATE TABLE t2 AS SELECT
  i::INTEGER AS id,
  CASE WHEN i % 6 = 5 THEN NULL ELSE i % 7 - 1 END::INTEGER AS k,
  ((i * 7919) % 23 - 5)::BIGINT AS v,
  CASE WHEN i % 5 = 2 THEN NULL ELSE ['red', 'blue', 'x,y', '', 'Grün', 'teal'][i % 6 + 1] END AS s,
  CASE WHEN i % 4 = 1 THEN NULL ELSE ((i * 13) % 29) / 2 END::DECIMAL(10,2) AS n
FROM range(30) r(i);
CREATE TABLE t3 AS SELECT
  CASE WHEN i = 7 THEN NULL WHEN i = 6 THEN 2 ELSE i END::INTEGER AS k,
  ['alpha', 'beta', 'gamma', 'delta', 'red', 'x,y', 'omega', 'zeta'][i + 1] AS name,
  CASE WHEN i = 3 THEN NULL ELSE i * 1.5 END::DOUBLE AS w
FROM range(8) r(i);
`

// Literal values the generator compares columns with, per type, in
// ascending order (so BETWEEN can take a lower and an upper bound), chosen
// to hit the data: values that occur and ones that do not.
var literals = map[Type][]string{
	Int:  {"-1", "0", "1", "2", "3", "5", "10", "20"},
	Dec:  {"-1.25", "0", "0.01", "2.50", "4.75", "10.00"},
	Str:  {"''", "'Grün'", "'blue'", "'none'", "'red'", "'x,y'", "'zeta'"},
	Date: {"DATE '1995-01-18'", "DATE '1995-02-01'", "DATE '1995-03-05'"},
	Dbl:  {"0", "1.5", "2.25", "4.5", "7"},
}

// likePatterns are LIKE patterns with literal text, '%' and '_'.
var likePatterns = []string{"'r%'", "'%e%'", "'_lue'", "'%'", "''", "'x,%'", "'%n'", "'G_ün'"}
