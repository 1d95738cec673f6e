package spec

import (
	"fmt"
	"strings"
)

// Type is a column or expression type.
type Type uint8

const (
	// Null is the type of the NULL literal only; it unifies with any type.
	Null Type = iota
	Bool
	Int64
	Float64
	String
)

var typeNames = [...]string{Null: "null", Bool: "bool", Int64: "int64", Float64: "float64", String: "string"}

func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return fmt.Sprintf("type(%d)", uint8(t))
}

// Numeric reports whether t is int64 or float64.
func (t Type) Numeric() bool { return t == Int64 || t == Float64 }

// ParseType parses a type name as written in a spec ("int", "int64",
// "double", "float64", "string", "bool", ...).
func ParseType(s string) (Type, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "bool", "boolean":
		return Bool, nil
	case "int", "int64", "bigint", "integer", "long":
		return Int64, nil
	case "float", "float64", "double", "real":
		return Float64, nil
	case "string", "str", "text", "varchar", "utf8":
		return String, nil
	}
	return Null, fmt.Errorf("unknown type %q (want int64, float64, string or bool)", s)
}

// Field is one named, typed column.
type Field struct {
	Name string
	Type Type
}

// Schema is an ordered list of columns. Column names are unique within it.
type Schema []Field

// Index returns the position of the column named name, or -1.
func (s Schema) Index(name string) int {
	for i, f := range s {
		if f.Name == name {
			return i
		}
	}
	return -1
}

// Names returns the column names in order.
func (s Schema) Names() []string {
	names := make([]string, len(s))
	for i, f := range s {
		names[i] = f.Name
	}
	return names
}

func (s Schema) String() string {
	parts := make([]string, len(s))
	for i, f := range s {
		parts[i] = f.Name + " " + f.Type.String()
	}
	return "(" + strings.Join(parts, ", ") + ")"
}
