package commit

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/batchrun/batchrun/internal/osfs"
)

// TestCheck: what each mode may replace.
func TestCheck(t *testing.T) {
	dir := t.TempDir()
	mk := func(name, content string) string {
		p := filepath.Join(dir, name)
		must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		must(t, os.WriteFile(p, []byte(content), 0o644))
		return p
	}
	file := mk("f.csv", "x\n")
	empty := filepath.Join(dir, "empty")
	must(t, os.Mkdir(empty, 0o755))
	foreign := filepath.Dir(mk("foreign/notes.txt", "mine\n"))
	own := filepath.Dir(mk("own/part-00000.csv", "x\n"))
	mk("own/"+ManifestName, `{"batchrun_manifest":1,"files":["part-00000.csv"]}`)
	ownPlus := filepath.Dir(mk("ownplus/part-00000.csv", "x\n"))
	mk("ownplus/"+ManifestName, `{"batchrun_manifest":1,"files":["part-00000.csv"]}`)
	mk("ownplus/notes.txt", "added by a person\n")
	fifo := filepath.Join(dir, "f.fifo")
	must(t, syscall.Mkfifo(fifo, 0o644))

	for _, c := range []struct {
		target string
		kind   Kind
		mode   Mode
		want   string // "" accepted, else a substring of the refusal
	}{
		{filepath.Join(dir, "absent"), Dir, Overwrite, ""},
		{filepath.Join(dir, "absent"), File, ErrorIfExists, ""},
		{file, File, Overwrite, ""},
		{file, Dir, Overwrite, ""},
		{file, File, ErrorIfExists, "error-if-exists"},
		{empty, Dir, Overwrite, ""},
		{empty, File, Overwrite, ""},
		{own, Dir, Overwrite, ""},
		{own, File, Overwrite, ""},
		{own, Dir, ErrorIfExists, "error-if-exists"},
		{foreign, Dir, Overwrite, `holding "notes.txt", which batchrun did not write`},
		{foreign, File, Overwrite, "which batchrun did not write"},
		{foreign, Dir, OverwriteDeletingOtherFiles, ""},
		{ownPlus, Dir, Overwrite, `"notes.txt"`},
		{fifo, Stream, Overwrite, ""},
		{fifo, File, Overwrite, "is a stream"},
		{StdoutTarget, Stream, Overwrite, ""},
	} {
		err := Check(osfs.Default, []Output{{Name: "out", Target: c.target, Kind: c.kind, Mode: c.mode}})
		var ce *ConflictError
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s as %s, mode %d: refused: %v", c.target, c.kind, c.mode, err)
		case c.want != "" && (!errors.As(err, &ce) || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s as %s, mode %d: got %v, want a ConflictError with %q", c.target, c.kind, c.mode, err, c.want)
		}
	}
}

// TestCheckOverlaps: outputs over inputs and over each other are refused,
// through symlinks too.
func TestCheckOverlaps(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	must(t, os.MkdirAll(data, 0o755))
	in := filepath.Join(data, "in.csv")
	must(t, os.WriteFile(in, []byte("a\n1\n"), 0o644))
	link := filepath.Join(dir, "alias")
	must(t, os.Symlink(data, link))
	fileIn := []Input{{Name: "src", Path: in, Files: []string{in}}}
	dirIn := []Input{{Name: "src", Path: data, Files: []string{in}}}
	globIn := []Input{{Name: "src", Path: filepath.Join(data, "*.csv"), Files: []string{in}}}
	out := func(targets ...string) []Output {
		var outs []Output
		for i, tg := range targets {
			outs = append(outs, Output{Name: string(rune('a' + i)), Target: tg, Kind: Dir})
		}
		return outs
	}
	for _, c := range []struct {
		name string
		outs []Output
		ins  []Input
		want string
	}{
		{"sibling", out(filepath.Join(dir, "out")), fileIn, ""},
		{"same file", out(in), fileIn, "is input src"},
		{"same file via symlink", out(filepath.Join(link, "in.csv")), fileIn, "is input src"},
		{"holds the input", out(data), fileIn, "holds input src"},
		{"holds it via symlink", out(link), fileIn, "holds"},
		{"the spec folder", out(dir), fileIn, "holds"},
		{"inside a read directory", out(filepath.Join(data, "out.csv")), dirIn, "inside input src"},
		{"matches the glob", out(filepath.Join(data, "out.csv")), globIn, "matches input src"},
		{"glob elsewhere", out(filepath.Join(dir, "out.csv")), globIn, ""},
		{"two outputs, one path", out(filepath.Join(dir, "o"), filepath.Join(dir, "o")), nil, "same path"},
		{"output in output", out(filepath.Join(dir, "o"), filepath.Join(dir, "o", "x.csv")), nil, `inside the output of step "a"`},
		{"stdout twice", out(StdoutTarget, StdoutTarget), nil, "same path"},
		{"stdout and a file", out(StdoutTarget, filepath.Join(dir, "o")), nil, ""},
	} {
		err := CheckOverlaps(c.outs, c.ins)
		var ce *ConflictError
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: refused: %v", c.name, err)
		case c.want != "" && (!errors.As(err, &ce) || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: got %v, want a ConflictError with %q", c.name, err, c.want)
		}
	}
}
