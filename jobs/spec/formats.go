package spec

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Format is the file format of a read or write step.
type Format uint8

const (
	// FormatAuto takes the format from the path's extension (.csv,
	// .jsonl/.ndjson, .parquet); a path with none of them is CSV.
	FormatAuto Format = iota
	FormatCSV
	FormatJSONL
	FormatParquet
)

var formatNames = [...]string{"auto", "csv", "jsonl", "parquet"}

func (f Format) String() string {
	if int(f) < len(formatNames) {
		return formatNames[f]
	}
	return fmt.Sprintf("format(%d)", uint8(f))
}

// ParseFormat maps "csv", "jsonl" (or "ndjson") and "parquet".
func ParseFormat(s string) (Format, bool) {
	switch s {
	case "csv":
		return FormatCSV, true
	case "jsonl", "ndjson":
		return FormatJSONL, true
	case "parquet":
		return FormatParquet, true
	}
	return FormatAuto, false
}

// FormatOf is f, or when f is FormatAuto the format path's extension names
// (CSV when it names none). A glob's extension counts ("data/*.parquet").
// A compression extension is looked past: "data.csv.gz" is CSV.
func FormatOf(path string, f Format) Format {
	if f != FormatAuto {
		return f
	}
	switch strings.ToLower(filepath.Ext(strings.TrimSuffix(path, CompressionExt(path)))) {
	case ".jsonl", ".ndjson":
		return FormatJSONL
	case ".parquet":
		return FormatParquet
	}
	return FormatCSV
}

// CompressionExt is path's compression extension as written (".gz",
// ".zst" or ".bz2", in any case), or "" when it has none. A read
// decompresses such a file as a stream (gzip, zstd, bzip2); its format is
// the one of the name without it.
func CompressionExt(path string) string {
	switch ext := filepath.Ext(path); strings.ToLower(ext) {
	case ".gz", ".zst", ".bz2":
		return ext
	}
	return ""
}

// Ext is the extension of the format's files, with its dot: the one part
// files get and the one a directory input lists.
func (f Format) Ext() string {
	switch f {
	case FormatJSONL:
		return ".jsonl"
	case FormatParquet:
		return ".parquet"
	}
	return ".csv"
}

// OnError is what a read does with a malformed row.
type OnError uint8

const (
	// OnErrorFail fails the read with a data error naming file, line and
	// column (the default).
	OnErrorFail OnError = iota
	// OnErrorSkip drops the row, counts it and keeps reading.
	OnErrorSkip
	// OnErrorQuarantine is OnErrorSkip that also writes the row and its
	// error to the read's quarantine output.
	OnErrorQuarantine
)

var onErrorNames = [...]string{"fail", "skip", "quarantine"}

func (o OnError) String() string {
	if int(o) < len(onErrorNames) {
		return onErrorNames[o]
	}
	return fmt.Sprintf("on_error(%d)", uint8(o))
}

// ParseOnError maps "fail", "skip" and "quarantine".
func ParseOnError(s string) (OnError, bool) {
	for i, n := range onErrorNames {
		if n == s {
			return OnError(i), true
		}
	}
	return 0, false
}

// WriteMode says what a write does when its target exists.
type WriteMode uint8

const (
	// WriteOverwrite replaces the target at commit (the default): a
	// regular file, an empty directory or a directory batchrun wrote.
	WriteOverwrite WriteMode = iota
	// WriteErrorIfExists fails the run before anything runs when the
	// target exists.
	WriteErrorIfExists
	// WriteOverwriteDeletingOtherFiles also replaces a directory batchrun
	// did not write, deleting everything in it. Named so that nobody
	// picks it by accident.
	WriteOverwriteDeletingOtherFiles
)

var writeModeNames = [...]string{"overwrite", "error-if-exists", "overwrite-deleting-other-files"}

func (m WriteMode) String() string {
	if int(m) < len(writeModeNames) {
		return writeModeNames[m]
	}
	return fmt.Sprintf("writemode(%d)", uint8(m))
}

// ParseWriteMode maps a mode's name to it.
func ParseWriteMode(s string) (WriteMode, bool) {
	for i, n := range writeModeNames {
		if n == s {
			return WriteMode(i), true
		}
	}
	return 0, false
}

// Compression is the page compression of Parquet output.
type Compression uint8

const (
	CompressionSnappy Compression = iota // the default
	CompressionZstd
	CompressionNone
)

var compressionNames = [...]string{"snappy", "zstd", "none"}

func (c Compression) String() string {
	if int(c) < len(compressionNames) {
		return compressionNames[c]
	}
	return fmt.Sprintf("compression(%d)", uint8(c))
}

// ParseCompression maps "snappy", "zstd" and "none".
func ParseCompression(s string) (Compression, bool) {
	for i, n := range compressionNames {
		if n == s {
			return Compression(i), true
		}
	}
	return 0, false
}

// HasHeader reports whether a CSV read expects a header row (the default).
func (r *ReadStep) HasHeader() bool { return r.Header == nil || *r.Header }

// checkReadFormat validates the format settings of a read; it returns the
// message of the first problem, or "".
func checkReadFormat(r *ReadStep) string {
	f := FormatOf(r.Path, r.Format)
	csvOnly := r.Delimiter != 0 || r.Quote != 0 || r.Header != nil || r.NullString != ""
	switch {
	case f != FormatCSV && csvOnly:
		return fmt.Sprintf("read: delimiter, quote, header and null_string apply to csv, not %s", f)
	case f == FormatParquet && CompressionExt(r.Path) != "":
		return fmt.Sprintf("read: a parquet file compressed whole (%s) is not supported: parquet compresses its pages; decompress it first", CompressionExt(r.Path))
	case f == FormatParquet && r.OnError != OnErrorFail:
		return "read: on_error applies to csv and jsonl reads (a parquet file has typed columns)"
	case r.Quote == '\n' || r.Quote == '\r' || (r.Quote != 0 && r.Quote == r.Delimiter):
		return fmt.Sprintf("read quote %q is not allowed", r.Quote)
	case (r.OnError == OnErrorQuarantine) != (r.Quarantine != ""):
		return "read: on_error: quarantine and quarantine: PATH go together"
	}
	return ""
}

// checkWriteFormat validates the format settings of a write.
func checkWriteFormat(w *WriteStep) string {
	if FormatOf(w.Path, w.Format) != FormatParquet && w.Compression != CompressionSnappy {
		return "write: compression applies to parquet"
	}
	if ext := CompressionExt(w.Path); ext != "" {
		return fmt.Sprintf("write: compressed output (%s) is not supported; reads decompress .gz, .zst and .bz2", ext)
	}
	return ""
}
