package formats

import (
	"bufio"
	"context"
	"fmt"
	"strings"

	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators"
)

// CSVScan is the CSV source. Each file has a header row whose names must
// equal the schema's (unless the read says header: false). The split's
// spans come from Splits over the files' sizes; within a file a span reads
// the lines that start in it (see Splits), so the splits are disjoint and
// together read every row exactly once; a split may be empty.
//
// Values: an empty field is NULL for int64, float64 and bool, and the
// empty string for string; a field equal to a non-empty NullString is NULL
// in every type. Fields may be quoted (RFC 4180 with the read's quote
// byte, default '"': "a,b", "say ""hi"""); a quoted field must close on
// its own line (quoted newlines are an error). String fields must be valid
// UTF-8. CRLF line ends are accepted; blank lines are skipped (unless the
// schema has one column, where a blank line is an empty field). A bad row
// is a *DataError naming the file, absolute line and column, or is
// dropped per the read's on_error:
//
//	operators: events.csv:123:3: parse "abc" as int64: invalid syntax
type CSVScan struct {
	lineScan
	schema spec.Schema
	delim  byte
	quote  byte
	header bool
	null   []byte // the null string; nil when none
}

// NewCSVScan returns the scan of split split (0-based) of numSplits of the
// CSV file at path, with a header row. delim 0 means ','. It does no I/O:
// Run opens the file.
func NewCSVScan(path string, schema spec.Schema, delim byte, split, numSplits int, mem memory.Allocator) (*CSVScan, error) {
	o := ScanOptions{Read: &spec.ReadStep{Schema: schema, Delimiter: delim},
		Input: ScanInput{Files: []string{path}}, Split: split, NumSplits: numSplits, Mem: mem}
	if err := o.check(); err != nil {
		return nil, err
	}
	return newCSVScan(o)
}

func newCSVScan(o ScanOptions) (*CSVScan, error) {
	r := o.Read
	s := &CSVScan{lineScan: newLineScan(o), schema: r.Schema, delim: r.Delimiter, quote: r.Quote, header: r.HasHeader()}
	if s.delim == 0 {
		s.delim = ','
	}
	if s.quote == 0 {
		s.quote = '"'
	}
	if r.NullString != "" {
		s.null = []byte(r.NullString)
	}
	if s.delim == s.quote || s.delim == '\n' || s.delim == '\r' || s.quote == '\n' || s.quote == '\r' {
		return nil, fmt.Errorf("operators: scan %s: delimiter %q with quote %q is not allowed", o.Input.Files[0], s.delim, s.quote)
	}
	return s, nil
}

// BytesRead is the number of bytes of the files this split covered.
func (s *CSVScan) BytesRead() int64 { return s.bytesRead }

// Run reads the split, pushes its rows into out in batches of at most
// BatchRows rows, then finishes out. On error it does not finish out.
func (s *CSVScan) Run(ctx context.Context, out operators.Operator) error {
	return s.run(ctx, out, func(capRows int) *lineReader { return &newCSVReader(s, capRows).lineReader }, s.dataStart)
}

// dataStart reads and checks the header of a file that has one and
// returns the offset where its data starts.
func (s *CSVScan) dataStart(r *bufio.Reader, path string) (int64, error) {
	if !s.header {
		return 0, nil
	}
	names, hdrEnd, err := readHeader(r, path, s.delim, s.quote)
	if err != nil {
		return 0, err
	}
	if err := s.checkHeader(path, names); err != nil {
		return 0, err
	}
	return hdrEnd, nil
}

func (s *CSVScan) checkHeader(path string, names []string) error {
	want := s.schema.Names()
	for i := 0; i < len(names) && i < len(want); i++ {
		if names[i] != want[i] {
			return &operators.DataError{File: path, Line: 1, Column: i + 1,
				Msg: fmt.Sprintf("header column %d is %q, want %q (schema %s)", i+1, names[i], want[i], s.schema)}
		}
	}
	if len(names) != len(want) {
		return &operators.DataError{File: path, Line: 1, Column: min(len(names), len(want)) + 1,
			Msg: fmt.Sprintf("header has %d columns (%s), want %d (%s)", len(names), strings.Join(names, ", "), len(want), strings.Join(want, ", "))}
	}
	return nil
}
