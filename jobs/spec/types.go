package spec

import (
	"fmt"
	"strconv"
	"strings"
)

// Type is a column or expression type. The low 8 bits are its kind; a
// decimal also carries its precision in bits 8-15 and its scale in bits
// 16-23 (build one with DecimalType), so two decimal types are equal only
// when their precisions and scales are.
//
// Every type has a physical representation, the type its values take in
// Arrow batches (Physical): Date is int64 days since 1970-01-01, Timestamp
// int64 microseconds since 1970-01-01 00:00:00 UTC, and decimal(p,s) the
// int64 value times 10^s. Code that only moves, hashes, orders or stores
// values works on the physical type; code whose meaning depends on the
// type (parsing, formatting, casts, arithmetic, comparisons across scales,
// sum and avg) handles the logical one.
type Type uint32

const (
	// Null is the type of the NULL literal only; it unifies with any type.
	Null Type = iota
	Bool
	Int64
	Float64
	String
	// Date is a calendar date (proleptic Gregorian), physically int64 days
	// since 1970-01-01.
	Date
	// Timestamp is an instant without a zone, physically int64 microseconds
	// since 1970-01-01 00:00:00 (UTC).
	Timestamp
	// Decimal is the kind of every decimal type; a column or value has a
	// type from DecimalType, which adds the precision and the scale.
	Decimal
)

// MaxDecimalPrecision is the largest precision of a decimal: its values
// are int64.
const MaxDecimalPrecision = 18

var typeNames = [...]string{Null: "null", Bool: "bool", Int64: "int64", Float64: "float64", String: "string",
	Date: "date", Timestamp: "timestamp", Decimal: "decimal"}

// DecimalType is decimal(precision, scale): values of at most precision
// digits, scale of them after the point. It panics unless 1 <= precision
// <= 18 and 0 <= scale <= precision.
func DecimalType(precision, scale int) Type {
	if precision < 1 || precision > MaxDecimalPrecision || scale < 0 || scale > precision {
		panic(fmt.Sprintf("spec: invalid decimal(%d,%d)", precision, scale))
	}
	return Decimal | Type(precision)<<8 | Type(scale)<<16
}

// Kind is Decimal for every decimal type, else t itself.
func (t Type) Kind() Type { return t & 0xff }

// IsDecimal reports whether t is a decimal type.
func (t Type) IsDecimal() bool { return t.Kind() == Decimal }

// Precision is the number of digits of a decimal type (0 for others).
func (t Type) Precision() int {
	if !t.IsDecimal() {
		return 0
	}
	return int(t >> 8 & 0xff)
}

// Scale is the number of digits after the point of a decimal type (0 for
// others).
func (t Type) Scale() int {
	if !t.IsDecimal() {
		return 0
	}
	return int(t >> 16 & 0xff)
}

// Physical is the type t's values take in batches: Int64 for Date,
// Timestamp and decimals, t itself for the others.
func (t Type) Physical() Type {
	switch t.Kind() {
	case Date, Timestamp, Decimal:
		return Int64
	}
	return t
}

// Valid reports whether t is one of the types above; a decimal must have a
// precision and a scale DecimalType accepts.
func (t Type) Valid() bool {
	if t.IsDecimal() {
		p, s := t.Precision(), t.Scale()
		return t>>24 == 0 && p >= 1 && p <= MaxDecimalPrecision && s <= p
	}
	return t <= Timestamp
}

func (t Type) String() string {
	switch {
	case t.IsDecimal() && t.Valid():
		return "decimal(" + strconv.Itoa(t.Precision()) + "," + strconv.Itoa(t.Scale()) + ")"
	case t < Decimal:
		return typeNames[t]
	}
	return fmt.Sprintf("type(%#x)", uint32(t))
}

// Numeric reports whether t is int64, float64 or a decimal.
func (t Type) Numeric() bool { return t == Int64 || t == Float64 || t.IsDecimal() }

// Temporal reports whether t is Date or Timestamp.
func (t Type) Temporal() bool { return t == Date || t == Timestamp }

// ParseType parses a type name as written in a spec: "int64" (also "int",
// "integer", "bigint", "long", and "int32", which reads as int64),
// "float64" ("double", "float", "real"), "string" ("text", "varchar",
// "str", "utf8"), "bool" ("boolean"), "date", "timestamp" ("datetime"),
// and "decimal(P,S)" ("numeric(P,S)"; "decimal(P)" has scale 0 and a bare
// "decimal" is decimal(18,3), as in DuckDB). Case and spaces do not matter.
func ParseType(s string) (Type, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	switch name {
	case "bool", "boolean":
		return Bool, nil
	case "int", "int64", "bigint", "integer", "long", "int32":
		return Int64, nil
	case "float", "float64", "double", "real":
		return Float64, nil
	case "string", "str", "text", "varchar", "utf8":
		return String, nil
	case "date":
		return Date, nil
	case "timestamp", "datetime":
		return Timestamp, nil
	case "decimal", "numeric":
		return DecimalType(18, 3), nil
	}
	if t, ok, err := parseDecimalType(name); ok {
		return t, err
	}
	return Null, fmt.Errorf("unknown type %q (want int64, float64, string, bool, date, timestamp or decimal(p,s))", s)
}

// parseDecimalType parses "decimal(p[,s])" or "numeric(p[,s])"; ok says
// whether s has that shape at all.
func parseDecimalType(s string) (t Type, ok bool, err error) {
	rest, found := strings.CutPrefix(s, "decimal")
	if !found {
		if rest, found = strings.CutPrefix(s, "numeric"); !found {
			return Null, false, nil
		}
	}
	rest = strings.TrimSpace(rest)
	if !strings.HasPrefix(rest, "(") || !strings.HasSuffix(rest, ")") {
		return Null, false, nil
	}
	args := strings.Split(rest[1:len(rest)-1], ",")
	if len(args) > 2 {
		return Null, true, fmt.Errorf("type %q: want decimal(precision, scale)", s)
	}
	var n [2]int
	for i, a := range args {
		v, err := strconv.Atoi(strings.TrimSpace(a))
		if err != nil {
			return Null, true, fmt.Errorf("type %q: want decimal(precision, scale) with whole numbers", s)
		}
		n[i] = v
	}
	p, sc := n[0], n[1]
	if p < 1 || p > MaxDecimalPrecision {
		return Null, true, fmt.Errorf("type %q: precision must be 1 to %d", s, MaxDecimalPrecision)
	}
	if sc < 0 || sc > p {
		return Null, true, fmt.Errorf("type %q: scale must be 0 to the precision %d", s, p)
	}
	return DecimalType(p, sc), true, nil
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
