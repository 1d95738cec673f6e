package formats

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators"
)

// InferCSVSchema reads the header of the CSV file at path and up to
// sampleRows rows after it (sampleRows <= 0: 1000) and returns the header's
// names with inferred types: int64 when every non-empty value parses as
// one, else float64 when every one parses as a float, else bool when every
// one is true or false (any case), else date when every one is a valid
// date written YYYY-MM-DD (as DuckDB's sniffer does), else string. A column
// with no non-empty value in the sample is string. Decimals are never
// inferred: a number with a fraction is float64 (give a schema for
// decimal(p,s)). delim 0 means ','.
func InferCSVSchema(path string, delim byte, sampleRows int) (spec.Schema, error) {
	return inferCSV(path, delim, '"', sampleRows)
}

// InferSchema infers the schema of a read from its first file (files are
// the read's expanded input): CSV as InferCSVSchema (with the read's
// delimiter and quote; a read without a header needs an explicit schema),
// JSON lines as InferJSONLSchema, Parquet from the file's schema.
func InferSchema(r *spec.ReadStep, files []string, sampleRows int) (spec.Schema, error) {
	if len(files) == 0 {
		return nil, fmt.Errorf("operators: infer schema: no input files")
	}
	switch spec.FormatOf(files[0], r.Format) {
	case spec.FormatJSONL:
		return InferJSONLSchema(files[0], sampleRows)
	case spec.FormatParquet:
		if err := checkParquetFiles(files[:1]); err != nil {
			return nil, err
		}
		return InferParquetSchema(files[0])
	}
	if !r.HasHeader() {
		return nil, fmt.Errorf("operators: infer schema of %s: a csv read without a header needs a schema", files[0])
	}
	quote := r.Quote
	if quote == 0 {
		quote = '"'
	}
	return inferCSV(files[0], r.Delimiter, quote, sampleRows)
}

func inferCSV(path string, delim, quote byte, sampleRows int) (spec.Schema, error) {
	if delim == 0 {
		delim = ','
	}
	if sampleRows <= 0 {
		sampleRows = 1000
	}
	br, done, err := openSample(path)
	if err != nil {
		return nil, err
	}
	defer done()
	names, _, err := readHeader(br, path, delim, quote)
	if err != nil {
		return nil, err
	}
	cands := make([]typeCandidates, len(names))
	for i := range cands {
		cands[i] = typeCandidates{int: true, float: true, bool: true, date: true}
	}
	if err := sampleRowsInto(br, path, delim, quote, sampleRows, cands); err != nil {
		return nil, err
	}
	s := make(spec.Schema, len(names))
	for i, n := range names {
		s[i] = spec.Field{Name: n, Type: cands[i].result()}
	}
	return s, nil
}

// typeCandidates tracks which types every value of a column so far fits.
type typeCandidates struct {
	int, float, bool, date, seen bool
}

func (t *typeCandidates) add(v []byte) {
	if len(v) == 0 {
		return
	}
	t.seen = true
	if t.int {
		_, t.int = parseInt64(v)
	}
	if t.float {
		_, t.float = parseFloat64(v)
	}
	if t.bool {
		t.bool = bytes.EqualFold(v, []byte("true")) || bytes.EqualFold(v, []byte("false"))
	}
	if t.date {
		t.date = isISODate(v)
	}
}

// isISODate reports whether v is a valid date in exactly the form
// YYYY-MM-DD.
func isISODate(v []byte) bool {
	if len(v) != 10 || v[4] != '-' || v[7] != '-' {
		return false
	}
	_, err := spec.ParseDate(v)
	return err == nil
}

func (t *typeCandidates) result() spec.Type {
	switch {
	case !t.seen:
		return spec.String
	case t.int:
		return spec.Int64
	case t.float:
		return spec.Float64
	case t.bool:
		return spec.Bool
	case t.date:
		return spec.Date
	}
	return spec.String
}

// sampleRowsInto feeds the fields of up to limit rows of br (the content
// after the header) to cands.
func sampleRowsInto(br *bufio.Reader, path string, delim, quote byte, limit int, cands []typeCandidates) error {
	sp := splitter{delim: delim, quote: quote, fields: make([][]byte, len(cands))}
	line := int64(1)
	for rows := 0; rows < limit; {
		b, err := br.ReadBytes('\n')
		if err != nil && err != io.EOF {
			return err // names the file (decoders.open)
		}
		if len(b) == 0 {
			break
		}
		line++
		b = trimCR(bytes.TrimSuffix(b, []byte("\n")))
		if len(b) == 0 && len(cands) > 1 {
			continue
		}
		nf, col, msg := sp.split(b)
		switch {
		case msg != "":
			return &operators.DataError{File: path, Line: line, Column: col, Msg: msg}
		case nf < len(cands):
			return &operators.DataError{File: path, Line: line, Column: nf + 1,
				Msg: fmt.Sprintf("row has %d fields, want %d", nf, len(cands))}
		case nf > len(cands):
			return &operators.DataError{File: path, Line: line, Column: len(cands) + 1,
				Msg: fmt.Sprintf("row has more than %d fields", len(cands))}
		}
		for c, v := range sp.fields {
			cands[c].add(v)
		}
		rows++
	}
	return nil
}

// openSample opens path for schema inference, decompressed when its name
// says so; done closes it.
func openSample(path string) (br *bufio.Reader, done func(), err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("operators: infer schema: %w", err)
	}
	d := new(decoders)
	if br, err = d.open(f, path, nil); err != nil {
		d.close()
		f.Close()
		return nil, nil, err
	}
	return br, func() { d.close(); f.Close() }, nil
}
