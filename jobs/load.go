package jobs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v4"

	"github.com/batchrun/batchrun/jobs/commit"
	"github.com/batchrun/batchrun/jobs/spec"
)

// SpecError is the error type of every spec problem: it names the file, the
// line and the step. It is spec.Error; callers branch on it with errors.As.
type SpecError = spec.Error

// SchemaInferrer returns the schema of the CSV file at path, read with the
// field delimiter delim, from its header and a sample of its rows. The
// loader calls it for every CSV read step that has no explicit schema (with
// the first file of a glob or directory); JSON lines and Parquet reads are
// inferred by the operators package once inference is configured.
type SchemaInferrer func(path string, delim byte) (spec.Schema, error)

// LoadOptions are the inputs of Load and Parse besides the spec text.
type LoadOptions struct {
	// Params are the values of ${name} parameters; they override the
	// spec's params: defaults.
	Params map[string]string
	// Infer fills in the schema of reads that have none. When nil, such a
	// read is an error.
	Infer SchemaInferrer
}

// Load reads the YAML job spec at path and returns the validated job.
// Relative read and write paths resolve against the spec file's directory.
// Every error about the spec is a *SpecError naming the file and line.
func Load(path string, opts LoadOptions) (*spec.Job, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &spec.Error{File: path, Msg: fmt.Sprintf("cannot read spec: %v", errors.Unwrap(err))}
	}
	return Parse(data, path, filepath.Dir(path), opts)
}

// Parse parses the YAML job spec in data, read from file (used in errors
// and as the default job name), substitutes parameters, resolves relative
// read and write paths against baseDir (left as they are when baseDir is
// empty), infers missing read schemas, and validates the job with
// spec.Resolve.
func Parse(data []byte, file, baseDir string, opts LoadOptions) (*spec.Job, error) {
	text, err := substituteParams(data, file, opts.Params)
	if err != nil {
		return nil, err
	}
	job, err := decodeJob(text, file)
	if err != nil {
		return nil, err
	}
	resolvePaths(job, baseDir)
	if err := inferSchemas(job, opts.Infer); err != nil {
		return nil, err
	}
	if err := ExpandSQL(job); err != nil {
		return nil, err
	}
	if _, err := spec.Resolve(job); err != nil {
		return nil, err
	}
	dropUnread(job)
	splitSharedReads(job)
	return job, nil
}

// splitSharedReads gives each step reading a read step after the first
// its own copy of the read (id "ID.read2", "ID.read3"...): a scan read by
// two steps would otherwise run once and commit all its rows to the store
// for both (a blocking exchange), which costs more than scanning the file
// again (TPC-H Q17 reads lineitem for its outer rows and its subquery).
// Each copy scans only the columns its reader uses. A read that skips or
// quarantines bad rows is not copied: two scans would count its skipped
// rows twice, or write its quarantine file twice.
func splitSharedReads(job *spec.Job) {
	ids := map[string]bool{}
	for _, s := range job.Steps {
		ids[s.ID] = true
	}
	copies := map[string]int{}
	var out []*spec.Step
	for _, s := range job.Steps {
		var added []*spec.Step
		for i, in := range s.Inputs {
			r := job.Step(in)
			if r == nil || r.Kind != spec.KindRead || r.Read == nil || r.Read.OnError != spec.OnErrorFail {
				continue
			}
			if copies[in]++; copies[in] == 1 {
				continue // the first reader reads the step itself
			}
			c := *r
			read := *r.Read
			c.Read = &read
			for n := copies[in]; ; n++ {
				c.ID = fmt.Sprintf("%s.read%d", in, n)
				if !ids[c.ID] {
					break
				}
			}
			ids[c.ID] = true
			s.Inputs[i] = c.ID
			added = append(added, &c)
		}
		out = append(append(out, added...), s)
	}
	job.Steps = out
}

// dropUnread removes the read steps no step reads, once the job resolved
// (so their errors still count): they would scan their files for nothing
// (TPC-H queries declare all eight tables and use a few). A read that
// quarantines bad rows stays: its quarantine file is an output.
func dropUnread(job *spec.Job) {
	read := map[string]bool{}
	for _, s := range job.Steps {
		for _, in := range s.Inputs {
			read[in] = true
		}
	}
	job.Steps = slices.DeleteFunc(job.Steps, func(s *spec.Step) bool {
		drop := s.Kind == spec.KindRead && !read[s.ID] && s.Read != nil && s.Read.Quarantine == "" && len(job.Steps) > 1
		if drop {
			job.Unread = append(job.Unread, s.ID)
		}
		return drop
	})
}

