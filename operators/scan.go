package operators

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/jobs/spec"
)

const (
	// scanBufSize is the read size of CSVScan; a longer line grows it.
	scanBufSize = 1 << 20
	// maxBatchStrBytes ends a batch early when a string column holds this
	// many bytes, far below the 2 GiB that int32 offsets allow.
	maxBatchStrBytes = 1 << 30
)

// CSVScan is the CSV source. The file has a header row whose names must
// equal the schema's. The bytes after the header are cut into numSplits
// byte ranges at line starts: split k reads the bytes [b(k), b(k+1)), where
// b(k) is the position just past the first newline at or after the nominal
// offset size*k/numSplits (b(0) is the end of the header, b(numSplits) the
// end of the file). So the splits are disjoint and together read every row
// exactly once; a split may be empty.
//
// Values: an empty field is NULL for int64, float64 and bool, and the
// empty string for string. Fields may be RFC 4180 quoted ("a,b", "say
// ""hi"""); a quoted field must close on its own line (quoted newlines are
// an error). CRLF line ends are accepted; blank lines are skipped (unless
// the schema has one column, where a blank line is an empty field). A bad
// row is a *DataError naming the file, absolute line and column:
//
//	operators: events.csv:123:3: parse "abc" as int64: invalid syntax
type CSVScan struct {
	path      string
	schema    spec.Schema
	delim     byte
	split     int
	numSplits int
	mem       memory.Allocator
	arrow     *arrow.Schema
	bytesRead int64
	stats     Stats
}

// NewCSVScan returns the scan of split split (0-based) of numSplits of the
// CSV file at path. delim 0 means ','. It does no I/O: Run opens the file.
func NewCSVScan(path string, schema spec.Schema, delim byte, split, numSplits int, mem memory.Allocator) (*CSVScan, error) {
	if delim == 0 {
		delim = ','
	}
	switch {
	case numSplits < 1 || split < 0 || split >= numSplits:
		return nil, fmt.Errorf("operators: scan %s: split %d of %d is out of range", path, split, numSplits)
	case delim == '"' || delim == '\n' || delim == '\r':
		return nil, fmt.Errorf("operators: scan %s: delimiter %q is not allowed", path, delim)
	case len(schema) == 0:
		return nil, fmt.Errorf("operators: scan %s: empty schema", path)
	}
	for _, f := range schema {
		if f.Type == spec.Null || ArrowType(f.Type) == arrow.Null {
			return nil, fmt.Errorf("operators: scan %s: column %q has type %s", path, f.Name, f.Type)
		}
	}
	return &CSVScan{path: path, schema: schema, delim: delim, split: split, numSplits: numSplits,
		mem: mem, arrow: ArrowSchema(schema)}, nil
}

// Stats returns the rows read so far (RowsIn = RowsOut).
func (s *CSVScan) Stats() Stats { return s.stats }

// BytesRead is the number of bytes of the file this split covered.
func (s *CSVScan) BytesRead() int64 { return s.bytesRead }

// Run reads the split, pushes its rows into out in batches of at most
// BatchRows rows, then finishes out. On error it does not finish out.
func (s *CSVScan) Run(ctx context.Context, out Operator) error {
	f, err := os.Open(s.path)
	if err != nil {
		return fmt.Errorf("operators: scan: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("operators: scan: %w", err)
	}
	names, hdrEnd, err := readHeader(f, s.path, s.delim)
	if err != nil {
		return err
	}
	if err := s.checkHeader(names); err != nil {
		return err
	}
	start, end, err := s.splitRange(f, fi.Size(), hdrEnd)
	if err != nil {
		return err
	}
	s.bytesRead = end - start
	r := newCSVReader(s, f, start, end)
	defer r.release()
	if err := r.run(ctx, out); err != nil {
		return err
	}
	return out.Finish(ctx)
}

func (s *CSVScan) checkHeader(names []string) error {
	want := s.schema.Names()
	for i := 0; i < len(names) && i < len(want); i++ {
		if names[i] != want[i] {
			return &DataError{File: s.path, Line: 1, Column: i + 1,
				Msg: fmt.Sprintf("header column %d is %q, want %q (schema %s)", i+1, names[i], want[i], s.schema)}
		}
	}
	if len(names) != len(want) {
		return &DataError{File: s.path, Line: 1, Column: min(len(names), len(want)) + 1,
			Msg: fmt.Sprintf("header has %d columns (%s), want %d (%s)", len(names), strings.Join(names, ", "), len(want), strings.Join(want, ", "))}
	}
	return nil
}

// splitRange returns the byte range [start, end) of this split.
func (s *CSVScan) splitRange(f *os.File, size, hdrEnd int64) (int64, int64, error) {
	nominal := func(k int) int64 { // size*k/numSplits, without overflow
		return size/int64(s.numSplits)*int64(k) + size%int64(s.numSplits)*int64(k)/int64(s.numSplits)
	}
	start, end := hdrEnd, size
	var err error
	if s.split > 0 {
		if start, err = lineStartAfter(f, nominal(s.split), size); err != nil {
			return 0, 0, err
		}
	}
	if s.split < s.numSplits-1 {
		if end, err = lineStartAfter(f, nominal(s.split+1), size); err != nil {
			return 0, 0, err
		}
	}
	return max(start, hdrEnd), max(end, hdrEnd), nil
}

// lineStartAfter returns the position just past the first newline at or
// after p, or size when there is none.
func lineStartAfter(f *os.File, p, size int64) (int64, error) {
	var buf [4096]byte
	for p < size {
		n, err := f.ReadAt(buf[:min(int64(len(buf)), size-p)], p)
		if i := bytes.IndexByte(buf[:n], '\n'); i >= 0 {
			return p + int64(i) + 1, nil
		}
		if err != nil && err != io.EOF {
			return 0, fmt.Errorf("operators: scan: %w", err)
		}
		if n == 0 {
			break
		}
		p += int64(n)
	}
	return size, nil
}

// newlinesBefore counts the newlines in f before offset p; errors use it to
// turn a line number within the split into an absolute one.
func newlinesBefore(f *os.File, p int64) int64 {
	buf := make([]byte, 1<<20)
	var count int64
	for off := int64(0); off < p; {
		n, err := f.ReadAt(buf[:min(int64(len(buf)), p-off)], off)
		count += int64(bytes.Count(buf[:n], []byte{'\n'}))
		off += int64(n)
		if err != nil || n == 0 {
			break
		}
	}
	return count
}
