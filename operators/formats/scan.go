package formats

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"sync/atomic"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators"
	"github.com/batchrun/batchrun/operators/arrowx"
)

const (
	// scanBufSize is the read size of line scans; a longer line grows it.
	scanBufSize = 1 << 20
	// maxBatchStrBytes ends a batch early when a string column holds this
	// many bytes, far below the 2 GiB that int32 offsets allow.
	maxBatchStrBytes = 1 << 30
)

// ScanInput is the files of a read, in order (a glob or a directory
// expanded and sorted by the caller), with their sizes. Nil Sizes are
// taken from the files when the scan runs.
type ScanInput struct {
	Files []string
	Sizes []int64
}

// ScanOptions configure one split of a read.
type ScanOptions struct {
	// Read holds the schema and format settings; its Path is not used.
	Read  *spec.ReadStep
	Input ScanInput
	// Split (0-based) of NumSplits: see Splits and AssignUnits.
	Split, NumSplits int
	Mem              memory.Allocator
	// Quarantine receives the malformed rows of a read whose OnError is
	// quarantine, one line each: "FILE:LINE:COL: MESSAGE\tRAW LINE".
	Quarantine io.Writer
	// Skipped, when set, hears once per file how many rows the split
	// dropped from it (only when it dropped some).
	Skipped func(file string, rows int64)
	// Columns, when not empty, names the columns of Read.Schema the scan
	// emits (projection pushdown): its batches hold those columns, in the
	// schema's order, and the others are not parsed. CSV still finds
	// every field's boundaries (a row must have the schema's number of
	// fields, quoted fields must be well formed) but does not convert or
	// check a skipped field's value; JSON lines skips a skipped key's
	// value like a key the schema lacks; Parquet reads no column chunk of
	// a skipped column. Empty emits every column.
	Columns []string

	// Progress, when set, counts the bytes of the input files the scan
	// has read (compressed bytes of a compressed file), as it reads them:
	// progress displays show it against the files' sizes.
	Progress *atomic.Int64

	// out is the emitted schema and keep marks, per column of Read.Schema,
	// whether it is emitted; both set by check.
	out  spec.Schema
	keep []bool
}

// Scan is a read's source: Run pushes the split's rows and finishes out.
type Scan interface {
	operators.Source
	// Stats: RowsIn = RowsOut = rows read; RowsSkipped = malformed rows
	// dropped (on_error skip or quarantine).
	Stats() operators.Stats
}

// NewScan returns the scan of one split in the read's format. It does no
// I/O: Run opens the files.
func NewScan(o ScanOptions) (Scan, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	switch spec.FormatOf(o.Input.Files[0], o.Read.Format) {
	case spec.FormatJSONL:
		return newJSONLScan(o), nil
	case spec.FormatParquet:
		if err := checkParquetFiles(o.Input.Files); err != nil {
			return nil, err
		}
		return newParquetScan(o), nil
	}
	return newCSVScan(o)
}

func (o *ScanOptions) check() error {
	name := "(no files)"
	if len(o.Input.Files) > 0 {
		name = o.Input.Files[0]
	}
	switch {
	case len(o.Input.Files) == 0:
		return fmt.Errorf("operators: scan: no input files")
	case o.Input.Sizes != nil && len(o.Input.Sizes) != len(o.Input.Files):
		return fmt.Errorf("operators: scan %s: %d sizes for %d files", name, len(o.Input.Sizes), len(o.Input.Files))
	case o.NumSplits < 1 || o.Split < 0 || o.Split >= o.NumSplits:
		return fmt.Errorf("operators: scan %s: split %d of %d is out of range", name, o.Split, o.NumSplits)
	case len(o.Read.Schema) == 0:
		return fmt.Errorf("operators: scan %s: empty schema", name)
	case o.Read.OnError == spec.OnErrorQuarantine && o.Quarantine == nil:
		return fmt.Errorf("operators: scan %s: on_error quarantine without a quarantine writer", name)
	}
	for _, f := range o.Read.Schema {
		if f.Type == spec.Null || arrowx.ArrowType(f.Type) == arrow.Null {
			return fmt.Errorf("operators: scan %s: column %q has type %s", name, f.Name, f.Type)
		}
	}
	if err := o.project(); err != nil {
		return fmt.Errorf("operators: scan %s: %w", name, err)
	}
	return nil
}

// project sets out and keep from Columns.
func (o *ScanOptions) project() error {
	schema := o.Read.Schema
	o.keep = make([]bool, len(schema))
	if len(o.Columns) == 0 {
		o.out = schema
		for i := range o.keep {
			o.keep[i] = true
		}
		return nil
	}
	for _, name := range o.Columns {
		i := schema.Index(name)
		if i < 0 {
			return fmt.Errorf("projected column %q is not in the schema %s", name, schema)
		}
		if o.keep[i] {
			return fmt.Errorf("projected column %q named twice", name)
		}
		o.keep[i] = true
	}
	o.out = make(spec.Schema, 0, len(o.Columns))
	for i, f := range schema {
		if o.keep[i] {
			o.out = append(o.out, f)
		}
	}
	return nil
}

// sizes returns the input's sizes, statting the files when not given.
func (in *ScanInput) sizes() ([]int64, error) {
	if in.Sizes != nil {
		return in.Sizes, nil
	}
	sizes := make([]int64, len(in.Files))
	for i, f := range in.Files {
		fi, err := os.Stat(f)
		if err != nil {
			return nil, fmt.Errorf("operators: scan: %w", err)
		}
		sizes[i] = fi.Size()
	}
	in.Sizes = sizes
	return sizes, nil
}

