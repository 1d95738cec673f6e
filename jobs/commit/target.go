package commit

import (
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/batchrun/batchrun/internal/osfs"
)

// Kind is the shape of an output.
type Kind uint8

const (
	// File is one file: a write with one subtask.
	File Kind = iota
	// Dir is a directory of part files and the manifest.
	Dir
	// Stream is "-" (standard output), a FIFO or a character device: it
	// is written through at commit, never renamed over.
	Stream
)

func (k Kind) String() string {
	switch k {
	case File:
		return "file"
	case Dir:
		return "directory"
	case Stream:
		return "stream"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Mode is what a write may replace.
type Mode uint8

const (
	// Overwrite replaces a regular file, an empty directory or a directory
	// batchrun wrote; anything else at the target is refused.
	Overwrite Mode = iota
	// ErrorIfExists refuses any existing target.
	ErrorIfExists
	// OverwriteDeletingOtherFiles also replaces a directory batchrun did
	// not write, deleting what is in it. Its long name is deliberate.
	OverwriteDeletingOtherFiles
)

// Output is one output to check and commit.
type Output struct {
	// Name names the output in errors (the write step's id).
	Name string
	// Target is the path the user named (absolute), or "-".
	Target string
	Kind   Kind
	Mode   Mode
	// Staged is where the run writes its result: a file (File, Stream) or
	// a directory (Dir). For File and Dir it is in the target's directory.
	Staged string
}

// StdoutTarget is the target that means the process's standard output.
const StdoutTarget = "-"

// IsStream reports whether path names a stream: "-", or an existing FIFO,
// character device or socket (after following symlinks: /dev/stdout).
func IsStream(path string) bool {
	if path == StdoutTarget {
		return true
	}
	fi, err := os.Stat(path)
	return err == nil && isStreamMode(fi.Mode())
}

func isStreamMode(m iofs.FileMode) bool {
	return m&(iofs.ModeNamedPipe|iofs.ModeCharDevice|iofs.ModeDevice|iofs.ModeSocket) != 0
}

// Resolve returns where path really is, absolute: symlinks in it
// evaluated, also a final symlink whose destination does not exist yet
// (the commit creates it there, as a shell redirection would). "-" stays
// "-".
func Resolve(path string) (string, error) {
	if path == StdoutTarget {
		return path, nil
	}
	p, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	for range 40 {
		fi, err := os.Lstat(p)
		switch {
		case errors.Is(err, iofs.ErrNotExist):
			dir, err := resolveDir(filepath.Dir(p))
			if err != nil {
				return "", err
			}
			return filepath.Join(dir, filepath.Base(p)), nil
		case err != nil:
			return "", err
		case fi.Mode()&iofs.ModeSymlink == 0:
			return filepath.EvalSymlinks(p)
		}
		dest, err := os.Readlink(p)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(dest) {
			dest = filepath.Join(filepath.Dir(p), dest)
		}
		p = filepath.Clean(dest)
	}
	return "", fmt.Errorf("%s: too many levels of symbolic links", path)
}

// resolveDir evaluates the symlinks of dir's longest existing prefix.
func resolveDir(dir string) (string, error) {
	r, err := filepath.EvalSymlinks(dir)
	if err == nil {
		return r, nil
	}
	if !errors.Is(err, iofs.ErrNotExist) {
		return "", err
	}
	parent := filepath.Dir(dir)
	if parent == dir {
		return dir, nil
	}
	r, err = resolveDir(parent)
	if err != nil {
		return "", err
	}
	return filepath.Join(r, filepath.Base(dir)), nil
}

// found is what a check finds at a target.
type found uint8

const (
	foundNothing found = iota
	foundFile
	foundEmptyDir
	foundOwnDir     // a directory with a manifest listing all it holds
	foundForeignDir // any other directory
	foundStream
	foundOther // a socket, a device file we do not write through, ...
)

// inspect says what is at target and, for a foreign directory, names one
// entry that makes it foreign.
func inspect(fsys osfs.FS, target string) (found, string, error) {
	fi, err := fsys.Stat(target)
	switch {
	case errors.Is(err, iofs.ErrNotExist):
		return foundNothing, "", nil
	case err != nil:
		return 0, "", err
	case fi.Mode().IsRegular():
		return foundFile, "", nil
	case isStreamMode(fi.Mode()):
		return foundStream, "", nil
	case !fi.IsDir():
		return foundOther, "", nil
	}
	ents, err := fsys.ReadDir(target)
	if err != nil {
		return 0, "", err
	}
	if len(ents) == 0 {
		return foundEmptyDir, "", nil
	}
	m, err := readManifest(fsys, target)
	if err != nil {
		return foundForeignDir, firstEntry(ents, nil), nil
	}
	if extra := firstEntry(ents, m.owns); extra != "" {
		return foundForeignDir, extra, nil
	}
	return foundOwnDir, "", nil
}

// firstEntry returns the first entry that owned does not claim (every
// entry when owned is nil).
func firstEntry(ents []iofs.DirEntry, owned func(name string, isDir bool) bool) string {
	for _, e := range ents {
		if owned == nil || !owned(e.Name(), e.IsDir()) {
			return e.Name()
		}
	}
	return ""
}

// refusal returns why mode may not replace what was found, or "".
func refusal(mode Mode, kind Kind, f found, extra string) string {
	if f == foundNothing {
		return ""
	}
	if mode == ErrorIfExists {
		return "it exists (mode: error-if-exists); remove it or use mode: overwrite"
	}
	switch f {
	case foundStream:
		if kind != Stream {
			return "it is a stream (FIFO or device) but the output was planned as a " + kind.String()
		}
	case foundForeignDir:
		if mode != OverwriteDeletingOtherFiles {
			return fmt.Sprintf("it is a directory holding %q, which batchrun did not write; "+
				"move it away, or use mode: overwrite-deleting-other-files to replace it and everything in it", extra)
		}
	case foundOther:
		return "it is neither a regular file, a directory nor a stream"
	}
	if kind == Stream && f != foundStream {
		return "it is no longer a stream"
	}
	return ""
}

// ConflictError refuses an output before anything is touched: what is at
// its target, or its place relative to an input or another output.
type ConflictError struct {
	Output string // the output's name (a step id)
	Target string
	Reason string
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("output %s (%s): %s", e.Output, e.Target, e.Reason)
}

// Check refuses every output whose target its mode may not replace. It
// reads only.
func Check(fsys osfs.FS, outs []Output) error {
	var errs []error
	for _, o := range outs {
		if err := checkOne(fsys, o); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func checkOne(fsys osfs.FS, o Output) error {
	if o.Target == StdoutTarget {
		return nil
	}
	f, extra, err := inspect(fsys, o.Target)
	if err != nil {
		return fmt.Errorf("commit: output %s: %w", o.Name, err)
	}
	if why := refusal(o.Mode, o.Kind, f, extra); why != "" {
		return &ConflictError{Output: o.Name, Target: o.Target, Reason: why}
	}
	return nil
}

// within reports whether path is base or inside it (both clean and
// absolute).
func within(path, base string) bool {
	if path == base {
		return true
	}
	if !strings.HasSuffix(base, string(filepath.Separator)) {
		base += string(filepath.Separator)
	}
	return strings.HasPrefix(path, base)
}
