// Package formats holds the file formats: the scans (sources) and writers
// (sinks) of CSV, JSON lines and Parquet, over Arrow record batches.
//
// It owns: Scan (NewScan), which reads a read step's files in any format:
// CSV and JSON lines as byte-range splits of files, globs and directories
// planned by Splits (SplitFiles: a compressed file, .gz, .zst or .bz2, is
// one whole span read as a stream, compress.go) and parsed straight into
// Arrow builders, Parquet as row groups assigned by AssignUnits; a
// projection (ScanOptions.Columns: the other columns are only delimited in
// CSV, skipped like unknown keys in JSON lines, not read in Parquet); the
// line scan
// that CSV and JSON lines share (lines.go: spans aligned to lines, batches
// filled across files, malformed rows failed, skipped or quarantined) and
// the parsing of cells into typed values (dates, timestamps and decimals
// from their text forms in package spec, values.go); schema inference
// (InferSchema, InferCSVSchema, InferJSONLSchema, InferParquetSchema); and
// the CSV, JSON lines and Parquet writers (NewFileWrite picks one by the
// write step).
//
// It does not own: the Operator contract, Stats and DataError (package
// operators, which it implements and returns), expressions (package expr)
// or relational operators. It imports only jobs/spec, Arrow, operators,
// arrowx and klauspost/compress (gzip, zstd).
//
// Glossary:
//   - split: a byte range of a CSV or JSON lines file, aligned to line
//     starts, read by one subtask.
//
// Not done yet: CSV quoted fields may not span lines; Parquet reads flat
// columns of scalar types only, and every Parquet subtask reads the footers
// of every input file to plan its row groups.
package formats