func resolvePaths(job *spec.Job, baseDir string) {
	abs := func(p string) string {
		if p == "" || p == commit.StdoutTarget || baseDir == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(baseDir, p)
	}
	for _, s := range job.Steps {
		switch {
		case s.Read != nil:
			s.Read.Path = abs(s.Read.Path)
			s.Read.Quarantine = abs(s.Read.Quarantine)
		case s.Write != nil:
			s.Write.Path = abs(s.Write.Path)
		}
	}
}

// inferSchemas fills in the schema of every read that has none.
func inferSchemas(job *spec.Job, infer SchemaInferrer) error {
	for _, s := range job.Steps {
		if s.Read == nil || s.Read.Schema != nil || s.Read.Path == "" {
			continue
		}
		if infer == nil {
			return spec.StepErrorf(job, s, "read has no schema and schema inference is not configured")
		}
		schema, err := inferRead(s.Read, infer)
		if err != nil {
			return spec.StepErrorf(job, s, "infer schema: %v", err)
		}
		s.Read.Schema = schema
	}
	return nil
}

// decoder walks the YAML node tree strictly: unknown or duplicate keys and
// values of the wrong shape are errors with their line.
type decoder struct {
	file string
	step string // id of the step being decoded, for errors
}

func (d *decoder) errf(n *yaml.Node, format string, args ...any) *spec.Error {
	e := &spec.Error{File: d.file, Step: d.step, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line = n.Line
	}
	return e
}

func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func docRoot(doc *yaml.Node) *yaml.Node {
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			return nil
		}
		return deref(doc.Content[0])
	}
	return deref(doc)
}

var (
	jobKeys  = []string{"name", "parallelism", "mode", "params", "steps"}
	stepKeys = []string{"id", "input", "parallelism", "exchange",
		"read", "filter", "select", "aggregate", "join", "sort", "limit", "union", "repartition", "write",
		"distinct", "explode", "window", "sql"}
)

// blankYAML reports whether text holds only blank lines and comments.
func blankYAML(text []byte) bool {
	for _, line := range strings.Split(string(text), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			return false
		}
	}
	return true
}

func decodeJob(text []byte, file string) (*spec.Job, error) {
	if blankYAML(text) {
		return nil, &spec.Error{File: file, Msg: "empty job spec"}
	}
	var doc yaml.Node
	if err := yaml.Load(text, &doc); err != nil {
		return nil, yamlError(file, err)
	}
	d := &decoder{file: file}
	root := docRoot(&doc)
	if root == nil || root.Kind == yaml.ScalarNode && root.Value == "" {
		return nil, &spec.Error{File: file, Msg: "empty job spec"}
	}
	f, err := d.fields(root, "job", jobKeys...)
	if err != nil {
		return nil, err
	}
	job := &spec.Job{File: file, Name: strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))}
	if err := d.jobSettings(job, f); err != nil {
		return nil, err
	}
	if f["steps"] == nil {
		return nil, d.errf(root, "job has no steps")
	}
	steps := deref(f["steps"])
	if steps.Kind != yaml.SequenceNode {
		return nil, d.errf(steps, "steps: want a list of steps")
	}
	for _, n := range steps.Content {
		s, err := d.decodeStep(n)
		if err != nil {
			return nil, err
		}
		job.Steps = append(job.Steps, s)
	}
	return job, nil
}

func (d *decoder) jobSettings(job *spec.Job, f map[string]*yaml.Node) error {
	var err error
	if n := f["name"]; n != nil {
		if job.Name, err = d.str(n, "name"); err != nil {
			return err
		}
	}
	if n := f["parallelism"]; n != nil {
		if job.Parallelism, err = d.intValue(n, "parallelism"); err != nil {
			return err
		}
	}
	if n := f["params"]; n != nil {
		if _, err := d.paramsMap(n); err != nil {
			return err
		}
	}
	if n := f["mode"]; n != nil {
		m, err := d.str(n, "mode")
		if err != nil {
			return err
		}
		switch m {
		case "all-blocking":
			job.Mode = spec.AllBlocking
		case "all-pipelined":
			job.Mode = spec.AllPipelined
		default:
			return d.errf(n, "mode: unknown mode %q (want all-blocking or all-pipelined)", m)
		}
	}
	return nil
}

// fields checks that n is a map whose keys are all in allowed, each once,
// and returns its values by key.
func (d *decoder) fields(n *yaml.Node, what string, allowed ...string) (map[string]*yaml.Node, error) {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		return nil, d.errf(n, "%s: want a map with keys %s", what, strings.Join(allowed, ", "))
	}
	m := make(map[string]*yaml.Node, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := deref(n.Content[i])
		if k.Kind != yaml.ScalarNode || !slices.Contains(allowed, k.Value) {
			return nil, d.errf(k, "%s: unknown key %q (want one of %s)", what, k.Value, strings.Join(allowed, ", "))
		}
		if _, dup := m[k.Value]; dup {
			return nil, d.errf(k, "%s: duplicate key %q", what, k.Value)
		}
		m[k.Value] = n.Content[i+1]
	}
	return m, nil
}

