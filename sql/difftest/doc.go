// Package difftest is a differential test of batchrun's SQL against DuckDB
// (issue 14): every query runs on both, as a `sql:` step of a batchrun job
// spec and in DuckDB, and the answers must agree.
//
// It is its own module, so that the product never links DuckDB (cgo, a
// 100 MB static library): it drives the batchrun binary, built from ../..,
// as a user would. Run it with
//
//	cd sql/difftest && go test ./...
//
// TestTPCH runs the 22 TPC-H queries (../parser/testdata/tpch, DuckDB's
// tpch_queries() text) over data from DuckDB's dbgen; TestGenerated runs
// seeded random queries (package querygen) over three small tables full of
// NULLs and duplicate keys. testdata/known-failures.txt lists the queries
// expected to fail (see Known).
//
// Flags (after go test's own):
//
//	-sf 0.01                      TPC-H scale factor of TestTPCH's data
//	-difftest.seed 1              first seed of TestGenerated
//	-difftest.n 200               how many generated queries
//	-difftest.legacy-types        read decimals as float64 and dates as string
//	-difftest.update-known        rewrite known-failures.txt from this run
//	-difftest.batchrun PATH       test this binary instead of building ../..
//
// A failing generated query prints its text and how to replay it:
// go test -run 'TestGenerated/seed=123$' -difftest.seed 123 -difftest.n 1.
//
// How answers are compared (package compare): the same columns, then the
// same rows, values compared by DuckDB's column type: integers, strings and
// dates exactly, decimals exactly as numbers, doubles within a relative
// 1e-9. Without ORDER BY rows compare as multisets; with one, in DuckDB's
// order except that rows tied on the ORDER BY keys may come in any order
// (see compare.Order and duck.DB.Order for how the keys are found).
//
// Layout: compare (the comparer; no DuckDB), duck (DuckDB with its tpch
// extension; ORDER BY analysis), querygen (the query generator), this
// package (data, specs, running batchrun, known failures; the tests), and
// cmd/tpchsql (bench/tpch-sql.sh's driver).
package difftest
