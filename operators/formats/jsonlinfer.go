package formats

import (
	"bytes"
	"fmt"
	"io"

	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators"
)

// jsonKinds records the kinds of value one key held in the sample.
type jsonKinds struct {
	ints, floats, bools, strs, nested bool
}

func (k jsonKinds) result() (spec.Type, bool) {
	switch {
	case k.nested && !k.ints && !k.floats && !k.bools && !k.strs:
		return spec.Null, false // only nested values: left out
	case k.strs || k.nested || k.bools && (k.ints || k.floats):
		return spec.String, true
	case k.floats:
		return spec.Float64, true
	case k.ints:
		return spec.Int64, true
	case k.bools:
		return spec.Bool, true
	}
	return spec.String, true // only nulls
}

// InferJSONLSchema reads up to sampleRows objects (<= 0: 1000) of the
// JSON lines file at path and returns its keys in first-seen order with
// types: int64 when every non-null value is an integer, float64 when every
// one is a number, bool when every one is a boolean, else string (mixed
// kinds, strings, or only nulls). Keys that only hold nested objects or
// arrays are left out (the reader skips them).
func InferJSONLSchema(path string, sampleRows int) (spec.Schema, error) {
	if sampleRows <= 0 {
		sampleRows = 1000
	}
	br, done, err := openSample(path)
	if err != nil {
		return nil, err
	}
	defer done()
	var names []string
	kinds := map[string]*jsonKinds{}
	var scratch []byte
	for line, rows := int64(0), 0; rows < sampleRows; {
		b, err := br.ReadBytes('\n')
		if len(b) == 0 && err == io.EOF {
			break
		}
		if err != nil && err != io.EOF {
			return nil, err // names the file (decoders.open)
		}
		line++
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		col, msg := sampleObject(b, &scratch, func(key []byte, k jsonKinds) {
			jk := kinds[string(key)]
			if jk == nil {
				jk = &jsonKinds{}
				kinds[string(key)] = jk
				names = append(names, string(key))
			}
			jk.ints, jk.floats, jk.bools = jk.ints || k.ints, jk.floats || k.floats, jk.bools || k.bools
			jk.strs, jk.nested = jk.strs || k.strs, jk.nested || k.nested
		})
		if msg != "" {
			return nil, &operators.DataError{File: path, Line: line, Column: col, Msg: msg}
		}
		rows++
	}
	var s spec.Schema
	for _, n := range names {
		if t, ok := kinds[n].result(); ok {
			s = append(s, spec.Field{Name: n, Type: t})
		}
	}
	if len(s) == 0 {
		return nil, fmt.Errorf("operators: infer schema of %s: no keys with scalar values in the sample", path)
	}
	return s, nil
}

// sampleObject walks one line's object and reports each key's value kind.
func sampleObject(line []byte, scratch *[]byte, add func([]byte, jsonKinds)) (int, string) {
	p := skipWS(line, 0)
	if p >= len(line) || line[p] != '{' {
		return 1, "want a JSON object"
	}
	p = skipWS(line, p+1)
	if p < len(line) && line[p] == '}' {
		return 0, ""
	}
	for key := 1; ; key++ {
		if p >= len(line) || line[p] != '"' {
			return key, "want a key string"
		}
		name, np, msg := jsonString(line, p, scratch)
		if msg != "" {
			return key, msg
		}
		name = append([]byte(nil), name...)
		p = skipWS(line, np)
		if p >= len(line) || line[p] != ':' {
			return key, "want ':'"
		}
		p = skipWS(line, p+1)
		end, msg := jsonSkip(line, p, scratch)
		if msg != "" {
			return key, msg
		}
		add(name, kindOf(line[p:end]))
		p = skipWS(line, end)
		switch {
		case p < len(line) && line[p] == ',':
			p = skipWS(line, p+1)
		case p < len(line) && line[p] == '}':
			return 0, ""
		default:
			return key, "want ',' or '}' after the value"
		}
	}
}

// kindOf classifies one JSON value token.
func kindOf(v []byte) jsonKinds {
	switch v[0] {
	case '"':
		return jsonKinds{strs: true}
	case '{', '[':
		return jsonKinds{nested: true}
	case 't', 'f':
		return jsonKinds{bools: true}
	case 'n':
		return jsonKinds{}
	}
	if _, ok := parseInt64(v); ok {
		return jsonKinds{ints: true}
	}
	return jsonKinds{floats: true}
}
