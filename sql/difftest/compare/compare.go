// Package compare decides whether batchrun's answer to a query equals
// DuckDB's, and says how they differ when they do not. It knows nothing of
// DuckDB or batchrun: both answers arrive as Tables of text values, and
// DuckDB's column types (its Columns' Kind) say how values compare.
package compare

import (
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
)

// Kind is how the values of a column compare.
type Kind int

const (
	// Text values are equal when their text is (VARCHAR and anything
	// without a rule of its own).
	Text Kind = iota
	// Int values are exact integers, whatever their width.
	Int
	// Decimal values are exact: equal when they are the same number, so
	// 1.5 equals 1.50 (the text is normalized to the column's scale) and
	// 1.505 does not.
	Decimal
	// Double values are equal within a relative 1e-9, or an absolute 1e-12
	// near 0: the order in which a sum adds its rows shows in its last bits.
	Double
	// Date values are YYYY-MM-DD text, compared exactly.
	Date
	// Bool values are true or false, in any letter case.
	Bool
)

// Column is one output column: its name and, for the reference answer, its
// DuckDB type and how its values compare.
type Column struct {
	Name string
	Type string // DuckDB's type name, e.g. DECIMAL(15,2); "" on batchrun's side
	Kind Kind
}

// Value is one field of a row. In batchrun's CSV output an unquoted empty
// field is NULL and a quoted one ("") the empty string.
type Value struct {
	Text string
	Null bool
}

// Table is an answer: its columns and rows, in the order they came.
type Table struct {
	Columns []Column
	Rows    [][]Value
}

// Order says what the outermost level of the query fixes about the order of
// its rows.
type Order struct {
	// Ordered: the outermost level has ORDER BY.
	Ordered bool
	// Keys are the output columns the ORDER BY items are, in order; only the
	// leading items that are output columns (the rest are unknown keys, so
	// rows tied on Keys may still be ordered by them, and are compared as a
	// multiset).
	Keys []int
	// Limit and Offset: the outermost level has LIMIT or OFFSET, which may
	// cut the last or the first group of tied rows anywhere.
	Limit, Offset bool
}

var decimalType = regexp.MustCompile(`^DECIMAL\((\d+),\s*(\d+)\)$`)

// KindOf is how values of DuckDB type typ compare. legacy: batchrun reads
// decimals as float64 and dates as strings (-difftest.legacy-types), so a
// DECIMAL compares as a Double.
func KindOf(typ string, legacy bool) Kind {
	t := strings.ToUpper(typ)
	switch {
	case decimalType.MatchString(t):
		if legacy {
			return Double
		}
		return Decimal
	case t == "DOUBLE" || t == "FLOAT" || t == "REAL":
		return Double
	case strings.HasSuffix(t, "INT") || strings.HasSuffix(t, "INTEGER"): // TINYINT...UHUGEINT
		return Int
	case t == "DATE":
		return Date
	case t == "BOOLEAN":
		return Bool
	}
	return Text
}

// cell is a Value normalized once for comparing: s is the canonical text
// (for Int and Decimal the exact rational, so 1.5 and 1.50 agree), f the
// number of a Double.
type cell struct {
	null bool
	s    string
	f    float64
}

func normalize(k Kind, v Value) cell {
	if v.Null {
		return cell{null: true}
	}
	switch k {
	case Int:
		n, ok := new(big.Int).SetString(strings.TrimSpace(v.Text), 10)
		if !ok {
			return cell{s: "?" + v.Text} // equals only the same bad text
		}
		return cell{s: n.String()}
	case Decimal:
		r, ok := new(big.Rat).SetString(strings.TrimSpace(v.Text))
		if !ok {
			return cell{s: "?" + v.Text}
		}
		return cell{s: r.RatString()}
	case Double:
		f, err := strconv.ParseFloat(strings.TrimSpace(v.Text), 64)
		if err != nil {
			return cell{s: "?" + v.Text, f: math.NaN()}
		}
		return cell{f: f}
	case Bool:
		return cell{s: strings.ToLower(v.Text)}
	}
	return cell{s: v.Text}
}

