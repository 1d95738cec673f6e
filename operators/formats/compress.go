package formats

import (
	"bufio"
	"compress/bzip2"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"

	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// codec is the compression of an input file, named by its extension
// (spec.CompressionExt). A compressed file is read as one stream from its
// start: it cannot be split by byte ranges (see SplitFiles).
type codec uint8

const (
	codecNone codec = iota
	codecGzip
	codecZstd
	codecBzip2
)

func codecOf(path string) codec {
	switch strings.ToLower(spec.CompressionExt(path)) {
	case ".gz":
		return codecGzip
	case ".zst":
		return codecZstd
	case ".bz2":
		return codecBzip2
	}
	return codecNone
}

func (c codec) String() string {
	return [...]string{"none", "gzip", "zstd", "bzip2"}[c]
}

// wholeFiles marks the compressed files of files, for SplitFiles; nil when
// none is.
func wholeFiles(files []string) []bool {
	var whole []bool
	for i, f := range files {
		if codecOf(f) != codecNone {
			if whole == nil {
				whole = make([]bool, len(files))
			}
			whole[i] = true
		}
	}
	return whole
}

// checkParquetFiles refuses compressed Parquet files: Parquet compresses
// its pages, and a reader needs the file's footer first.
func checkParquetFiles(files []string) error {
	for _, f := range files {
		if ext := spec.CompressionExt(f); ext != "" {
			return fmt.Errorf("operators: read %s: a parquet file compressed whole (%s) is not supported: parquet compresses its pages; decompress it first", f, ext)
		}
	}
	return nil
}

// decoders opens files as buffered streams of their content, decompressed
// when the name says so. One scan or inference keeps one and reuses its
// decompressors and buffer from file to file; close releases them.
type decoders struct {
	gz  *gzip.Reader
	zs  *zstd.Decoder
	br  *bufio.Reader
	src fileReader
	dec decodedReader
}

// open returns a reader of f's content from its start (f freshly opened
// from path). Its errors name the file: a read error of f as such, bad
// compressed data as a *operators.DataError without a line. read, when
// set, counts the bytes of f read.
func (d *decoders) open(f *os.File, path string, read *atomic.Int64) (*bufio.Reader, error) {
	d.src = fileReader{f: f, path: path, read: read}
	var r io.Reader = &d.src
	if c := codecOf(path); c != codecNone {
		var dec io.Reader
		var err error
		switch c {
		case codecGzip:
			if d.gz == nil {
				d.gz, err = gzip.NewReader(&d.src)
			} else {
				err = d.gz.Reset(&d.src)
			}
			dec = d.gz
		case codecZstd:
			if d.zs == nil {
				d.zs, err = zstd.NewReader(&d.src, zstd.WithDecoderConcurrency(1))
			} else {
				err = d.zs.Reset(&d.src)
			}
			dec = d.zs
		case codecBzip2:
			dec = bzip2.NewReader(&d.src)
		}
		d.dec = decodedReader{r: dec, src: &d.src, codec: c}
		if err != nil {
			return nil, d.dec.error(err)
		}
		r = &d.dec
	}
	if d.br == nil {
		d.br = bufio.NewReaderSize(r, 64<<10)
	} else {
		d.br.Reset(r)
	}
	return d.br, nil
}

// close releases the decompressors.
func (d *decoders) close() {
	if d.zs != nil {
		d.zs.Close()
		d.zs = nil
	}
}

// fileReader reads a file, its errors naming it.
type fileReader struct {
	f    *os.File
	path string
	err  error         // the last read error other than io.EOF
	read *atomic.Int64 // when set, counts the file's bytes read (ScanOptions.Progress)
}

func (r *fileReader) Read(p []byte) (int, error) {
	n, err := r.f.Read(p)
	if r.read != nil {
		r.read.Add(int64(n))
	}
	if err != nil && err != io.EOF {
		r.err = err
		err = fmt.Errorf("operators: read %s: %w", r.path, err)
	}
	return n, err
}

// decodedReader is the decompressed content of a fileReader's file.
type decodedReader struct {
	r     io.Reader
	src   *fileReader
	codec codec
}

func (r *decodedReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF {
		err = r.error(err)
	}
	return n, err
}

// error is err of the decompressor: the file's read error when reading it
// failed, else the data is corrupt or truncated, a *operators.DataError
// (the input must be fixed; running again fails the same way).
func (r *decodedReader) error(err error) error {
	if r.src.err != nil {
		return fmt.Errorf("operators: read %s: %w", r.src.path, r.src.err)
	}
	if err == io.EOF { // no data at all, not even a header
		err = io.ErrUnexpectedEOF
	}
	return &operators.DataError{File: r.src.path,
		Msg: fmt.Sprintf("corrupt or truncated %s data: %v", r.codec, err)}
}