// str decodes a non-null scalar.
func (d *decoder) str(n *yaml.Node, what string) (string, error) {
	n = deref(n)
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		return "", d.errf(n, "%s: want a string", what)
	}
	return n.Value, nil
}

func (d *decoder) int64Value(n *yaml.Node, what string) (int64, error) {
	n = deref(n)
	v, err := strconv.ParseInt(n.Value, 10, 64)
	if n.Kind != yaml.ScalarNode || err != nil {
		return 0, d.errf(n, "%s: want an integer, got %q", what, n.Value)
	}
	return v, nil
}

func (d *decoder) intValue(n *yaml.Node, what string) (int, error) {
	v, err := d.int64Value(n, what)
	if err == nil && int64(int(v)) != v {
		return 0, d.errf(n, "%s: %d is out of range", what, v)
	}
	return int(v), err
}

func (d *decoder) boolValue(n *yaml.Node, what string) (bool, error) {
	n = deref(n)
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!bool" {
		if v, err := strconv.ParseBool(n.Value); err == nil {
			return v, nil
		}
	}
	return false, d.errf(n, "%s: want true or false, got %q", what, n.Value)
}

// strs decodes a list of strings; a single scalar is a list of one. It also
// returns the item nodes, for the lines of later errors.
func (d *decoder) strs(n *yaml.Node, what string) ([]string, []*yaml.Node, error) {
	n = deref(n)
	items := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		items = n.Content
	}
	out := make([]string, len(items))
	for i, it := range items {
		v, err := d.str(it, what)
		if err != nil {
			return nil, nil, d.errf(it, "%s: want a list of strings", what)
		}
		out[i] = v
	}
	return out, items, nil
}

// scalarKey returns the scalar value of key in map n, or "".
func scalarKey(n *yaml.Node, key string) string {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if deref(n.Content[i]).Value == key {
			if v := deref(n.Content[i+1]); v.Kind == yaml.ScalarNode {
				return v.Value
			}
		}
	}
	return ""
}

func (d *decoder) decodeStep(n *yaml.Node) (*spec.Step, error) {
	n = deref(n)
	d.step = ""
	if n.Kind != yaml.MappingNode {
		return nil, d.errf(n, "steps: each step must be a map")
	}
	d.step = scalarKey(n, "id")
	f, err := d.fields(n, "step", stepKeys...)
	if err != nil {
		return nil, err
	}
	s := &spec.Step{Line: n.Line}
	if f["id"] == nil {
		return nil, d.errf(n, "step has no id")
	}
	if s.ID, err = d.str(f["id"], "id"); err != nil {
		return nil, err
	}
	kind, kindNode, err := d.stepKind(n, f)
	if err != nil {
		return nil, err
	}
	s.Kind = kind
	if err := d.stepSettings(s, f); err != nil {
		return nil, err
	}
	if err := d.decodeKind(s, kindNode, f); err != nil {
		return nil, err
	}
	return s, nil
}

// stepKind finds the one kind key of a step.
func (d *decoder) stepKind(n *yaml.Node, f map[string]*yaml.Node) (spec.Kind, *yaml.Node, error) {
	var (
		kinds []string
		kind  spec.Kind
	)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := deref(n.Content[i]).Value
		if sk, ok := spec.ParseKind(k); ok {
			kinds = append(kinds, k)
			kind = sk
			if len(kinds) == 2 {
				return 0, nil, d.errf(n.Content[i], "step has two kinds, %s and %s: split it into two steps", kinds[0], kinds[1])
			}
		}
	}
	if len(kinds) == 0 {
		return 0, nil, d.errf(n, "step has no kind (want one of %s)", strings.Join(stepKeys[4:], ", "))
	}
	return kind, f[kinds[0]], nil
}

// stepSettings decodes the keys every step may have.
func (d *decoder) stepSettings(s *spec.Step, f map[string]*yaml.Node) error {
	var err error
	if n := f["parallelism"]; n != nil {
		if s.Parallelism, err = d.intValue(n, "parallelism"); err != nil {
			return err
		}
	}
	if n := f["exchange"]; n != nil {
		m, err := d.str(n, "exchange")
		if err != nil {
			return err
		}
		switch m {
		case "pipelined":
			s.Exchange = spec.ModePipelined
		case "blocking":
			s.Exchange = spec.ModeBlocking
		default:
			return d.errf(n, "exchange: unknown mode %q (want pipelined or blocking)", m)
		}
	}
	if n := f["input"]; n != nil {
		if s.Kind == spec.KindJoin || s.Kind == spec.KindUnion {
			return d.errf(n, "input: a %s names its inputs in its own settings", s.Kind)
		}
		in, err := d.str(n, "input")
		if err != nil {
			return err
		}
		s.Inputs = []string{in}
	}
	return nil
}
