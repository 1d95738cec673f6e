package commit

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// Input is a path a job reads: a file, a directory or a glob, with the
// files it matched when the job was loaded.
type Input struct {
	Name  string // the read step's id
	Path  string // as named, absolute
	Files []string
}

// CheckOverlaps refuses every output whose target is, holds or lies inside
// an input or another output, or matches an input's glob: replacing it
// would delete what the job reads (or will read next time), or what
// another output writes. Paths are compared with symlinks resolved. It
// reads only.
func CheckOverlaps(outs []Output, ins []Input) error {
	var errs []error
	targets := make([]string, len(outs))
	for i, o := range outs {
		t, err := Resolve(o.Target)
		if err != nil {
			return fmt.Errorf("commit: output %s: %w", o.Name, err)
		}
		targets[i] = t
	}
	for i, o := range outs {
		if why := overlapsOutput(outs, targets, i); why != "" {
			errs = append(errs, &ConflictError{Output: o.Name, Target: o.Target, Reason: why})
			continue
		}
		if o.Target == StdoutTarget {
			continue
		}
		for _, in := range ins {
			if why := overlapsInput(targets[i], in); why != "" {
				errs = append(errs, &ConflictError{Output: o.Name, Target: o.Target, Reason: why})
				break
			}
		}
	}
	return errors.Join(errs...)
}

// overlapsOutput compares output i with the outputs before it, so that a
// pair is reported once.
func overlapsOutput(outs []Output, targets []string, i int) string {
	for j := range i {
		a, b := targets[i], targets[j]
		switch {
		case a == b:
			return fmt.Sprintf("step %q writes the same path", outs[j].Name)
		case a == StdoutTarget || b == StdoutTarget:
			continue
		case within(a, b):
			return fmt.Sprintf("it is inside the output of step %q (%s)", outs[j].Name, outs[j].Target)
		case within(b, a):
			return fmt.Sprintf("it holds the output of step %q (%s)", outs[j].Name, outs[j].Target)
		}
	}
	return ""
}

func overlapsInput(target string, in Input) string {
	if isGlob(in.Path) {
		if pattern, ok := resolveGlob(in.Path); ok && matchesSelfOrParent(pattern, target) {
			return fmt.Sprintf("it matches input %s (%s): the job would read its own output", in.Name, in.Path)
		}
	} else if p, err := Resolve(in.Path); err == nil {
		switch {
		case p == target:
			return fmt.Sprintf("it is input %s: the job would replace what it reads", in.Name)
		case within(target, p):
			return fmt.Sprintf("it is inside input %s (%s): the job would read its own output", in.Name, in.Path)
		case within(p, target):
			return fmt.Sprintf("it holds input %s (%s): replacing it would delete the input", in.Name, in.Path)
		}
	}
	for _, f := range in.Files {
		if p, err := Resolve(f); err == nil && within(p, target) {
			return fmt.Sprintf("it holds %s, read by input %s: replacing it would delete the input", f, in.Name)
		}
	}
	return ""
}

func isGlob(p string) bool { return strings.ContainsAny(p, "*?[") }

// resolveGlob resolves the symlinks of a glob's literal directory prefix.
func resolveGlob(pattern string) (string, bool) {
	dir := pattern
	for isGlob(dir) {
		dir = filepath.Dir(dir)
	}
	r, err := Resolve(dir)
	if err != nil {
		return "", false
	}
	return filepath.Join(r, strings.TrimPrefix(pattern, dir)), true
}

// matchesSelfOrParent reports whether pattern matches path or one of its
// parent directories (a glob over a folder the output is written in).
func matchesSelfOrParent(pattern, path string) bool {
	for p := path; ; p = filepath.Dir(p) {
		if ok, _ := filepath.Match(pattern, p); ok {
			return true
		}
		if filepath.Dir(p) == p {
			return false
		}
	}
}
