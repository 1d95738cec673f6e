package jobs

import (
	"testing"

	"github.com/batchrun/batchrun/jobs/spec"
)

func TestParseFormatKeys(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"format", "steps:\n  - id: r\n    read: {path: a.csv, schema: [a int64], format: xml}\n", `t.yaml:3: step "r": read format: unknown format "xml" (want csv, jsonl or parquet)`},
		{"on_error", "steps:\n  - id: r\n    read:\n      path: a.csv\n      schema: [a int64]\n      on_error: ignore\n", `t.yaml:6: step "r": on_error: unknown value "ignore" (want fail, skip or quarantine)`},
		{"mode", "steps:\n  - {id: r, read: {path: a.csv, schema: [a int64]}}\n  - id: w\n    input: r\n    write: {path: o.csv, mode: append}\n", `t.yaml:5: step "w": write mode: unknown mode "append" (want overwrite, error-if-exists or overwrite-deleting-other-files)`},
		{"compression", "steps:\n  - {id: r, read: {path: a.csv, schema: [a int64]}}\n  - {id: w, input: r, write: {path: o.parquet, compression: lz4}}\n", `t.yaml:3: step "w": compression: unknown codec "lz4" (want snappy, zstd or none)`},
		{"quarantine", "steps:\n  - {id: r, read: {path: a.csv, schema: [a int64], on_error: quarantine}}\n  - {id: w, input: r, write: {path: o.csv}}\n", `t.yaml:2: step "r": read: on_error: quarantine and quarantine: PATH go together`},
		{"csv only", "steps:\n  - {id: r, read: {path: a.jsonl, schema: [a int64], delimiter: ;}}\n  - {id: w, input: r, write: {path: o.csv}}\n", `t.yaml:2: step "r": read: delimiter, quote, header and null_string apply to csv, not jsonl`},
		{"compressed format", "steps:\n  - {id: r, read: {path: a.jsonl.gz, schema: [a int64], delimiter: ;}}\n  - {id: w, input: r, write: {path: o.csv}}\n", `t.yaml:2: step "r": read: delimiter, quote, header and null_string apply to csv, not jsonl`},
		{"compressed parquet", "steps:\n  - {id: r, read: {path: a.parquet.gz, schema: [a int64]}}\n  - {id: w, input: r, write: {path: o.csv}}\n", `t.yaml:2: step "r": read: a parquet file compressed whole (.gz) is not supported: parquet compresses its pages; decompress it first`},
		{"compressed write", "steps:\n  - {id: r, read: {path: a.csv.zst, schema: [a int64]}}\n  - {id: w, input: r, write: {path: o.csv.gz}}\n", `t.yaml:3: step "w": write: compressed output (.gz) is not supported; reads decompress .gz, .zst and .bz2`},
	} {
		_, err := Parse([]byte(tc.yaml), "t.yaml", "", LoadOptions{})
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s: Parse error\n got %v\nwant %s", tc.name, err, tc.want)
		}
	}
	job, err := Parse([]byte("steps:\n  - {id: r, read: {path: a.ndjson, schema: [a int64], on_error: quarantine, quarantine: bad}}\n  - {id: w, input: r, write: {path: o.parquet, mode: error-if-exists, compression: zstd}}\n"), "t.yaml", "", LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r, w := job.Step("r").Read, job.Step("w").Write
	if spec.FormatOf(r.Path, r.Format) != spec.FormatJSONL || r.OnError != spec.OnErrorQuarantine || r.Quarantine != "bad" ||
		spec.FormatOf(w.Path, w.Format) != spec.FormatParquet || w.Mode != spec.WriteErrorIfExists || w.Compression != spec.CompressionZstd {
		t.Errorf("decoded %+v %+v", r, w)
	}
}