// cmpCell orders cells of kind k: NULL first, Doubles by value (equal
// within the tolerance), the rest by canonical text. It is an order for
// sorting and merging, not SQL's.
func cmpCell(k Kind, a, b cell) int {
	switch {
	case a.null || b.null:
		return boolCmp(b.null, a.null)
	case k == Double:
		if a.s != b.s { // a bad number sorts by its text
			return strings.Compare(a.s, b.s)
		}
		if closeEnough(a.f, b.f) {
			return 0
		}
		if a.f < b.f || (math.IsNaN(a.f) && !math.IsNaN(b.f)) {
			return -1
		}
		return 1
	}
	return strings.Compare(a.s, b.s)
}

func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// closeEnough is the Double rule: relative 1e-9, absolute 1e-12 near 0.
func closeEnough(a, b float64) bool {
	if a == b || (math.IsNaN(a) && math.IsNaN(b)) {
		return true
	}
	d := math.Abs(a - b)
	return d <= 1e-12 || d <= 1e-9*math.Max(math.Abs(a), math.Abs(b))
}

// rows is a Table's rows normalized against the reference's column kinds.
type rows struct {
	kinds []Kind
	raw   [][]Value
	cells [][]cell
}

func normalizeRows(kinds []Kind, raw [][]Value) rows {
	r := rows{kinds: kinds, raw: raw, cells: make([][]cell, len(raw))}
	for i, row := range raw {
		r.cells[i] = make([]cell, len(row))
		for j, v := range row {
			r.cells[i][j] = normalize(kinds[j], v)
		}
	}
	return r
}

// cmpRow orders rows column by column, Doubles last, so that the tolerance
// of a Double can only make rows equal that agree on every exact column.
func cmpRow(kinds []Kind, a, b []cell) int {
	for pass := 0; pass < 2; pass++ {
		for j, k := range kinds {
			if (k == Double) != (pass == 1) {
				continue
			}
			if c := cmpCell(k, a[j], b[j]); c != 0 {
				return c
			}
		}
	}
	return 0
}

// keysEqual says whether two rows agree on the key columns.
func keysEqual(kinds []Kind, keys []int, a, b []cell) bool {
	for _, j := range keys {
		if cmpCell(kinds[j], a[j], b[j]) != 0 {
			return false
		}
	}
	return true
}

// FormatRow prints a row for a diff: NULL for NULL, two single quotes for
// the empty string.
func FormatRow(row []Value) string {
	parts := make([]string, len(row))
	for i, v := range row {
		switch {
		case v.Null:
			parts[i] = "NULL"
		case v.Text == "":
			parts[i] = "''"
		default:
			parts[i] = v.Text
		}
	}
	return "(" + strings.Join(parts, " | ") + ")"
}

func columnNames(cols []Column) string {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
	}
	return strings.Join(names, ", ")
}

// Compare checks got (batchrun's answer) against want (DuckDB's, whose
// Columns carry the kinds): the same columns (count, then names, in any
// letter case), then the same rows, in an order that ord allows. The error
// is a readable diff.
func Compare(want, got *Table, ord Order) error {
	if len(want.Columns) != len(got.Columns) {
		return fmt.Errorf("columns: DuckDB has %d (%s), batchrun %d (%s)",
			len(want.Columns), columnNames(want.Columns), len(got.Columns), columnNames(got.Columns))
	}
	for i := range want.Columns {
		if !strings.EqualFold(want.Columns[i].Name, got.Columns[i].Name) {
			return fmt.Errorf("column %d: DuckDB names it %q, batchrun %q", i+1, want.Columns[i].Name, got.Columns[i].Name)
		}
	}
	kinds := make([]Kind, len(want.Columns))
	for i, c := range want.Columns {
		kinds[i] = c.Kind
	}
	for i, r := range got.Rows {
		if len(r) != len(kinds) {
			return fmt.Errorf("batchrun's row %d has %d fields, want %d", i+1, len(r), len(kinds))
		}
	}
	w, g := normalizeRows(kinds, want.Rows), normalizeRows(kinds, got.Rows)
	if len(w.raw) != len(g.raw) {
		return fmt.Errorf("rows: DuckDB has %d, batchrun %d\n%s", len(w.raw), len(g.raw), multisetDiff(w, g))
	}
	if !ord.Ordered {
		ord = Order{Limit: ord.Limit, Offset: ord.Offset} // one group: all rows tied
	}
	return compareOrdered(w, g, ord)
}
