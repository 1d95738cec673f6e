package compare

import (
	"errors"
	"fmt"
	"os"
)

// ReadCSV reads a CSV file as batchrun writes it (docs/spec.md, Formats):
// a header, then rows; ',' between fields, '"' around a field only where
// needed, a quote inside doubled; NULL as an empty field and the empty
// string as "". encoding/csv cannot tell those two apart, hence this.
func ReadCSV(path string) (*Table, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	recs, err := parseCSV(string(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("%s: no header", path)
	}
	t := &Table{}
	for _, v := range recs[0] {
		t.Columns = append(t.Columns, Column{Name: v.Text})
	}
	t.Rows = recs[1:]
	return t, nil
}

// parseCSV splits s into records of Values. A quoted field may hold ',',
// '"' (doubled) and line breaks; "\r\n" ends a line like "\n".
func parseCSV(s string) ([][]Value, error) {
	var recs [][]Value
	var rec []Value
	line := 1
	for i := 0; i < len(s); {
		v, n, err := parseField(s[i:])
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		rec = append(rec, v)
		i += n
		switch {
		case i == len(s):
		case s[i] == ',':
			i++
			if i == len(s) { // a trailing ',' ends with an empty field
				rec = append(rec, Value{Null: true})
			}
			continue
		case s[i] == '\r' && i+1 < len(s) && s[i+1] == '\n':
			i += 2
		case s[i] == '\n':
			i++
		default:
			return nil, fmt.Errorf("line %d: unexpected %q after a field", line, s[i])
		}
		recs = append(recs, rec)
		rec = nil
		line++
	}
	if rec != nil {
		recs = append(recs, rec)
	}
	return recs, nil
}

// parseField reads one field at the start of s and says how many bytes it
// took (the separator after it excluded).
func parseField(s string) (Value, int, error) {
	if s == "" || s[0] != '"' {
		n := 0
		for n < len(s) && s[n] != ',' && s[n] != '\n' && s[n] != '\r' {
			if s[n] == '"' {
				return Value{}, 0, errors.New(`'"' inside an unquoted field`)
			}
			n++
		}
		if n == 0 {
			return Value{Null: true}, 0, nil
		}
		return Value{Text: s[:n]}, n, nil
	}
	var text []byte
	for i := 1; i < len(s); i++ {
		if s[i] != '"' {
			text = append(text, s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '"' {
			text = append(text, '"')
			i++
			continue
		}
		return Value{Text: string(text)}, i + 1, nil
	}
	return Value{}, 0, errors.New("unterminated quoted field")
}
