package jobs

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v4"

	"github.com/batchrun/batchrun/jobs/spec"
)

// Parameters are substituted into the raw text of a spec before it is
// parsed as YAML, so that the line numbers of errors stay those of the file:
//
//	${name}   the value of parameter name
//	$${       a literal "${"
//
// A value comes from the caller (LoadOptions.Params) or, failing that, from
// the spec's top-level params: map of defaults. A ${name} with neither is an
// error that names its line. Values are inserted verbatim: quote in the
// spec where a value could contain YAML syntax. Values may not contain a
// newline (it would shift every later line). A parameter the caller passes
// that the spec neither uses nor declares under params: is an error (a
// misspelt --param would otherwise be ignored silently).

// substituteParams returns data with every ${name} replaced.
func substituteParams(data []byte, file string, given map[string]string) ([]byte, error) {
	if !bytes.Contains(data, []byte("${")) && len(given) == 0 {
		return data, nil
	}
	scan, err := scanParams(data, file)
	if err != nil {
		return nil, err
	}
	if err := scan.checkGiven(given, file); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	line := 1
	for i := 0; i < len(data); {
		c := data[i]
		switch {
		case c == '\n':
			line++
		case c == '$' && bytes.HasPrefix(data[i:], []byte("$${")):
			out.WriteString("${")
			i += 3
			continue
		case c == '$' && bytes.HasPrefix(data[i:], []byte("${")):
			v, n, msg := scan.lookup(data[i:], given)
			if msg != "" {
				return nil, &spec.Error{File: file, Line: line, Step: scan.stepAt(line), Msg: msg}
			}
			out.WriteString(v)
			i += n
			continue
		}
		out.WriteByte(c)
		i++
	}
	return out.Bytes(), nil
}

// paramScan is what a first parse of the unsubstituted spec tells: the
// params: defaults, the names it references, and the first line of each
// step (to name the step of a parameter error).
type paramScan struct {
	defaults   map[string]string
	paramsLine int // the line of params:, 0 without one
	used       map[string]bool
	steps      []stepLine
}

// checkGiven refuses a given parameter that the spec neither references
// nor declares.
func (p *paramScan) checkGiven(given map[string]string, file string) error {
	names := make([]string, 0, len(given))
	for name := range given {
		if _, declared := p.defaults[name]; !declared && !p.used[name] {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	slices.Sort(names)
	return &spec.Error{File: file, Line: p.paramsLine, Msg: fmt.Sprintf(
		"unknown parameter %q given (--param): the spec has no ${%s} and no default for it under params:", names[0], names[0])}
}

type stepLine struct {
	line int
	id   string
}

// stepAt returns the id of the step that line belongs to, or "".
func (p *paramScan) stepAt(line int) string {
	id := ""
	for _, s := range p.steps {
		if s.line <= line {
			id = s.id
		}
	}
	return id
}

// lookup resolves the "${name}" at the start of b. It returns the value
// and the length of the reference, or an error message.
func (p *paramScan) lookup(b []byte, given map[string]string) (string, int, string) {
	name, n, err := paramRef(b)
	if err != nil {
		return "", 0, err.Error()
	}
	v, ok := given[name]
	if !ok {
		v, ok = p.defaults[name]
	}
	switch {
	case !ok:
		return "", 0, fmt.Sprintf("unknown parameter %q: pass a value or add a default under params:", name)
	case strings.ContainsAny(v, "\r\n"):
		return "", 0, fmt.Sprintf("parameter %q: value contains a newline", name)
	}
	return v, n, ""
}

// paramRef parses the "${name}" at the start of b and returns the name and
// the length of the reference.
func paramRef(b []byte) (string, int, error) {
	end := bytes.IndexAny(b, "}\n")
	if end < 0 || b[end] != '}' {
		return "", 0, fmt.Errorf("unterminated ${ (write $${ for a literal ${)")
	}
	name := string(b[2:end])
	if !validParamName(name) {
		return "", 0, fmt.Errorf("invalid parameter name %q (want letters, digits, _, - or .)", name)
	}
	return name, end + 1, nil
}

func validParamName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z':
		case i > 0 && (r == '-' || r == '.' || r >= '0' && r <= '9'):
		default:
			return false
		}
	}
	return true
}

// scanParams parses the spec before substitution. To make that text valid
// YAML, each ${...} is first blanked to letters of the same length, which
// keeps every line and column where it was.
func scanParams(data []byte, file string) (*paramScan, error) {
	blank := bytes.Clone(data)
	scan := &paramScan{used: map[string]bool{}}
	for i := 0; i+1 < len(blank); i++ {
		if blank[i] != '$' || blank[i+1] != '{' {
			continue
		}
		end := bytes.IndexAny(blank[i:], "}\n")
		if end < 0 || blank[i+end] != '}' {
			break // reported with its line by substituteParams
		}
		if i == 0 || data[i-1] != '$' { // $${ is a literal
			scan.used[string(blank[i+2:i+end])] = true
		}
		for k := i; k <= i+end; k++ {
			blank[k] = 'x'
		}
	}
	var doc yaml.Node
	if err := yaml.Load(blank, &doc); err != nil {
		return nil, yamlError(file, err)
	}
	root := docRoot(&doc)
	if root == nil || root.Kind != yaml.MappingNode {
		return scan, nil // reported by the decoder
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		v := deref(root.Content[i+1])
		switch root.Content[i].Value {
		case "params":
			scan.paramsLine = root.Content[i].Line
			d := &decoder{file: file}
			m, err := d.paramsMap(v)
			if err != nil {
				return nil, err
			}
			scan.defaults = m
		case "steps":
			for _, s := range v.Content {
				if s = deref(s); s.Kind == yaml.MappingNode {
					scan.steps = append(scan.steps, stepLine{line: s.Line, id: scalarKey(s, "id")})
				}
			}
		}
	}
	return scan, nil
}

// paramsMap decodes the params: map of names to scalar defaults.
func (d *decoder) paramsMap(n *yaml.Node) (map[string]string, error) {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		return nil, d.errf(n, "params: want a map of name: default")
	}
	m := make(map[string]string, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		if !validParamName(k.Value) {
			return nil, d.errf(k, "params: invalid parameter name %q", k.Value)
		}
		if _, dup := m[k.Value]; dup {
			return nil, d.errf(k, "params: duplicate parameter %q", k.Value)
		}
		if v.Kind != yaml.ScalarNode {
			return nil, d.errf(v, "params: %s: want a scalar default", k.Value)
		}
		m[k.Value] = v.Value
	}
	return m, nil
}

// yamlError turns a YAML syntax error into a spec error with its line.
func yamlError(file string, err error) error {
	var le *yaml.LoadError
	if errors.As(err, &le) {
		msg := le.Message
		if le.ContextMsg != "" {
			msg += " (" + le.ContextMsg + ")"
		}
		return &spec.Error{File: file, Line: le.Mark.Line, Msg: "invalid YAML: " + msg}
	}
	return &spec.Error{File: file, Msg: "invalid YAML: " + err.Error()}
}
