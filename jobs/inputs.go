package jobs

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators/formats"
)

// expandInput lists the files a read step reads, with their sizes: the
// file Path; the regular files matching Path when it is a glob (it holds
// one of * ? [); or, when Path is a directory, its regular files with the
// format's extension (.csv, .jsonl or .ndjson, .parquet), also followed by
// a compression extension (.gz, .zst, .bz2: "part-0.csv.gz"). A glob or a
// directory skips names that start with "." or "_" (hidden files, and the
// _BATCHRUN manifest of a directory batchrun wrote, as Hadoop and Spark
// skip _SUCCESS). Files are sorted by name. No file is an error.
func expandInput(r *spec.ReadStep) (formats.ScanInput, error) {
	var paths []string
	switch fi, err := os.Stat(r.Path); {
	case strings.ContainsAny(r.Path, "*?["):
		if paths, err = filepath.Glob(r.Path); err != nil {
			return formats.ScanInput{}, fmt.Errorf("read %s: %w", r.Path, err)
		}
		paths = slices.DeleteFunc(paths, func(p string) bool { return skippedName(filepath.Base(p)) })
	case err != nil:
		return formats.ScanInput{}, fmt.Errorf("read: %w", err)
	case fi.IsDir():
		if paths, err = dirFiles(r.Path, spec.FormatOf(r.Path, r.Format)); err != nil {
			return formats.ScanInput{}, err
		}
	default:
		paths = []string{r.Path}
	}
	in := formats.ScanInput{}
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return formats.ScanInput{}, fmt.Errorf("read: %w", err)
		}
		if fi.Mode().IsRegular() {
			in.Files = append(in.Files, p)
			in.Sizes = append(in.Sizes, fi.Size())
		}
	}
	if len(in.Files) == 0 {
		return in, fmt.Errorf("read %s: no input files", r.Path)
	}
	return in, nil
}

// dirFiles lists the files of dir with format f's extension, compressed
// or not, sorted.
func dirFiles(dir string, f spec.Format) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	var out []string
	for _, e := range ents {
		name := e.Name()
		ext := strings.ToLower(filepath.Ext(strings.TrimSuffix(name, spec.CompressionExt(name))))
		ok := ext == f.Ext() || (f == spec.FormatJSONL && ext == ".ndjson")
		if ok && !skippedName(name) && e.Type().IsRegular() {
			out = append(out, filepath.Join(dir, name))
		}
	}
	sort.Strings(out)
	return out, nil
}

// skippedName reports whether a glob or directory read skips a file.
func skippedName(name string) bool {
	return strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")
}

// inferRead infers the schema of a read with no schema: CSV through the
// caller's inferrer (or the operators' own when the read has a custom
// quote byte), JSON lines and Parquet from the first input file.
func inferRead(r *spec.ReadStep, infer SchemaInferrer) (spec.Schema, error) {
	first := r.Path // a plain file goes to the inferrer as given
	if fi, err := os.Stat(r.Path); strings.ContainsAny(r.Path, "*?[") || err == nil && fi.IsDir() {
		in, err := expandInput(r)
		if err != nil {
			return nil, err
		}
		first = in.Files[0]
	}
	if spec.FormatOf(r.Path, r.Format) != spec.FormatCSV || (r.Quote != 0 && r.Quote != '"') {
		return formats.InferSchema(r, []string{first}, 1000)
	}
	if !r.HasHeader() {
		return nil, fmt.Errorf("a csv read with header: false needs a schema")
	}
	delim := r.Delimiter
	if delim == 0 {
		delim = ','
	}
	return infer(first, delim)
}