// alignSpan turns span sp of f (size bytes, data from dataStart: past a
// header) into the line-aligned range [start, end) it reads.
func alignSpan(f *os.File, sp Span, size, dataStart int64) (int64, int64, error) {
	start, end := sp.Start, sp.End
	var err error
	if start > 0 {
		if start, err = lineStartAfter(f, start, size); err != nil {
			return 0, 0, err
		}
	}
	if end < size {
		if end, err = lineStartAfter(f, end, size); err != nil {
			return 0, 0, err
		}
	}
	return max(start, dataStart), max(end, dataStart), nil
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
// turn a line number within a span into an absolute one.
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

// splitSpans is this subtask's share of the input files, and its size in
// bytes (the spans' inclusive ends counted).
func (o *ScanOptions) splitSpans() ([]Span, int64, error) {
	sizes, err := o.Input.sizes()
	if err != nil {
		return nil, 0, err
	}
	spans := SplitFiles(sizes, wholeFiles(o.Input.Files), o.NumSplits)[o.Split]
	var n int64
	for _, sp := range spans {
		n += sp.End - sp.Start + 1
		if codecOf(o.Input.Files[sp.File]) != codecNone {
			n += int64(operators.BatchRows) // decompresses to more bytes than it has
		}
	}
	return spans, n, nil
}

// chunker reads a range of a file in big chunks for line parsers: each
// chunk is the unconsumed tail of the previous one plus fresh bytes, so a
// parser loops over whole lines and hands back what it did not consume.
// A compressed file is instead a stream (resetStream), read to its end.
type chunker struct {
	f          *os.File
	rd         io.Reader // the stream when not nil (f is then unused)
	eof        bool      // rd is at its end
	path       string
	off, end   int64
	buf, data  []byte
	started    bool
	lineBase   int64 // newlines before the range start; -1 until needed
	rangeStart int64
	progress   *atomic.Int64 // ScanOptions.Progress (plain files; streams count below the decoder)
}

func (c *chunker) reset(f *os.File, path string, start, end int64) {
	c.f, c.rd, c.eof, c.path, c.off, c.end, c.data, c.started = f, nil, false, path, start, end, nil, false
	c.lineBase, c.rangeStart = -1, start
	c.grow(end - start + 1)
}

// resetStream readies c to read rd to its end; lineBase is the number of
// newlines rd already consumed (a header's).
func (c *chunker) resetStream(rd io.Reader, path string, lineBase int64) {
	c.f, c.rd, c.eof, c.path, c.off, c.end, c.data, c.started = nil, rd, false, path, 0, math.MaxInt64, nil, false
	c.lineBase, c.rangeStart = lineBase, 0
	c.grow(scanBufSize)
}

// grow makes the buffer at least min(n, scanBufSize) long.
func (c *chunker) grow(n int64) {
	if want := min(int64(scanBufSize), n); int64(len(c.buf)) < want {
		c.buf = make([]byte, want)
	}
}

// each hands every chunk of the range to lines, which parses whole lines
// and returns how many bytes it consumed (the rest is carried into the
// next chunk). It stops at the range's end or on the first error.
func (c *chunker) each(ctx context.Context, lines func(data []byte, last bool) (int, error)) error {
	p := 0
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		data, last, err := c.next(p)
		if err != nil || data == nil {
			return err
		}
		if p, err = lines(data, last); err != nil || last {
			return err
		}
	}
}

// next returns the next chunk after the parser consumed the first
// consumed bytes of the previous one; nil at the end of the range. last
// says the chunk reaches the range's end: its final line may lack a
// newline and must be consumed whole.
func (c *chunker) next(consumed int) (data []byte, last bool, err error) {
	carry := 0
	if c.started {
		carry = copy(c.buf, c.data[consumed:])
	}
	c.started = true
	if c.off >= c.end || c.eof {
		c.data = nil
		return nil, true, nil
	}
	if carry == len(c.buf) { // one line longer than the buffer
		c.buf = append(c.buf, make([]byte, len(c.buf))...)
	}
	if c.rd != nil {
		n, err := io.ReadFull(c.rd, c.buf[carry:])
		switch err {
		case nil:
		case io.EOF, io.ErrUnexpectedEOF: // the stream's end (its errors are others)
			c.eof = true
		default:
			return nil, false, err
		}
		c.off += int64(n)
		c.data = c.buf[:carry+n]
		return c.data, c.eof, nil
	}
	want := min(int64(len(c.buf)-carry), c.end-c.off)
	n, err := c.f.ReadAt(c.buf[carry:carry+int(want)], c.off)
	if int64(n) < want {
		return nil, false, fmt.Errorf("operators: scan %s: short read at offset %d (file changed?): %v", c.path, c.off, err)
	}
	c.off += want
	if c.progress != nil {
		c.progress.Add(want)
	}
	c.data = c.buf[:carry+n]
	return c.data, c.off >= c.end, nil
}

// absLine turns a line number within the range into the file's.
func (c *chunker) absLine(rel int64) int64 {
	if c.lineBase < 0 {
		c.lineBase = newlinesBefore(c.f, c.rangeStart)
	}
	return c.lineBase + rel
}
